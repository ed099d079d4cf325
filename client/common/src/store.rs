//! The device's IndexedDB database: document chunks, customer summaries and device metadata.
//!
//! # Object stores
//!
//! - `doc_chunks`: the bytes of every customer document, as chunks keyed
//!   `"<customer id>/<sequence number, 10 digits>"`. Chunk 0 is a snapshot; every saved edit
//!   appends one small incremental chunk; compaction replaces all chunks of a document with
//!   one snapshot inside the same transaction that writes it. Loading a document
//!   concatenates its chunks in key order.
//! - `summaries`: one JSON [`CustomerSummary`] per customer, keyed by customer id, rewritten
//!   in the same transaction as the document chunk it describes: the source of truth of the
//!   list (which never reads documents).
//! - `snapshots`: under `"summaries"`, every summary in one value, and under `"facts"`,
//!   every customer's facts (`shared::model::snapshot`), so a start reads one record instead
//!   of 10,000; `summaries_since` and `facts_since` hold a copy of every record written after
//!   its snapshot (version 4 added the three). Invariant: *when a snapshot exists, the
//!   snapshot with its `*_since` records laid over it equals the per-customer store.* A write
//!   of many customers (a download, an import) deletes the snapshot instead of copying each
//!   record; [`Store::compact`] (the engine, when idle) makes a new one and empties
//!   `*_since`, in one transaction. A reader without a snapshot, or with one another build
//!   wrote, reads the per-customer store.
//! - `facts`: one encoded [`CustomerFacts`] per customer (bytes: `CustomerFacts::encode`) (every dated activity, purchase,
//!   answer and stage change the dashboards need), keyed by customer id, written in the same
//!   transaction as the summary; read only when a dashboard opens (version 3 added it; a
//!   customer stored before has none until the dashboard fills it in from its document).
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
//! Every write goes through [`Store::write`], one transaction per [`WriteBatch`], and
//! resolves only once IndexedDB reports the transaction committed.

use idb::{
    Database, DatabaseEvent, Factory, KeyRange, ObjectStoreParams, Query, TransactionMode,
    TransactionResult,
};
use js_sys::Uint8Array;
use shared::model::snapshot::PerCustomer;
use shared::{model::facts::CustomerFacts, CustomerId, CustomerSummary};
use wasm_bindgen::{JsCast, JsValue};

const DB_NAME: &str = "fieldbook";
const DB_VERSION: u32 = 4;
const DOC_CHUNKS: &str = "doc_chunks";
const SUMMARIES: &str = "summaries";
const META: &str = "meta";
const OUTBOX: &str = "outbox";
const FACTS: &str = "facts";
const SNAPSHOTS: &str = "snapshots";
const SUMMARIES_SINCE: &str = "summaries_since";
const FACTS_SINCE: &str = "facts_since";
const ALL_STORES: [&str; 8] = [
    DOC_CHUNKS,
    SUMMARIES,
    META,
    OUTBOX,
    FACTS,
    SNAPSHOTS,
    SUMMARIES_SINCE,
    FACTS_SINCE,
];

/// A write of more customers than this deletes the snapshot instead of copying each record
/// into `*_since` (a download or an import rewrites most of the book anyway).
pub const SINCE_LIMIT: usize = 200;

/// The most uploads one outbox record holds (its ids are `key << 16 | position`).
pub const OUTBOX_PER_RECORD: usize = 1 << 16;

/// The id of the upload at `position` of the outbox record `key`.
fn outbox_id(key: u64, position: usize) -> u64 {
    key << 16 | position as u64
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
    /// The per-customer store, the store of records written since the snapshot, and the
    /// snapshot's key.
    fn stores(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Projection::Summaries => (SUMMARIES, SUMMARIES_SINCE, "summaries"),
            Projection::Facts => (FACTS, FACTS_SINCE, "facts"),
        }
    }
}

/// What a read of a projection found.
#[derive(Debug, Default)]
pub struct Projected<T> {
    /// Every customer's record.
    pub items: Vec<T>,
    /// How many records were written after the snapshot (all of them when there was no
    /// snapshot): when non-zero, [`Store::compact`] is due.
    pub since: usize,
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
    /// Chunks to delete before the puts: every chunk of the customer below the sequence
    /// number (compaction).
    pub delete_chunks_below: Vec<(CustomerId, u32)>,
    /// Summaries to store.
    pub summaries: Vec<CustomerSummary>,
    /// Dashboard facts to store.
    pub facts: Vec<CustomerFacts>,
    /// Outbox items to add (encoded uploads); their keys are returned by [`Store::write`].
    pub outbox: Vec<Vec<u8>>,
    /// Meta values to store.
    pub meta: Vec<(&'static str, String)>,
    /// With more than [`SINCE_LIMIT`] summaries: the snapshot of every summary once this
    /// batch is stored, if the writer could make it (else the snapshot is dropped).
    pub summaries_snapshot: Option<Vec<u8>>,
    /// The same for facts: with more than [`SINCE_LIMIT`] of them, the snapshot of every
    /// customer's facts once this batch is stored, if the writer holds them all.
    pub facts_snapshot: Option<Vec<u8>>,
    /// A part of a longer write (a download's page before the last, an import's batch before
    /// the last): the writer leaves the snapshots out even when it could make them (each
    /// would be rewritten by the next part; a 10,000-customer download wrote ~15 MB of them),
    /// and compaction makes them once the parts are done.
    pub more_follow: bool,
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
}

/// The open IndexedDB database.
#[derive(Debug)]
pub struct Store {
    database: Database,
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
        let factory = Factory::new().map_err(|err| StoreError::Unavailable(err.to_string()))?;
        let mut request = factory
            .open(DB_NAME, Some(DB_VERSION))
            .map_err(|err| StoreError::Unavailable(err.to_string()))?;
        request.on_upgrade_needed(|event| {
            let Ok(database) = event.database() else {
                tracing::error!("upgrade event without database");
                return;
            };
            let existing = database.store_names();
            for name in ALL_STORES {
                if !existing.iter().any(|store| store == name) {
                    let mut params = ObjectStoreParams::new();
                    if name == OUTBOX {
                        params.auto_increment(true);
                    }
                    if let Err(err) = database.create_object_store(name, params) {
                        tracing::error!(store = name, cause = %err, "cannot create object store");
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
        Ok(Store { database })
    }

    /// Every stored summary: the snapshot with the newer records laid over it, or every
    /// per-customer record without a snapshot. Records that do not parse are skipped and
    /// logged, so one bad record never hides the whole book.
    pub async fn load_summaries(&self) -> Result<Projected<CustomerSummary>, StoreError> {
        self.load_projection(Projection::Summaries, |values, store| {
            parse_json_records(values, store)
        })
        .await
    }

    /// Every stored customer's dashboard facts, as [`Store::load_summaries`]. Records that
    /// do not decode (another format) are left out: the caller makes them again from the
    /// documents.
    pub async fn load_facts(&self) -> Result<Projected<CustomerFacts>, StoreError> {
        let started = crate::perf::now_ms();
        let read = self
            .load_projection(Projection::Facts, |values, _| decode_facts(values))
            .await;
        crate::perf::add_timing("dashboard: facts read and decode", started);
        read
    }

    async fn load_projection<T: serde::de::DeserializeOwned + PerCustomer>(
        &self,
        projection: Projection,
        parse: impl Fn(Vec<JsValue>, &str) -> Vec<T>,
    ) -> Result<Projected<T>, StoreError> {
        let (records_store, since_store, key) = projection.stores();
        let transaction = self.database.transaction(
            &[SNAPSHOTS, since_store, records_store],
            TransactionMode::ReadOnly,
        )?;
        let read = read_projection(&transaction, projection, parse).await?;
        crate::perf::mark(&format!("fieldbook:{key}-fetched"));
        Ok(read)
    }

    /// Stores `bytes` as the snapshot of `projection` and empties its `*_since` store, in one
    /// transaction: the writer made it from the records it holds, all committed.
    pub async fn put_snapshot(
        &self,
        projection: Projection,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        let (_, since_store, key) = projection.stores();
        let transaction = self
            .database
            .transaction(&[SNAPSHOTS, since_store], TransactionMode::ReadWrite)?;
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        snapshots.put(
            &Uint8Array::from(bytes.as_slice()).into(),
            Some(&JsValue::from_str(key)),
        )?;
        transaction.object_store(since_store)?.clear()?;
        commit(transaction, &snapshots).await
    }

    /// Whether the snapshot of `projection` is missing or has records written after it.
    pub async fn snapshot_behind(&self, projection: Projection) -> Result<bool, StoreError> {
        let (_, since_store, key) = projection.stores();
        let transaction = self
            .database
            .transaction(&[SNAPSHOTS, since_store], TransactionMode::ReadOnly)?;
        let has_snapshot = transaction
            .object_store(SNAPSHOTS)?
            .count(Some(Query::Key(JsValue::from_str(key))))?;
        let since = transaction.object_store(since_store)?.count(None)?;
        Ok(has_snapshot.await? == 0 || since.await? > 0)
    }

    /// Folds the records written since the snapshot of `projection` into a new snapshot (or
    /// makes the first from every per-customer record), in one transaction, so the next
    /// start reads one value. Returns how many customers the snapshot holds.
    pub async fn compact(&self, projection: Projection) -> Result<usize, StoreError> {
        match projection {
            Projection::Summaries => {
                self.compact_with::<CustomerSummary>(projection, |values, store| {
                    parse_json_records(values, store)
                })
                .await
            }
            Projection::Facts => {
                self.compact_with(projection, |values, _| decode_facts(values))
                    .await
            }
        }
    }

    async fn compact_with<T: serde::Serialize + serde::de::DeserializeOwned + PerCustomer>(
        &self,
        projection: Projection,
        parse: impl Fn(Vec<JsValue>, &str) -> Vec<T>,
    ) -> Result<usize, StoreError> {
        let started = crate::perf::now_ms();
        let (records_store, since_store, key) = projection.stores();
        let transaction = self.database.transaction(
            &[SNAPSHOTS, since_store, records_store],
            TransactionMode::ReadWrite,
        )?;
        let read = read_projection(&transaction, projection, parse).await?;
        let bytes = shared::model::snapshot::encode(&read.items);
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        snapshots.put(
            &Uint8Array::from(bytes.as_slice()).into(),
            Some(&JsValue::from_str(key)),
        )?;
        transaction.object_store(since_store)?.clear()?;
        commit(transaction, &snapshots).await?;
        crate::perf::add_timing("store: compact snapshots", started);
        Ok(read.items.len())
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
            .transaction(&[DOC_CHUNKS], TransactionMode::ReadOnly)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        let range = KeyRange::bound(
            &JsValue::from_str(&format!("{first}/")),
            &JsValue::from_str(&format!("{last}0")),
            Some(false),
            Some(true),
        )?;
        let keys = chunks
            .get_all_keys(Some(Query::KeyRange(range)), None)?
            .await?;
        let wanted: std::collections::HashSet<&str> =
            customer_ids.iter().map(CustomerId::as_str).collect();
        Ok(keys
            .iter()
            .filter_map(JsValue::as_string)
            .filter_map(|key| {
                let id = key.rsplit_once('/')?.0;
                wanted.contains(id).then(|| id.parse().ok()).flatten()
            })
            .collect())
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
            .transaction(&[DOC_CHUNKS], TransactionMode::ReadOnly)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        let mut requests = Vec::with_capacity(customer_ids.len());
        for customer_id in customer_ids {
            let range = chunk_range(customer_id, None)?;
            let keys = chunks.get_all_keys(Some(Query::KeyRange(range.clone())), None)?;
            let values = chunks.get_all(Some(Query::KeyRange(range)), None)?;
            requests.push(async move { Ok::<_, StoreError>((keys.await?, values.await?)) });
        }
        let mut docs = Vec::with_capacity(customer_ids.len());
        for result in futures_util::future::join_all(requests).await {
            let (keys, values) = result?;
            let mut stored = StoredDoc::default();
            for value in values {
                let bytes: Uint8Array = value
                    .dyn_into()
                    .map_err(|_| StoreError::Failed("a document chunk is not bytes".into()))?;
                stored.bytes.extend(bytes.to_vec());
                stored.n_chunks += 1;
            }
            if let Some(last_key) = keys.last().and_then(JsValue::as_string) {
                let last_seq = last_key
                    .rsplit('/')
                    .next()
                    .and_then(|seq| seq.parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Failed(format!("bad chunk key {last_key:?}")))?;
                stored.next_seq = last_seq + 1;
            }
            docs.push(stored);
        }
        Ok(docs)
    }

    /// Writes a batch in one transaction; resolves once the transaction committed, with the
    /// keys given to the outbox items.
    pub async fn write(&self, batch: WriteBatch) -> Result<Vec<u64>, StoreError> {
        let transaction = self
            .database
            .transaction(&ALL_STORES, TransactionMode::ReadWrite)?;
        let chunks = transaction.object_store(DOC_CHUNKS)?;
        let summaries = transaction.object_store(SUMMARIES)?;
        let meta = transaction.object_store(META)?;
        let outbox = transaction.object_store(OUTBOX)?;
        let facts = transaction.object_store(FACTS)?;
        let snapshots = transaction.object_store(SNAPSHOTS)?;
        let summaries_since = transaction.object_store(SUMMARIES_SINCE)?;
        let facts_since = transaction.object_store(FACTS_SINCE)?;
        // Keep the snapshot invariant: copy each record into `*_since`, or drop the snapshot
        // when the write is large (the engine makes a new one when idle).
        let copy_summaries = batch.summaries.len() <= SINCE_LIMIT;
        let copy_facts = batch.facts.len() <= SINCE_LIMIT;
        for (copy, key, snapshot, since) in [
            (
                copy_summaries,
                "summaries",
                &batch.summaries_snapshot,
                &summaries_since,
            ),
            (copy_facts, "facts", &batch.facts_snapshot, &facts_since),
        ] {
            if copy {
                continue;
            }
            let key = JsValue::from_str(key);
            match snapshot {
                Some(bytes) => {
                    snapshots.put(&Uint8Array::from(bytes.as_slice()).into(), Some(&key))?;
                }
                None => {
                    snapshots.delete(Query::Key(key))?;
                }
            }
            since.clear()?;
        }
        for (key, value) in &batch.meta {
            meta.put(&JsValue::from_str(value), Some(&JsValue::from_str(key)))?;
        }
        // One record per batch (a single upload as bytes), see the module doc.
        let mut requests = Vec::new();
        for uploads in batch.outbox.chunks(OUTBOX_PER_RECORD) {
            let value: JsValue = match uploads {
                [upload] => Uint8Array::from(upload.as_slice()).into(),
                many => many
                    .iter()
                    .map(|upload| JsValue::from(Uint8Array::from(upload.as_slice())))
                    .collect::<js_sys::Array>()
                    .into(),
            };
            requests.push((outbox.add(&value, None)?, uploads.len()));
        }
        for (customer_id, below_seq) in &batch.delete_chunks_below {
            chunks.delete(Query::KeyRange(chunk_range(customer_id, Some(*below_seq))?))?;
        }
        for (customer_id, seq, bytes) in &batch.chunks {
            let key = JsValue::from_str(&chunk_key(customer_id, *seq));
            chunks.put(&Uint8Array::from(bytes.as_slice()).into(), Some(&key))?;
        }
        for summary in &batch.summaries {
            let json = serde_json::to_string(summary)
                .map_err(|err| StoreError::Failed(format!("cannot encode summary: {err}")))?;
            let key = JsValue::from_str(summary.id.as_str());
            let json = JsValue::from_str(&json);
            summaries.put(&json, Some(&key))?;
            if copy_summaries {
                summaries_since.put(&json, Some(&key))?;
            }
        }
        for record in &batch.facts {
            let key = JsValue::from_str(record.id.as_str());
            let bytes: JsValue = Uint8Array::from(record.encode().as_slice()).into();
            facts.put(&bytes, Some(&key))?;
            if copy_facts {
                facts_since.put(&bytes, Some(&key))?;
            }
        }
        // Every request is queued; awaiting the keys keeps the transaction alive.
        let mut ids = Vec::with_capacity(batch.outbox.len());
        for (request, n) in requests {
            let key = request.await?.as_f64().unwrap_or_default() as u64;
            ids.extend((0..n).map(|position| outbox_id(key, position)));
        }
        commit(transaction, &chunks).await?;
        Ok(ids)
    }

    /// Every outbox item, oldest first: (id, encoded upload).
    pub async fn load_outbox(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let transaction = self
            .database
            .transaction(&[OUTBOX], TransactionMode::ReadOnly)?;
        let outbox = transaction.object_store(OUTBOX)?;
        let keys = outbox.get_all_keys(None, None)?.await?;
        let values = outbox.get_all(None, None)?.await?;
        let mut items = Vec::with_capacity(values.len());
        for (key, value) in keys.into_iter().zip(values) {
            let key = key.as_f64().unwrap_or_default() as u64;
            if let Some(uploads) = value.dyn_ref::<js_sys::Array>() {
                for (position, upload) in uploads.iter().enumerate() {
                    if let Some(bytes) = upload.dyn_ref::<Uint8Array>() {
                        items.push((outbox_id(key, position), bytes.to_vec()));
                    }
                }
            } else if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
                items.push((outbox_id(key, 0), bytes.to_vec()));
            } else {
                tracing::warn!("skipping an outbox record that is neither bytes nor a list");
            }
        }
        Ok(items)
    }

    /// Deletes acknowledged outbox items (ids from [`Store::write`] or
    /// [`Store::load_outbox`]); a record of many uploads is deleted once all of them are, and
    /// rewritten without the acknowledged ones until then. Resolves once committed.
    pub async fn delete_outbox(&self, ids: &[u64]) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&[OUTBOX], TransactionMode::ReadWrite)?;
        let outbox = transaction.object_store(OUTBOX)?;
        let mut by_record: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
        for id in ids {
            by_record
                .entry(id >> 16)
                .or_default()
                .push((id & 0xffff) as usize);
        }
        let mut reads = Vec::with_capacity(by_record.len());
        for (&key, positions) in &by_record {
            let request = outbox.get(Query::Key(JsValue::from_f64(key as f64)))?;
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
        commit(transaction, &outbox).await
    }

    /// Deletes everything this device holds except its actor id (sign-out, revocation).
    pub async fn wipe(&self) -> Result<(), StoreError> {
        let transaction = self
            .database
            .transaction(&ALL_STORES, TransactionMode::ReadWrite)?;
        let meta = transaction.object_store(META)?;
        // Facts too: a dashboard must not count customers no longer on the device.
        for name in [
            DOC_CHUNKS,
            SUMMARIES,
            OUTBOX,
            FACTS,
            SNAPSHOTS,
            SUMMARIES_SINCE,
            FACTS_SINCE,
        ] {
            transaction.object_store(name)?.clear()?;
        }
        for key in ["session", "cursor", "bootstrap", "book-doc", "held"] {
            meta.delete(Query::Key(JsValue::from_str(key)))?;
        }
        commit(transaction, &meta).await
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

/// Every record of `projection` within `transaction`: the snapshot with the records written
/// since laid over it, or, without a snapshot this build reads, every per-customer record
/// (then `since` counts them all, at least 1: a snapshot is due).
async fn read_projection<T: serde::de::DeserializeOwned + PerCustomer>(
    transaction: &idb::Transaction,
    projection: Projection,
    parse: impl Fn(Vec<JsValue>, &str) -> Vec<T>,
) -> Result<Projected<T>, StoreError> {
    let (records_store, since_store, key) = projection.stores();
    let snapshot = transaction
        .object_store(SNAPSHOTS)?
        .get(Query::Key(JsValue::from_str(key)))?;
    let since = transaction.object_store(since_store)?.get_all(None, None)?;
    let (snapshot, since) = (snapshot.await?, since.await?);
    let snapshot = snapshot
        .and_then(|value| value.dyn_into::<Uint8Array>().ok())
        .and_then(|bytes| shared::model::snapshot::decode::<T>(&bytes.to_vec()));
    if let Some(snapshot) = snapshot {
        let newer = parse(since, since_store);
        return Ok(Projected {
            since: newer.len(),
            items: shared::model::snapshot::overlay(snapshot, newer),
        });
    }
    let values = transaction
        .object_store(records_store)?
        .get_all(None, None)?
        .await?;
    let items = parse(values, records_store);
    Ok(Projected {
        since: items.len().max(1),
        items,
    })
}

/// The stored book as `index.html` read it while the wasm loaded (`fieldbookStoredBook`: the
/// summaries' snapshot and the summaries written after it, in one read-only transaction):
/// the page shows the list from it without waiting for its engine; an empty book when there
/// is no database at all (a new device). `None` without a snapshot, or one this build can
/// read; the engine's read follows in every case.
pub async fn read_early_book() -> Option<Vec<CustomerSummary>> {
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
        return Some(Vec::new());
    }
    let snapshot = field("snapshot")?.dyn_into::<Uint8Array>().ok()?.to_vec();
    let snapshot = shared::model::snapshot::decode::<CustomerSummary>(&snapshot)?;
    crate::perf::mark("fieldbook:summaries-snapshot-decoded");
    let since = field("since")?.dyn_into::<js_sys::Array>().ok()?;
    let newer = parse_json_records(since.to_vec(), SUMMARIES_SINCE);
    Some(shared::model::snapshot::overlay(snapshot, newer))
}

/// JSON records (summaries) read from `store_name`. Records that do not parse are skipped and
/// logged, so one bad record never hides the whole book.
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

/// Encoded facts records; those of another format are left out (and made again from their
/// documents by the engine).
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
