//! [`Repo`]: the one handle components use to read and change customers.
//!
//! It owns the IndexedDB [`Store`], the in-memory [`Book`] of summaries (a signal the list
//! reacts to), and a small LRU of loaded documents. Components never touch storage directly.
//!
//! # Writes
//!
//! An edit is applied to the cached document synchronously (validation first, so an invalid
//! edit changes nothing), then its incremental chunk and the new summary are written in one
//! IndexedDB transaction. Only when that transaction has committed does the repo update the
//! book and report [`SaveState::Saved`]; if it fails the cached document is dropped (the next
//! read reloads what storage really holds) and the failure is reported, never swallowed.

use std::{cell::RefCell, rc::Rc};

use automerge::ActorId;
use leptos::prelude::*;
use shared::protocol::{encode, BlobKind, BootstrapPosition, DocumentId, LogEntry, Seq, Upload};
use shared::sync::OutboxItem;
use shared::{
    Book, Customer, CustomerDoc, CustomerId, DocError, FieldConflict, Timestamp, ValidationErrors,
};

use crate::{
    doc_cache::{CachedDoc, DocCache},
    store::{Store, StoreError, WriteBatch},
    time::{mark, now},
};

/// A document is compacted into one snapshot once it has this many chunks.
const COMPACT_AT_CHUNKS: u32 = 24;
/// How many loaded documents stay in memory (each costs tens of kilobytes).
const DOC_CACHE_CAPACITY: usize = 16;

/// Whether the book has been read from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadState {
    /// Reading IndexedDB.
    Loading,
    /// The book is in memory.
    Ready,
    /// The device storage could not be opened.
    Failed(String),
}

/// What the save indicator shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveState {
    /// Nothing written in this session yet.
    Idle,
    /// A write is in flight.
    Saving,
    /// The last write committed to IndexedDB at this time.
    Saved(Timestamp),
    /// The last write failed; the message says why.
    Failed(String),
}

/// Why a repo operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RepoError {
    /// The edit breaks a validation rule; nothing was stored.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The device storage failed; nothing was stored.
    #[error("not saved: {0}")]
    Storage(#[from] StoreError),
    /// The customer does not exist on this device.
    #[error("this customer is not on this device")]
    NotFound,
    /// The stored document could not be read.
    #[error("this customer's stored data cannot be read: {0}")]
    Corrupt(String),
    /// The storage is not open yet.
    #[error("device storage is not ready yet")]
    NotReady,
}

impl From<DocError> for RepoError {
    fn from(error: DocError) -> RepoError {
        match error {
            DocError::Invalid(errors) => RepoError::Invalid(errors),
            other => RepoError::Corrupt(other.to_string()),
        }
    }
}

/// Called with the outbox items of each committed local change.
pub type QueuedHook = Rc<dyn Fn(Vec<OutboxItem>)>;

struct RepoInner {
    store: Option<Rc<Store>>,
    actor: ActorId,
    docs: DocCache,
    /// The signed-in device's name, written into every change (shown with conflicts).
    device_name: Option<String>,
    /// The sync cursor: this device holds every log entry up to here (snapshots say so).
    cursor: Seq,
    on_queued: Option<QueuedHook>,
}

/// Customers changed by entries from other devices, for screens showing one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteChanges {
    /// Increases with every applied page.
    pub generation: u64,
    /// The customers the last page touched.
    pub customers: Vec<CustomerId>,
}

/// The data-access handle, cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Repo {
    /// Every customer's summary; the list, search and counts read this.
    pub book: RwSignal<Book>,
    /// Whether the book has been read.
    pub load_state: RwSignal<LoadState>,
    /// The save indicator.
    pub save_state: RwSignal<SaveState>,
    /// Customers just changed by other devices.
    pub remote_changes: RwSignal<RemoteChanges>,
    inner: StoredValue<Rc<RefCell<RepoInner>>, LocalStorage>,
}

impl Repo {
    /// A repo that starts opening the device storage at once.
    pub fn start() -> Repo {
        let repo = Repo {
            book: RwSignal::new(Book::default()),
            load_state: RwSignal::new(LoadState::Loading),
            save_state: RwSignal::new(SaveState::Idle),
            remote_changes: RwSignal::new(RemoteChanges::default()),
            inner: StoredValue::new_local(Rc::new(RefCell::new(RepoInner {
                store: None,
                actor: ActorId::random(),
                docs: DocCache::new(DOC_CACHE_CAPACITY),
                device_name: None,
                cursor: Seq(0),
                on_queued: None,
            }))),
        };
        leptos::task::spawn_local(async move {
            match repo.open().await {
                Ok(()) => repo.load_state.set(LoadState::Ready),
                Err(err) => {
                    tracing::error!(cause = %err, "cannot open device storage");
                    repo.load_state.set(LoadState::Failed(err.to_string()));
                }
            }
        });
        repo
    }

    fn inner(&self) -> Rc<RefCell<RepoInner>> {
        self.inner.with_value(Rc::clone)
    }

    fn store(&self) -> Result<Rc<Store>, RepoError> {
        self.inner()
            .borrow()
            .store
            .clone()
            .ok_or(RepoError::NotReady)
    }

    async fn open(&self) -> Result<(), StoreError> {
        mark("fieldbook:storage-open-start");
        let load_state = self.load_state;
        let store = Store::open(
            move || load_state.set(LoadState::Failed(StoreError::Blocked.to_string())),
            move || {
                load_state.set(LoadState::Failed(
                    "Fieldbook was updated in another tab. Reload this page to continue; \
                     everything saved is kept."
                        .into(),
                ))
            },
        )
        .await?;
        mark("fieldbook:storage-opened");
        // This device's actor id: made once, kept forever, so history names the device.
        let actor = match store.get_meta("actor").await? {
            Some(hex) => parse_actor(&hex),
            None => None,
        };
        let actor = match actor {
            Some(actor) => actor,
            None => {
                let actor = ActorId::random();
                store.put_meta("actor", &actor.to_hex_string()).await?;
                actor
            }
        };
        let summaries = store.load_summaries().await?;
        mark("fieldbook:summaries-read");
        tracing::info!(n_customers = summaries.len(), "book loaded");
        self.book.set(Book::from_summaries(summaries));
        mark("fieldbook:book-built");
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        inner.store = Some(Rc::new(store));
        inner.actor = actor;
        // A blocked open that went through after all: back to normal.
        if matches!(self.load_state.get_untracked(), LoadState::Failed(_)) {
            self.load_state.set(LoadState::Loading);
        }
        Ok(())
    }

    /// The customer, loading its document if it is not cached.
    pub async fn customer(&self, customer_id: &CustomerId) -> Result<Customer, RepoError> {
        self.with_doc(customer_id, |cached| cached.doc.customer().clone())
            .await
    }

    async fn with_doc<T>(
        &self,
        customer_id: &CustomerId,
        read: impl FnOnce(&mut CachedDoc) -> T,
    ) -> Result<T, RepoError> {
        let inner = self.inner();
        if let Some(cached) = inner.borrow_mut().docs.get(customer_id) {
            return Ok(read(cached));
        }
        let store = self.store()?;
        let stored = store.load_doc(customer_id).await?;
        if stored.n_chunks == 0 {
            return Err(RepoError::NotFound);
        }
        let (actor, author) = {
            let inner = inner.borrow();
            (inner.actor.clone(), inner.device_name.clone())
        };
        let mut doc = CustomerDoc::load(customer_id, &stored.bytes, actor)?;
        doc.set_author(author);
        let mut inner = inner.borrow_mut();
        // Another task may have loaded it meanwhile; keep the one already cached (it may
        // hold an edit in flight).
        if inner.docs.get(customer_id).is_none() {
            inner.docs.insert(
                customer_id.clone(),
                CachedDoc {
                    doc,
                    n_chunks: stored.n_chunks,
                    next_seq: stored.next_seq,
                },
            );
        }
        let cached = inner
            .docs
            .get(customer_id)
            .ok_or_else(|| RepoError::Corrupt("document vanished from cache".into()))?;
        Ok(read(cached))
    }

    /// Creates a customer; resolves once it is committed to IndexedDB.
    pub async fn create(&self, customer: Customer) -> Result<Customer, RepoError> {
        let store = self.store()?;
        let inner = self.inner();
        let (actor, author, cursor) = {
            let inner = inner.borrow();
            (inner.actor.clone(), inner.device_name.clone(), inner.cursor)
        };
        let mut doc = CustomerDoc::create(customer, actor, now())?;
        doc.set_author(author);
        let customer_id = doc.customer().id.clone();
        let snapshot = doc.save();
        let upload = snapshot_upload(&customer_id, snapshot.clone(), cursor);
        let batch = WriteBatch {
            chunks: vec![(customer_id.clone(), 0, snapshot)],
            summaries: vec![doc.summary()],
            outbox: vec![encode(&upload)],
            ..WriteBatch::default()
        };
        self.save_state.set(SaveState::Saving);
        let keys = match store.write(batch).await {
            Ok(keys) => keys,
            Err(err) => {
                self.save_state.set(SaveState::Failed(err.to_string()));
                return Err(err.into());
            }
        };
        self.queued(keys, vec![upload]);
        let summary = doc.summary();
        let customer = doc.customer().clone();
        inner.borrow_mut().docs.insert(
            customer_id,
            CachedDoc {
                doc,
                n_chunks: 1,
                next_seq: 1,
            },
        );
        self.book.update(|book| book.upsert(summary));
        self.save_state.set(SaveState::Saved(now()));
        Ok(customer)
    }

    /// Applies `edit` to a customer; resolves with the new state once committed, or `None`
    /// when the edit changed nothing.
    pub async fn update(
        &self,
        customer_id: &CustomerId,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<Option<Customer>, RepoError> {
        self.change(customer_id, |doc| Ok(doc.update(now(), edit)?))
            .await
    }

    /// Every field of the customer written concurrently on several devices.
    pub async fn conflicts(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<FieldConflict>, RepoError> {
        self.with_doc(customer_id, |cached| cached.doc.conflicts())
            .await
    }

    /// Keeps value `op` of a conflicting `field`; saved and synced like any edit.
    pub async fn resolve_conflict(
        &self,
        customer_id: &CustomerId,
        field: &str,
        op: &str,
    ) -> Result<Option<Customer>, RepoError> {
        self.change(customer_id, |doc| {
            doc.resolve_conflict(field, op, now())?;
            Ok(true)
        })
        .await
    }

    /// Applies `change` to the customer's document and stores the result (one chunk, the
    /// summary and the outbox item, in one transaction).
    async fn change(
        &self,
        customer_id: &CustomerId,
        change: impl FnOnce(&mut CustomerDoc) -> Result<bool, RepoError>,
    ) -> Result<Option<Customer>, RepoError> {
        let store = self.store()?;
        let cursor = self.inner().borrow().cursor;
        let prepared = self
            .with_doc(customer_id, |cached| -> Result<_, RepoError> {
                if !change(&mut cached.doc)? {
                    return Ok(None);
                }
                let Some(bytes) = cached.doc.last_local_change() else {
                    return Ok(None);
                };
                let mut uploads = vec![Upload {
                    document: DocumentId(customer_id.to_string()),
                    kind: BlobKind::Change,
                    bytes,
                }];
                let seq = cached.next_seq;
                cached.next_seq += 1;
                let mut batch = WriteBatch {
                    summaries: vec![cached.doc.summary()],
                    ..WriteBatch::default()
                };
                if cached.n_chunks + 1 >= COMPACT_AT_CHUNKS {
                    // Replace every chunk with one snapshot, in the same transaction, and
                    // give the relay that snapshot for new devices.
                    let snapshot = cached.doc.save();
                    batch.delete_chunks_below.push((customer_id.clone(), seq));
                    batch
                        .chunks
                        .push((customer_id.clone(), seq, snapshot.clone()));
                    uploads.push(snapshot_upload(customer_id, snapshot, cursor));
                    cached.n_chunks = 1;
                } else {
                    batch
                        .chunks
                        .push((customer_id.clone(), seq, cached.doc.save_incremental()));
                    cached.n_chunks += 1;
                }
                batch.outbox = uploads.iter().map(encode).collect();
                Ok(Some((batch, uploads, cached.doc.customer().clone())))
            })
            .await??;
        let Some((batch, uploads, customer)) = prepared else {
            return Ok(None);
        };
        let summary = batch.summaries[0].clone();
        self.save_state.set(SaveState::Saving);
        let keys = match store.write(batch).await {
            Ok(keys) => keys,
            Err(err) => {
                // The cached document holds a change storage does not: drop it so the next
                // read shows what is really stored.
                self.inner().borrow_mut().docs.remove(customer_id);
                self.save_state.set(SaveState::Failed(err.to_string()));
                return Err(err.into());
            }
        };
        self.queued(keys, uploads);
        self.book.update(|book| book.upsert(summary));
        self.save_state.set(SaveState::Saved(now()));
        Ok(Some(customer))
    }

    fn queued(&self, keys: Vec<u64>, uploads: Vec<Upload>) {
        let hook = self.inner().borrow().on_queued.clone();
        if let Some(hook) = hook {
            hook(
                keys.into_iter()
                    .zip(uploads)
                    .map(|(id, upload)| OutboxItem { id, upload })
                    .collect(),
            );
        }
    }

    /// Connects the repo to sync: the device's name for change messages, the stored
    /// cursor, and the hook told about every committed local change.
    pub fn attach_sync(&self, device_name: Option<String>, cursor: Seq, on_queued: QueuedHook) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        inner.device_name = device_name;
        inner.cursor = cursor;
        inner.on_queued = Some(on_queued);
        // Cached documents pick up the device name for their next change.
        inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
    }

    /// Records a cursor moved by the device's own acknowledged pushes.
    pub fn set_cursor(&self, cursor: Seq) {
        self.inner().borrow_mut().cursor = cursor;
    }

    /// The open storage, for the sync runtime (outbox and meta).
    pub fn storage(&self) -> Option<Rc<Store>> {
        self.inner().borrow().store.clone()
    }

    /// Merges entries from the relay into their documents and stores them, with the new
    /// cursor and bootstrap position, in one transaction.
    pub async fn apply_remote(
        &self,
        entries: Vec<LogEntry>,
        cursor: Seq,
        bootstrap: Option<BootstrapPosition>,
    ) -> Result<(), String> {
        let store = self.store().map_err(|err| err.to_string())?;
        let inner = self.inner();
        let (actor, author) = {
            let inner = inner.borrow();
            (inner.actor.clone(), inner.device_name.clone())
        };
        // Documents touched by this page, loaded once each.
        let mut touched: Vec<(CustomerId, CachedDoc, bool)> = Vec::new();
        for entry in entries {
            let Ok(customer_id) = entry.document.0.parse::<CustomerId>() else {
                tracing::warn!(document = %entry.document.0, "skipping an entry of an unknown document kind");
                continue;
            };
            let index = match touched.iter().position(|(id, _, _)| *id == customer_id) {
                Some(index) => index,
                None => {
                    let cached = inner.borrow_mut().docs.take(&customer_id);
                    let cached = match cached {
                        Some(cached) => Some(cached),
                        None => {
                            let stored = store
                                .load_doc(&customer_id)
                                .await
                                .map_err(|e| e.to_string())?;
                            if stored.n_chunks == 0 {
                                None
                            } else {
                                let mut doc =
                                    CustomerDoc::load(&customer_id, &stored.bytes, actor.clone())
                                        .map_err(|e| e.to_string())?;
                                doc.set_author(author.clone());
                                Some(CachedDoc {
                                    doc,
                                    n_chunks: stored.n_chunks,
                                    next_seq: stored.next_seq,
                                })
                            }
                        }
                    };
                    match cached {
                        Some(cached) => touched.push((customer_id.clone(), cached, false)),
                        None => {
                            let mut doc = CustomerDoc::from_remote(&entry.bytes, actor.clone())
                                .map_err(|e| format!("customer {customer_id}: {e}"))?;
                            if doc.customer().id != customer_id {
                                return Err(format!(
                                    "entry for {customer_id} holds another customer"
                                ));
                            }
                            doc.set_author(author.clone());
                            touched.push((
                                customer_id.clone(),
                                CachedDoc {
                                    doc,
                                    n_chunks: 0,
                                    next_seq: 0,
                                },
                                true,
                            ));
                            continue;
                        }
                    }
                    touched.len() - 1
                }
            };
            touched[index]
                .1
                .doc
                .apply_remote(&entry.bytes)
                .map_err(|e| format!("customer {customer_id}: {e}"))?;
        }
        let mut batch = WriteBatch::default();
        for (customer_id, cached, is_new) in touched.iter_mut() {
            if *is_new || cached.n_chunks + 1 >= COMPACT_AT_CHUNKS {
                let seq = cached.next_seq;
                batch.delete_chunks_below.push((customer_id.clone(), seq));
                batch
                    .chunks
                    .push((customer_id.clone(), seq, cached.doc.save()));
                cached.n_chunks = 1;
            } else {
                let chunk = cached.doc.save_incremental();
                if chunk.is_empty() {
                    continue;
                }
                batch
                    .chunks
                    .push((customer_id.clone(), cached.next_seq, chunk));
                cached.n_chunks += 1;
            }
            cached.next_seq += 1;
            batch.summaries.push(cached.doc.summary());
        }
        batch.meta.push(("cursor", cursor.0.to_string()));
        batch.meta.push((
            "bootstrap",
            match &bootstrap {
                Some(position) => serde_json::to_string(position).map_err(|e| e.to_string())?,
                None => String::new(),
            },
        ));
        let summaries = batch.summaries.clone();
        store.write(batch).await.map_err(|err| err.to_string())?;
        inner.borrow_mut().cursor = cursor;
        // Keep the documents just written in the cache only if few (a bootstrap page holds
        // hundreds; the cache would only churn).
        if touched.len() <= DOC_CACHE_CAPACITY {
            let mut inner = inner.borrow_mut();
            for (customer_id, cached, _) in touched.drain(..) {
                inner.docs.insert(customer_id, cached);
            }
        }
        if !summaries.is_empty() {
            let customers: Vec<CustomerId> = summaries.iter().map(|s| s.id.clone()).collect();
            self.book.update(|book| {
                for summary in summaries {
                    book.upsert(summary);
                }
            });
            self.remote_changes.update(|changes| {
                changes.generation += 1;
                changes.customers = customers;
            });
        }
        Ok(())
    }

    /// Forgets every customer on this device (sign-out, revocation).
    pub async fn wipe(&self) -> Result<(), RepoError> {
        let store = self.store()?;
        store.wipe().await?;
        {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
            inner.cursor = Seq(0);
            inner.device_name = None;
        }
        self.book.set(Book::default());
        Ok(())
    }

    /// Writes many new customers, `batch_size` per transaction, reporting progress; used by
    /// the sample-data generator (and later by imports).
    pub async fn create_many(
        &self,
        customers: impl Iterator<Item = Customer>,
        batch_size: usize,
        mut progress: impl FnMut(usize),
    ) -> Result<usize, RepoError> {
        let store = self.store()?;
        let (actor, author, cursor) = {
            let inner = self.inner();
            let inner = inner.borrow();
            (inner.actor.clone(), inner.device_name.clone(), inner.cursor)
        };
        let mut n_written = 0;
        let mut customers = customers.peekable();
        while customers.peek().is_some() {
            let mut batch = WriteBatch::default();
            let mut uploads = Vec::new();
            for customer in customers.by_ref().take(batch_size) {
                let mut doc = CustomerDoc::create(customer, actor.clone(), now())?;
                doc.set_author(author.clone());
                let customer_id = doc.customer().id.clone();
                let snapshot = doc.save();
                let upload = snapshot_upload(&customer_id, snapshot.clone(), cursor);
                batch.outbox.push(encode(&upload));
                uploads.push(upload);
                batch.chunks.push((customer_id, 0, snapshot));
                batch.summaries.push(doc.summary());
            }
            let summaries = batch.summaries.clone();
            let keys = store.write(batch).await?;
            self.queued(keys, uploads);
            n_written += summaries.len();
            self.book.update(|book| {
                for summary in summaries {
                    book.upsert(summary);
                }
            });
            progress(n_written);
        }
        self.save_state.set(SaveState::Saved(now()));
        Ok(n_written)
    }
}

/// A whole document for the relay; `cursor` is this device's sync cursor, so the snapshot
/// holds every log entry of its document up to there.
fn snapshot_upload(customer_id: &CustomerId, bytes: Vec<u8>, cursor: Seq) -> Upload {
    Upload {
        document: DocumentId(customer_id.to_string()),
        kind: BlobKind::Snapshot { covers: cursor },
        bytes,
    }
}

fn parse_actor(hex: &str) -> Option<ActorId> {
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect();
    bytes.map(ActorId::from)
}

/// The repo provided to the component tree.
pub fn use_repo() -> Repo {
    expect_context::<Repo>()
}
