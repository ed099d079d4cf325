//! Checking uploaded blobs before they enter a log, and the key that makes pushes
//! idempotent.

use std::collections::HashMap;

use automerge::{Automerge, Change};
use sha2::{Digest, Sha256};

use crate::sync::protocol::{BlobKind, ErrorCode, Upload};

/// The largest document id accepted, in bytes.
pub const MAX_DOCUMENT_ID_BYTES: usize = 128;

/// An upload that passed [`validate`], with its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidUpload {
    /// The upload as sent.
    pub upload: Upload,
    /// The same blob always has the same key: an Automerge change is keyed by its change
    /// hash, a snapshot by its document and the hashes of its heads.
    pub key: BlobKey,
    /// For the snapshot of a customer document: its summary and facts
    /// (`crate::model::snapshot::encode_projection`), sent with it to bootstrapping devices
    /// so they list the customer without loading the document.
    pub projection: Option<Vec<u8>>,
}

/// A blob's idempotency key (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(pub [u8; 32]);

/// Why a blob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BlobError {
    /// For programs.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

/// Checks that an upload is what it claims to be: a document id of sane shape, a size
/// within `max_blob_bytes`, and bytes that parse as one Automerge change (verifying its
/// checksum) or as a whole Automerge document.
pub fn validate(upload: Upload, max_blob_bytes: usize) -> Result<ValidUpload, BlobError> {
    let id = &upload.document.0;
    if id.is_empty() || id.len() > MAX_DOCUMENT_ID_BYTES || id.chars().any(char::is_control) {
        return Err(BlobError {
            code: ErrorCode::InvalidBlob,
            message: format!(
                "document id must be 1 to {MAX_DOCUMENT_ID_BYTES} bytes without control characters"
            ),
        });
    }
    if upload.bytes.len() > max_blob_bytes {
        return Err(BlobError {
            code: ErrorCode::TooLarge,
            message: format!(
                "blob of {} bytes exceeds the limit of {max_blob_bytes} bytes",
                upload.bytes.len()
            ),
        });
    }
    if upload.kind == BlobKind::Erased {
        // No bytes: the marker says only which document is erased, and is stored once.
        if !upload.bytes.is_empty() {
            return Err(BlobError {
                code: ErrorCode::InvalidBlob,
                message: "an erasure carries no bytes".into(),
            });
        }
        return Ok(ValidUpload {
            key: erasure_key(id),
            upload,
            projection: None,
        });
    }
    // Chunk types (the byte after the magic and checksum) must be what the upload claims:
    // Automerge parses other chunk types (bundles) through code that panics on crafted
    // input (found by `shared/fuzz` blob_validate and relay_session — a bundle after a
    // document chunk — automerge 0.12.0's hexane decoder), so they never reach it.
    // A change is exactly one change chunk; a snapshot is document and change chunks (a
    // backup sends a document's stored chunks as they are).
    let types = chunk_types(&upload.bytes);
    let well_formed = match (upload.kind, types.as_deref()) {
        (BlobKind::Change, Some([only])) => [CHUNK_CHANGE, CHUNK_COMPRESSED_CHANGE].contains(only),
        (BlobKind::Snapshot { .. }, Some(types)) => {
            !types.is_empty()
                && types
                    .iter()
                    .all(|t| [CHUNK_DOCUMENT, CHUNK_CHANGE, CHUNK_COMPRESSED_CHANGE].contains(t))
        }
        _ => false,
    };
    if !well_formed {
        return Err(BlobError {
            code: ErrorCode::InvalidBlob,
            message: format!(
                "not an Automerge {}",
                match upload.kind {
                    BlobKind::Change | BlobKind::Erased | BlobKind::Moved => "change",
                    BlobKind::Snapshot { .. } => "document",
                }
            ),
        });
    }
    // Parsing is Automerge's; should it still panic on some input, the relay refuses the
    // blob instead of losing the connection (the relay unwinds; the app's wasm aborts).
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&upload, id)));
    let (key, projection) = match parsed {
        Ok(result) => result?,
        Err(_) => {
            return Err(BlobError {
                code: ErrorCode::InvalidBlob,
                message: "the blob could not be parsed".into(),
            })
        }
    };
    Ok(ValidUpload {
        upload,
        key,
        projection,
    })
}

/// The projection of a customer's snapshot `bytes` (stored under document `id`) made again,
/// as [`validate`] made it when the snapshot arrived: for a snapshot stored by an earlier
/// build, whose projection this build's devices cannot read (another fingerprint, see
/// `crate::model::snapshot::of_this_build`), so that they list the customer without loading
/// its document. `None` when the snapshot is not a customer's or does not load.
pub fn project_again(bytes: &[u8], id: &str) -> Option<Vec<u8>> {
    // The snapshot passed `validate` when stored; Automerge is still kept from unwinding
    // into the relay's connection.
    std::panic::catch_unwind(|| {
        let mut doc = load_snapshot(bytes).ok()?;
        crate::documents::customer_doc::projection_of(doc.document(), id)
    })
    .ok()
    .flatten()
}

/// The idempotency key of the erasure of document `id`: one per document, so an erasure
/// sent again is a duplicate.
pub fn erasure_key(id: &str) -> BlobKey {
    let mut hasher = Sha256::new();
    hasher.update(b"erased\0");
    hasher.update(id.as_bytes());
    BlobKey(hasher.finalize().into())
}

/// Automerge's magic bytes, which start every chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk types (the byte after the magic and the checksum).
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED_CHANGE: u8 = 2;

/// The type of every chunk of `bytes` (magic, checksum, type, LEB128 length, data), or
/// `None` if they are not a sequence of whole chunks.
fn chunk_types(bytes: &[u8]) -> Option<Vec<u8>> {
    Some(chunks(bytes)?.into_iter().map(|(kind, _)| kind).collect())
}

/// Every chunk of `bytes` as its type and its bytes, if `bytes` is whole chunks only.
fn chunks(bytes: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 9 || rest[..4] != MAGIC {
            return None;
        }
        let (length, used) = uleb128(&rest[9..])?;
        let end = 9usize
            .checked_add(used)?
            .checked_add(usize::try_from(length).ok()?)?;
        chunks.push((rest[8], rest.get(..end)?));
        rest = rest.get(end..)?;
    }
    Some(chunks)
}

/// Why Automerge must not be given a change. automerge 0.12.0 applies a change that is
/// ready — its dependencies present — assuming it continues its actor's history, and
/// panics otherwise: `lookup_actor(..).unwrap()` in `import_ops` for an actor it does not
/// know (a crafted change from an unknown actor with a sequence number above 1 and no
/// dependencies, found by the relay_session fuzz target), `assert_eq!` in the change
/// graph's `add_changes` for a sequence number that is not the actor's next (found by
/// blob_validate), `assert!` for an author footer on a change numbered above 1. A
/// device's engine applying such a change from the relay would abort, on every device of
/// the space, at every start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    /// Dependencies (this many) are not in the document (yet).
    #[error("a change before one it depends on")]
    MissingDependencies(usize),
    /// An actor the change names is unknown to the document, and is not the change's own
    /// actor making its first change.
    #[error("a change naming an actor the document does not know")]
    UnknownActor,
    /// The change's sequence number is not the next of its actor in the document.
    #[error("a change out of its device's sequence")]
    OutOfSequence,
    /// Bytes after the operations (an author footer, or anything): this app writes none.
    #[error("a change carrying unknown trailing bytes")]
    ExtraBytes,
    /// An operation names an actor by a number the change's actor list does not have.
    #[error("a change whose operations name an actor it does not list")]
    BadActorIndex,
    /// An operation is in an object the document does not have, or names as predecessor
    /// an operation that did not hold its map key.
    #[error("a change about values the document does not have")]
    PredecessorElsewhere,
    /// The change numbers its operations at or below those of the changes it builds on.
    #[error("a change numbering its operations before those it builds on")]
    NumberedBefore,
    /// An operation names its object or list element in a form Automerge never writes
    /// (see [`references_well_formed`]).
    #[error("a change naming an object or element in a malformed way")]
    MalformedReference,
    /// A change chunk Automerge would panic parsing (see [`change_parses_safely`]).
    #[error("a change with an operation number out of range")]
    Unreadable,
}

/// The actors of a document's changes and the last sequence number of each, and the
/// object every list or text element belongs to, each gathered the first time a change
/// needs it and kept up to date by [`apply_checked`].
#[derive(Debug, Default)]
pub struct KnownActors {
    last: Option<HashMap<automerge::ActorId, u64>>,
    elements: Option<Elements>,
}

/// An operation's number and actor.
type OpKey = (u64, automerge::ActorId);

/// The elements of a document's lists and texts, and the values later set on them.
#[derive(Debug, Default)]
struct Elements {
    /// Each element (its insertion) → its object.
    objects: HashMap<OpKey, automerge::legacy::ObjectId>,
    /// Each value set on an element after its insertion → that element.
    values: HashMap<OpKey, OpKey>,
}

impl KnownActors {
    fn of(&mut self, doc: &Automerge) -> &mut HashMap<automerge::ActorId, u64> {
        self.last.get_or_insert_with(|| {
            let mut last = HashMap::new();
            for meta in doc.get_changes_meta(&[]) {
                let seq = last.entry(meta.actor.into_owned()).or_insert(0);
                *seq = (*seq).max(meta.seq);
            }
            last
        })
    }

    /// Every element of the document's lists and texts, read from its changes once.
    fn elements(&mut self, doc: &Automerge) -> &Elements {
        self.elements.get_or_insert_with(|| {
            let mut elements = Elements::default();
            for change in doc.get_changes(&[]) {
                record_elements(&mut elements, &change);
            }
            elements
        })
    }

    /// Records that `change` was applied.
    fn applied(&mut self, change: &Change) {
        if let Some(last) = self.last.as_mut() {
            last.insert(change.actor_id().clone(), change.seq());
        }
        if let Some(elements) = self.elements.as_mut() {
            record_elements(elements, change);
        }
    }

    /// Forgets what it gathered (after the document was changed some other way).
    pub fn reset(&mut self) {
        self.last = None;
        self.elements = None;
    }
}

/// The elements `change` inserts, with their objects, and the values it sets on elements.
fn record_elements(elements: &mut Elements, change: &Change) {
    use automerge::legacy::{ElementId, Key, OpType};
    let start = change.start_op().get();
    let actor = change.actor_id();
    for (at, op) in change.decode().operations.into_iter().enumerate() {
        let id = (start + at as u64, actor.clone());
        if op.insert {
            elements.objects.insert(id, op.obj);
        } else if let (Key::Seq(ElementId::Id(element)), OpType::Put(_) | OpType::Make(_)) =
            (&op.key, &op.action)
        {
            (elements.values).insert(id, (element.counter(), element.actor().clone()));
        }
    }
}

/// Whether `change` may be given to Automerge for `doc`: `Ok(false)` if the document holds
/// it already, `Ok(true)` if it is new and safe to apply on its own (every dependency
/// present, the next sequence number of its actor, every other actor it names known, no
/// trailing bytes), else why not. Every change a device made is accepted in the order of
/// its document's history.
pub fn check_change(
    doc: &Automerge,
    change: &Change,
    known: &mut KnownActors,
) -> Result<bool, ChangeRefused> {
    if doc.get_change_meta_by_hash(&change.hash()).is_some() {
        return Ok(false);
    }
    let missing = (change.deps().iter())
        .filter(|dep| doc.get_change_meta_by_hash(dep).is_none())
        .count();
    if missing > 0 {
        return Err(ChangeRefused::MissingDependencies(missing));
    }
    if !change.extra_bytes().is_empty() {
        return Err(ChangeRefused::ExtraBytes);
    }
    // Operation numbers grow along the history: a change's first is above every operation
    // of the changes it builds on (automerge 0.12.0 applied one numbered below its
    // predecessor's, then asserted reading the document's changes: history fuzz).
    let deps_max_op = (change.deps().iter())
        .filter_map(|dep| doc.get_change_meta_by_hash(dep))
        .map(|meta| meta.max_op)
        .max()
        .unwrap_or(0);
    if change.start_op().get() <= deps_max_op {
        return Err(ChangeRefused::NumberedBefore);
    }
    let last = known.of(doc);
    let own_last = last.get(change.actor_id()).copied().unwrap_or(0);
    if change.seq() != own_last + 1 {
        return Err(if own_last == 0 {
            ChangeRefused::UnknownActor
        } else {
            ChangeRefused::OutOfSequence
        });
    }
    let others_known = (change.other_actor_ids().iter()).all(|actor| last.contains_key(actor));
    if !others_known {
        return Err(ChangeRefused::UnknownActor);
    }
    if !op_actors_listed(change.raw_bytes(), change.other_actor_ids().len() + 1) {
        return Err(ChangeRefused::BadActorIndex);
    }
    if !references_well_formed(change.raw_bytes(), change.len()) {
        return Err(ChangeRefused::MalformedReference);
    }
    if !map_preds_in_place(doc, change, known) {
        return Err(ChangeRefused::PredecessorElsewhere);
    }
    Ok(true)
}

/// Whether every operation of `change` is in an object that exists, and every operation on
/// a map key names as predecessors only operations
/// that held that key (of that object) in the document the change was made on (its
/// dependencies), or earlier operations of the change itself at the same place. automerge
/// 0.12.0 applies a change naming an operation of another key, records the succession on
/// the wrong key, and then asserts reading the document's changes (history fuzz target):
/// the engine holding such a document aborted. Operations on list and text elements name
/// only values of their element as predecessors. Call after [`op_actors_listed`] (decoding a change
/// whose operations name an unlisted actor panics).
fn map_preds_in_place(doc: &Automerge, change: &Change, known: &mut KnownActors) -> bool {
    use automerge::legacy::{Key, ObjectId};
    use automerge::ReadDoc;
    let decoded = change.decode();
    let ops = &decoded.operations;
    let start = change.start_op().get();
    // The document's object an operation names (`None`: the document has no such actor).
    let obj_id = |obj: &ObjectId| -> Option<automerge::ObjId> {
        match obj {
            ObjectId::Root => Some(automerge::ROOT),
            ObjectId::Id(id) => doc
                .import_obj(&format!("{}@{}", id.counter(), id.actor().to_hex_string()))
                .ok(),
        }
    };
    // A deletion or an increment acts on a value it names: without one it is about nothing
    // (automerge 0.12.0 applied a deletion naming no predecessor, then `unwrap`ped
    // `MissingOps` reading the document's changes: history fuzz).
    let about_nothing = ops.iter().any(|op| {
        matches!(
            op.action,
            automerge::legacy::OpType::Delete | automerge::legacy::OpType::Increment(_)
        ) && op.pred.is_empty()
    });
    if about_nothing {
        return false;
    }
    // The head of a list or text is a place to insert after, never a value to set or
    // delete (automerge 0.12.0 unwrapped `None` applying one: history fuzz).
    let at_head = |op: &automerge::legacy::Op| {
        matches!(op.key, Key::Seq(automerge::legacy::ElementId::Head)) && !op.insert
    };
    if ops.iter().any(at_head) {
        return false;
    }
    // No table: this app never makes one, and automerge 0.12.0 panics applying a key set
    // in one ("Missing from Index": history fuzz).
    if (ops.iter()).any(|op| {
        matches!(
            op.action,
            automerge::legacy::OpType::Make(automerge::ObjType::Table)
        )
    }) {
        return false;
    }
    // Every object an operation is in exists — the document's, or made earlier by the change
    // (automerge 0.12.0 panics applying an operation in a missing object: history fuzz) —
    // and is of the kind its key needs: a key in a map, an element in a list or a text
    // (it `unwrap`ped applying a map key in a text the change made: history fuzz).
    let mut known_objects: Vec<(&automerge::legacy::OpId, bool)> = Vec::new();
    for op in ops {
        let wants_sequence = !matches!(op.key, Key::Map(_));
        let ObjectId::Id(id) = &op.obj else {
            // The root is a map.
            if wants_sequence {
                return false;
            }
            continue;
        };
        let sequence = match known_objects.iter().find(|(known, _)| *known == id) {
            Some((_, sequence)) => Some(*sequence),
            None if id.actor() == change.actor_id() && id.counter() >= start => {
                match usize::try_from(id.counter() - start)
                    .ok()
                    .and_then(|at| ops.get(at))
                    .map(|made| &made.action)
                {
                    Some(automerge::legacy::OpType::Make(kind)) => Some(matches!(
                        kind,
                        automerge::ObjType::List | automerge::ObjType::Text
                    )),
                    _ => None,
                }
            }
            None => obj_id(&op.obj)
                .and_then(|obj| doc.object_type(&obj).ok())
                .map(|kind| matches!(kind, automerge::ObjType::List | automerge::ObjType::Text)),
        };
        match sequence {
            Some(sequence) if sequence == wants_sequence => known_objects.push((id, sequence)),
            _ => return false,
        }
    }
    let at_heads = {
        let (mut heads, mut deps) = (doc.get_heads(), change.deps().to_vec());
        crate::order::sort(&mut heads);
        crate::order::sort(&mut deps);
        heads == deps
    };
    // Every list or text element an operation names (to set, delete or insert after) is
    // an element of that object: made earlier by the change as an insertion into it, or
    // one of the document's (automerge 0.12.0 `unwrap`ped `None` applying a deletion of an
    // element of another list, and its own cursor lookup asserts on one: history fuzz).
    for op in ops {
        let Key::Seq(automerge::legacy::ElementId::Id(element)) = &op.key else {
            continue;
        };
        let in_place = if element.actor() == change.actor_id() && element.counter() >= start {
            usize::try_from(element.counter() - start)
                .ok()
                .and_then(|at| ops.get(at))
                .is_some_and(|made| made.insert && made.obj == op.obj)
        } else {
            let key = (element.counter(), element.actor().clone());
            known.elements(doc).objects.get(&key) == Some(&op.obj)
        };
        if !in_place {
            return false;
        }
    }
    // Every predecessor of an operation on an element is a value of that element: its
    // insertion, a value set on it since, or an earlier operation of the change on it
    // (automerge 0.12.0 applied a predecessor of another element, then asserted reading the
    // document's changes: history fuzz). And every predecessor is numbered below its
    // successor.
    for (at, op) in ops.iter().enumerate() {
        let own = start + at as u64;
        if op.pred.iter().any(|pred| pred.counter() >= own) {
            return false;
        }
        let Key::Seq(automerge::legacy::ElementId::Id(element)) = &op.key else {
            continue;
        };
        if op.insert {
            if !op.pred.is_empty() {
                return false;
            }
            continue;
        }
        let element = (element.counter(), element.actor().clone());
        for pred in op.pred.iter() {
            let pred_key = (pred.counter(), pred.actor().clone());
            let of_element = if pred.actor() == change.actor_id() && pred.counter() >= start {
                usize::try_from(pred.counter() - start)
                    .ok()
                    .and_then(|at| ops.get(at))
                    .is_some_and(|earlier| earlier.obj == op.obj && earlier.key == op.key)
            } else {
                pred_key == element || known.elements(doc).values.get(&pred_key) == Some(&element)
            };
            if !of_element {
                return false;
            }
        }
    }
    if ops
        .iter()
        .all(|op| op.pred.is_empty() || !matches!(op.key, Key::Map(_)))
    {
        return true;
    }
    for op in ops {
        let Key::Map(key) = &op.key else {
            continue;
        };
        if op.pred.is_empty() {
            continue;
        }
        let mut visible: Option<Vec<automerge::ObjId>> = None;
        for pred in op.pred.iter() {
            // An earlier operation of this change: the same object and key.
            if pred.actor() == change.actor_id() && pred.counter() >= start {
                let Some(earlier) = usize::try_from(pred.counter() - start)
                    .ok()
                    .and_then(|at| ops.get(at))
                else {
                    return false;
                };
                if earlier.obj != op.obj || earlier.key != op.key {
                    return false;
                }
                continue;
            }
            if visible.is_none() {
                let Some(obj) = obj_id(&op.obj) else {
                    return false;
                };
                let values = if at_heads {
                    doc.get_all(&obj, key.as_str())
                } else {
                    doc.get_all_at(&obj, key.as_str(), change.deps())
                };
                let Ok(values) = values else {
                    return false;
                };
                visible = Some(values.into_iter().map(|(_, id)| id).collect());
            }
            let wanted = automerge::ObjId::Id(pred.counter(), pred.actor().clone(), 0);
            if !visible.as_ref().is_some_and(|ids| ids.contains(&wanted)) {
                return false;
            }
        }
    }
    true
}

/// Whether every actor number in the operations of the change chunk `chunk` (its object,
/// key and predecessor actor columns) is below `n_actors`, the length of the change's actor
/// list. automerge 0.12.0 parses a change without checking them and then `unwrap`s the
/// lookup when applying it (`import_ops`: `InvalidActorIndex`), so a crafted change naming
/// actor 17 aborted a device's engine (found by the history fuzz target). Reads the chunk
/// as automerge writes it: header, dependencies, actor, sequence, start op, time, message,
/// other actors, column metadata, then the columns; anything unreadable counts as a no.
fn op_actors_listed(chunk: &[u8], n_actors: usize) -> bool {
    /// Every value of an RLE column of unsigned numbers below `n_actors` (null runs allowed).
    fn rle_below(data: &[u8], n_actors: u64) -> Option<bool> {
        Some(rle_runs(data, false)?.iter().all(|(_, value)| {
            value.is_none_or(|value| u64::try_from(value).is_ok_and(|value| value < n_actors))
        }))
    }
    // Column specs: (column id << 4) | type, with type 1 for actors; obj 0, key 1, pred 7.
    const ACTOR_COLUMNS: [u64; 3] = [1, 1 << 4 | 1, 7 << 4 | 1];
    let Some((_, columns, mut data)) = read_ops_columns(chunk) else {
        return false;
    };
    for (spec, len) in columns {
        let Some(column) = data.get(..len) else {
            return false;
        };
        data = &data[len..];
        if ACTOR_COLUMNS.contains(&spec) && rle_below(column, n_actors as u64) != Some(true) {
            return false;
        }
    }
    true
}

/// Whether every operation of the change chunk `chunk` names its object and its key the way
/// Automerge writes them: the object as both actor and counter (counter above 0) or neither
/// (the root); a map key as a string with no element; a list element as actor and counter
/// (counter above 0) or as the list's head (no actor, counter 0), for each of the change's
/// `n_ops` operations. Automerge 0.12.0 decodes
/// an object "counter 0 of actor 1" as the root but applies it as another object, which
/// breaks the order of the document's operations; it then asserted reading the document's
/// changes (`collector.rs:299`; history fuzz target). Anything unreadable counts as a no.
fn references_well_formed(chunk: &[u8], n_ops: usize) -> bool {
    // Column specs: (column id << 4) | type. Object: actor 0x01, counter 0x02; key: actor
    // 0x11, counter (delta) 0x13, string 0x15.
    const OBJ_ACTOR: u64 = 0x01;
    const OBJ_CTR: u64 = 0x02;
    const KEY_ACTOR: u64 = 0x11;
    const KEY_CTR: u64 = 0x13;
    const KEY_STR: u64 = 0x15;
    /// The first `limit` values of an RLE column (nulls as `None`), one per operation
    /// (automerge reads as many operations as its shortest column has and ignores the rest).
    fn expand(runs: &[(u64, Option<i64>)], limit: u64) -> Option<Vec<Option<i64>>> {
        let mut values = Vec::new();
        for (n, value) in runs {
            let room = limit - values.len() as u64;
            values.extend(std::iter::repeat_n(
                *value,
                usize::try_from((*n).min(room)).ok()?,
            ));
        }
        Some(values)
    }
    let Some((_, columns, mut data)) = read_ops_columns(chunk) else {
        return false;
    };
    let limit = n_ops as u64;
    let mut found: HashMap<u64, Vec<Option<i64>>> = HashMap::new();
    for (spec, len) in columns {
        let Some(column) = data.get(..len) else {
            return false;
        };
        data = &data[len..];
        let values = match spec {
            OBJ_ACTOR | OBJ_CTR | KEY_ACTOR => rle_runs(column, false),
            KEY_CTR => rle_runs(column, true),
            // A string column: only whether each value is null matters.
            KEY_STR => string_presence(column),
            _ => continue,
        };
        let Some(values) = values.and_then(|runs| expand(&runs, limit)) else {
            return false;
        };
        found.insert(spec, values);
    }
    let at = |spec: u64, i: usize| found.get(&spec).and_then(|v| v.get(i).copied().flatten());
    let mut key_ctr = 0i64;
    for i in 0..n_ops {
        match (at(OBJ_ACTOR, i), at(OBJ_CTR, i)) {
            (None, None) => {}
            (Some(_), Some(ctr)) if ctr > 0 => {}
            _ => return false,
        }
        // The key counter column holds deltas; a null leaves the running value as it was.
        let delta = at(KEY_CTR, i);
        if let Some(delta) = delta {
            key_ctr = match key_ctr.checked_add(delta) {
                Some(value) => value,
                None => return false,
            };
        }
        let has_string = at(KEY_STR, i).is_some();
        match (has_string, at(KEY_ACTOR, i), delta.map(|_| key_ctr)) {
            (true, None, None) => {}
            (false, None, Some(0)) => {}
            (false, Some(_), Some(ctr)) if ctr > 0 => {}
            _ => return false,
        }
    }
    true
}

/// For an RLE column of strings: one run per value, `Some(0)` for a string, `None` for null.
fn string_presence(data: &[u8]) -> Option<Vec<(u64, Option<i64>)>> {
    runs_of(data, |data| {
        let (len, used) = uleb128(data)?;
        let end = used.checked_add(usize::try_from(len).ok()?)?;
        *data = data.get(end..)?;
        Some(0)
    })
}

/// The op columns of a change chunk (uncompressed, as automerge writes it: header,
/// dependencies, actor, sequence, start op, time, message, other actors, column metadata,
/// then the columns): its start op, the columns' (spec, length) and the bytes of the
/// columns that follow them.
type OpsColumns<'a> = (u64, Vec<(u64, usize)>, &'a [u8]);

fn read_ops_columns(chunk: &[u8]) -> Option<OpsColumns<'_>> {
    let mut at = 9;
    let uleb = |at: &mut usize| -> Option<u64> {
        let (value, used) = uleb128(chunk.get(*at..)?)?;
        *at += used;
        Some(value)
    };
    let skip = |at: &mut usize, n: u64| -> Option<()> {
        *at = at.checked_add(usize::try_from(n).ok()?)?;
        (*at <= chunk.len()).then_some(())
    };
    let _length = uleb(&mut at)?;
    let deps = uleb(&mut at)?;
    skip(&mut at, deps.checked_mul(32)?)?;
    let actor = uleb(&mut at)?;
    skip(&mut at, actor)?;
    let _seq = uleb(&mut at)?;
    let start_op = uleb(&mut at)?;
    let _time = uleb(&mut at)?; // signed, but one LEB128 number either way
    let message = uleb(&mut at)?;
    skip(&mut at, message)?;
    let others = uleb(&mut at)?;
    for _ in 0..others {
        let len = uleb(&mut at)?;
        skip(&mut at, len)?;
    }
    let n_columns = uleb(&mut at)?;
    let mut columns = Vec::new();
    for _ in 0..n_columns.min(1024) {
        let spec = uleb(&mut at)?;
        let len = usize::try_from(uleb(&mut at)?).ok()?;
        columns.push((spec, len));
    }
    Some((start_op, columns, chunk.get(at..)?))
}

/// The runs of an RLE column of numbers (`signed`: LEB128-signed values, as delta columns
/// hold): (how many, the value or `None` for nulls). `None` if it does not read.
fn rle_runs(data: &[u8], signed: bool) -> Option<Vec<(u64, Option<i64>)>> {
    runs_of(data, |data| {
        let (value, used) = if signed {
            sleb128(data)?
        } else {
            let (value, used) = uleb128(data)?;
            (i64::try_from(value).ok()?, used)
        };
        *data = data.get(used..)?;
        Some(value)
    })
}

/// The runs of an RLE column whose values `value` reads (and steps over): a count, then
/// one value repeated, a null count, or (a negative count) that many literal values.
fn runs_of(
    mut data: &[u8],
    mut value: impl FnMut(&mut &[u8]) -> Option<i64>,
) -> Option<Vec<(u64, Option<i64>)>> {
    let mut runs = Vec::new();
    while !data.is_empty() {
        let (count, used) = sleb128(data)?;
        data = data.get(used..)?;
        match count {
            0 => {
                let (nulls, used) = uleb128(data)?;
                data = data.get(used..)?;
                runs.push((nulls, None));
            }
            run if run > 0 => runs.push((run as u64, Some(value(&mut data)?))),
            literal => {
                for _ in 0..literal.unsigned_abs() {
                    runs.push((1, Some(value(&mut data)?)));
                }
            }
        }
    }
    Some(runs)
}

/// Whether Automerge can parse the change chunk `bytes` (one chunk, its type checked)
/// without panicking on the numbers in it: every operation counter (its objects', keys'
/// and predecessors', and the operations' own from the start op on) fits in 32 bits, and
/// no column is compressed on its own (automerge writes none in a change). automerge
/// 0.12.0 `unwrap`s the conversion while parsing (`OpId::new`), so a change naming
/// predecessor 2^32 aborted the engine of the device reading it (history fuzz target). A
/// compressed change is inflated first (at most `MAX_INFLATED_CHANGE` bytes).
pub fn change_parses_safely(bytes: &[u8]) -> bool {
    use std::io::Read;
    const MAX_INFLATED_CHANGE: u64 = 8 << 20;
    let inflated;
    let chunk = match bytes.get(8) {
        Some(&CHUNK_CHANGE) => bytes,
        Some(&CHUNK_COMPRESSED_CHANGE) => {
            let Some((length, used)) = bytes.get(9..).and_then(uleb128) else {
                return false;
            };
            let Some(body) = usize::try_from(length)
                .ok()
                .and_then(|length| bytes.get(9 + used..9 + used + length))
            else {
                return false;
            };
            let mut plain = Vec::new();
            let read = flate2::read::DeflateDecoder::new(body)
                .take(MAX_INFLATED_CHANGE + 1)
                .read_to_end(&mut plain);
            if read.is_err() || plain.len() as u64 > MAX_INFLATED_CHANGE {
                return false;
            }
            let mut whole = bytes[..8].to_vec();
            whole.push(CHUNK_CHANGE);
            let mut length = plain.len() as u64;
            loop {
                let byte = (length & 0x7f) as u8;
                length >>= 7;
                if length == 0 {
                    whole.push(byte);
                    break;
                }
                whole.push(byte | 0x80);
            }
            whole.extend(plain);
            inflated = whole;
            &inflated
        }
        _ => return false,
    };
    // Column specs: obj counter (uleb), key counter (delta), action (uleb), pred counter
    // (delta); bit 3 marks a column compressed on its own.
    const OBJ_CTR: u64 = 2;
    const KEY_CTR: u64 = 1 << 4 | 3;
    const ACTION: u64 = 4 << 4 | 2;
    const PRED_CTR: u64 = 7 << 4 | 3;
    let Some((start_op, columns, mut data)) = read_ops_columns(chunk) else {
        return false;
    };
    let fits = |value: i64| (0..=i64::from(u32::MAX)).contains(&value);
    for (spec, len) in columns {
        let Some(column) = data.get(..len) else {
            return false;
        };
        data = &data[len..];
        if spec & 8 != 0 {
            return false;
        }
        let delta = matches!(spec, KEY_CTR | PRED_CTR);
        if !matches!(spec, OBJ_CTR | KEY_CTR | ACTION | PRED_CTR) {
            continue;
        }
        let Some(runs) = rle_runs(column, delta) else {
            return false;
        };
        if spec == ACTION {
            let n_ops: u64 = runs.iter().map(|(count, _)| *count).sum();
            let last = start_op.checked_add(n_ops);
            if last.is_none_or(|last| last > u64::from(u32::MAX)) {
                return false;
            }
            continue;
        }
        let mut sum = 0i64;
        for (count, value) in runs {
            let Some(value) = value else {
                continue;
            };
            if delta {
                // Every running sum must fit; with a run of the same delta, its ends do.
                let Some(end) = i64::try_from(count)
                    .ok()
                    .and_then(|count| value.checked_mul(count))
                    .and_then(|total| sum.checked_add(total))
                else {
                    return false;
                };
                if !fits(sum.saturating_add(value)) || !fits(end) {
                    return false;
                }
                sum = end;
            } else if !fits(value) {
                return false;
            }
        }
    }
    true
}

/// A signed LEB128 number at the start of `bytes` and how many bytes it took.
fn sleb128(bytes: &[u8]) -> Option<(i64, usize)> {
    let mut value = 0i64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= i64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            let shift = 7 * (i as u32 + 1);
            if shift < 64 && byte & 0x40 != 0 {
                value |= -1i64 << shift;
            }
            return Some((value, i + 1));
        }
    }
    None
}

/// Whether `bytes` are one change chunk (compressed or not), readable or not.
pub fn is_change_chunk(bytes: &[u8]) -> bool {
    matches!(chunk_types(bytes).as_deref(), Some([kind]) if [CHUNK_CHANGE, CHUNK_COMPRESSED_CHANGE].contains(kind))
}

/// Parses one change chunk (the relay's [`validate`] made sure a change upload is one);
/// `None` for anything else, and for a change Automerge would panic parsing.
pub fn single_change(bytes: &[u8]) -> Option<Change> {
    match chunk_types(bytes)?.as_slice() {
        [kind] if [CHUNK_CHANGE, CHUNK_COMPRESSED_CHANGE].contains(kind) => {
            change_parses_safely(bytes)
                .then(|| Change::try_from(bytes).ok())
                .flatten()
        }
        _ => None,
    }
}

/// Applies `change` to `doc` after [`check_change`]; returns whether the document changed.
pub fn apply_checked(
    doc: &mut automerge::AutoCommit,
    change: Change,
    known: &mut KnownActors,
) -> Result<bool, ApplyError> {
    if !check_change(doc.document(), &change, known)? {
        return Ok(false);
    }
    doc.apply_changes([change.clone()])?;
    known.applied(&change);
    Ok(true)
}

/// Why [`apply_checked`] did not apply a change.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Refused before Automerge saw it.
    #[error(transparent)]
    Refused(#[from] ChangeRefused),
    /// Refused by Automerge.
    #[error(transparent)]
    Automerge(#[from] automerge::AutomergeError),
}

/// Loads a snapshot's chunks (types already checked) as `Automerge::load` would, refusing
/// what reaches automerge 0.12.0's panicking paths first (`load` applies the changes after
/// the document in one batch: see [`ChangeRefused`]). So: at most one document chunk,
/// first; then each change applied on its own once [`check_change`] accepts it — which is
/// always true of the chunks a device stores, in the order it stored them.
fn load_snapshot(bytes: &[u8]) -> Result<automerge::AutoCommit, String> {
    let chunks = chunks(bytes).ok_or("not whole chunks")?;
    let mut doc = automerge::AutoCommit::new();
    let mut known = KnownActors::default();
    for (i, (kind, chunk)) in chunks.into_iter().enumerate() {
        if kind == CHUNK_DOCUMENT {
            if i > 0 {
                return Err("a document chunk after the first chunk".into());
            }
            doc = automerge::AutoCommit::load(chunk).map_err(|err| err.to_string())?;
            known.reset();
            continue;
        }
        let change = single_change(chunk).ok_or("a change Automerge cannot read")?;
        apply_checked(&mut doc, change, &mut known).map_err(|err| err.to_string())?;
    }
    Ok(doc)
}

/// An unsigned LEB128 number at the start of `bytes` and how many bytes it took.
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// The key and (for a customer snapshot) the projection of a blob whose chunk types were
/// checked.
fn parse(upload: &Upload, id: &str) -> Result<(BlobKey, Option<Vec<u8>>), BlobError> {
    Ok(match upload.kind {
        BlobKind::Change => {
            // Refused here too, so no device is sent it (see `change_parses_safely`).
            if !change_parses_safely(&upload.bytes) {
                return Err(BlobError {
                    code: ErrorCode::InvalidBlob,
                    message: "a change with an operation number out of range".into(),
                });
            }
            // Parses the header and every operation.
            let change = Change::try_from(upload.bytes.as_slice()).map_err(|err| BlobError {
                code: ErrorCode::InvalidBlob,
                message: format!("not an Automerge change: {err}"),
            })?;
            // The chunk's checksum (bytes 4..8, after the magic) is the start of the
            // change's hash; parsing alone does not check it.
            if upload.bytes.get(4..8) != Some(&change.hash().0[..4]) {
                return Err(BlobError {
                    code: ErrorCode::InvalidBlob,
                    message: "the change's checksum does not match its contents".into(),
                });
            }
            // Trailing bytes after the operations are allowed by the format for future
            // use; this app writes none, so they are only a way to store anything.
            if !change.extra_bytes().is_empty() {
                return Err(BlobError {
                    code: ErrorCode::InvalidBlob,
                    message: format!(
                        "the change carries {} unknown trailing bytes",
                        change.extra_bytes().len()
                    ),
                });
            }
            // Refused here too, so no device is sent it (see `op_actors_listed`).
            if !op_actors_listed(change.raw_bytes(), change.other_actor_ids().len() + 1) {
                return Err(BlobError {
                    code: ErrorCode::InvalidBlob,
                    message: ChangeRefused::BadActorIndex.to_string(),
                });
            }
            if !references_well_formed(change.raw_bytes(), change.len()) {
                return Err(BlobError {
                    code: ErrorCode::InvalidBlob,
                    message: ChangeRefused::MalformedReference.to_string(),
                });
            }
            (BlobKey(change.hash().0), None)
        }
        BlobKind::Snapshot { .. } => {
            let mut doc = load_snapshot(&upload.bytes).map_err(|err| BlobError {
                code: ErrorCode::InvalidBlob,
                message: format!("not an Automerge document: {err}"),
            })?;
            let mut heads = doc.get_heads();
            crate::order::sort(&mut heads);
            let mut hasher = Sha256::new();
            hasher.update(b"snapshot\0");
            hasher.update(id.as_bytes());
            hasher.update([0]);
            for head in &heads {
                hasher.update(head.0);
            }
            let projection = crate::documents::customer_doc::projection_of(doc.document(), id);
            (BlobKey(hasher.finalize().into()), projection)
        }
        // `validate` answered it before parsing.
        BlobKind::Erased => (erasure_key(id), None),
        // Refused as not well formed before parsing: only the relay writes moves.
        BlobKind::Moved => {
            return Err(BlobError {
                code: ErrorCode::InvalidBlob,
                message: "only the relay moves a customer".into(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use automerge::{transaction::Transactable, AutoCommit, ROOT};

    use super::*;
    use crate::sync::protocol::{DocumentId, Seq};

    fn doc() -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "Ada").unwrap();
        doc.commit();
        doc
    }

    fn upload(kind: BlobKind, bytes: Vec<u8>) -> Upload {
        Upload {
            document: DocumentId("c1".into()),
            kind,
            bytes,
        }
    }

    /// The history fuzz target's customer (shared/fuzz/fuzz_targets/history.rs): the time,
    /// the document, and the same document as plain Automerge, to apply changes to. Its
    /// bytes are a fixture (the seed customer 5 as made on 2026-12-01), so the regression
    /// inputs, whose changes depend on its first change, stay valid as the schema grows.
    fn fuzzed_customer() -> (crate::Timestamp, crate::CustomerDoc, automerge::AutoCommit) {
        let now = crate::Timestamp(1_795_341_600_000);
        let bytes = include_bytes!("../../tests/fixtures/history-customer.automerge");
        let raw = automerge::AutoCommit::load(bytes).unwrap();
        let id = crate::documents::customer_doc::hydrate_customer(&raw)
            .unwrap()
            .id;
        let doc =
            crate::CustomerDoc::load(&id, bytes, automerge::ActorId::from(vec![3u8; 16])).unwrap();
        (now, doc, raw)
    }

    /// The changes of a history fuzz input: each after its length (two bytes, little-endian).
    fn fuzzed_changes(input: &[u8]) -> Vec<&[u8]> {
        let mut changes = Vec::new();
        let mut rest = input;
        while rest.len() > 2 {
            let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
            let end = (2 + len).min(rest.len());
            changes.push(&rest[2..end]);
            rest = &rest[end..];
        }
        changes
    }

    /// Applies a history fuzz input whose crafted change must be refused as being about
    /// values the document does not have; reading the document's changes then works.
    fn refused_as_elsewhere(raw: &mut automerge::AutoCommit, input: &[u8]) {
        let refused = apply_fuzzed(raw, input);
        assert!(
            refused
                .iter()
                .any(|why| matches!(why, ChangeRefused::PredecessorElsewhere)),
            "{refused:?}"
        );
        let _ = raw.get_changes(&[]);
    }

    /// Applies a history fuzz input's changes as the target does; why each refused one was.
    fn apply_fuzzed(raw: &mut automerge::AutoCommit, input: &[u8]) -> Vec<ChangeRefused> {
        let mut refused = Vec::new();
        for bytes in fuzzed_changes(input) {
            if let Some(change) = single_change(bytes) {
                if let Err(ApplyError::Refused(why)) =
                    apply_checked(raw, change, &mut KnownActors::default())
                {
                    refused.push(why);
                }
            }
        }
        refused
    }

    #[test]
    fn a_change_whose_operations_name_an_unlisted_actor_is_refused_before_automerge_applies_it() {
        // Found by the history fuzz target: changes of another device to a customer's
        // document (each after two length bytes), one of which names actor 17 in its
        // operations while listing two actors; automerge 0.12.0 parsed it and then unwrapped
        // `InvalidActorIndex(17)` applying it (an engine taking it from the relay aborted).
        let input = include_bytes!("../../fuzz/corpus/history/regression-op-actor-out-of-range");
        let (now, mut doc, mut raw) = fuzzed_customer();
        let refused = apply_fuzzed(&mut raw, input);
        assert!(
            refused
                .iter()
                .any(|why| matches!(why, ChangeRefused::BadActorIndex)),
            "{refused:?}"
        );
        // The relay refuses it as an upload: no device is ever sent it.
        let mut uploads_refused = 0;
        for bytes in fuzzed_changes(input) {
            let Some(change) = single_change(bytes) else {
                continue;
            };
            if !op_actors_listed(change.raw_bytes(), change.other_actor_ids().len() + 1) {
                // As fuzzed, its checksum is wrong (refused for that); with the checksum
                // a forger would compute, it is refused for its actor number.
                let mut forged = bytes.to_vec();
                let sum: [u8; 32] = Sha256::digest(&forged[8..]).into();
                forged[4..8].copy_from_slice(&sum[..4]);
                let err = validate(upload(BlobKind::Change, forged), 1 << 20).unwrap_err();
                assert_eq!(err.code, ErrorCode::InvalidBlob);
                assert!(err.message.contains("name an actor"), "{}", err.message);
                uploads_refused += 1;
            }
        }
        assert!(uploads_refused > 0);
        // Every change this app makes passes the check (its actor columns read right).
        let mut copy = doc.fork(automerge::ActorId::from(vec![4u8; 16]));
        copy.update(now, |c| {
            c.stage = crate::LifecycleStage::Customer;
            c.phones.clear();
            c.notes.update("Prefers mornings.");
        })
        .unwrap();
        let change = Change::try_from(copy.last_local_change().unwrap().as_slice()).unwrap();
        assert!(op_actors_listed(
            change.raw_bytes(),
            change.other_actor_ids().len() + 1
        ));
        assert!(!op_actors_listed(change.raw_bytes(), 0));
    }

    #[test]
    fn a_change_replacing_a_value_of_another_key_is_refused_before_automerge_applies_it() {
        // Found by the history fuzz target: a change setting root key "stgge" with, as
        // predecessor, the operation that set "stage". automerge 0.12.0 applied it and then
        // asserted reading the document's changes (`collector.rs:299`).
        let input = include_bytes!("../../fuzz/corpus/history/regression-pred-at-another-key");
        let (now, mut doc, mut raw) = fuzzed_customer();
        let change = single_change(fuzzed_changes(input)[0]).unwrap();
        let result = apply_checked(&mut raw, change, &mut KnownActors::default());
        assert!(
            matches!(
                result,
                Err(ApplyError::Refused(ChangeRefused::PredecessorElsewhere))
            ),
            "{result:?}"
        );
        assert_eq!(raw.get_changes(&[]).len(), 1);
        // Found next: an operation in an object the document does not have (automerge
        // panicked applying it: "Missing from Index").
        let input = include_bytes!("../../fuzz/corpus/history/regression-op-in-missing-object");
        refused_as_elsewhere(&mut raw, input);
        // Found next: a deletion naming no predecessor, of a key of a map the change made
        // (automerge applied it, then `unwrap`ped `MissingOps` reading the changes).
        let input = include_bytes!("../../fuzz/corpus/history/regression-delete-of-nothing");
        refused_as_elsewhere(&mut raw, input);
        // Found next: a map key set in a text the change made (automerge unwrapped `None`
        // applying it).
        let input = include_bytes!("../../fuzz/corpus/history/regression-map-key-in-text");
        refused_as_elsewhere(&mut raw, input);
        // Found next: a predecessor numbered past 32 bits (automerge unwrapped the
        // conversion while parsing the change, before anything could check it).
        let input = include_bytes!("../../fuzz/corpus/history/regression-counter-past-32-bits");
        let changes = fuzzed_changes(input);
        assert!(changes
            .iter()
            .any(|bytes| bytes.get(8) == Some(&CHUNK_CHANGE) && !change_parses_safely(bytes)));
        // (on a document of its own: its first changes are valid ones of the phone's actor)
        let (_, _, mut fresh) = fuzzed_customer();
        apply_fuzzed(&mut fresh, input);
        let _ = fresh.get_changes(&[]);
        // Found next: deletions of elements of another list (automerge unwrapped `None`
        // applying them).
        let input = include_bytes!("../../fuzz/corpus/history/regression-element-of-another-list");
        let (_, _, mut fresh) = fuzzed_customer();
        refused_as_elsewhere(&mut fresh, input);
        // Found next: a change numbering its operations from 4 on a document whose
        // operations reach 88, replacing the stage (operation 20) with operation 4
        // (automerge applied it, then asserted reading the changes: `collector.rs:299`).
        let input =
            include_bytes!("../../fuzz/corpus/history/regression-numbered-below-its-predecessor");
        let (_, _, mut fresh) = fuzzed_customer();
        let refused = apply_fuzzed(&mut fresh, input);
        assert_eq!(refused, [ChangeRefused::NumberedBefore]);
        assert_eq!(fresh.get_changes(&[]).len(), 1);
        // Found next: a table made in the customer's stage changes, and keys set in it
        // (automerge panicked applying them: "Missing from Index").
        let input = include_bytes!("../../fuzz/corpus/history/regression-keys-in-a-table");
        let (_, _, mut fresh) = fuzzed_customer();
        refused_as_elsewhere(&mut fresh, input);
        // Found next: values set at the head of a list (automerge unwrapped `None`).
        let input = include_bytes!("../../fuzz/corpus/history/regression-value-at-the-head");
        let (_, _, mut fresh) = fuzzed_customer();
        refused_as_elsewhere(&mut fresh, input);
        // Found next: a map made in "counter 0 of the other actor", which automerge decodes
        // as the root but applied as another object, out of the document's operation order
        // (then asserted reading the changes: `collector.rs:299`).
        let input = include_bytes!("../../fuzz/corpus/history/regression-object-zero-of-an-actor");
        let (_, _, mut fresh) = fuzzed_customer();
        let refused = apply_fuzzed(&mut fresh, input);
        assert_eq!(refused, [ChangeRefused::MalformedReference]);
        assert_eq!(fresh.get_changes(&[]).len(), 1);
        // The same operations written the way automerge writes them are accepted.
        let change = single_change(fuzzed_changes(input)[0]).unwrap();
        let rewritten = Change::from(change.decode());
        assert!(references_well_formed(
            rewritten.raw_bytes(),
            rewritten.len()
        ));
        let applied = apply_checked(&mut fresh, rewritten, &mut KnownActors::default());
        assert!(matches!(applied, Ok(true)), "{applied:?}");
        assert_eq!(fresh.get_changes(&[]).len(), 2);
        // Real edits of another device, a conflict and its resolution pass the check.
        let mut phone = doc.fork(automerge::ActorId::from(vec![4u8; 16]));
        let mut tablet = doc.fork(automerge::ActorId::from(vec![5u8; 16]));
        phone
            .update(now, |c| c.company = "Phone Co".into())
            .unwrap();
        tablet
            .update(now, |c| c.company = "Tablet Co".into())
            .unwrap();
        for device in [&mut phone, &mut tablet] {
            let change = Change::try_from(device.last_local_change().unwrap().as_slice()).unwrap();
            assert!(matches!(
                apply_checked(&mut raw, change, &mut KnownActors::default()),
                Ok(true)
            ));
        }
        let mut merged =
            crate::CustomerDoc::from_remote(&raw.save(), automerge::ActorId::from(vec![6u8; 16]))
                .unwrap();
        let conflict = merged.conflicts().remove(0);
        merged
            .resolve_conflict("company", &conflict.values[1].op, now)
            .unwrap();
        let change = Change::try_from(merged.last_local_change().unwrap().as_slice()).unwrap();
        assert!(matches!(
            apply_checked(&mut raw, change, &mut KnownActors::default()),
            Ok(true)
        ));
        // Deletions: a phone removed, notes shortened, a tag taken off.
        let mut edited =
            crate::CustomerDoc::from_remote(&raw.save(), automerge::ActorId::from(vec![7u8; 16]))
                .unwrap();
        edited
            .update(now, |c| {
                c.phones.clear();
                c.notes.update("Short.");
                let tags: Vec<String> = c.tags.iter().map(|tag| tag.to_string()).collect();
                for tag in tags {
                    c.tags.remove(&tag);
                }
            })
            .unwrap();
        let change = Change::try_from(edited.last_local_change().unwrap().as_slice()).unwrap();
        assert!(change
            .decode()
            .operations
            .iter()
            .any(|op| matches!(op.action, automerge::legacy::OpType::Delete)));
        assert!(change_parses_safely(change.raw_bytes()));
        let mut compressed = change.clone();
        assert!(change_parses_safely(compressed.bytes().as_ref()));
        assert!(matches!(
            apply_checked(&mut raw, change, &mut KnownActors::default()),
            Ok(true)
        ));
    }

    #[test]
    fn a_crafted_bundle_chunk_that_panicked_automerges_parser_is_refused() {
        // Found by the blob_validate fuzz target: a "change" whose chunk is a bundle made
        // automerge 0.12.0's parser unwrap an error (a relay built with panic=abort died).
        let input = include_bytes!("../../fuzz/corpus/blob_validate/regression-bundle-chunk");
        let err = validate(upload(BlobKind::Change, input[1..].to_vec()), 1 << 20).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidBlob);
        let err = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, input[1..].to_vec()),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidBlob);
    }

    #[test]
    fn a_snapshot_change_from_an_unknown_actor_is_refused_before_automerge_applies_it() {
        // Found by the relay_session fuzz target: a snapshot that is one change chunk, of an
        // actor with a sequence number above 1 and no dependencies, made automerge 0.12.0's
        // batch apply unwrap a missing actor (caught by `catch_unwind` before; now refused
        // for what it is).
        let input =
            include_bytes!("../../fuzz/corpus/blob_validate/regression-change-from-unknown-actor");
        let err = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, input[1..].to_vec()),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidBlob);
        // (As found it also carries 16 trailing bytes, checked first; the same change
        // without them is refused for its actor: tests/it/customer_doc.rs.)
        assert_eq!(
            err.message,
            "not an Automerge document: a change carrying unknown trailing bytes"
        );

        // What devices store is accepted: changes only (a document made of incremental
        // saves), and a document followed by another device's change that edits this
        // device's values (naming both actors).
        let mut doc = doc();
        let mut changes_only = doc.save_incremental();
        doc.put(ROOT, "name", "Bea").unwrap();
        doc.commit();
        changes_only.extend_from_slice(&doc.save_incremental());
        let valid = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, changes_only),
            1 << 20,
        )
        .unwrap();
        let mut whole = doc.save();
        let mut other = doc.fork();
        other.put(ROOT, "name", "Cleo").unwrap();
        other.commit();
        let other_change = other.save_incremental();
        whole.extend_from_slice(&other_change);
        let with_other = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, whole),
            1 << 20,
        )
        .unwrap();
        assert_ne!(valid.key, with_other.key);
        // A change before the one it depends on, and a second document chunk, are not
        // what a device stores.
        let reordered = [other_change, doc.save()].concat();
        assert!(validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, reordered),
            1 << 20
        )
        .is_err());
        let first = doc.get_changes(&[]).first().unwrap().raw_bytes().to_vec();
        let last = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let err = validate(
            upload(
                BlobKind::Snapshot { covers: Seq(0) },
                [last, first].concat(),
            ),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "not an Automerge document: a change before one it depends on"
        );
    }

    #[test]
    fn a_snapshot_change_out_of_its_actors_sequence_is_refused_before_automerge_applies_it() {
        // Found by the blob_validate fuzz target (10 million executions after the third
        // fix): a change whose sequence number is not its actor's next made automerge
        // 0.12.0's change graph fail an `assert_eq!`.
        let input =
            include_bytes!("../../fuzz/corpus/blob_validate/regression-change-out-of-sequence");
        let err = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, input[1..].to_vec()),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidBlob);
        assert!(
            err.message
                .starts_with("not an Automerge document: a change"),
            "refused by the check, not caught as a panic: {}",
            err.message
        );
        // A change skipping a number of its own device's sequence, made honestly: refused.
        let mut doc = doc();
        let base = doc.save();
        doc.put(ROOT, "name", "Bea").unwrap();
        doc.commit();
        doc.put(ROOT, "name", "Cleo").unwrap();
        doc.commit();
        let third = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let mut automerge = Automerge::load(&base).unwrap();
        let change = Change::try_from(third.as_slice()).unwrap();
        assert_eq!(
            check_change(&automerge, &change, &mut KnownActors::default()),
            Err(ChangeRefused::MissingDependencies(1))
        );
        // Its dependency present, it is next in sequence: accepted and applied.
        let second = doc.get_changes(&[])[1].raw_bytes().to_vec();
        let mut known = KnownActors::default();
        let second = Change::try_from(second.as_slice()).unwrap();
        assert_eq!(check_change(&automerge, &second, &mut known), Ok(true));
        automerge.apply_changes([second.clone()]).unwrap();
        known.applied(&second);
        assert_eq!(check_change(&automerge, &change, &mut known), Ok(true));
    }

    #[test]
    fn a_snapshot_with_a_bundle_chunk_after_its_document_is_refused_before_parsing() {
        // Found by the relay_session fuzz target: Automerge::load walks every chunk.
        let bundle =
            &include_bytes!("../../fuzz/corpus/blob_validate/regression-bundle-chunk")[1..];
        let mut bytes = doc().save();
        bytes.extend_from_slice(bundle);
        let err = validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, bytes),
            1 << 20,
        )
        .unwrap_err();
        assert_eq!(
            err.message, "not an Automerge document",
            "refused before parsing"
        );
        // A backup's snapshot: a document chunk followed by change chunks, accepted.
        let mut doc = doc();
        let mut backup = doc.save();
        doc.put(ROOT, "name", "Bea").unwrap();
        doc.commit();
        backup.extend_from_slice(&doc.save_incremental());
        assert!(validate(
            upload(BlobKind::Snapshot { covers: Seq(0) }, backup),
            1 << 20
        )
        .is_ok());
        // Two chunks where a change must be one.
        let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let twice = [change.clone(), change].concat();
        assert!(validate(upload(BlobKind::Change, twice), 1 << 20).is_err());
    }

    #[test]
    fn a_change_with_a_wrong_checksum_or_trailing_bytes_is_refused() {
        let mut doc = doc();
        let change = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let mut tampered = change.clone();
        tampered[5] ^= 0xff;
        let err = validate(upload(BlobKind::Change, tampered), 1024).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidBlob);
        // A change whose operations are garbage does not parse.
        let mut garbage = change.clone();
        let n = garbage.len();
        for byte in &mut garbage[n - 6..] {
            *byte = 0xff;
        }
        assert!(validate(upload(BlobKind::Change, garbage), 1024).is_err());
        // A well-formed change carrying unknown trailing bytes (the format allows them).
        let mut expanded = automerge::Change::try_from(change.as_slice())
            .unwrap()
            .decode();
        expanded.extra_bytes = vec![7; 100];
        let padded = automerge::Change::from(expanded).raw_bytes().to_vec();
        let err = validate(upload(BlobKind::Change, padded), 1024).unwrap_err();
        assert!(err.message.contains("trailing"), "{}", err.message);
        assert!(validate(upload(BlobKind::Change, change), 1024).is_ok());
    }

    #[test]
    fn a_change_is_keyed_by_its_hash() {
        let mut doc = doc();
        let change = doc.get_last_local_change().unwrap();
        let valid = validate(upload(BlobKind::Change, change.raw_bytes().to_vec()), 1024).unwrap();
        assert_eq!(valid.key.0, change.hash().0);
    }

    #[test]
    fn the_same_snapshot_has_the_same_key_and_another_one_does_not() {
        let mut doc = doc();
        let kind = BlobKind::Snapshot { covers: Seq(0) };
        let a = validate(upload(kind, doc.save()), 1 << 20).unwrap();
        let b = validate(upload(kind, doc.save_nocompress()), 1 << 20).unwrap();
        assert_eq!(a.key, b.key);
        doc.put(ROOT, "name", "Bea").unwrap();
        doc.commit();
        let c = validate(upload(kind, doc.save()), 1 << 20).unwrap();
        assert_ne!(a.key, c.key);
    }

    #[test]
    fn a_customer_snapshot_carries_its_summary_and_facts_and_nothing_else_does() {
        let now = crate::Timestamp(1_795_341_600_000);
        let customer = crate::seed::customer(1, 1, now);
        let id = customer.id.to_string();
        let (bytes, summary, facts) = crate::CustomerDoc::create_snapshot(
            customer,
            automerge::ActorId::from(vec![7u8; 16]),
            None,
            now,
        )
        .unwrap();
        let kind = BlobKind::Snapshot { covers: Seq(0) };
        let mut customer_upload = upload(kind, bytes.clone());
        customer_upload.document = DocumentId(id.clone());
        let valid = validate(customer_upload, 1 << 20).unwrap();
        let projection = valid.projection.expect("a projection");
        assert_eq!(
            crate::model::snapshot::decode_projection(&projection),
            Some((summary, facts))
        );
        // Filed under another customer's id, a plain document, a change: none.
        let mut misfiled = upload(kind, bytes);
        misfiled.document = DocumentId(format!("{id}x"));
        assert_eq!(validate(misfiled, 1 << 20).unwrap().projection, None);
        assert_eq!(
            validate(upload(kind, doc().save()), 1 << 20)
                .unwrap()
                .projection,
            None
        );
        let change = doc().get_last_local_change().unwrap().raw_bytes().to_vec();
        assert_eq!(
            validate(upload(BlobKind::Change, change), 1 << 20)
                .unwrap()
                .projection,
            None
        );
    }

    #[test]
    fn garbage_oversized_and_misfiled_blobs_are_refused() {
        let garbage = validate(upload(BlobKind::Change, vec![1, 2, 3]), 1024).unwrap_err();
        assert_eq!(garbage.code, ErrorCode::InvalidBlob);
        let big = validate(upload(BlobKind::Change, vec![0; 2000]), 1024).unwrap_err();
        assert_eq!(big.code, ErrorCode::TooLarge);
        // A whole document is not a change, and a change with a flipped byte fails its checksum.
        let mut d = doc();
        let snapshot = d.save();
        assert!(validate(upload(BlobKind::Change, snapshot), 1 << 20).is_err());
        let mut change = d.get_last_local_change().unwrap().raw_bytes().to_vec();
        let last = change.len() - 1;
        change[last] ^= 0xff;
        assert!(validate(upload(BlobKind::Change, change), 1 << 20).is_err());
        let mut bad_id = upload(BlobKind::Change, vec![]);
        bad_id.document = DocumentId(String::new());
        assert_eq!(
            validate(bad_id, 1024).unwrap_err().code,
            ErrorCode::InvalidBlob
        );
    }
}
