//! The device's IndexedDB database: document chunks, the list's and the dashboards'
//! projections, device metadata and the outbox.
//!
//! # Object stores (version 7)
//!
//! - `doc_chunks`: the bytes of every customer document, as chunks keyed
//!   `"<customer id>/<sequence number, 10 digits>"`. Chunk 0 is a snapshot; every saved edit
//!   appends one small incremental chunk; compaction replaces all chunks of a document with
//!   one snapshot inside the same transaction that writes it. Loading a document
//!   concatenates its chunks in key order. The one record per customer a write adds.
//! - `doc_packs` (from version 7): the first snapshots of many new customers in one record
//!   (an import's): `{ids: [customer id…], docs: [bytes…]}`, auto-increment keys, at most
//!   [`PACK_MEMBERS`] each, found by customer through the multi-entry index `member` on
//!   `ids`. A packed document is its customer's chunk 0: its own chunks start at 1. One
//!   `put` per customer cost an import of 10,000 rows ~1 s of IndexedDB requests; a pack of
//!   100 costs about what one chunk does. Invariant: *a customer leaves its pack in the
//!   transaction that deletes its chunk 0* (a document's compaction, an erasure): the pack
//!   is rewritten without it (or deleted once empty), so no erased bytes stay behind.
//! - `summaries_log` and `facts_log`: one record per write (auto-increment keys, in write
//!   order) holding the [`CustomerSummary`]s (a JSON array: readable by any later build) or
//!   the [`CustomerFacts`] (`shared::model::snapshot::encode`) of every customer it
//!   changed, written in the same transaction as the document chunks they describe. A
//!   download's page of 1,000 customers adds one record to each, not 1,000.
//! - `snapshots`: every customer's projection in one value: under `"summaries"` (postcard,
//!   fast to read) with a JSON copy under `"summaries.json"` (read when another build wrote
//!   the first) and the list's first screen under `"summaries.first-screen"` (its first rows
//!   and counts, `shared::search::first_screen`: what a start draws before the whole book is
//!   read; written with every snapshot of the summaries), in a team territory's database
//!   every listed customer's owner under `"summaries.owners"` (tagged with a hash of the
//!   snapshot beside it: what a team dashboard reads of a territory's list,
//!   [`Store::load_listed_owners`]), and under
//!   `"facts"`. Invariant:
//!   *a projection is its snapshot with every record of its log laid over it, in order*
//!   ([`Store::load_summaries`]). [`Store::compact`]
//!   (the engine, when idle) writes new snapshots and empties the log in one transaction,
//!   so a start reads a handful of values whatever the size of the book.
//! - `summaries` and `facts` (databases from before version 5 only): one record per
//!   customer, the projections as older builds kept them: read in place of a snapshot until
//!   the first compaction empties them.
//! - `meta`: small values: this device's Automerge actor id, the signed-in session, the
//!   sync cursor and an unfinished bootstrap's position.
//! - `outbox`: changes the relay has not acknowledged yet (encoded
//!   `shared::sync::protocol::Upload`s), with increasing auto-generated keys. An edit's outbox
//!   item is written in the same transaction as its document chunk, and only the relay's
//!   acknowledgement deletes it. A record holds one upload (bytes) or, for a write of many
//!   customers, all of its uploads (an array of bytes, `null` where one was acknowledged):
//!   an import of 10,000 customers writes 5 outbox records, not 10,000. Each upload's id is
//!   `key << 16 | position` ([`OUTBOX_PER_RECORD`] at most per record), in the order written.
//!
//! - `arrivals` (from version 6): one record per stored catch-up page (auto-increment keys):
//!   the changes made on other devices it brought and when ([`Arrival`], JSON), written in
//!   the same transaction as their chunks; what a customer's history dates "reached this
//!   device" with and "Recent changes" lists. A download of the whole book adds none.
//!
//! Every write goes through [`Store::write`], one transaction per [`WriteBatch`], and
//! resolves only once IndexedDB reports the transaction committed.
//!
//! A projection record that does not read (damage, or facts of another build) is left
//! out, never guessed at: the engine makes missing summaries and facts again from the
//! documents (`Repo::repair_projections`, the dashboards' backfill).

use std::future::IntoFuture;

use idb::{
    Database, DatabaseEvent, Factory, IndexParams, KeyPath, KeyRange, ObjectStoreParams, Query,
    TransactionMode, TransactionResult,
};
use js_sys::Uint8Array;
use shared::model::history::Arrival;
use shared::model::snapshot::{ListedOwner, PerCustomer};
use shared::search::first_screen::FirstScreen;
use shared::sync::protocol::{BlobKind, DocumentId, Seq, Upload, UploadHead};
use shared::sync::StoredItem;
use shared::{model::facts::CustomerFacts, CustomerId, CustomerSummary};
use wasm_bindgen::{JsCast, JsValue};

/// The account's own book's database.
pub const OWN_DATABASE: &str = "fieldbook";
const DB_VERSION: u32 = 7;

thread_local! {
    /// The database of the book this thread works in (`set_database`).
    static DATABASE: std::cell::RefCell<String> = std::cell::RefCell::new(OWN_DATABASE.to_string());
}

/// Chooses the book this thread's [`Store::open`] opens: the account's own
/// ([`OWN_DATABASE`]) unless told otherwise at start (a team's territory,
/// `shared::sync::team::TeamBook::database`). Every book has the same layout.
pub fn set_database(name: &str) {
    DATABASE.with(|database| *database.borrow_mut() = name.to_string());
}

/// The database of the book this thread works in.
pub fn database() -> String {
    DATABASE.with(|database| database.borrow().clone())
}

/// Whether a book's database keeps its customers' owners beside the summaries' snapshot
/// ([`OWNERS`]): a team territory's, which a team dashboard reads; not the account's own
/// book's, which nothing reads that way. Asked where a snapshot is made
/// ([`SnapshotBytes::of_summaries`], in the book's writer) and where one is found behind
/// ([`Store::snapshot_behind`]), so the two always agree.
fn keeps_owners(database: &str) -> bool {
    database != OWN_DATABASE
}
const DOC_CHUNKS: &str = "doc_chunks";
const DOC_PACKS: &str = "doc_packs";
/// The index of [`DOC_PACKS`] by member customer.
const PACK_MEMBER: &str = "member";
/// At most this many documents in one pack: a pack is rewritten whenever one of its
/// customers leaves it, so it stays small (~70 KB of typical new customers).
pub const PACK_MEMBERS: usize = 100;
/// ... and at most about this many bytes.
const PACK_BYTES: usize = 256 * 1024;
const META: &str = "meta";
const OUTBOX: &str = "outbox";
const SNAPSHOTS: &str = "snapshots";
const SUMMARIES_LOG: &str = "summaries_log";
/// Meta key of the database's data version: a new random value in every write that
/// changes what is stored (documents, summaries, facts, the book document), in the same
/// transaction, so equal versions mean equal data ([`Store::data_version`]).
pub const DATA_VERSION: &str = "data-version";
const FACTS_LOG: &str = "facts_log";
const ARRIVALS: &str = "arrivals";
/// Every store of a version-6 database.
const STORES: [&str; 8] = [
    DOC_CHUNKS,
    DOC_PACKS,
    META,
    OUTBOX,
    SNAPSHOTS,
    SUMMARIES_LOG,
    FACTS_LOG,
    ARRIVALS,
];
/// Per-customer projections of databases from before version 5, emptied by compaction.
const LEGACY_SUMMARIES: &str = "summaries";
const LEGACY_FACTS: &str = "facts";
/// Version 4's copies of records written after a snapshot; dropped by the upgrade to 5
/// (with version 4's snapshots: the per-customer stores hold everything they did).
const DROPPED_STORES: [&str; 2] = ["summaries_since", "facts_since"];
/// The JSON copy of the summaries' snapshot.
const SUMMARIES_JSON: &str = "summaries.json";
/// The list's first screen as the summaries' snapshot shows it (`shared::search::
/// first_screen`), written with every snapshot of the summaries (`put_snapshot_in`).
const FIRST_SCREEN: &str = "summaries.first-screen";
/// Key (in `snapshots`) of every listed customer's owner, made with the summaries'
/// snapshot and tagged with its hash (`shared::model::snapshot::encode_owners`).
const OWNERS: &str = "summaries.owners";

/// The most uploads one outbox record holds (its ids are `key << 16 | position`).
pub const OUTBOX_PER_RECORD: usize = 1 << 16;

/// The id of the upload at `position` of the outbox record `key`.
fn outbox_id(key: u64, position: usize) -> u64 {
    key << 16 | position as u64
}

/// An outbox item without its bytes ([`Store::outbox_heads`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxHead {
    /// Its id ([`Store::write`]'s keys).
    pub id: u64,
    /// The document it changes.
    pub document: DocumentId,
    /// What it is (a named snapshot chunk is a snapshot).
    pub kind: BlobKind,
}

impl OutboxHead {
    /// What sync is restored with.
    pub fn stored(self) -> StoredItem {
        StoredItem {
            id: self.id,
            document: self.document,
        }
    }
}

/// One outbox item as [`Store::write`] stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxValue {
    /// An encoded [`Upload`], stored as bytes.
    Encoded(Vec<u8>),
    /// A whole document the same batch writes as one of its chunks: the item names that
    /// chunk instead of holding its bytes a second time (an import of 10,000 customers
    /// would otherwise write every new document twice, and rewrite the rest of its outbox
    /// record at every acknowledgement). Stored as the string
    /// `"chunk:<covers>:<seq>:<customer id>"`; [`Store::load_outbox`] reads it back as the
    /// snapshot upload `Upload { kind: Snapshot { covers }, bytes: <the chunk> }`. Only a
    /// snapshot chunk may be named: when a compaction has since replaced it, the document's
    /// first chunk is the newer snapshot that replaced it, which holds everything it held.
    Snapshot {
        /// The customer whose document it is.
        customer_id: CustomerId,
        /// The snapshot chunk's sequence number.
        seq: u32,
        /// See [`BlobKind::Snapshot`].
        covers: Seq,
    },
}

impl OutboxValue {
    /// The item of an upload sent as it is.
    pub fn upload(upload: &Upload) -> Self {
        OutboxValue::Encoded(shared::sync::protocol::encode(upload))
    }

    /// How the item is stored.
    fn to_js(&self) -> JsValue {
        match self {
            OutboxValue::Encoded(bytes) => Uint8Array::from(bytes.as_slice()).into(),
            OutboxValue::Snapshot {
                customer_id,
                seq,
                covers,
            } => JsValue::from_str(&format!("chunk:{}:{seq}:{customer_id}", covers.0)),
        }
    }

    /// A stored item named by [`OutboxValue::to_js`]'s string form.
    fn parse_snapshot(text: &str) -> Option<Self> {
        let mut parts = text.strip_prefix("chunk:")?.splitn(3, ':');
        let covers = Seq(parts.next()?.parse().ok()?);
        let seq = parts.next()?.parse().ok()?;
        let customer_id = parts.next()?.parse().ok()?;
        Some(OutboxValue::Snapshot {
            customer_id,
            seq,
            covers,
        })
    }
}

/// Which per-customer projection a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// [`CustomerSummary`]s: the list.
    Summaries,
    /// [`CustomerFacts`]: the dashboards.
    Facts,
}

impl Projection {
    /// Its log store, its snapshot's key and its pre-version-5 per-customer store.
    fn stores(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Projection::Summaries => (SUMMARIES_LOG, "summaries", LEGACY_SUMMARIES),
            Projection::Facts => (FACTS_LOG, "facts", LEGACY_FACTS),
        }
    }
}

/// A projection's snapshot as [`Store::put_snapshot`] stores it.
#[derive(Debug)]
pub struct SnapshotBytes {
    projection: Projection,
    /// `shared::model::snapshot::encode`.
    encoded: Vec<u8>,
    /// For summaries: the same as a JSON array.
    json: Option<String>,
    /// For summaries: the list's first screen ([`FirstScreen::encode`]).
    first_screen: Option<Vec<u8>>,
    /// For summaries: each customer's owner (`shared::model::snapshot::encode_owners`).
    owners: Option<Vec<u8>>,
}

impl SnapshotBytes {
    /// The snapshot of every summary (`items`, as [`ByCustomer::with_newer`] gives them).
    ///
    /// [`ByCustomer::with_newer`]: shared::model::snapshot::ByCustomer::with_newer
    pub fn of_summaries(items: &[&CustomerSummary]) -> Result<SnapshotBytes, StoreError> {
        let encoded = shared::model::snapshot::encode(items);
        Ok(SnapshotBytes {
            projection: Projection::Summaries,
            owners: keeps_owners(&database())
                .then(|| shared::model::snapshot::encode_owners(&encoded, items)),
            encoded,
            json: Some(json_array(items)?),
            first_screen: Some(FirstScreen::of(items).encode()),
        })
    }

    /// The snapshot of every customer's facts.
    pub fn of_facts(items: &[&CustomerFacts]) -> Result<SnapshotBytes, StoreError> {
        Ok(SnapshotBytes {
            projection: Projection::Facts,
            encoded: shared::model::snapshot::encode(items),
            json: None,
            first_screen: None,
            owners: None,
        })
    }
}

/// `items` as one JSON array.
fn json_array<T: serde::Serialize>(items: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(items)
        .map_err(|err| StoreError::Failed(format!("cannot encode summaries: {err}")))
}

/// What a read of a projection found.
#[derive(Debug, Default)]
pub struct Projected<T> {
    /// Every customer's record.
    pub items: Vec<T>,
    /// How many records were laid over the snapshot (or 1 without a snapshot this build
    /// reads): when non-zero, [`Store::compact`] is due.
    pub since: usize,
    /// The database's data version ([`DATA_VERSION`]) read in the same transaction (the
    /// summaries only): equal versions, equal records.
    pub data_version: Option<String>,
}

/// Why a storage operation failed, in words for the rep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The browser offers no IndexedDB (some private modes) or refused to open it.
    #[error("this browser does not let Fieldbook store data on the device ({0})")]
    Unavailable(String),
    /// Another tab holds an older version of the database open.
    #[error("Fieldbook is open in another tab with an older version; close that tab and reload")]
    Blocked,
    /// The database on this device was written by a newer version of Fieldbook.
    #[error(
        "this device's data was saved by a newer version of Fieldbook; reload the page to get it"
    )]
    NewerVersion,
    /// The device's storage quota is exhausted.
    #[error("the device's storage is full: free some space, then try again")]
    QuotaExceeded,
    /// The transaction was aborted by the browser.
    #[error("the browser aborted the write ({0})")]
    Aborted(String),
    /// Any other IndexedDB failure.
    #[error("storage error: {0}")]
    Failed(String),
}

impl From<idb::Error> for StoreError {
    fn from(error: idb::Error) -> StoreError {
        match &error {
            idb::Error::DomException(exception) if exception.name() == "QuotaExceededError" => {
                StoreError::QuotaExceeded
            }
            idb::Error::DomException(exception) => {
                StoreError::Failed(format!("{}: {}", exception.name(), exception.message()))
            }
            other => StoreError::Failed(other.to_string()),
        }
    }
}

/// Everything one transaction writes.
#[derive(Debug, Default)]
pub struct WriteBatch {
    /// Document chunks to store: (customer, sequence number, bytes).
    pub chunks: Vec<(CustomerId, u32, Vec<u8>)>,
    /// The first snapshots of customers with nothing stored yet (an import's): stored in
    /// packs of [`PACK_MEMBERS`] (module doc), each its customer's chunk 0.
    pub new_docs: Vec<(CustomerId, Vec<u8>)>,
    /// Chunks to delete before the puts: every chunk of the customer below the sequence
    /// number, and every unverified one (compaction of a document that holds them all).
    pub delete_chunks_below: Vec<(CustomerId, u32)>,
    /// Changes stored unverified (see [`StoredDoc::unverified`]): (customer, the change's
    /// position in the relay's log, its bytes). Keyed apart from the numbered chunks
    /// (`<id>/u<position>`), so storing one needs nothing read first.
    pub unverified: Vec<(CustomerId, u64, Vec<u8>)>,
    /// Summaries to store (one `summaries_log` record).
    pub summaries: Vec<CustomerSummary>,
    /// Dashboard facts to store (one `facts_log` record).
    pub facts: Vec<CustomerFacts>,
    /// Outbox items to add; their keys are returned by [`Store::write`].
    pub outbox: Vec<OutboxValue>,
    /// Meta values to store.
    pub meta: Vec<(&'static str, String)>,
    /// New snapshots that already hold this batch's records (an erasure's write, which must
    /// not leave the erased customers in a snapshot): stored instead of a log record,
    /// emptying the log.
    pub snapshots: Vec<SnapshotBytes>,
    /// A part of a longer write (a download's page before the last, an import's batch before
    /// the last): no snapshots after it (the next part would replace them at once).
    pub more_follow: bool,
    /// The last part of a download of the whole book (or of a file's changes): new
    /// snapshots follow it whatever its own size (a download's last page may hold a few
    /// changes after thousands of snapshots), so a start after it reads one value.
    pub ends_bulk: bool,
    /// Changes of other devices this write stores, and when (a catch-up page).
    pub arrival: Option<Arrival>,
    /// Customers erased: every chunk of their documents is deleted (before the puts).
    pub erase: Vec<CustomerId>,
    /// Customers no longer listed whose chunks stay (moved to another territory while
    /// this device had unsent changes to them: kept until those are sent, and merged if
    /// the customer comes back). Only the list's snapshot leaves them out.
    pub hide: Vec<CustomerId>,
    /// Outbox items to delete (an erased customer's unsent changes).
    pub delete_outbox: Vec<u64>,
}

impl WriteBatch {
    /// Whether the batch changes what is stored (not only the outbox or the arrivals).
    pub fn changes_data(&self) -> bool {
        !(self.chunks.is_empty()
            && self.new_docs.is_empty()
            && self.unverified.is_empty()
            && self.summaries.is_empty()
            && self.facts.is_empty()
            && self.snapshots.is_empty()
            && self.erase.is_empty()
            && self.hide.is_empty()
            && self.meta.is_empty())
    }
}

/// A fresh random data version.
fn new_data_version() -> String {
    let high = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let low = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{:016x}", (high << 32) | low)
}

/// The stored chunks of one document.
#[derive(Debug, Default)]
pub struct StoredDoc {
    /// The chunks' bytes concatenated in order: what `CustomerDoc::load` takes.
    pub bytes: Vec<u8>,
    /// How many chunks there are (compaction is due when this grows).
    pub n_chunks: u32,
    /// The sequence number the next chunk must use.
    pub next_seq: u32,
    /// Changes stored without being checked against the document (listed from the
    /// projection they came with: the engine's fast-forward), in order: each is checked
    /// before Automerge sees it, whenever the document is loaded
    /// (`CustomerDoc::load_checking`). Not part of `bytes`.
    pub unverified: Vec<Vec<u8>>,
}

/// What a chunk of an unverified change starts with (then the change's bytes). Automerge's
/// own chunks start with its magic bytes (`85 6f 4a 83`), so the two never meet.
const UNVERIFIED_CHANGE: &[u8] = b"FBUC";

/// The stored value of a change kept unverified (see [`StoredDoc::unverified`]).
fn unverified_chunk(change: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(UNVERIFIED_CHANGE.len() + change.len());
    bytes.extend_from_slice(UNVERIFIED_CHANGE);
    bytes.extend_from_slice(change);
    bytes
}

/// The open IndexedDB database.
#[derive(Debug)]
pub struct Store {
    database: Database,
    /// Whether it still has the per-customer stores of a database from before version 5.
    legacy: bool,
    /// Which customers are packed ([`DOC_PACKS`]), read once by [`Store::stored_among`] or
    /// [`Store::stored_customers`] and kept by this connection's writes: a download's pages
    /// ask about a thousand customers each, and one index lookup per customer cost ~70 ms a
    /// page. Only the writing engine writes, so it stays true there; an engine that becomes
    /// the writer forgets it ([`Store::forget_packed`]). Only ever a hint of what to read: a
    /// customer it misses is stored as new beside its pack, and loading merges every copy.
    packed: std::cell::RefCell<Option<std::collections::HashSet<CustomerId>>>,
}

/// Commits a read-write transaction and resolves once it committed. `store` is any object
/// store of the transaction, kept to read the transaction's error after an abort: quota
/// failures arrive as an abort whose error is a QuotaExceededError.
async fn commit(transaction: idb::Transaction, store: &idb::ObjectStore) -> Result<(), StoreError> {
    let probe = store.transaction();
    let outcome = transaction.commit()?.await;
    match outcome {
        Ok(TransactionResult::Committed) => Ok(()),
        Ok(TransactionResult::Aborted) | Err(_) => Err(abort_reason(&probe, outcome.err())),
    }
}

/// Why a transaction did not commit: its own error if the browser set one, else what the
/// future reported.
fn abort_reason(transaction: &idb::Transaction, future_error: Option<idb::Error>) -> StoreError {
    match transaction.error() {
        Some(exception) if exception.name() == "QuotaExceededError" => StoreError::QuotaExceeded,
        Some(exception) => {
            StoreError::Aborted(format!("{}: {}", exception.name(), exception.message()))
        }
        None => match future_error {
            Some(error) => error.into(),
            None => StoreError::Aborted("the transaction was aborted before it committed".into()),
        },
    }
}

fn chunk_key(customer_id: &CustomerId, seq: u32) -> String {
    format!("{customer_id}/{seq:010}")
}

/// The key of an unverified change: after every numbered chunk of the customer (`'u'`
/// follows the digits), inside [`chunk_range`].
fn unverified_key(customer_id: &CustomerId, position: u64) -> String {
    format!("{customer_id}/u{position:020}")
}

/// Every unverified change of one customer.
fn unverified_range(customer_id: &CustomerId) -> Result<KeyRange, StoreError> {
    let lower = JsValue::from_str(&format!("{customer_id}/u"));
    let upper = JsValue::from_str(&format!("{customer_id}/v"));
    Ok(KeyRange::bound(&lower, &upper, Some(false), Some(true))?)
}

/// All chunk keys of one customer: `"<id>/"` up to, not including, `"<id>0"` (`'0'` follows
/// `'/'`, and ids never contain `'/'`).
fn chunk_range(customer_id: &CustomerId, below_seq: Option<u32>) -> Result<KeyRange, StoreError> {
    let lower = JsValue::from_str(&format!("{customer_id}/"));
    let upper = match below_seq {
        Some(seq) => JsValue::from_str(&chunk_key(customer_id, seq)),
        None => JsValue::from_str(&format!("{customer_id}0")),
    };
    Ok(KeyRange::bound(&lower, &upper, Some(false), Some(true))?)
}

impl Store {
    /// Opens (creating or upgrading) the database.
    ///
    /// `on_blocked` runs while another tab holding an older version keeps the upgrade
    /// waiting; `on_replaced` runs when another tab upgrades the database, after this tab
    /// has closed its connection (so that upgrade is not blocked).
    pub async fn open(
        on_blocked: impl FnOnce() + 'static,
        on_replaced: impl FnOnce() + 'static,
    ) -> Result<Store, StoreError> {
        Store::open_named(&database(), on_blocked, on_replaced).await
    }

    /// Opens (creating or upgrading) the database `name` (another book's: a team book's
    /// engine reads the account's session from the own book's `meta`).
    pub async fn open_named(
        name: &str,
        on_blocked: impl FnOnce() + 'static,
        on_replaced: impl FnOnce() + 'static,
    ) -> Result<Store, StoreError> {
        let factory = Factory::new().map_err(|err| StoreError::Unavailable(err.to_string()))?;
        let mut request = factory
            .open(name, Some(DB_VERSION))
            .map_err(|err| StoreError::Unavailable(err.to_string()))?;
        request.on_upgrade_needed(|event| {
            let Ok(database) = event.database() else {
                tracing::error!("upgrade event without database");
                return;
            };
            let existing = database.store_names();
            let has = |name: &str| existing.iter().any(|store| store == name);
            // From version 4: its snapshots are dropped with the copies beside them (the
            // per-customer stores, kept until the first compaction, hold everything).
            for name in DROPPED_STORES.into_iter().chain([SNAPSHOTS]) {
                if has(name) && has(LEGACY_SUMMARIES) {
                    if let Err(err) = database.delete_object_store(name) {
                        tracing::error!(store = name, cause = %err, "cannot drop an old store");
                    }
                }
            }
            let existing = database.store_names();
            for name in STORES {
                if !existing.iter().any(|store| store == name) {
                    let mut params = ObjectStoreParams::new();
                    if matches!(
                        name,
                        OUTBOX | SUMMARIES_LOG | FACTS_LOG | ARRIVALS | DOC_PACKS
                    ) {
                        params.auto_increment(true);
                    }
                    match database.create_object_store(name, params) {
                        Ok(store) if name == DOC_PACKS => {
                            let mut params = IndexParams::new();
                            params.multi_entry(true);
                            if let Err(err) = store.create_index(
                                PACK_MEMBER,
                                KeyPath::new_single("ids"),
                                Some(params),
                            ) {
                                tracing::error!(cause = %err, "cannot create the packs' index");
                            }
                        }
                        Ok(_) => {}
                        Err(err) => {
                            tracing::error!(store = name, cause = %err, "cannot create object store")
                        }
                    }
                }
            }
        });
        request.on_blocked(move |_| {
            tracing::warn!("database upgrade blocked by another tab");
            on_blocked();
        });
        let mut database = request.await.map_err(|err| match err {
            idb::Error::DomException(ref exception) if exception.name() == "VersionError" => {
                StoreError::NewerVersion
            }
            other => StoreError::Unavailable(other.to_string()),
        })?;
        database.on_version_change(move |event| {
            tracing::warn!("another tab is upgrading the database; closing this connection");
            if let Some(database) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::IdbDatabase>().ok())
            {
                database.close();
            }
            on_replaced();
        });
        let names = database.store_names();
        let legacy = [LEGACY_SUMMARIES, LEGACY_FACTS]
            .iter()
            .all(|legacy| names.iter().any(|name| name == legacy));
        Ok(Store {
            database,
            legacy,
            packed: Default::default(),
        })
    }

    /// Forgets which customers are packed (see [`Store::packed`]): another engine may have
    /// written since it was read.
    pub fn forget_packed(&self) {
        self.packed.replace(None);
    }

    /// Closes this connection (a read of another book's database, which must not keep a
    /// later upgrade of it waiting).
    pub fn close(self) {
        self.database.close();
    }

    /// Every store this database has (an older one's per-customer stores included).
    fn all_stores(&self) -> Vec<&'static str> {
        let mut stores = STORES.to_vec();
        if self.legacy {
            stores.extend([LEGACY_SUMMARIES, LEGACY_FACTS]);
        }
        stores
    }

    /// The stores a read or compaction of `projection` touches.
    fn projection_stores(&self, projection: Projection) -> Vec<&'static str> {
        let (log, _, legacy) = projection.stores();
        let mut stores = vec![SNAPSHOTS, log];
        if self.legacy {
            stores.push(legacy);
        }
        stores
    }

    /// Every stored summary: the snapshot with the log's records laid over it. Records that
    /// do not parse are skipped and logged, so one bad record never hides the whole book.
    pub async fn load_summaries(&self) -> Result<Projected<CustomerSummary>, StoreError> {
        let read = self.load_projection(Projection::Summaries).await;
        crate::perf::mark("fieldbook:summaries-fetched");
        read
    }

    /// Every stored customer's dashboard facts, as [`Store::load_summaries`]. Records that
    /// do not decode (another format) are left out: the caller makes them again from the
    /// documents.
    pub async fn load_facts(&self) -> Result<Projected<CustomerFacts>, StoreError> {
        let started = crate::perf::now_ms();
        let read = self.load_projection(Projection::Facts).await;
        crate::perf::add_timing("dashboard: facts read and decode", started);
        read
    }

    /// Every listed customer with its owner, without reading the summaries: the owners kept
    /// beside the summaries' snapshot, when nothing was written since it (its log is empty)
    /// and it is the very snapshot they were made from. `None` otherwise (an older
    /// database, changes since the last snapshot, another build's snapshot): the caller
    /// reads the summaries instead.
    pub async fn load_listed_owners(&self) -> Result<Option<Vec<ListedOwner>>, StoreError> {
        if self.legacy {
            return Ok(None);
        }
        let started = crate::perf::now_ms();
        let transaction = self
            .database
            .transaction(&[SNAPSHOTS, SUMMARIES_LOG], TransactionMode::ReadOnly)?;
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        // Every request asked before any is awaited (see `snapshot_behind`).
        let owners = snapshots
            .get(Query::Key(JsValue::from_str(OWNERS)))?
            .into_future();
        let (_, summaries_key, _) = Projection::Summaries.stores();
        let summaries = snapshots
            .get(Query::Key(JsValue::from_str(summaries_key)))?
            .into_future();
        let logged = transaction
            .object_store(SUMMARIES_LOG)?
            .count(None)?
            .into_future();
        let bytes = |value: Option<JsValue>| {
            value
                .and_then(|value| value.dyn_into::<Uint8Array>().ok())
                .map(|array| array.to_vec())
        };
        // Every future awaited before any error is returned (see `snapshot_behind`).
        let (owners, summaries, logged) = (owners.await, summaries.await, logged.await);
        let (owners, summaries, logged) = (bytes(owners?), bytes(summaries?), logged?);
        let listed = match (owners, summaries) {
            (Some(owners), Some(summaries)) if logged == 0 => {
                shared::model::snapshot::decode_owners(&owners, &summaries)
            }
            _ => None,
        };
        crate::perf::add_timing("team dashboard: listed owners read", started);
        Ok(listed)
    }

    async fn load_projection<T: Record>(
        &self,
        projection: Projection,
    ) -> Result<Projected<T>, StoreError> {
        let mut stores = self.projection_stores(projection);
        let versioned = projection == Projection::Summaries;
        if versioned {
            stores.push(META);
        }
        let transaction = self
            .database
            .transaction(&stores, TransactionMode::ReadOnly)?;
        // Asked first and awaited last (see `snapshot_behind` on awaiting every request).
        let version = match versioned {
            true => Some(
                transaction
                    .object_store(META)?
                    .get(Query::Key(JsValue::from_str(DATA_VERSION)))?
                    .into_future(),
            ),
            false => None,
        };
        let read = read_projection(&transaction, projection, self.legacy).await;
        let data_version = match version {
            Some(version) => version.await?.and_then(|value| value.as_string()),
            None => None,
        };
        Ok(Projected {
            data_version,
            ..read?
        })
    }

    /// Stores `snapshot` and empties its log (and the per-customer store of an older
    /// database), in one transaction: the writer made it from the records it holds, all
    /// committed, so it equals the snapshot with the log laid over it.
    pub async fn put_snapshot(&self, snapshot: SnapshotBytes) -> Result<(), StoreError> {
        let projection = snapshot.projection;
        let transaction = self.database.transaction(
            &self.projection_stores(projection),
            TransactionMode::ReadWrite,
        )?;
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        put_snapshot_in(&transaction, &snapshot, self.legacy)?;
        commit(transaction, &snapshots).await
    }

    /// Whether the snapshot of `projection` is missing or has records laid over it (for the
    /// summaries, also: the list's first screen is missing or another build's, as after an
    /// update, or, in a territory's database, the owners beside it are missing, so the next
    /// snapshot writes them).
    pub async fn snapshot_behind(&self, projection: Projection) -> Result<bool, StoreError> {
        let (log, key, legacy) = projection.stores();
        let transaction = self.database.transaction(
            &self.projection_stores(projection),
            TransactionMode::ReadOnly,
        )?;
        // Futures made at once: each hears its request's events from now on.
        let has_snapshot = transaction
            .object_store(SNAPSHOTS)?
            .count(Some(Query::Key(JsValue::from_str(key))))?
            .into_future();
        let in_log = transaction.object_store(log)?.count(None)?.into_future();
        let first_screen = match projection {
            Projection::Summaries => Some(
                transaction
                    .object_store(SNAPSHOTS)?
                    .get(Query::Key(JsValue::from_str(FIRST_SCREEN)))?
                    .into_future(),
            ),
            Projection::Facts => None,
        };
        let has_owners = match projection {
            Projection::Summaries if keeps_owners(&self.database.name()) => Some(
                transaction
                    .object_store(SNAPSHOTS)?
                    .count(Some(Query::Key(JsValue::from_str(OWNERS))))?
                    .into_future(),
            ),
            _ => None,
        };
        let in_legacy = match self.legacy {
            true => Some(transaction.object_store(legacy)?.count(None)?.into_future()),
            false => None,
        };
        // Every future is awaited, even when the first answer decides: a future dropped before
        // its request completes leaves the request's event to a freed closure, which throws
        // in the engine worker (it did on every first visit, when there is no snapshot).
        let in_legacy = match in_legacy {
            Some(count) => count.await,
            None => Ok(0),
        };
        let first_screen = match first_screen {
            Some(first_screen) => Some(first_screen.await),
            None => None,
        };
        let has_owners = match has_owners {
            Some(count) => count.await.map(|count| count > 0),
            None => Ok(true),
        };
        let (has_snapshot, in_log) = (has_snapshot.await, in_log.await);
        let first_screen_current = match first_screen {
            Some(read) => read?.is_some_and(|value| {
                value
                    .dyn_into::<Uint8Array>()
                    .is_ok_and(|bytes| FirstScreen::is_current(&bytes.subarray(0, 8).to_vec()))
            }),
            None => true,
        };
        Ok(has_snapshot? == 0
            || in_log? > 0
            || in_legacy? > 0
            || !first_screen_current
            || !has_owners?)
    }

    /// Folds the log of `projection` into a new snapshot, in one transaction, so the next
    /// start reads one value. Returns how many customers the snapshot holds.
    pub async fn compact(&self, projection: Projection) -> Result<usize, StoreError> {
        match projection {
            Projection::Summaries => {
                self.compact_with::<CustomerSummary>(projection, SnapshotBytes::of_summaries)
                    .await
            }
            Projection::Facts => {
                self.compact_with::<CustomerFacts>(projection, SnapshotBytes::of_facts)
                    .await
            }
        }
    }

    async fn compact_with<T: Record>(
        &self,
        projection: Projection,
        snapshot_of: fn(&[&T]) -> Result<SnapshotBytes, StoreError>,
    ) -> Result<usize, StoreError> {
        let started = crate::perf::now_ms();
        let transaction = self.database.transaction(
            &self.projection_stores(projection),
            TransactionMode::ReadWrite,
        )?;
        let read = read_projection::<T>(&transaction, projection, self.legacy).await?;
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        let items: Vec<&T> = read.items.iter().collect();
        put_snapshot_in(&transaction, &snapshot_of(&items)?, self.legacy)?;
        commit(transaction, &snapshots).await?;
        crate::perf::add_timing("store: compact snapshots", started);
        Ok(read.items.len())
    }

    /// The ids of every customer with a stored document, and of those among them holding
    /// unverified changes (one key-only read).
    pub async fn stored_customers(&self) -> Result<(Vec<CustomerId>, Vec<CustomerId>), StoreError> {
        let transaction = self
            .database
            .transaction(&[DOC_CHUNKS, DOC_PACKS], TransactionMode::ReadOnly)?;
        let keys = (transaction.object_store(DOC_CHUNKS)?)
            .get_all_keys(None, None)?
            .into_future();
        // Every pack (documents included: one read of ~70 KB records is far cheaper than a
        // cursor step per customer over the index).
        let packs = (transaction.object_store(DOC_PACKS)?)
            .get_all(None, None)?
            .into_future();
        let keys = keys.await?;
        let packs = packs.await?;
        let mut ids: Vec<CustomerId> = Vec::new();
        let mut unverified: Vec<CustomerId> = Vec::new();
        for key in keys.iter().filter_map(|key| key.as_string()) {
            let Some((id, seq)) = key.rsplit_once('/') else {
                continue;
            };
            let Ok(id) = id.parse::<CustomerId>() else {
                continue;
            };
            if seq.starts_with('u') && unverified.last() != Some(&id) {
                unverified.push(id.clone());
            }
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        let packed = packed_ids(&packs);
        let mut listed: std::collections::HashSet<CustomerId> = ids.iter().cloned().collect();
        for id in &packed {
            if listed.insert(id.clone()) {
                ids.push(id.clone());
            }
        }
        // What `stored_among` would read again at the next download's first page.
        self.packed.replace(Some(packed));
        Ok((ids, unverified))
    }

    /// The stored chunks of one document (empty if it has none).
    pub async fn load_doc(&self, customer_id: &CustomerId) -> Result<StoredDoc, StoreError> {
        let mut docs = self.load_docs(std::slice::from_ref(customer_id)).await?;
        Ok(docs.pop().unwrap_or_default())
    }

    /// Which of `customer_ids` have stored chunks, from one key-only read over the range
    /// spanning them all: far cheaper than one lookup each when a page from the relay brings
    /// hundreds of documents this device has never seen (a new device's download).
    pub async fn stored_among(
        &self,
        customer_ids: &[CustomerId],
    ) -> Result<std::collections::HashSet<CustomerId>, StoreError> {
        let (Some(first), Some(last)) = (customer_ids.iter().min(), customer_ids.iter().max())
        else {
            return Ok(Default::default());
        };
        let transaction = self
            .database
            .transaction(&[DOC_CHUNKS, DOC_PACKS], TransactionMode::ReadOnly)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        let range = KeyRange::bound(
            &JsValue::from_str(&format!("{first}/")),
            &JsValue::from_str(&format!("{last}0")),
            Some(false),
            Some(true),
        )?;
        let keys = chunks
            .get_all_keys(Some(Query::KeyRange(range)), None)?
            .into_future();
        let packs = match self.packed.borrow().is_some() {
            true => None,
            false => Some(
                transaction
                    .object_store(DOC_PACKS)?
                    .get_all(None, None)?
                    .into_future(),
            ),
        };
        let keys = keys.await?;
        if let Some(packs) = packs {
            let packed = packed_ids(&packs.await?);
            self.packed.replace(Some(packed));
        }
        let wanted: std::collections::HashSet<&str> =
            customer_ids.iter().map(CustomerId::as_str).collect();
        let mut stored: std::collections::HashSet<CustomerId> = keys
            .iter()
            .filter_map(JsValue::as_string)
            .filter_map(|key| {
                let id = key.rsplit_once('/')?.0;
                wanted.contains(id).then(|| id.parse().ok()).flatten()
            })
            .collect();
        if let Some(packed) = self.packed.borrow().as_ref() {
            stored.extend(
                customer_ids
                    .iter()
                    .filter(|id| packed.contains(*id))
                    .cloned(),
            );
        }
        Ok(stored)
    }

    /// The stored chunks of several documents (empty for unknown ones), in one transaction
    /// with every request issued up front: a page from the relay touches hundreds of
    /// documents, and one transaction per document would dominate its cost.
    pub async fn load_docs(
        &self,
        customer_ids: &[CustomerId],
    ) -> Result<Vec<StoredDoc>, StoreError> {
        let transaction = self
            .database
            .transaction(&[DOC_CHUNKS, DOC_PACKS], TransactionMode::ReadOnly)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        // Every request is issued (its future made) up front, then heard in order.
        let mut requests = Vec::with_capacity(customer_ids.len());
        for customer_id in customer_ids {
            let range = chunk_range(customer_id, None)?;
            let keys = chunks.get_all_keys(Some(Query::KeyRange(range.clone())), None)?;
            let values = chunks.get_all(Some(Query::KeyRange(range)), None)?;
            requests.push((keys.into_future(), values.into_future()));
        }
        let mut packed = PackedDocs::ask(&transaction, customer_ids)?;
        let mut docs = Vec::with_capacity(customer_ids.len());
        for (keys, values) in requests {
            let (keys, values) = (keys.await?, values.await?);
            let mut stored = StoredDoc::default();
            for value in values {
                let bytes: Uint8Array = value
                    .dyn_into()
                    .map_err(|_| StoreError::Failed("a document chunk is not bytes".into()))?;
                let bytes = bytes.to_vec();
                match bytes.strip_prefix(UNVERIFIED_CHANGE) {
                    Some(change) => stored.unverified.push(change.to_vec()),
                    None => stored.bytes.extend(bytes),
                }
                stored.n_chunks += 1;
            }
            // The last numbered chunk (unverified changes are keyed after them).
            let numbered = keys
                .iter()
                .rev()
                .filter_map(|key| key.as_string())
                .find(|key| {
                    !key.rsplit('/')
                        .next()
                        .is_some_and(|seq| seq.starts_with('u'))
                });
            if let Some(last_key) = numbered {
                let last_seq = last_key
                    .rsplit('/')
                    .next()
                    .and_then(|seq| seq.parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Failed(format!("bad chunk key {last_key:?}")))?;
                stored.next_seq = last_seq + 1;
            }
            docs.push(stored);
        }
        // A packed document is its customer's chunk 0: before every chunk of its own.
        for (stored, packed) in docs.iter_mut().zip(packed.hear().await?) {
            if packed.is_empty() {
                continue;
            }
            stored.n_chunks += packed.len() as u32;
            stored.next_seq = stored.next_seq.max(1);
            let mut bytes = packed.concat();
            bytes.append(&mut stored.bytes);
            stored.bytes = bytes;
        }
        Ok(docs)
    }

    /// Writes a batch in one transaction; resolves once the transaction committed, with the
    /// keys given to the outbox items.
    pub async fn write(&self, batch: WriteBatch) -> Result<Vec<u64>, StoreError> {
        // Snapshots empty an older database's per-customer stores too.
        let stores = match batch.snapshots.is_empty() {
            true => STORES.to_vec(),
            false => self.all_stores(),
        };
        let transaction = self
            .database
            .transaction(&stores, TransactionMode::ReadWrite)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        let meta = transaction.object_store(META)?;
        let outbox = transaction.object_store(OUTBOX)?;
        // First, while no other request of the transaction is waiting to be heard (an idb
        // request's future hears only events after it is awaited).
        if !batch.delete_outbox.is_empty() {
            delete_outbox_in(&outbox, &batch.delete_outbox).await?;
        }
        // Customers whose chunk 0 this write deletes leave their packs (module doc).
        let packs = transaction.object_store(DOC_PACKS)?;
        let leaving: Vec<&CustomerId> = (batch.erase.iter())
            .chain(
                (batch.delete_chunks_below.iter())
                    .filter(|(_, below)| *below > 0)
                    .map(|(customer_id, _)| customer_id),
            )
            .collect();
        leave_packs(&packs, &leaving).await?;
        for members in packed(&batch.new_docs) {
            packs.add(&pack_value(members), None)?;
        }
        for customer_id in &batch.erase {
            chunks.delete(Query::KeyRange(chunk_range(customer_id, None)?))?;
        }
        let has_snapshot = |projection| batch.snapshots.iter().any(|s| s.projection == projection);
        for snapshot in &batch.snapshots {
            put_snapshot_in(&transaction, snapshot, self.legacy)?;
        }
        // One record per projection, whatever the number of customers (module doc).
        if !batch.summaries.is_empty() && !has_snapshot(Projection::Summaries) {
            transaction
                .object_store(SUMMARIES_LOG)?
                .add(&JsValue::from_str(&json_array(&batch.summaries)?), None)?;
        }
        if !batch.facts.is_empty() && !has_snapshot(Projection::Facts) {
            let bytes = shared::model::snapshot::encode(&batch.facts);
            transaction
                .object_store(FACTS_LOG)?
                .add(&Uint8Array::from(bytes.as_slice()).into(), None)?;
        }
        for (key, value) in &batch.meta {
            meta.put(&JsValue::from_str(value), Some(&JsValue::from_str(key)))?;
        }
        if batch.changes_data() {
            meta.put(
                &JsValue::from_str(&new_data_version()),
                Some(&JsValue::from_str(DATA_VERSION)),
            )?;
        }
        if let Some(arrival) = &batch.arrival {
            let json = serde_json::to_string(arrival)
                .map_err(|err| StoreError::Failed(format!("arrivals: {err}")))?;
            transaction
                .object_store(ARRIVALS)?
                .add(&JsValue::from_str(&json), None)?;
        }
        // One record per batch (a single upload as bytes), see the module doc.
        let mut requests = Vec::new();
        for uploads in batch.outbox.chunks(OUTBOX_PER_RECORD) {
            let value: JsValue = match uploads {
                [upload] => upload.to_js(),
                many => many
                    .iter()
                    .map(OutboxValue::to_js)
                    .collect::<js_sys::Array>()
                    .into(),
            };
            requests.push((outbox.add(&value, None)?.into_future(), uploads.len()));
        }
        for (customer_id, below_seq) in &batch.delete_chunks_below {
            chunks.delete(Query::KeyRange(chunk_range(customer_id, Some(*below_seq))?))?;
            chunks.delete(Query::KeyRange(unverified_range(customer_id)?))?;
        }
        for (customer_id, position, change) in &batch.unverified {
            let key = JsValue::from_str(&unverified_key(customer_id, *position));
            chunks.put(
                &Uint8Array::from(unverified_chunk(change).as_slice()).into(),
                Some(&key),
            )?;
        }
        for (customer_id, seq, bytes) in &batch.chunks {
            let key = JsValue::from_str(&chunk_key(customer_id, *seq));
            chunks.put(&Uint8Array::from(bytes.as_slice()).into(), Some(&key))?;
        }
        // Every request is queued; awaiting the keys keeps the transaction alive.
        let mut ids = Vec::with_capacity(batch.outbox.len());
        for (request, n) in requests {
            let key = request.await?.as_f64().unwrap_or_default() as u64;
            ids.extend((0..n).map(|position| outbox_id(key, position)));
        }
        commit(transaction, &chunks).await?;
        if let Some(packed) = self.packed.borrow_mut().as_mut() {
            for customer_id in &leaving {
                packed.remove(*customer_id);
            }
            packed.extend(
                batch
                    .new_docs
                    .iter()
                    .map(|(customer_id, _)| customer_id.clone()),
            );
        }
        Ok(ids)
    }

    /// Every record of changes that arrived from other devices, oldest first; a record that
    /// does not read is left out.
    pub async fn load_arrivals(&self) -> Result<Vec<Arrival>, StoreError> {
        let transaction = self
            .database
            .transaction(&[ARRIVALS], TransactionMode::ReadOnly)?;
        let values = transaction
            .object_store(ARRIVALS)?
            .get_all(None, None)?
            .await?;
        Ok(values
            .into_iter()
            .filter_map(|value| value.as_string())
            .filter_map(|json| match serde_json::from_str(&json) {
                Ok(arrival) => Some(arrival),
                Err(err) => {
                    tracing::warn!(cause = %err, "skipping an unreadable arrivals record");
                    None
                }
            })
            .collect())
    }

    /// Every outbox item, oldest first, decoded. An item that names a snapshot chunk
    /// ([`OutboxValue::Snapshot`]) is read back as the snapshot upload of the chunk's bytes
    /// (or of the document's first chunk, when a compaction replaced it); one whose document
    /// is gone (erased) or that does not decode is left out, with a warning.
    ///
    /// Each upload's bytes are copied into wasm memory once and kept there without another
    /// copy. For sync, which needs only a push's worth at a time, see
    /// [`Store::outbox_heads`] and [`Store::load_outbox_items`].
    pub async fn load_outbox(&self) -> Result<Vec<(u64, Upload)>, StoreError> {
        let transaction = self
            .database
            .transaction(&[OUTBOX, DOC_CHUNKS, DOC_PACKS], TransactionMode::ReadOnly)?;
        let items = all_outbox_items(&transaction.object_store(OUTBOX)?).await?;
        resolve_outbox(&transaction, items).await
    }

    /// The outbox items `ids` (from [`Store::outbox_heads`]), decoded like
    /// [`Store::load_outbox`]; an item no longer stored (acknowledged, erased) is left out.
    pub async fn load_outbox_items(&self, ids: &[u64]) -> Result<Vec<(u64, Upload)>, StoreError> {
        let wanted: std::collections::BTreeSet<u64> = ids.iter().copied().collect();
        let records: std::collections::BTreeSet<u64> = ids.iter().map(|id| id >> 16).collect();
        let transaction = self
            .database
            .transaction(&[OUTBOX, DOC_CHUNKS, DOC_PACKS], TransactionMode::ReadOnly)?;
        let outbox = transaction.object_store(OUTBOX)?;
        // Every record is asked for at once, then heard in order (see `resolve_outbox`).
        let mut requests = Vec::with_capacity(records.len());
        for key in &records {
            let key = JsValue::from_f64(*key as f64);
            requests.push(outbox.get(Query::Key(key))?.into_future());
        }
        let mut items = Vec::with_capacity(wanted.len());
        for (key, request) in records.into_iter().zip(requests) {
            if let Some(value) = request.await? {
                outbox_items(key, value, |id, value| {
                    if wanted.contains(&id) {
                        items.push((id, value));
                    }
                });
            }
        }
        resolve_outbox(&transaction, items).await
    }

    /// Every outbox item's id, document and kind, oldest first, without keeping its bytes:
    /// what sync is restored with ([`StoredItem`], the bytes read back a push at a time by
    /// [`Store::load_outbox_items`]), and what an erasure or a territory's hand-over asks
    /// (which documents have unsent changes). An item that does not decode is left out,
    /// with a warning, as [`Store::load_outbox`] leaves it out.
    pub async fn outbox_heads(&self) -> Result<Vec<OutboxHead>, StoreError> {
        let transaction = self
            .database
            .transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let items = all_outbox_items(&transaction.object_store(OUTBOX)?).await?;
        Ok(items
            .into_iter()
            .filter_map(|(id, value)| {
                // An upload's head from its first bytes: its payload (a whole document's
                // snapshot, for some) is never copied into this module's memory.
                if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
                    let prefix = bytes.length().min(UploadHead::PREFIX as u32);
                    if let Some(head) = UploadHead::decode(&bytes.subarray(0, prefix).to_vec()) {
                        return Some(OutboxHead {
                            id,
                            document: head.document,
                            kind: head.kind,
                        });
                    }
                }
                // Otherwise (an unusually long id, a chunk named, or unreadable: warned).
                let (document, kind) = match read_outbox_item(id, value)? {
                    Ok(upload) => (upload.document, upload.kind),
                    Err(OutboxValue::Snapshot {
                        customer_id,
                        covers,
                        ..
                    }) => (
                        DocumentId(customer_id.to_string()),
                        BlobKind::Snapshot { covers },
                    ),
                    Err(OutboxValue::Encoded(_)) => return None,
                };
                Some(OutboxHead { id, document, kind })
            })
            .collect())
    }

    /// Deletes acknowledged outbox items (ids from [`Store::write`] or
    /// [`Store::load_outbox`]); a record of many uploads is deleted once all of them are, and
    /// rewritten without the acknowledged ones until then. Resolves once committed.
    pub async fn delete_outbox(&self, ids: &[u64]) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        let outbox = transaction.object_store(OUTBOX)?;
        delete_outbox_in(&outbox, ids).await?;
        commit(transaction, &outbox).await
    }

    /// Deletes everything this device holds except its actor id (sign-out, revocation).
    pub async fn wipe(&self) -> Result<(), StoreError> {
        let stores = self.all_stores();
        let transaction = self
            .database
            .transaction(&stores, TransactionMode::ReadWrite)?;
        let meta = transaction.object_store(META)?;
        // Facts too: a dashboard must not count customers no longer on the device.
        for name in stores.iter().filter(|name| **name != META) {
            transaction.object_store(name)?.clear()?;
        }
        for key in ["session", "cursor", "bootstrap", "book-doc", "held"] {
            meta.delete(Query::Key(JsValue::from_str(key)))?;
        }
        commit(transaction, &meta).await?;
        self.packed.replace(Some(Default::default()));
        Ok(())
    }

    /// The data version ([`DATA_VERSION`]): equal versions of a database mean equal
    /// documents, summaries and facts, so what was computed from them still holds. `None`
    /// until the first write of this build (or after a wipe).
    pub async fn data_version(&self) -> Result<Option<String>, StoreError> {
        self.get_meta(DATA_VERSION).await
    }

    /// Gives a database that has none a data version (its writer, at start).
    pub async fn ensure_data_version(&self) -> Result<(), StoreError> {
        if self.data_version().await?.is_none() {
            self.put_meta(DATA_VERSION, &new_data_version()).await?;
        }
        Ok(())
    }

    /// A value from the `meta` store.
    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let transaction = self
            .database
            .transaction(&[META], TransactionMode::ReadOnly)?;
        let value = transaction
            .object_store(META)?
            .get(Query::Key(JsValue::from_str(key)))?
            .await?;
        Ok(value.and_then(|value| value.as_string()))
    }

    /// Deletes a value from the `meta` store; resolves once committed.
    pub async fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&[META], TransactionMode::ReadWrite)?;
        let meta = transaction.object_store(META)?;
        meta.delete(Query::Key(JsValue::from_str(key)))?;
        commit(transaction, &meta).await
    }

    /// Stores a value in the `meta` store; resolves once committed.
    pub async fn put_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&[META], TransactionMode::ReadWrite)?;
        let meta = transaction.object_store(META)?;
        meta.put(&JsValue::from_str(value), Some(&JsValue::from_str(key)))?;
        commit(transaction, &meta).await
    }
}

/// A per-customer projection record as the stores keep it.
trait Record: serde::Serialize + serde::de::DeserializeOwned + PerCustomer + Sized {
    /// The records of one log record (one write's); unreadable ones are left out.
    fn from_log(value: JsValue) -> Vec<Self>;
    /// The records of a pre-version-5 per-customer store; unreadable ones are left out.
    fn from_legacy(values: Vec<JsValue>) -> Vec<Self>;
    /// The snapshot's JSON copy, for a projection that keeps one.
    fn from_json_copy(_value: JsValue) -> Option<Vec<Self>> {
        None
    }
    /// The records of a snapshot (`client/codec`: decoded by code built for speed).
    fn from_snapshot(bytes: &[u8]) -> Option<Vec<Self>>;
}

impl Record for CustomerSummary {
    fn from_log(value: JsValue) -> Vec<Self> {
        match value.as_string() {
            Some(text) => parse_json_array(&text, SUMMARIES_LOG),
            None => {
                tracing::warn!(store = SUMMARIES_LOG, "skipping a record that is not text");
                Vec::new()
            }
        }
    }

    fn from_legacy(values: Vec<JsValue>) -> Vec<Self> {
        parse_json_records(values, LEGACY_SUMMARIES)
    }

    fn from_json_copy(value: JsValue) -> Option<Vec<Self>> {
        Some(parse_json_array(&value.as_string()?, SNAPSHOTS))
    }

    fn from_snapshot(bytes: &[u8]) -> Option<Vec<Self>> {
        codec::summaries(bytes)
    }
}

impl Record for CustomerFacts {
    fn from_log(value: JsValue) -> Vec<Self> {
        let decoded = value
            .dyn_into::<Uint8Array>()
            .ok()
            .and_then(|bytes| codec::facts(&bytes.to_vec()));
        decoded.unwrap_or_else(|| {
            tracing::warn!("facts of another format will be made again");
            Vec::new()
        })
    }

    fn from_legacy(values: Vec<JsValue>) -> Vec<Self> {
        decode_facts(values)
    }

    fn from_snapshot(bytes: &[u8]) -> Option<Vec<Self>> {
        codec::facts(bytes)
    }
}

/// Every stored outbox item, oldest first, as stored: (id, value).
async fn all_outbox_items(outbox: &idb::ObjectStore) -> Result<Vec<(u64, JsValue)>, StoreError> {
    let keys = outbox.get_all_keys(None, None)?.await?;
    let values = outbox.get_all(None, None)?.await?;
    let mut items = Vec::with_capacity(values.len());
    for (key, value) in keys.into_iter().zip(values) {
        let key = key.as_f64().unwrap_or_default() as u64;
        outbox_items(key, value, |id, value| items.push((id, value)));
    }
    Ok(items)
}

/// Calls `item` with each upload of the outbox record `key` (a record holds one upload, or
/// an array of a batch's uploads) and its id ([`outbox_id`]).
fn outbox_items(key: u64, value: JsValue, mut item: impl FnMut(u64, JsValue)) {
    match value.dyn_into::<js_sys::Array>() {
        Ok(uploads) => {
            for (position, upload) in uploads.iter().enumerate() {
                item(outbox_id(key, position), upload);
            }
        }
        Err(value) => item(outbox_id(key, 0), value),
    }
}

/// One stored outbox item: its upload (`Ok`), the chunk it names (`Err`, always an
/// [`OutboxValue::Snapshot`]), or `None` (unreadable, with a warning).
fn read_outbox_item(id: u64, value: JsValue) -> Option<Result<Upload, OutboxValue>> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        match shared::sync::protocol::decode::<Upload>(&bytes.to_vec()) {
            Ok(upload) => Some(Ok(upload)),
            Err(err) => {
                tracing::warn!(cause = %err, id, "skipping an unreadable outbox item");
                None
            }
        }
    } else if let Some(snapshot) = value
        .as_string()
        .and_then(|text| OutboxValue::parse_snapshot(&text))
    {
        Some(Err(snapshot))
    } else {
        if !value.is_null() {
            tracing::warn!(
                id,
                "skipping an outbox item that is neither bytes nor a chunk"
            );
        }
        None
    }
}

/// Decodes outbox items read in `transaction` (which covers [`DOC_CHUNKS`]), reading the
/// chunks that named items name.
async fn resolve_outbox(
    transaction: &idb::Transaction,
    values: Vec<(u64, JsValue)>,
) -> Result<Vec<(u64, Upload)>, StoreError> {
    let mut items: Vec<(u64, Option<Upload>)> = Vec::with_capacity(values.len());
    let mut named = Vec::new();
    for (id, value) in values {
        match read_outbox_item(id, value) {
            Some(Ok(upload)) => items.push((id, Some(upload))),
            Some(Err(snapshot)) => {
                named.push((items.len(), snapshot));
                items.push((id, None));
            }
            None => {}
        }
    }
    // Every named chunk is asked for at once, then heard in order (each request made a
    // future when issued: a future hears only events after it is made); so are the packs
    // holding them (an import's named documents are packed: one read per pack, not one
    // per item).
    let named: Vec<(usize, CustomerId, u32, Seq)> = named
        .into_iter()
        .filter_map(|(index, snapshot)| match snapshot {
            OutboxValue::Snapshot {
                customer_id,
                seq,
                covers,
            } => Some((index, customer_id, seq, covers)),
            OutboxValue::Encoded(_) => None,
        })
        .collect();
    let chunks = transaction.object_store(DOC_CHUNKS)?;
    let mut requests = Vec::with_capacity(named.len());
    for (_, customer_id, seq, _) in &named {
        let key = JsValue::from_str(&chunk_key(customer_id, *seq));
        requests.push(chunks.get(Query::Key(key))?.into_future());
    }
    let ids: Vec<CustomerId> = named.iter().map(|(_, id, ..)| id.clone()).collect();
    let packed = PackedDocs::ask(transaction, &ids)?.hear().await?;
    for (((index, customer_id, _, covers), request), mut packed) in
        named.into_iter().zip(requests).zip(packed)
    {
        let bytes = match request
            .await?
            .and_then(|value| value.dyn_into::<Uint8Array>().ok())
        {
            Some(bytes) => Some(bytes.to_vec()),
            None => match packed.pop() {
                // Packed: still its chunk 0.
                Some(bytes) => Some(bytes),
                // Compacted since: the document's first chunk is the snapshot that replaced it.
                None => chunks
                    .get_all(
                        Some(Query::KeyRange(chunk_range(&customer_id, None)?)),
                        Some(1),
                    )?
                    .await?
                    .into_iter()
                    .next()
                    .and_then(|value| value.dyn_into::<Uint8Array>().ok())
                    .map(|bytes| bytes.to_vec()),
            },
        };
        match bytes {
            Some(bytes) => {
                items[index].1 = Some(Upload {
                    document: DocumentId(customer_id.to_string()),
                    kind: BlobKind::Snapshot { covers },
                    bytes,
                })
            }
            None => {
                tracing::warn!(%customer_id, "an outbox item names a document that is gone")
            }
        }
    }
    Ok(items
        .into_iter()
        .filter_map(|(id, upload)| Some((id, upload?)))
        .collect())
}

/// A record of [`DOC_PACKS`], as stored.
struct PackRecord {
    ids: js_sys::Array,
    docs: js_sys::Array,
}

impl PackRecord {
    fn read(value: &JsValue) -> Option<PackRecord> {
        let part = |name: &str| {
            js_sys::Reflect::get(value, &JsValue::from_str(name))
                .ok()?
                .dyn_into::<js_sys::Array>()
                .ok()
        };
        let (ids, docs) = (part("ids")?, part("docs")?);
        (ids.length() == docs.length()).then_some(PackRecord { ids, docs })
    }

    fn value(&self) -> JsValue {
        let value = js_sys::Object::new();
        // Setting a property of a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&value, &JsValue::from_str("ids"), &self.ids);
        let _ = js_sys::Reflect::set(&value, &JsValue::from_str("docs"), &self.docs);
        value.into()
    }
}

/// Every customer in `packs` (values of [`DOC_PACKS`]).
fn packed_ids(packs: &[JsValue]) -> std::collections::HashSet<CustomerId> {
    (packs.iter().filter_map(PackRecord::read))
        .flat_map(|pack| pack.ids.iter().collect::<Vec<_>>())
        .filter_map(|id| id.as_string()?.parse().ok())
        .collect()
}

/// The stored value of a pack of new documents.
fn pack_value(members: &[(CustomerId, Vec<u8>)]) -> JsValue {
    let ids = js_sys::Array::new_with_length(members.len() as u32);
    let docs = js_sys::Array::new_with_length(members.len() as u32);
    for (position, (customer_id, bytes)) in members.iter().enumerate() {
        ids.set(position as u32, JsValue::from_str(customer_id.as_str()));
        docs.set(position as u32, Uint8Array::from(bytes.as_slice()).into());
    }
    PackRecord { ids, docs }.value()
}

/// `docs` cut into packs: at most [`PACK_MEMBERS`] each, and at most about [`PACK_BYTES`].
fn packed(docs: &[(CustomerId, Vec<u8>)]) -> Vec<&[(CustomerId, Vec<u8>)]> {
    let mut packs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (end, (_, doc)) in docs.iter().enumerate() {
        if end > start && (end - start == PACK_MEMBERS || bytes + doc.len() > PACK_BYTES) {
            packs.push(&docs[start..end]);
            (start, bytes) = (end, 0);
        }
        bytes += doc.len();
    }
    if start < docs.len() {
        packs.push(&docs[start..]);
    }
    packs
}

/// Asks `index` ([`PACK_MEMBER`]) for the keys of every pack holding `customer_id`; the
/// future is made as the request is issued.
fn packs_holding(
    index: &idb::Index,
    customer_id: &CustomerId,
) -> Result<idb::request::futures::GetAllKeysStoreRequestFuture, StoreError> {
    let key = JsValue::from_str(customer_id.as_str());
    Ok(index
        .get_all_keys(Some(Query::Key(key)), None)?
        .into_future())
}

/// Pack keys as [`packs_holding`] found them.
fn pack_keys(keys: Vec<JsValue>) -> Vec<u64> {
    keys.iter()
        .map(|key| key.as_f64().unwrap_or_default() as u64)
        .collect()
}

/// A pack's key as IndexedDB holds it.
fn pack_key(key: u64) -> JsValue {
    JsValue::from_f64(key as f64)
}

/// Takes `leaving` out of every pack holding them, within `packs`' read-write transaction:
/// each such pack is rewritten without them, or deleted once empty.
async fn leave_packs(packs: &idb::ObjectStore, leaving: &[&CustomerId]) -> Result<(), StoreError> {
    if leaving.is_empty() {
        return Ok(());
    }
    let index = packs.index(PACK_MEMBER)?;
    let mut lookups = Vec::with_capacity(leaving.len());
    for customer_id in leaving {
        lookups.push((customer_id, packs_holding(&index, customer_id)?));
    }
    let mut by_pack: std::collections::BTreeMap<u64, std::collections::HashSet<&str>> =
        Default::default();
    for (customer_id, lookup) in lookups {
        for key in pack_keys(lookup.await?) {
            by_pack.entry(key).or_default().insert(customer_id.as_str());
        }
    }
    let mut reads = Vec::with_capacity(by_pack.len());
    for key in by_pack.keys() {
        reads.push(packs.get(Query::Key(pack_key(*key)))?.into_future());
    }
    for ((key, leaving), read) in by_pack.into_iter().zip(reads) {
        let key = pack_key(key);
        let Some(pack) = read.await?.as_ref().and_then(PackRecord::read) else {
            continue;
        };
        let kept = PackRecord {
            ids: js_sys::Array::new(),
            docs: js_sys::Array::new(),
        };
        for position in 0..pack.ids.length() {
            let id = pack.ids.get(position);
            if !id
                .as_string()
                .is_some_and(|id| leaving.contains(id.as_str()))
            {
                kept.ids.push(&id);
                kept.docs.push(&pack.docs.get(position));
            }
        }
        if kept.ids.length() == 0 {
            packs.delete(Query::Key(key))?;
        } else {
            packs.put(&kept.value(), Some(&key))?;
        }
    }
    Ok(())
}

/// The packed documents of some customers, asked for within a transaction covering
/// [`DOC_PACKS`]: one index lookup each, issued at once ([`PackedDocs::ask`]), then one read
/// of each pack they name ([`PackedDocs::hear`]).
struct PackedDocs {
    store: idb::ObjectStore,
    lookups: Vec<(String, idb::request::futures::GetAllKeysStoreRequestFuture)>,
}

impl PackedDocs {
    fn ask(
        transaction: &idb::Transaction,
        customer_ids: &[CustomerId],
    ) -> Result<Self, StoreError> {
        let store = transaction.object_store(DOC_PACKS)?;
        let index = store.index(PACK_MEMBER)?;
        let mut lookups = Vec::with_capacity(customer_ids.len());
        for customer_id in customer_ids {
            lookups.push((customer_id.to_string(), packs_holding(&index, customer_id)?));
        }
        Ok(PackedDocs { store, lookups })
    }

    /// Each customer's packed documents, in the order asked (none for most: a customer is
    /// in one pack at most, unless a write was repeated).
    async fn hear(&mut self) -> Result<Vec<Vec<Vec<u8>>>, StoreError> {
        let lookups = std::mem::take(&mut self.lookups);
        let mut wanted: Vec<(String, Vec<u64>)> = Vec::with_capacity(lookups.len());
        for (customer_id, lookup) in lookups {
            wanted.push((customer_id, pack_keys(lookup.await?)));
        }
        let keys: std::collections::BTreeSet<u64> = wanted
            .iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect();
        let mut reads = Vec::with_capacity(keys.len());
        for key in &keys {
            reads.push(self.store.get(Query::Key(pack_key(*key)))?.into_future());
        }
        // Each pack's members by id, for the customers asked about.
        let mut packs: std::collections::HashMap<u64, std::collections::HashMap<String, JsValue>> =
            Default::default();
        for (key, read) in keys.into_iter().zip(reads) {
            let Some(pack) = read.await?.as_ref().and_then(PackRecord::read) else {
                continue;
            };
            let members = (0..pack.ids.length())
                .filter_map(|position| Some((pack.ids.get(position).as_string()?, position)))
                .map(|(id, position)| (id, pack.docs.get(position)))
                .collect();
            packs.insert(key, members);
        }
        Ok(wanted
            .into_iter()
            .map(|(customer_id, keys)| {
                keys.iter()
                    .filter_map(|key| packs.get(key)?.get(&customer_id))
                    .filter_map(|doc| Some(doc.dyn_ref::<Uint8Array>()?.to_vec()))
                    .collect()
            })
            .collect())
    }
}

/// Deletes outbox items within `outbox`'s transaction (see [`Store::delete_outbox`]).
async fn delete_outbox_in(outbox: &idb::ObjectStore, ids: &[u64]) -> Result<(), StoreError> {
    let mut by_record: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
    for id in ids {
        by_record
            .entry(id >> 16)
            .or_default()
            .push((id & 0xffff) as usize);
    }
    let mut reads = Vec::with_capacity(by_record.len());
    for (&key, positions) in &by_record {
        // A future when issued: one made after an earlier await could miss its event.
        let request = outbox
            .get(Query::Key(JsValue::from_f64(key as f64)))?
            .into_future();
        reads.push((key, positions, request));
    }
    let mut records = Vec::with_capacity(reads.len());
    for (key, positions, request) in reads {
        records.push((key, positions, request.await?));
    }
    for (key, positions, record) in records {
        let key = JsValue::from_f64(key as f64);
        match record
            .as_ref()
            .and_then(|value| value.dyn_ref::<js_sys::Array>())
        {
            Some(uploads) => {
                for &position in positions {
                    uploads.set(position as u32, JsValue::NULL);
                }
                if uploads.iter().all(|upload| upload.is_null()) {
                    outbox.delete(Query::Key(key))?;
                } else {
                    outbox.put(uploads, Some(&key))?;
                }
            }
            None => {
                outbox.delete(Query::Key(key))?;
            }
        }
    }
    Ok(())
}

/// Every record of `projection` within `transaction`: the snapshot (or its JSON copy, or
/// the per-customer store of an older database) with the log's records laid over it in
/// order. `since` counts the log's records, plus one when no snapshot this build reads
/// was there.
async fn read_projection<T: Record>(
    transaction: &idb::Transaction,
    projection: Projection,
    legacy: bool,
) -> Result<Projected<T>, StoreError> {
    let (log, key, _) = projection.stores();
    let snapshots = transaction.object_store(SNAPSHOTS)?;
    let snapshot = snapshots.get(Query::Key(JsValue::from_str(key)))?;
    // Listening from now on: an idb request future hears only events after it is made, and
    // this one may complete while the snapshot's fallbacks are read.
    let log = transaction
        .object_store(log)?
        .get_all(None, None)?
        .into_future();
    // `log` is awaited whatever happens to the snapshot's reads (see `snapshot_behind`).
    let base = read_snapshot::<T>(transaction, &snapshots, snapshot, projection, legacy).await;
    let log = log.await;
    crate::perf::mark(match projection {
        Projection::Summaries => "fieldbook:summaries-log-got",
        Projection::Facts => "fieldbook:facts-log-got",
    });
    let (base, current) = base?;
    let log = log?;
    let started = crate::perf::now_ms();
    let n_log = log.len();
    let newer: Vec<T> = log.into_iter().flat_map(T::from_log).collect();
    let items = shared::model::snapshot::overlay(base, newer);
    crate::perf::add_timing(
        match projection {
            Projection::Summaries => "start: summaries' log decode and overlay",
            Projection::Facts => "dashboard: facts' log decode and overlay",
        },
        started,
    );
    Ok(Projected {
        since: n_log + usize::from(!current),
        items,
        data_version: None,
    })
}

/// The snapshot of `projection` (or, without one, its JSON copy or an older database's
/// per-customer store), and whether it was the snapshot.
async fn read_snapshot<T: Record>(
    transaction: &idb::Transaction,
    snapshots: &idb::ObjectStore,
    snapshot: idb::request::GetStoreRequest,
    projection: Projection,
    legacy: bool,
) -> Result<(Vec<T>, bool), StoreError> {
    let (_, _, legacy_store) = projection.stores();
    let read = snapshot.await?;
    crate::perf::mark(match projection {
        Projection::Summaries => "fieldbook:summaries-snapshot-got",
        Projection::Facts => "fieldbook:facts-snapshot-got",
    });
    let started = crate::perf::now_ms();
    let snapshot = read
        .and_then(|value| value.dyn_into::<Uint8Array>().ok())
        .and_then(|bytes| T::from_snapshot(&bytes.to_vec()));
    crate::perf::add_timing(
        match projection {
            Projection::Summaries => "start: summaries' snapshot decode",
            Projection::Facts => "dashboard: facts' snapshot decode",
        },
        started,
    );
    let current = snapshot.is_some();
    // The fallbacks are asked for only when needed (a request issued right after an await
    // belongs to the same transaction).
    let base = match snapshot {
        Some(items) => items,
        None => {
            let copy = match projection {
                Projection::Summaries => snapshots
                    .get(Query::Key(JsValue::from_str(SUMMARIES_JSON)))?
                    .await?
                    .and_then(T::from_json_copy),
                Projection::Facts => None,
            };
            match copy {
                Some(items) => items,
                None if legacy => T::from_legacy(
                    transaction
                        .object_store(legacy_store)?
                        .get_all(None, None)?
                        .await?,
                ),
                None => Vec::new(),
            }
        }
    };
    Ok((base, current))
}

/// Puts `snapshot` (and its JSON copy) and empties its log and, in an older database, its
/// per-customer store, within `transaction`.
fn put_snapshot_in(
    transaction: &idb::Transaction,
    snapshot: &SnapshotBytes,
    legacy: bool,
) -> Result<(), StoreError> {
    let (log, key, legacy_store) = snapshot.projection.stores();
    let snapshots = transaction.object_store(SNAPSHOTS)?;
    snapshots.put(
        &Uint8Array::from(snapshot.encoded.as_slice()).into(),
        Some(&JsValue::from_str(key)),
    )?;
    if let Some(json) = &snapshot.json {
        snapshots.put(
            &JsValue::from_str(json),
            Some(&JsValue::from_str(SUMMARIES_JSON)),
        )?;
    }
    if let Some(first_screen) = &snapshot.first_screen {
        snapshots.put(
            &Uint8Array::from(first_screen.as_slice()).into(),
            Some(&JsValue::from_str(FIRST_SCREEN)),
        )?;
    }
    if let Some(owners) = &snapshot.owners {
        snapshots.put(
            &Uint8Array::from(owners.as_slice()).into(),
            Some(&JsValue::from_str(OWNERS)),
        )?;
    }
    transaction.object_store(log)?.clear()?;
    if legacy {
        transaction.object_store(legacy_store)?.clear()?;
    }
    Ok(())
}

/// The stored book as `index.html` read it while the wasm loaded (`fieldbookStoredBook`: the
/// summaries' snapshot and the summaries' log, in one read-only transaction): the page
/// shows the list from it without waiting for its engine; an empty book when there is no
/// database at all (a new device). `None` without a snapshot this build reads; the
/// engine's read follows in every case.
pub async fn read_early_book() -> Option<EarlyBook> {
    let promise = crate::global::property("fieldbookStoredBook")
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let book = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if !book.is_object() {
        return None;
    }
    let field = |name: &str| js_sys::Reflect::get(&book, &JsValue::from_str(name)).ok();
    if field("none").and_then(|none| none.as_bool()) == Some(true) {
        // No database yet: a new device, nothing stored.
        return Some(EarlyBook {
            summaries: Vec::new(),
            data_version: None,
        });
    }
    let data_version = field("version").and_then(|version| version.as_string());
    let snapshot = field("snapshot")?.dyn_into::<Uint8Array>().ok()?.to_vec();
    let snapshot = codec::summaries(&snapshot)?;
    crate::perf::mark("fieldbook:summaries-snapshot-decoded");
    let log = field("log")?.dyn_into::<js_sys::Array>().ok()?;
    let newer: Vec<CustomerSummary> = log.iter().flat_map(CustomerSummary::from_log).collect();
    Some(EarlyBook {
        summaries: shared::model::snapshot::overlay(snapshot, newer),
        data_version,
    })
}

/// The longest log of summaries (UTF-16 units of its JSON records) a start lays over the
/// list's first screen: ~200 customers' summaries.
const FIRST_SCREEN_LOG_MAX: u32 = 128 * 1024;

/// The list's first screen as `index.html` read it (`fieldbookStoredFirstScreen`: the
/// first screen and the summaries' log, read in the same transaction as the snapshot and
/// before it), with the log laid over it; `None` without one this build reads, or once the
/// whole book has been read (`fieldbookStoredBookRead`): then the list is drawn from that.
pub async fn read_early_first_screen() -> Option<FirstScreen> {
    let promise = crate::global::property("fieldbookStoredFirstScreen")
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    let read = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if !read.is_object() || crate::global::property("fieldbookStoredBookRead").is_truthy() {
        return None;
    }
    let field = |name: &str| js_sys::Reflect::get(&read, &JsValue::from_str(name)).ok();
    let bytes = field("firstScreen")?
        .dyn_into::<Uint8Array>()
        .ok()?
        .to_vec();
    let first = FirstScreen::decode(&bytes)?;
    let log = field("log")?.dyn_into::<js_sys::Array>().ok()?;
    // A long log (a session closed during a download, before compaction folded it in) would
    // be parsed twice, here and for the whole book: the whole book comes first then.
    let log_length: u32 = (log.iter())
        .map(|record| {
            record
                .dyn_ref::<js_sys::JsString>()
                .map_or(0, |text| text.length())
        })
        .fold(0, u32::saturating_add);
    if log_length > FIRST_SCREEN_LOG_MAX {
        return None;
    }
    let newer: Vec<CustomerSummary> = log.iter().flat_map(CustomerSummary::from_log).collect();
    // On a cold start the whole book can arrive while this decodes: drawing the first
    // screen then would only delay it (measured: the whole book ~100 ms later).
    if crate::global::property("fieldbookStoredBookRead").is_truthy() {
        return None;
    }
    Some(first.with_newer(&newer))
}

/// The book `index.html` read ([`read_early_book`]).
pub struct EarlyBook {
    /// Every stored summary.
    pub summaries: Vec<CustomerSummary>,
    /// The database's data version, read in the same transaction ([`DATA_VERSION`]): when
    /// the engine reads the same version, it holds the same book and need not send it.
    pub data_version: Option<String>,
}

/// A JSON array of records (one log record, or a snapshot's JSON copy). Elements that do
/// not parse are skipped and logged, so one bad record never hides the others.
fn parse_json_array<T: serde::de::DeserializeOwned>(text: &str, store_name: &str) -> Vec<T> {
    if let Ok(records) = serde_json::from_str::<Vec<T>>(text) {
        return records;
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        tracing::warn!(
            store = store_name,
            "skipping a record that is not a JSON array"
        );
        return Vec::new();
    };
    values
        .into_iter()
        .filter_map(|value| match serde_json::from_value::<T>(value) {
            Ok(record) => Some(record),
            Err(err) => {
                tracing::warn!(store = store_name, cause = %err, "skipping an unreadable record");
                None
            }
        })
        .collect()
}

/// JSON records (pre-version-5 summaries, one per customer) read from `store_name`.
/// Records that do not parse are skipped and logged.
fn parse_json_records<T: serde::de::DeserializeOwned>(
    values: Vec<JsValue>,
    store_name: &str,
) -> Vec<T> {
    // Fast path: join the JSON texts in JS and parse one array, crossing into wasm once
    // instead of once per customer.
    let array: js_sys::Array = values.iter().collect();
    if array.every(&mut |value, _, _| value.is_string()) {
        let joined = String::from(array.join(","));
        if let Ok(records) = serde_json::from_str::<Vec<T>>(&format!("[{joined}]")) {
            return records;
        }
    }
    // Slow path: something is malformed; keep every record that parses.
    let mut records = Vec::with_capacity(values.len());
    for value in values {
        let Some(text) = value.as_string() else {
            tracing::warn!(store = store_name, "skipping a record that is not text");
            continue;
        };
        match serde_json::from_str::<T>(&text) {
            Ok(record) => records.push(record),
            Err(err) => {
                tracing::warn!(store = store_name, cause = %err, "skipping an unreadable record")
            }
        }
    }
    records
}

/// Encoded facts records (pre-version-5, one per customer); those of another format are
/// left out (and made again from their documents by the engine).
fn decode_facts(values: Vec<JsValue>) -> Vec<CustomerFacts> {
    let mut records = Vec::with_capacity(values.len());
    let mut skipped = 0;
    for value in values {
        match value
            .dyn_into::<Uint8Array>()
            .ok()
            .and_then(|bytes| CustomerFacts::decode(&bytes.to_vec()))
        {
            Some(record) => records.push(record),
            None => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(skipped, "facts of another format will be made again");
    }
    records
}
