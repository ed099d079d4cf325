//! [`CustomerDoc`]: one Automerge document holding one [`Customer`].
//!
//! Storage keeps a document as a list of byte chunks: a full snapshot ([`CustomerDoc::save`])
//! followed by incremental chunks ([`CustomerDoc::save_incremental`]), one per saved edit.
//! [`CustomerDoc::load`] accepts the concatenation of all chunks, so appending a chunk per
//! edit and compacting now and then never loses anything.

use automerge::{transaction::CommitOptions, ActorId, AutoCommit, ChangeHash};

/// How text positions are counted. `autosurgeon::Text` records its edits at UTF-8 byte
/// offsets, so documents must count the same way; with Automerge's default (code points) an
/// edit after a non-ASCII character ("é", "·") lands at the wrong place or fails.
pub(crate) const TEXT_ENCODING: automerge::TextEncoding = automerge::TextEncoding::Utf8CodeUnit;

use crate::{
    model::facts::CustomerFacts, model::validation, Customer, CustomerId, CustomerSummary,
    Timestamp, ValidationErrors,
};

/// Why a document operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not an Automerge document.
    #[error("stored document is corrupt: {0}")]
    Corrupt(#[from] automerge::AutomergeError),
    /// The document does not have the shape of a customer.
    #[error("document is not a customer: {0}")]
    NotACustomer(#[from] autosurgeon::HydrateError),
    /// The document belongs to another customer than the one asked for.
    #[error("document holds customer {found}, expected {expected}")]
    WrongCustomer {
        /// The id the caller asked for.
        expected: CustomerId,
        /// The id found inside the document.
        found: CustomerId,
    },
    /// The edited customer breaks a validation rule; nothing was changed.
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// Writing the customer into the document failed.
    #[error("could not write customer into document: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    /// Changes arrived whose predecessors this device does not have.
    #[error("{0} earlier changes of this document are missing")]
    MissingDependencies(usize),
    /// A change that Automerge must not be given (see [`crate::sync::blob::ChangeRefused`]).
    #[error("a change from another device was refused: {0}")]
    Refused(crate::sync::blob::ChangeRefused),
    /// A conflict to resolve is no longer there (another choice or edit came first).
    #[error("this conflict was already resolved")]
    NoSuchConflict,
}

/// One customer's Automerge document plus a cached hydrated copy of its contents.
pub struct CustomerDoc {
    pub(crate) doc: AutoCommit,
    customer: Customer,
    /// The device named in the messages of this copy's changes (shown with conflicts).
    author: Option<String>,
    /// The change [`CustomerDoc::update_to`] made on a fork and merged here: the last local
    /// change, though another actor made it.
    forked_change: Option<Vec<u8>>,
}

/// The heads of a document's history as plain bytes: the version a screen read, sent back
/// with its edit so the engine applies the edit to that version ([`CustomerDoc::update_to`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Version(pub Vec<[u8; 32]>);

impl Version {
    fn of(heads: &[ChangeHash]) -> Version {
        Version(heads.iter().map(|hash| hash.0).collect())
    }

    fn heads(&self) -> Vec<ChangeHash> {
        self.0.iter().map(|bytes| ChangeHash(*bytes)).collect()
    }
}

impl std::fmt::Debug for CustomerDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerDoc")
            .field("customer", &self.customer.id)
            .finish_non_exhaustive()
    }
}

impl CustomerDoc {
    /// Creates the document for a new customer, written by `actor` at `now`.
    ///
    /// The customer is validated first; an invalid customer creates nothing.
    pub fn create(
        customer: Customer,
        actor: ActorId,
        now: Timestamp,
    ) -> Result<CustomerDoc, DocError> {
        CustomerDoc::create_by(customer, actor, None, now)
    }

    /// [`CustomerDoc::create`] by the device named `author`: the creation carries its name
    /// (shown in the customer's history), and so will this copy's later changes.
    pub fn create_by(
        mut customer: Customer,
        actor: ActorId,
        author: Option<String>,
        now: Timestamp,
    ) -> Result<CustomerDoc, DocError> {
        validation::validate(&customer)?;
        customer.created_at = now;
        customer.updated_at = now;
        if customer.stage_changes.is_empty() {
            customer.record_stage_change(None, now, &device_tag(&actor));
        }
        let mut doc = AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(actor);
        autosurgeon::reconcile(&mut doc, &customer)?;
        commit(&mut doc, author.as_deref(), now);
        // Hydrate again so list entries and text carry their document identity.
        let customer = hydrate_customer(&doc)?;
        Ok(CustomerDoc {
            doc,
            customer,
            author,
            forked_change: None,
        })
    }

    /// The customer as it is now, as a new document with id `new_id` and no history (one
    /// change): what erasing a customer's history keeps (see
    /// [`crate::sync::protocol::BlobKind::Erased`]). Every earlier value — and the value a
    /// conflict did not show — stays in the old document only, which is erased. The
    /// customer keeps its `created_at` and its stage moves (dates and stages, no personal
    /// data). Returns the snapshot, its summary and its dashboard facts.
    pub fn recreate(
        &self,
        new_id: CustomerId,
        actor: ActorId,
        author: Option<&str>,
        now: Timestamp,
    ) -> Result<(Vec<u8>, CustomerSummary, CustomerFacts), DocError> {
        let mut customer = self.customer.clone();
        customer.id = new_id;
        // The notes as plain text: hydrated text is tied to this document's changes.
        customer.notes = autosurgeon::Text::with_value(self.customer.notes.as_str());
        CustomerDoc::create_snapshot(customer, actor, author, now)
    }

    /// For bulk creation (imports, sample data): the new customer's document as one
    /// uncompressed snapshot, its summary and its dashboard facts, without keeping a document
    /// in memory. Skips hydrating the document back (most of [`CustomerDoc::create`]'s cost),
    /// which only a document kept for further edits needs. The customer's `created_at` is
    /// kept (an import of a backup or a generated book brings its own); the initial stage is
    /// recorded then.
    /// The customer is validated first; an invalid customer creates nothing.
    pub fn create_snapshot(
        mut customer: Customer,
        actor: ActorId,
        author: Option<&str>,
        now: Timestamp,
    ) -> Result<(Vec<u8>, CustomerSummary, CustomerFacts), DocError> {
        validation::validate(&customer)?;
        customer.updated_at = now;
        if customer.stage_changes.is_empty() {
            let created = customer.created_at;
            customer.record_stage_change(None, created, &device_tag(&actor));
        }
        let mut doc = AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(actor);
        autosurgeon::reconcile(&mut doc, &customer)?;
        commit(&mut doc, author, now);
        let mut summary = CustomerSummary::of(&customer);
        summary.heads = heads_tag(&doc.get_heads());
        // Not compressed: DEFLATE of a new customer's columns took a quarter of an import's
        // document time for 10% fewer bytes (`examples/create_docs.rs`: save 490 ms against
        // 52 ms uncompressed for 10,000, 7.0 MB against 7.8 MB). A compaction's snapshot
        // (`save`) compresses the document again once it is edited.
        Ok((doc.save_nocompress(), summary, CustomerFacts::of(&customer)))
    }

    /// Builds a customer's document from bytes received from the relay (a snapshot or the
    /// document's first changes).
    pub fn from_remote(bytes: &[u8], actor: ActorId) -> Result<CustomerDoc, DocError> {
        let mut doc = AutoCommit::new_with_encoding(TEXT_ENCODING).with_actor(actor);
        load_incremental_checked(&mut doc, bytes)?;
        let customer = hydrate_customer(&doc)?;
        Ok(CustomerDoc {
            doc,
            customer,
            author: None,
            forked_change: None,
        })
    }

    /// Merges bytes received from the relay (a change or a snapshot) into this document.
    ///
    /// Returns whether the document changed. Bytes whose predecessors are missing are an
    /// error and leave the caller to drop this copy (the relay's log order prevents it).
    pub fn apply_remote(&mut self, bytes: &[u8]) -> Result<bool, DocError> {
        self.apply_remote_all([bytes])
    }

    /// Merges several entries received from the relay, in order, hydrating the customer once
    /// at the end (hydrating is most of the cost of applying a small change). Returns whether
    /// the document changed; on an error the document may hold some of the entries but the
    /// caller drops this copy (see [`CustomerDoc::apply_remote`]).
    pub fn apply_remote_all<'a>(
        &mut self,
        entries: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<bool, DocError> {
        let changed = load_entries_checked(&mut self.doc, entries)?;
        if changed {
            self.customer = hydrate_customer(&self.doc)?;
        }
        Ok(changed)
    }

    /// Names the device in the messages of the changes this copy makes from now on.
    pub fn set_author(&mut self, author: Option<String>) {
        self.author = author;
    }

    /// The bytes of the last change this copy made, to push to the relay.
    pub fn last_local_change(&mut self) -> Option<Vec<u8>> {
        if let Some(change) = self.forked_change.take() {
            return Some(change);
        }
        self.doc
            .get_last_local_change()
            .map(|change| change.raw_bytes().to_vec())
    }

    /// Loads a document from the concatenation of its stored chunks and checks that it holds
    /// the customer `expected`.
    pub fn load(
        expected: &CustomerId,
        bytes: &[u8],
        actor: ActorId,
    ) -> Result<CustomerDoc, DocError> {
        Ok(CustomerDoc::load_and_apply(expected, bytes, [], actor)?.0)
    }

    /// [`CustomerDoc::load`], then the entries received from the relay merged in order
    /// ([`CustomerDoc::apply_remote_all`]), hydrating the customer once for both. Returns
    /// whether the entries changed the stored document.
    pub fn load_and_apply<'a>(
        expected: &CustomerId,
        bytes: &[u8],
        entries: impl IntoIterator<Item = &'a [u8]>,
        actor: ActorId,
    ) -> Result<(CustomerDoc, bool), DocError> {
        let (doc, changed, _) = CustomerDoc::load_checking(expected, bytes, &[], entries, actor)?;
        Ok((doc, changed))
    }

    /// [`CustomerDoc::load_and_apply`] for a document whose storage also holds changes
    /// stored without being checked (`unverified`: changes listed from their projection,
    /// see [`fast_forward`]): each is checked before Automerge sees it, as a change from the
    /// relay is, and one that is refused is left out (the caller then rewrites the
    /// document). Returns the document, whether `entries` changed it, and how many
    /// unverified changes were left out.
    pub fn load_checking<'a>(
        expected: &CustomerId,
        bytes: &[u8],
        unverified: &[Vec<u8>],
        entries: impl IntoIterator<Item = &'a [u8]>,
        actor: ActorId,
    ) -> Result<(CustomerDoc, bool, usize), DocError> {
        let mut doc = AutoCommit::load_with_options(
            bytes,
            automerge::LoadOptions::new().text_encoding(TEXT_ENCODING),
        )?
        .with_actor(actor);
        let mut refused = 0;
        for change in unverified {
            if load_entries_checked(&mut doc, [change.as_slice()]).is_err() {
                refused += 1;
            }
        }
        let changed = load_entries_checked(&mut doc, entries)?;
        let customer: Customer = hydrate_customer(&doc)?;
        if &customer.id != expected {
            return Err(DocError::WrongCustomer {
                expected: expected.clone(),
                found: customer.id,
            });
        }
        Ok((
            CustomerDoc {
                doc,
                customer,
                author: None,
                forked_change: None,
            },
            changed,
            refused,
        ))
    }

    /// The customer as currently stored in the document.
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// Applies `edit` to a copy of the customer, validates the result and, only if it is valid,
    /// writes the difference into the document as one change made at `now`.
    ///
    /// Returns whether anything changed. A no-op edit creates no change.
    pub fn update(
        &mut self,
        now: Timestamp,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<bool, DocError> {
        let mut edited = self.customer.clone();
        edit(&mut edited);
        // The id is the document's identity and never changes.
        edited.id = self.customer.id.clone();
        if edited == self.customer {
            return Ok(false);
        }
        validation::validate(&edited)?;
        edited.updated_at = now;
        if edited.stage != self.customer.stage {
            let device = device_tag(self.doc.get_actor());
            edited.record_stage_change(Some(self.customer.stage), now, &device);
        }
        autosurgeon::reconcile(&mut self.doc, &edited)?;
        commit(&mut self.doc, self.author.as_deref(), now);
        self.customer = hydrate_customer(&self.doc)?;
        Ok(true)
    }

    /// The version of the document now, for a screen that shows it and may edit it.
    pub fn version(&mut self) -> Version {
        Version::of(&self.doc.get_heads())
    }

    /// Writes what a screen made of the customer as it was at `version` (`after`), as one
    /// change at `now`, validated like [`CustomerDoc::update`]. Only the fields the screen
    /// changed from that version are written, so a change that arrived meanwhile (from
    /// another device or tab) is kept: when the document moved on, the edit is made on a fork
    /// at `version` (with an actor of its own, whose sequence cannot collide) and merged.
    /// Notes are written as a text diff, so concurrent note edits interleave.
    /// Returns whether anything changed.
    pub fn update_to(
        &mut self,
        version: &Version,
        after: Customer,
        now: Timestamp,
    ) -> Result<bool, DocError> {
        let edit = move |current: &mut Customer| {
            let notes = after.notes.as_str().to_owned();
            let mut text = std::mem::take(&mut current.notes);
            *current = after;
            text.update(notes);
            current.notes = text;
        };
        let heads = version.heads();
        // No version (a screen that never read this customer): the edit applies to what
        // is here.
        if heads.is_empty() || heads == self.doc.get_heads() {
            return self.update(now, edit);
        }
        // A version this copy never held (it was reloaded from storage meanwhile): the edit
        // applies to what is here.
        let fork = match self.doc.fork_at(&heads) {
            Ok(fork) => fork,
            Err(automerge::AutomergeError::InvalidHash(_)) => return self.update(now, edit),
            Err(err) => return Err(err.into()),
        };
        let customer = hydrate_customer(&fork)?;
        let mut forked = CustomerDoc {
            doc: fork,
            customer,
            author: self.author.clone(),
            forked_change: None,
        };
        if !forked.update(now, edit)? {
            return Ok(false);
        }
        let Some(change) = forked.last_local_change() else {
            return Ok(false);
        };
        self.apply_remote(&change)?;
        self.forked_change = Some(change);
        Ok(true)
    }

    /// Merges another copy of this document (e.g. from another device).
    pub fn merge(&mut self, other: &mut CustomerDoc) -> Result<(), DocError> {
        self.doc.merge(&mut other.doc)?;
        self.customer = hydrate_customer(&self.doc)?;
        Ok(())
    }

    /// A copy of this document written by another actor, as a second device would hold it.
    pub fn fork(&mut self, actor: ActorId) -> CustomerDoc {
        CustomerDoc {
            doc: self.doc.fork().with_actor(actor),
            customer: self.customer.clone(),
            author: self.author.clone(),
            forked_change: None,
        }
    }

    /// The whole document as one compact snapshot chunk.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since the last save or incremental save, as one chunk to append.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    /// Whether this copy holds the change with `hash`.
    pub fn has_change(&mut self, hash: &ChangeHash) -> bool {
        self.doc.get_change_by_hash(hash).is_some()
    }

    /// How many of this copy's changes the `heads` a customer was handed over with do not
    /// cover: the edits that went to its new territory with it
    /// ([`crate::sync::handover::edits_after`]).
    pub fn edits_after(&mut self, heads: &[ChangeHash]) -> usize {
        crate::sync::handover::edits_after(self.doc.document(), heads)
    }

    /// The heads of the document's history.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The projection record for the list, search and counts, tagged with the document's
    /// heads ([`heads_tag`]).
    pub fn summary(&mut self) -> CustomerSummary {
        let mut summary = CustomerSummary::of(&self.customer);
        summary.heads = heads_tag(&self.doc.get_heads());
        summary
    }

    /// The dated facts the dashboards compute from.
    pub fn facts(&self) -> CustomerFacts {
        CustomerFacts::of(&self.customer)
    }
}

/// What a relay derives from a customer document's snapshot it stores
/// ([`crate::model::snapshot::encode_projection`]): `None` when `document_id` is not a
/// customer id or the document is not that customer.
pub fn projection_of(doc: &automerge::Automerge, document_id: &str) -> Option<Vec<u8>> {
    let expected: CustomerId = document_id.parse().ok()?;
    let customer: Customer = hydrate_customer(doc).ok()?;
    if customer.id != expected {
        return None;
    }
    let mut summary = CustomerSummary::of(&customer);
    summary.heads = heads_tag(&doc.get_heads());
    Some(crate::model::snapshot::encode_projection(
        &summary,
        &CustomerFacts::of(&customer),
    ))
}

/// What a device holding a customer's document at `held` ([`CustomerSummary::heads`])
/// lists after `changes` (from the relay, in log order) without loading the document:
/// the projection the last change came with, when the changes follow exactly the state
/// held — the first depends on the held heads and nothing else, each next one on the one
/// before only — and the projection was made at the last one (its summary's heads are that
/// change alone) for this customer. `None` otherwise: the document is loaded and merged.
///
/// The changes are parsed but not checked against the document (that needs it loaded):
/// the caller stores them as unverified, checked when the document is next loaded
/// ([`CustomerDoc::load_checking`]). The projection is the other device's word for what
/// the changes make of the customer; a device that loads the document later lists what
/// the document says.
pub fn fast_forward(
    expected: &CustomerId,
    held: u64,
    changes: &[&[u8]],
    projection: &[u8],
) -> Option<(CustomerSummary, CustomerFacts)> {
    if held == 0 {
        return None;
    }
    let parsed: Vec<automerge::Change> = (changes.iter())
        .map(|bytes| crate::sync::blob::single_change(bytes))
        .collect::<Option<_>>()?;
    fast_forward_parsed(expected, held, &parsed, projection)
}

/// [`fast_forward`] over changes already parsed ([`crate::sync::blob::single_change`]), for
/// a caller that reads them again (their hashes, their authors).
pub fn fast_forward_parsed(
    expected: &CustomerId,
    held: u64,
    changes: &[automerge::Change],
    projection: &[u8],
) -> Option<(CustomerSummary, CustomerFacts)> {
    if held == 0 {
        return None;
    }
    let mut last: Option<ChangeHash> = None;
    for change in changes {
        let follows = match &last {
            None => heads_tag(change.deps()) == held,
            Some(previous) => change.deps() == [*previous],
        };
        if !follows {
            return None;
        }
        last = Some(change.hash());
    }
    let last = last?;
    let (summary, facts) = crate::model::snapshot::decode_projection(projection)?;
    (&summary.id == expected && &facts.id == expected && summary.heads == heads_tag(&[last]))
        .then_some((summary, facts))
}

/// A digest of a document's heads, as a summary carries it ([`CustomerSummary::heads`]):
/// FNV-1a over the sorted hashes, never 0 (0 means "not known"). Equal heads give equal
/// tags; two different sets of heads (SHA-256 hashes) giving the same tag is as unlikely as
/// a random 64-bit collision, and would only show a change's listed projection until the
/// document is next read (see `client/engine`'s fast-forward).
pub fn heads_tag(heads: &[ChangeHash]) -> u64 {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    crate::order::sort(&mut sorted);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for head in sorted {
        for byte in head.0 {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // Separates heads, so [a, b] and a single hash of their bytes cannot meet.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash.max(1)
}

/// A short name of a device for record ids: the first 8 hex digits of its actor id.
fn device_tag(actor: &ActorId) -> String {
    let mut hex = actor.to_hex_string();
    hex.truncate(8);
    hex
}

/// Loads bytes (changes or a snapshot) into `doc`; returns whether its heads moved. Bytes
/// whose predecessors are missing are an error.
pub(crate) fn load_incremental_checked(
    doc: &mut AutoCommit,
    bytes: &[u8],
) -> Result<bool, DocError> {
    load_entries_checked(doc, [bytes])
}

/// Loads entries from the relay in order (see [`load_incremental_checked`]). A single
/// change is checked before Automerge sees it ([`crate::sync::blob::check_change`]: a
/// crafted change from another device must not abort this device's engine); a snapshot
/// (validated whole by the relay) is merged by Automerge.
pub(crate) fn load_entries_checked<'a>(
    doc: &mut AutoCommit,
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<bool, DocError> {
    use crate::sync::blob::{apply_checked, single_change, ApplyError, ChangeRefused};
    let before = doc.get_heads();
    let mut known = crate::sync::blob::KnownActors::default();
    for bytes in entries {
        let Some(change) = single_change(bytes) else {
            if crate::sync::blob::is_change_chunk(bytes) {
                // A change Automerge cannot parse without panicking.
                return Err(DocError::Refused(ChangeRefused::Unreadable));
            }
            doc.load_incremental(bytes)?;
            known.reset();
            let missing = doc.get_missing_deps(&[]).len();
            if missing > 0 {
                return Err(DocError::MissingDependencies(missing));
            }
            continue;
        };
        match apply_checked(doc, change, &mut known) {
            Ok(_) => {}
            Err(ApplyError::Refused(ChangeRefused::MissingDependencies(missing))) => {
                return Err(DocError::MissingDependencies(missing));
            }
            Err(ApplyError::Refused(refused)) => return Err(DocError::Refused(refused)),
            Err(ApplyError::Automerge(err)) => return Err(err.into()),
        }
    }
    Ok(doc.get_heads() != before)
}

/// The customer held by `doc`. Maps added to the schema after a customer was created
/// (custom field values) are made by the first device that writes one: two devices doing
/// so offline make two maps under one key, of which Automerge shows one. Their entries are
/// read from every such map (the shown one winning on a key both hold), so no value is
/// hidden, and the next edit writes them all into the shown map.
pub(crate) fn hydrate_customer<D: automerge::ReadDoc + autosurgeon::ReadDoc>(
    doc: &D,
) -> Result<Customer, autosurgeon::HydrateError> {
    use automerge::{ObjType, Value, ROOT};
    let mut customer: Customer = autosurgeon::hydrate(doc)?;
    for key in ["custom", "custom_sets"] {
        let Ok(values) = doc.get_all(ROOT, key) else {
            continue;
        };
        if values.len() < 2 {
            continue;
        }
        let shown = automerge::ReadDoc::get(doc, ROOT, key)
            .ok()
            .flatten()
            .map(|(_, id)| id);
        for (value, map) in values {
            if !matches!(value, Value::Object(ObjType::Map)) || Some(&map) == shown.as_ref() {
                continue;
            }
            if key == "custom" {
                for (field, value) in read_string_map(doc, &map) {
                    customer.custom.entry(field).or_insert(value);
                }
            } else {
                for field in doc.keys(&map) {
                    let Ok(Some((Value::Object(ObjType::Map), set))) =
                        automerge::ReadDoc::get(doc, &map, &field)
                    else {
                        continue;
                    };
                    if customer.custom_sets.contains_key(&field) {
                        continue;
                    }
                    let chosen: Vec<String> = doc.keys(&set).collect();
                    customer
                        .custom_sets
                        .insert(field, chosen.iter().map(String::as_str).collect());
                }
            }
        }
    }
    Ok(customer)
}

/// The text values of the map `map` (other values left out).
fn read_string_map<D: automerge::ReadDoc>(
    doc: &D,
    map: &automerge::ObjId,
) -> std::collections::BTreeMap<String, String> {
    let mut values = std::collections::BTreeMap::new();
    for key in doc.keys(map) {
        if let Ok(Some((automerge::Value::Scalar(value), _))) = doc.get(map, &key) {
            if let automerge::ScalarValue::Str(text) = value.as_ref() {
                values.insert(key, text.to_string());
            }
        }
    }
    values
}

/// Commits pending operations as one change made at `now` by the device `author`.
pub(crate) fn commit(doc: &mut AutoCommit, author: Option<&str>, now: Timestamp) {
    // Automerge change times are in seconds; the message names the device, shown when a
    // field was changed concurrently on two devices.
    let mut options = CommitOptions::default().with_time(now.0 / 1000);
    if let Some(author) = author {
        options = options.with_message(author.to_string());
    }
    doc.commit_with(options);
}

impl CustomerDoc {
    /// The hydrated customer, refreshed after a raw edit of the document.
    pub(crate) fn rehydrate(&mut self) -> Result<(), DocError> {
        self.customer = hydrate_customer(&self.doc)?;
        Ok(())
    }

    /// The device named in this copy's changes.
    pub(crate) fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }
}
