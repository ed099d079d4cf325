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
use shared::{Book, Customer, CustomerDoc, CustomerId, DocError, Timestamp, ValidationErrors};

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

struct RepoInner {
    store: Option<Rc<Store>>,
    actor: ActorId,
    docs: DocCache,
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
    inner: StoredValue<Rc<RefCell<RepoInner>>, LocalStorage>,
}

impl Repo {
    /// A repo that starts opening the device storage at once.
    pub fn start() -> Repo {
        let repo = Repo {
            book: RwSignal::new(Book::default()),
            load_state: RwSignal::new(LoadState::Loading),
            save_state: RwSignal::new(SaveState::Idle),
            inner: StoredValue::new_local(Rc::new(RefCell::new(RepoInner {
                store: None,
                actor: ActorId::random(),
                docs: DocCache::new(DOC_CACHE_CAPACITY),
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
        let actor = inner.borrow().actor.clone();
        let doc = CustomerDoc::load(customer_id, &stored.bytes, actor)?;
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
        let actor = inner.borrow().actor.clone();
        let mut doc = CustomerDoc::create(customer, actor, now())?;
        let customer_id = doc.customer().id.clone();
        let batch = WriteBatch {
            chunks: vec![(customer_id.clone(), 0, doc.save())],
            delete_chunks_below: Vec::new(),
            summaries: vec![doc.summary()],
        };
        self.save_state.set(SaveState::Saving);
        if let Err(err) = store.write(batch).await {
            self.save_state.set(SaveState::Failed(err.to_string()));
            return Err(err.into());
        }
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
        let store = self.store()?;
        let prepared = self
            .with_doc(customer_id, |cached| -> Result<_, RepoError> {
                if !cached.doc.update(now(), edit)? {
                    return Ok(None);
                }
                let seq = cached.next_seq;
                cached.next_seq += 1;
                let mut batch = WriteBatch {
                    summaries: vec![cached.doc.summary()],
                    ..WriteBatch::default()
                };
                if cached.n_chunks + 1 >= COMPACT_AT_CHUNKS {
                    // Replace every chunk with one snapshot, in the same transaction.
                    batch.delete_chunks_below.push((customer_id.clone(), seq));
                    batch
                        .chunks
                        .push((customer_id.clone(), seq, cached.doc.save()));
                    cached.n_chunks = 1;
                } else {
                    batch
                        .chunks
                        .push((customer_id.clone(), seq, cached.doc.save_incremental()));
                    cached.n_chunks += 1;
                }
                Ok(Some((batch, cached.doc.customer().clone())))
            })
            .await??;
        let Some((batch, customer)) = prepared else {
            return Ok(None);
        };
        let summary = batch.summaries[0].clone();
        self.save_state.set(SaveState::Saving);
        if let Err(err) = store.write(batch).await {
            // The cached document holds a change storage does not: drop it so the next read
            // shows what is really stored.
            self.inner().borrow_mut().docs.remove(customer_id);
            self.save_state.set(SaveState::Failed(err.to_string()));
            return Err(err.into());
        }
        self.book.update(|book| book.upsert(summary));
        self.save_state.set(SaveState::Saved(now()));
        Ok(Some(customer))
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
        let actor = self.inner().borrow().actor.clone();
        let mut n_written = 0;
        let mut customers = customers.peekable();
        while customers.peek().is_some() {
            let mut batch = WriteBatch::default();
            for customer in customers.by_ref().take(batch_size) {
                let mut doc = CustomerDoc::create(customer, actor.clone(), now())?;
                let customer_id = doc.customer().id.clone();
                batch.chunks.push((customer_id, 0, doc.save()));
                batch.summaries.push(doc.summary());
            }
            let summaries = batch.summaries.clone();
            store.write(batch).await?;
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
