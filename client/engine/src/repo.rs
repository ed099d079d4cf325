//! [`Repo`]: the engine's handle on the book: the IndexedDB [`Store`], a small LRU of loaded
//! documents, the book document, the dashboard facts once asked for, and which customers
//! exist (the screens hold the summaries; the engine sends them every commit).
//!
//! # Writes
//!
//! An edit is applied to the cached document synchronously (validation first, so an invalid
//! edit changes nothing), then its incremental chunk and the new summary are written in one
//! IndexedDB transaction. Only when that transaction has committed does the repo tell the
//! screens ([`EngineEvent::Committed`]) and answer the request; if it fails the cached
//! document is dropped (the next read reloads what storage really holds) and the failure is
//! returned, never swallowed.
//!
//! # Snapshots
//!
//! After a pause in writing, the writer folds the records written since the stored
//! snapshots into new ones (`Store::compact`), so the next start — the page's own read and
//! this engine's — reads one value per projection instead of one record per customer.
//!
//! # One writer per browser profile
//!
//! Only the writer tab ([`crate::tabs`]) writes IndexedDB. In any other tab the same methods
//! apply the edit to that tab's own copy of the document (loaded with a fresh actor id, so
//! changes of two tabs never share an actor and sequence number) and ask the writer to store
//! the resulting Automerge change, exactly as a change from another device; "saved" is shown
//! only when the writer answers that it committed. The writer announces every commit
//! ([`TabEvent::Committed`]); the other tabs update their book and drop their copies of the
//! documents it touched, so every tab shows the same book.

mod erase;
mod handover;
mod team_dashboard;
use team_dashboard::TeamDashboardAsked;

use std::{
    cell::RefCell,
    collections::{HashMap, HashSet},
    rc::Rc,
};

use automerge::ActorId;
use leptos::prelude::*;
use shared::documents::book_doc::{BookDoc, BookSettings, BOOK_DOCUMENT};
use shared::documents::customer_doc::fast_forward_parsed;
use shared::documents::history::{foreign_change_hash, foreign_hash};
use shared::model::custom_fields::{check_required, check_values};
use shared::model::facts::CustomerFacts;
use shared::model::history::{arrived_since, mark_arrivals, Arrival, RecentChange};
use shared::model::snapshot::ByCustomer;
use shared::sync::protocol::{
    encode, BlobKind, BootstrapPosition, DocumentId, EntryProjection, LogEntry, Seq, Upload,
    MAX_CHANGE_PROJECTION_BYTES,
};
use shared::sync::OutboxItem;
use shared::{
    Customer, CustomerDoc, CustomerId, CustomerSummary, DocError, HistoryEntry, Timestamp,
    ValidationErrors,
};

/// Most entries "Recent changes" lists, and most per customer.
const RECENT_CHANGES: usize = 300;
const RECENT_PER_CUSTOMER: usize = 20;
/// Documents "Recent changes" reads in one transaction.
const RECENT_READ_BATCH: usize = 50;

use shared::sync::engine_protocol::{EngineEvent, MadeDocument, VersionedCustomer};
use shared::sync::tab_protocol::{RequestId, TabEvent, TabRequest};
use shared::Version;

use common::perf::mark;
use common::store::{
    OutboxValue, Projected, Projection, SnapshotBytes, Store, StoreError, StoredDoc, WriteBatch,
};

use crate::{
    clock::now,
    doc_cache::{CachedDoc, DocCache},
    maker::DocumentMaker,
    tabs::{Role, Tabs},
};

/// How long after its last write the writer folds newer records into the stored snapshots.
const COMPACT_AFTER_WRITE_MS: f64 = 2_000.0;
/// How long after finding a snapshot behind (at a start) the writer makes it again, so the
/// start itself is not slowed.
const COMPACT_AFTER_START_MS: f64 = 1_000.0;
/// How long after the last part of a bulk write (an import, a download) its snapshots are
/// made: once the caller has gone on and the screens have drawn what it told them (an
/// import's report) — encoding 10,000 summaries holds this thread for ~100-200 ms.
const COMPACT_AFTER_BULK_MS: f64 = 100.0;
/// How often a waiting compaction looks again at its moment (which a bulk write's end may
/// have brought forward) and at the writes in flight.
const COMPACT_WAKE_MS: f64 = 50.0;

/// How long after a catch-up the customers it listed from projections are read back.
const VERIFY_AFTER_MS: i32 = 2_000;
/// How many of them are read back in one transaction.
const VERIFY_BATCH: usize = 50;

/// A document is compacted into one snapshot once it has this many chunks.
const COMPACT_AT_CHUNKS: u32 = 24;
/// How many loaded documents stay in memory (each costs tens of kilobytes).
const DOC_CACHE_CAPACITY: usize = 16;
/// Above this many documents to read for one page from the relay, first find which exist
/// with one key-range read ([`Store::stored_among`]) instead of looking each one up.
const LOOKUP_BY_RANGE_ABOVE: usize = 32;
/// Customers whose missing dashboard facts are made from their documents per transaction.
const FACTS_BACKFILL_BATCH: usize = 200;
/// A write of more customers than this, the last of its kind, is followed by new snapshots
/// ([`CompactAfter::Bulk`]).
const SNAPSHOT_WITH_WRITE_ABOVE: usize = 200;
/// How long after becoming the writer the engine checks the list against the documents.
const REPAIR_AFTER_START_MS: i32 = 3_000;

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
    /// The writer tab refused the change or did not answer; the message says why.
    #[error("{0}")]
    Writer(String),
    /// The browser cannot coordinate tabs, so nothing is written.
    #[error("{}", crate::tabs::unsupported_message())]
    Unsupported,
    /// Customers that continue a request which was not written: not written either.
    #[error("not saved: the customers before these could not be saved")]
    EarlierPartFailed,
    /// The document maker could not make a document; the sentence says why.
    #[error("{0}")]
    Failed(String),
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

/// Told the outbox items deleted without being sent (an erased customer's), so sync stops
/// pushing them.
pub type ForgetHook = Rc<dyn Fn(Vec<u64>)>;

/// The name written into this device's changes: the signed-in device's name, or before
/// signing in the browser's ("Chrome on Android"), never nothing — another device would
/// show an unnamed change as its own.
fn author_of(inner: &RepoInner) -> Option<String> {
    Some(
        inner
            .device_name
            .clone()
            .unwrap_or_else(common::global::device_label),
    )
}

struct RepoInner {
    store: Option<Rc<Store>>,
    actor: ActorId,
    docs: DocCache,
    /// The signed-in device's name, written into every change (shown with conflicts).
    device_name: Option<String>,
    /// The sync cursor: this device holds every log entry up to here (snapshots say so).
    cursor: Seq,
    on_queued: Option<QueuedHook>,
    on_forget: Option<ForgetHook>,
    /// Customers erased (here or on another device): an entry of theirs is never taken
    /// back in (see `erase`).
    erased: HashSet<CustomerId>,
    /// Callers that asked for the store while it was still opening.
    waiting_for_store: Vec<futures_channel::oneshot::Sender<()>>,
    /// The book's catalog and pipeline document (see [`BookDoc`]).
    book_doc: Option<BookDoc>,
    /// Every customer's dashboard facts, once a dashboard asked for them.
    facts: Option<FactsIndex>,
    /// While the facts are being read: the changes made meanwhile, applied after the read.
    facts_pending: Option<Vec<CustomerFacts>>,
    /// Callers that asked for the facts while another was reading them.
    waiting_for_facts: Vec<futures_channel::oneshot::Sender<()>>,
    /// The team dashboard's question being answered, and the callers that asked the same
    /// meanwhile (`repo::team_dashboard`): they get its answer (`None`: it failed).
    team_dashboard_asked: Option<TeamDashboardAsked>,
    /// This tab's screens, told about every commit and every change of the whole book.
    page: Option<PageSink>,
    /// Every customer's summary as committed (the writer puts them in the snapshot of a
    /// large write, see [`Repo::write`]).
    summaries: ByCustomer<CustomerSummary>,
    /// Writes issued and not yet committed or failed.
    writes_in_flight: usize,
    /// The stored snapshots to fold the newer records into, when idle (writer only).
    compaction: Compaction,
    /// Customers listed from their changes' projection, to be read back (`verify_soon`).
    unverified: Vec<CustomerId>,
    /// Whether reading them back is scheduled.
    verifying: bool,
    /// Counts writes that stored changes unverified; `fast_forwarded_at` says, for each
    /// customer, the count at its last one (a load begun before it reads again).
    fast_forward_epoch: u64,
    fast_forwarded_at: HashMap<CustomerId, u64>,
    /// What the engine knows of the book the page shows, until it told the page its own.
    page_book: PageBook,
    /// The order of the requests creating many customers ([`Repo::create_many`]).
    creates: CreateTurns,
    /// Customers whose documents a merge of downloaded changes or a read-back holds outside
    /// the cache until it has written them ([`DocsHeld`]), with how many hold each: an
    /// edit waits for them.
    held: HashMap<CustomerId, usize>,
}

/// What the engine knows of the book the page shows ([`Repo::tell_page_book`],
/// [`Repo::page_holds`]): the page says it once (`ToEngine::Holds`), and the engine's start
/// read ends; whichever comes second decides whether the whole book crosses.
#[derive(Debug, Default)]
enum PageBook {
    /// Neither the page's word nor the engine's read yet.
    #[default]
    Unknown,
    /// The page said which book it shows (the data version `index.html` read it at), or
    /// that it shows none, before the engine's read ended.
    Said(Option<String>),
    /// The engine's read ended first, at this data version (`None` once the engine told
    /// the page of a change since: then no version of the page's matches).
    Waiting(Option<String>),
    /// The engine told the page its book; a later book goes whole (a takeover's).
    Told,
}

/// How long an engine whose start read ended waits for the page's word
/// ([`PageBook::Waiting`]) before it sends its whole book anyway. The page says it as soon
/// as `index.html`'s read is in; this only guards against a page that never does.
const PAGE_WORD_WAIT_MS: i32 = 3_000;

/// Customers' documents that a merge of downloaded changes (`apply_remote`) or a read-back
/// (`verify`) took out of the cache or read from storage, and will write at the chunk number
/// it read. Until it has, an edit of one of them waits (`with_doc`): else the edit, loading
/// the stored document, would write a chunk of the same number, and the later write would
/// replace it — an edit shown as saved, lost. Released when dropped, on every path.
struct DocsHeld {
    inner: Rc<RefCell<RepoInner>>,
    ids: Vec<CustomerId>,
}

impl DocsHeld {
    fn hold(inner: &Rc<RefCell<RepoInner>>, ids: Vec<CustomerId>) -> DocsHeld {
        let mut held = DocsHeld {
            inner: Rc::clone(inner),
            ids: Vec::with_capacity(ids.len()),
        };
        for id in ids {
            held.add(id);
        }
        held
    }

    fn add(&mut self, id: CustomerId) {
        *self.inner.borrow_mut().held.entry(id.clone()).or_default() += 1;
        self.ids.push(id);
    }

    fn release(inner: &mut RepoInner, ids: &[CustomerId]) {
        for id in ids {
            if let Some(count) = inner.held.get_mut(id) {
                *count -= 1;
                if *count == 0 {
                    inner.held.remove(id);
                }
            }
        }
    }
}

impl Drop for DocsHeld {
    fn drop(&mut self) {
        // Every borrow taken after the guard was made has ended when it drops.
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            DocsHeld::release(&mut inner, &self.ids);
        } else {
            let inner = Rc::clone(&self.inner);
            let ids = std::mem::take(&mut self.ids);
            leptos::task::spawn_local(async move {
                DocsHeld::release(&mut inner.borrow_mut(), &ids);
            });
        }
    }
}

/// Which stored snapshots are behind their per-customer records (see `common::store`), and
/// when each is made again: not before this instant (`common::perf::now_ms`) — a pause after
/// the last write, a moment after a start or after a bulk write's end ([`CompactAfter`]), so
/// compaction never competes with either.
#[derive(Default)]
struct Compaction {
    summaries: Option<f64>,
    facts: Option<f64>,
    /// Whether a task is waiting for the moments.
    scheduled: bool,
}

impl Compaction {
    fn due(&mut self, projection: Projection) -> &mut Option<f64> {
        match projection {
            Projection::Summaries => &mut self.summaries,
            Projection::Facts => &mut self.facts,
        }
    }

    /// The earliest moment of a snapshot behind.
    fn next(&self) -> Option<f64> {
        match (self.summaries, self.facts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the snapshots whose moment has come.
    fn take_due(&mut self, now: f64) -> Vec<Projection> {
        [Projection::Summaries, Projection::Facts]
            .into_iter()
            .filter(|&projection| {
                let due = self.due(projection);
                let now_due = due.is_some_and(|at| at <= now);
                if now_due {
                    *due = None;
                }
                now_due
            })
            .collect()
    }
}

/// What made a stored snapshot behind, which sets when it is made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompactAfter {
    /// This engine wrote records: after a pause in writing (each write postpones it).
    Write,
    /// A start found it behind: a moment after the start (a moment already set stays).
    Start,
    /// The last part of a bulk write, or a read of every customer's facts that found their
    /// snapshot behind: at once, from memory (brought forward).
    Bulk,
}

impl CompactAfter {
    fn pause_ms(self) -> f64 {
        match self {
            CompactAfter::Write => COMPACT_AFTER_WRITE_MS,
            CompactAfter::Start => COMPACT_AFTER_START_MS,
            CompactAfter::Bulk => COMPACT_AFTER_BULK_MS,
        }
    }
}

/// Where the repo tells this tab's screens what changed (see [`crate::page`]).
pub type PageSink = Rc<dyn Fn(EngineEvent)>;

/// The dashboard facts in memory, by customer.
type FactsIndex = ByCustomer<CustomerFacts>;

/// A document touched by a page from the relay, while the page is applied.
struct Touched {
    id: CustomerId,
    /// Its document: from the cache or storage, or made from the page's first entry.
    cached: Option<CachedDoc>,
    /// The bytes it was made from, when it is new on this device.
    snapshot: Option<Vec<u8>>,
    /// Whether entries were applied to it after it was loaded or made.
    changed: bool,
}

/// Summaries per [`EngineEvent::Committed`]: a download's page of 1,000 as one event kept
/// the page's thread busy ~60-90 ms (decoding, then the list); four events of 250 are four
/// short tasks, with input handled in between.
const COMMITTED_PER_EVENT: usize = 250;

/// The `meta` key under which the book document (catalog, pipeline) is stored.
const BOOK_META: &str = "book-doc";

/// The data-access handle, cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Repo {
    /// Whether the book has been read.
    pub load_state: RwSignal<LoadState>,
    /// The product catalog and deal pipeline, shared by the rep's devices.
    pub settings: RwSignal<BookSettings>,
    /// Whether this tab writes, or asks the writer tab.
    tabs: Tabs,
    inner: StoredValue<Rc<RefCell<RepoInner>>, LocalStorage>,
}

impl Repo {
    /// A repo that starts opening the device storage at once; it writes once `tabs` elects
    /// this tab, and asks the writer tab otherwise.
    pub fn start(tabs: Tabs) -> Repo {
        let repo = Repo {
            tabs,
            load_state: RwSignal::new(LoadState::Loading),
            settings: RwSignal::new(BookSettings::default()),
            inner: StoredValue::new_local(Rc::new(RefCell::new(RepoInner {
                store: None,
                actor: ActorId::random(),
                docs: DocCache::new(DOC_CACHE_CAPACITY),
                device_name: None,
                cursor: Seq(0),
                on_queued: None,
                on_forget: None,
                erased: HashSet::new(),
                waiting_for_store: Vec::new(),
                book_doc: None,
                facts: None,
                facts_pending: None,
                waiting_for_facts: Vec::new(),
                team_dashboard_asked: None,
                page: None,
                summaries: ByCustomer::default(),
                writes_in_flight: 0,
                compaction: Compaction::default(),
                unverified: Vec::new(),
                verifying: false,
                fast_forward_epoch: 0,
                fast_forwarded_at: HashMap::new(),
                page_book: PageBook::Unknown,
                held: HashMap::new(),
                creates: CreateTurns::default(),
            }))),
        };
        tabs.on_writer(move |takeover| async move {
            if let Err(err) = repo.become_writer(takeover).await {
                tracing::error!(cause = %err, "cannot take over writing");
            }
        });
        tabs.listen(move |event| repo.writer_event(event));
        leptos::task::spawn_local(async move {
            let opened = repo.open().await;
            match opened {
                Ok(summaries) => {
                    repo.load_state.set(LoadState::Ready);
                    repo.tell_page_book(summaries);
                }
                Err(err) => {
                    tracing::error!(cause = %err, "cannot open device storage");
                    repo.load_state.set(LoadState::Failed(err.to_string()));
                }
            }
            // Whoever waited for the store gets it now (or NotReady, if opening failed).
            let waiting = std::mem::take(&mut repo.inner().borrow_mut().waiting_for_store);
            for waiter in waiting {
                let _ = waiter.send(());
            }
        });
        repo
    }

    fn inner(&self) -> Rc<RefCell<RepoInner>> {
        self.inner.with_value(Rc::clone)
    }

    /// Sends every later change to this tab's screens.
    pub fn tell_page_with(&self, sink: PageSink) {
        self.inner().borrow_mut().page = Some(sink);
    }

    fn tell_page(&self, event: EngineEvent) {
        let sink = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            let changes_book = matches!(
                event,
                EngineEvent::Committed { .. }
                    | EngineEvent::Wiped
                    | EngineEvent::Erased { .. }
                    | EngineEvent::Moved { .. }
            );
            if changes_book && matches!(inner.page_book, PageBook::Waiting(_)) {
                // The page may show its book before this change's event and then say it
                // holds the version read: it must get the whole book instead.
                inner.page_book = PageBook::Waiting(None);
            }
            inner.page.clone()
        };
        if let Some(sink) = sink {
            sink(event);
        }
    }

    /// Tells the screens about committed summaries, in events of at most
    /// [`COMMITTED_PER_EVENT`] (each is decoded and shown in one task of the page).
    /// `by`: the page's update request that made the commit (see `EngineEvent::Committed`).
    fn tell_page_committed(
        &self,
        summaries: &[CustomerSummary],
        facts_changed: bool,
        by: Option<RequestId>,
    ) {
        for part in summaries.chunks(COMMITTED_PER_EVENT) {
            self.tell_page(EngineEvent::Committed {
                summaries: part.to_vec(),
                facts_changed,
                by,
            });
        }
    }

    /// Remembers the book as just read (the customers it holds) and tells the screens.
    ///
    /// The page shows the book `index.html` read before this engine started and says at
    /// which data version ([`Repo::page_holds`]). When that is the version read here, the
    /// engine says only that the page holds its book, so ten thousand summaries are neither
    /// encoded here nor decoded there again; otherwise it sends them all. A read that ends
    /// before the page's word waits for it ([`PageBook`]).
    fn tell_page_book(&self, read: Projected<CustomerSummary>) {
        if read.since > 0 {
            // Not after a write: compacted at once, for the next start (perhaps in a second).
            self.compact_soon(Projection::Summaries, CompactAfter::Start);
        }
        let page_said = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.summaries = ByCustomer::new(read.items);
            match std::mem::replace(&mut inner.page_book, PageBook::Told) {
                PageBook::Unknown => {
                    inner.page_book = PageBook::Waiting(read.data_version.clone());
                    common::perf::add_count("start: read before the page said its book", 1);
                    None
                }
                PageBook::Said(page) => Some(page),
                // A later read (another engine's takeover): the whole book.
                PageBook::Waiting(_) | PageBook::Told => Some(None),
            }
        };
        match page_said {
            Some(page) => self.send_page_book(page, read.data_version),
            None => {
                let repo = *self;
                leptos::task::spawn_local(async move {
                    common::perf::sleep(PAGE_WORD_WAIT_MS).await;
                    let inner = repo.inner();
                    let waited = {
                        let mut inner = inner.borrow_mut();
                        match inner.page_book {
                            PageBook::Waiting(_) => {
                                inner.page_book = PageBook::Told;
                                true
                            }
                            _ => false,
                        }
                    };
                    if waited {
                        tracing::warn!("the page never said which book it shows: sent it whole");
                        repo.send_page_book(None, None);
                    }
                });
            }
        }
    }

    /// Tells the page its book: that it holds it already when the page's book was read at
    /// `page` and the engine's at the same `read` version, else every summary.
    fn send_page_book(&self, page: Option<String>, read: Option<String>) {
        let event = if page.is_some() && page == read {
            common::perf::add_count("start: book as the page held it", 1);
            EngineEvent::BookAsHeld
        } else {
            EngineEvent::Book(self.inner().borrow().summaries.items().to_vec())
        };
        self.tell_page(event);
    }

    /// The page shows the book `index.html` read at `data_version`, or none of its own (see
    /// [`Repo::tell_page_book`]); said once, at the page's start.
    pub fn page_holds(&self, data_version: Option<String>) {
        let waited = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            match std::mem::replace(&mut inner.page_book, PageBook::Told) {
                PageBook::Unknown => {
                    inner.page_book = PageBook::Said(data_version.clone());
                    None
                }
                PageBook::Waiting(read) => Some(read),
                // Said twice, or after the whole book went: nothing to do.
                said @ (PageBook::Said(_) | PageBook::Told) => {
                    inner.page_book = said;
                    None
                }
            }
        };
        if let Some(read) = waited {
            self.send_page_book(data_version, read);
        }
    }

    /// The version of the book document (catalog, pipeline, segments) the screens show.
    pub fn book_version(&self) -> Version {
        self.inner()
            .borrow_mut()
            .book_doc
            .as_mut()
            .map(BookDoc::version)
            .unwrap_or_default()
    }

    /// The customer, the version of its document and its conflicting fields, for a screen
    /// that may edit it.
    pub async fn customer_versioned(
        &self,
        customer_id: &CustomerId,
    ) -> Result<VersionedCustomer, RepoError> {
        self.with_doc(customer_id, |cached| VersionedCustomer {
            customer: cached.doc.customer().clone(),
            version: cached.doc.version(),
            conflicts: cached.doc.conflicts(),
        })
        .await
    }

    /// Writes the customer as a screen edited it from `version` (see
    /// [`CustomerDoc::update_to`]); resolves with the new state once committed, or `None`
    /// when nothing changed.
    /// `by`: the page's request, named in the commit's event.
    pub async fn update_to(
        &self,
        version: Version,
        after: Customer,
        by: RequestId,
    ) -> Result<Option<VersionedCustomer>, RepoError> {
        let customer_id = after.id.clone();
        let fields = self.settings.with_untracked(|s| s.fields.clone());
        let updated = self
            .change(&customer_id, Some(by), move |doc| {
                check_values(Some(doc.customer()), &after, &fields).map_err(DocError::from)?;
                Ok(doc.update_to(&version, after, now())?)
            })
            .await?;
        match updated {
            Some(_) => Ok(Some(self.customer_versioned(&customer_id).await?)),
            None => Ok(None),
        }
    }

    /// The open store. While it is still opening (a screen acted right after a reload), waits
    /// for the open to finish rather than failing the action; `NotReady` only if it failed.
    async fn store(&self) -> Result<Rc<Store>, RepoError> {
        let waiting = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            if let Some(store) = &inner.store {
                return Ok(Rc::clone(store));
            }
            if matches!(self.load_state.get_untracked(), LoadState::Failed(_)) {
                return Err(RepoError::NotReady);
            }
            let (sender, receiver) = futures_channel::oneshot::channel();
            inner.waiting_for_store.push(sender);
            receiver
        };
        let _ = waiting.await;
        self.inner()
            .borrow()
            .store
            .clone()
            .ok_or(RepoError::NotReady)
    }

    async fn open(&self) -> Result<Projected<CustomerSummary>, StoreError> {
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
        // Until this tab is elected writer, its changes carry an actor id of its own (the
        // device's actor is the writer's, see `become_writer`).
        let actor = ActorId::random();
        let book_doc = load_book_doc(&store, actor.clone()).await?;
        self.settings.set(book_doc.settings().clone());
        self.inner().borrow_mut().book_doc = Some(book_doc);
        let summaries = store.load_summaries().await?;
        mark("fieldbook:summaries-read");
        let erased = Repo::load_erased(&store).await;
        tracing::info!(n_customers = summaries.items.len(), "book loaded");
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        inner.store = Some(Rc::new(store));
        inner.actor = actor;
        inner.erased = erased;
        // A blocked open that went through after all: back to normal.
        if matches!(self.load_state.get_untracked(), LoadState::Failed(_)) {
            self.load_state.set(LoadState::Loading);
        }
        Ok(summaries)
    }

    async fn with_doc<T>(
        &self,
        customer_id: &CustomerId,
        read: impl FnOnce(&mut CachedDoc) -> T,
    ) -> Result<T, RepoError> {
        let inner = self.inner();
        let store = self.store().await?;
        let stored = loop {
            // A merge or read-back of this document writes it first ([`DocsHeld`]).
            while inner.borrow().held.contains_key(customer_id) {
                common::perf::sleep(5).await;
            }
            if let Some(cached) = inner.borrow_mut().docs.get(customer_id) {
                return Ok(read(cached));
            }
            let epoch = inner.borrow().fast_forward_epoch;
            let stored = store.load_doc(customer_id).await?;
            // Changes stored unverified after this read began, or a merge or read-back that
            // took the document meanwhile: read again.
            let unverified_since =
                (inner.borrow().fast_forwarded_at.get(customer_id)).is_some_and(|at| *at > epoch);
            if !unverified_since && !inner.borrow().held.contains_key(customer_id) {
                break stored;
            }
        };
        if stored.n_chunks == 0 {
            return Err(RepoError::NotFound);
        }
        let (actor, author) = {
            let inner = inner.borrow();
            (self.actor_for_load(&inner), author_of(&inner))
        };
        let mut doc = load_stored(customer_id, &stored, actor)?;
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
        let store = self.store().await?;
        let writes_here = self.writes_here().await?;
        let inner = self.inner();
        let (actor, author, cursor) = {
            let inner = inner.borrow();
            (self.actor_for_load(&inner), author_of(&inner), inner.cursor)
        };
        let fields = self.settings.with_untracked(|s| s.fields.clone());
        check_values(None, &customer, &fields).map_err(DocError::from)?;
        check_required(&customer, &fields).map_err(DocError::from)?;
        let mut doc = CustomerDoc::create_by(customer, actor, author, now())?;
        let customer_id = doc.customer().id.clone();
        let snapshot = doc.save();
        let upload = snapshot_upload(&customer_id, snapshot.clone(), cursor);
        if !writes_here {
            self.ask_writer(vec![upload]).await?;
            return Ok(doc.customer().clone());
        }
        let batch = WriteBatch {
            chunks: vec![(customer_id.clone(), 0, snapshot)],
            summaries: vec![doc.summary()],
            facts: vec![doc.facts()],
            outbox: vec![OutboxValue::upload(&upload)],
            ..WriteBatch::default()
        };
        let keys = match self.write(&store, batch).await {
            Ok(keys) => keys,
            Err(err) => {
                return Err(err.into());
            }
        };
        self.queued(keys, vec![upload]);
        let customer = doc.customer().clone();
        inner.borrow_mut().docs.insert(
            customer_id,
            CachedDoc {
                doc,
                n_chunks: 1,
                next_seq: 1,
            },
        );
        Ok(customer)
    }

    /// The customer's changes in words, newest first (deals' stages named after the book's
    /// pipeline).
    pub async fn history(&self, customer_id: &CustomerId) -> Result<Vec<HistoryEntry>, RepoError> {
        let pipeline = self.settings.get_untracked().pipeline();
        let mut history = self
            .with_doc(customer_id, move |cached| cached.doc.history(&pipeline))
            .await?;
        let arrivals = self.store().await?.load_arrivals().await?;
        mark_arrivals(&mut history, customer_id, &arrivals);
        Ok(history)
    }

    /// The changes made on other devices that reached this one since `since`, newest
    /// arrival first (at most [`RECENT_CHANGES`], [`RECENT_PER_CUSTOMER`] per customer).
    pub async fn recent_changes(&self, since: Timestamp) -> Result<Vec<RecentChange>, RepoError> {
        let store = self.store().await?;
        let arrivals = store.load_arrivals().await?;
        let pipeline = self.settings.get_untracked().pipeline();
        let mut recent = Vec::new();
        // The latest arrivals first: a long absence lists what came last.
        let mut arrived = arrived_since(&arrivals, since);
        arrived.reverse();
        // Documents not in the cache are read RECENT_READ_BATCH at a time, each batch in
        // one transaction (one at a time, 300 customers took ~440 ms), and not cached.
        let mut stored: HashMap<CustomerId, StoredDoc> = HashMap::new();
        for (at, (customer_id, hashes)) in arrived.iter().enumerate() {
            if recent.len() >= RECENT_CHANGES {
                break;
            }
            let cached = self
                .inner()
                .borrow_mut()
                .docs
                .get(customer_id)
                .map(|cached| {
                    let name = cached.doc.customer().display_name().to_string();
                    (name, cached.doc.history(&pipeline))
                });
            let read = match cached {
                Some(read) => Some(read),
                None => {
                    if !stored.contains_key(customer_id) {
                        let batch: Vec<CustomerId> = (arrived[at..].iter())
                            .map(|(id, _)| id.clone())
                            .filter(|id| !self.inner().borrow().docs.contains(id))
                            .take(RECENT_READ_BATCH)
                            .collect();
                        let docs = store.load_docs(&batch).await?;
                        stored = batch.into_iter().zip(docs).collect();
                    }
                    match stored.remove(customer_id).filter(|doc| doc.n_chunks > 0) {
                        Some(doc) => {
                            let mut doc = load_stored(customer_id, &doc, ActorId::random())?;
                            let name = doc.customer().display_name().to_string();
                            Some((name, doc.history(&pipeline)))
                        }
                        None => None,
                    }
                }
            };
            // Deleted, erased or merged away meanwhile: nothing to show.
            let Some((name, mut history)) = read else {
                continue;
            };
            let (customer_id, hashes) = (customer_id.clone(), hashes.clone());
            mark_arrivals(&mut history, &customer_id, &arrivals);
            recent.extend(
                history
                    .into_iter()
                    .filter(|entry| entry.arrived.is_some_and(|at| at >= since))
                    .filter(|entry| hashes.is_empty() || hashes.contains(&entry.change))
                    .take(RECENT_PER_CUSTOMER)
                    .map(|entry| RecentChange {
                        customer: customer_id.clone(),
                        name: name.clone(),
                        entry,
                    }),
            );
        }
        shared::order::sort_by_key(&mut recent, |change| {
            std::cmp::Reverse((change.entry.arrived, change.entry.time))
        });
        recent.truncate(RECENT_CHANGES);
        Ok(recent)
    }

    /// Puts an earlier value of `field` back: a new change, validated, saved and synced like
    /// any edit.
    pub async fn put_back(
        &self,
        customer_id: &CustomerId,
        field: &str,
        value: &str,
    ) -> Result<Option<Customer>, RepoError> {
        self.change(customer_id, None, |doc| {
            Ok(doc.put_back(field, value, now())?)
        })
        .await
    }

    /// Keeps value `op` of a conflicting `field`; saved and synced like any edit.
    pub async fn resolve_conflict(
        &self,
        customer_id: &CustomerId,
        field: &str,
        op: &str,
    ) -> Result<Option<Customer>, RepoError> {
        self.change(customer_id, None, |doc| {
            doc.resolve_conflict(field, op, now())?;
            Ok(true)
        })
        .await
    }

    /// Applies `change` to the customer's document and stores the result (one chunk, the
    /// summary and the outbox item, in one transaction). `by`: the page's request that asked
    /// for it and hears the customer in its answer (named in the commit's event).
    async fn change(
        &self,
        customer_id: &CustomerId,
        by: Option<RequestId>,
        change: impl FnOnce(&mut CustomerDoc) -> Result<bool, RepoError>,
    ) -> Result<Option<Customer>, RepoError> {
        let store = self.store().await?;
        if !self.writes_here().await? {
            return self.change_in_writer(customer_id, change).await;
        }
        let cursor = self.inner().borrow().cursor;
        let prepared = self
            .with_doc(customer_id, |cached| -> Result<_, RepoError> {
                let Some(bytes) = changed(&mut cached.doc, change)? else {
                    return Ok(None);
                };
                let mut uploads = vec![Upload {
                    document: DocumentId(customer_id.to_string()),
                    kind: BlobKind::Change,
                    bytes,
                }];
                let seq = cached.next_seq;
                cached.next_seq += 1;
                let summary = cached.doc.summary();
                let facts = cached.doc.facts();
                // What the change makes of the customer, for the devices that hold exactly
                // the state it was made on (protocol version 7; see `fast_forward`).
                let projection = Some(shared::model::snapshot::encode_projection(&summary, &facts))
                    .filter(|bytes| bytes.len() <= MAX_CHANGE_PROJECTION_BYTES)
                    .map(EntryProjection);
                let mut batch = WriteBatch {
                    summaries: vec![summary],
                    facts: vec![facts],
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
                batch.outbox = uploads.iter().map(OutboxValue::upload).collect();
                let mut projections = vec![projection];
                projections.resize(uploads.len(), None);
                Ok(Some((
                    batch,
                    uploads,
                    projections,
                    cached.doc.customer().clone(),
                )))
            })
            .await??;
        let Some((batch, uploads, projections, customer)) = prepared else {
            return Ok(None);
        };
        let keys = match self.write_by(&store, batch, by).await {
            Ok(keys) => keys,
            Err(err) => {
                // The cached document holds a change storage does not: drop it so the next
                // read shows what is really stored.
                self.inner().borrow_mut().docs.remove(customer_id);
                return Err(err.into());
            }
        };
        self.queued_projected(keys, uploads, projections);
        Ok(Some(customer))
    }

    /// A follower's edit: made on this tab's copy of the document, stored by the writer.
    async fn change_in_writer(
        &self,
        customer_id: &CustomerId,
        change: impl FnOnce(&mut CustomerDoc) -> Result<bool, RepoError>,
    ) -> Result<Option<Customer>, RepoError> {
        let prepared = self
            .with_doc(customer_id, |cached| -> Result<_, RepoError> {
                let Some(bytes) = changed(&mut cached.doc, change)? else {
                    return Ok(None);
                };
                let upload = Upload {
                    document: DocumentId(customer_id.to_string()),
                    kind: BlobKind::Change,
                    bytes,
                };
                Ok(Some((upload, cached.doc.customer().clone())))
            })
            .await??;
        let Some((upload, customer)) = prepared else {
            return Ok(None);
        };
        if let Err(err) = self.ask_writer(vec![upload]).await {
            // This tab's copy holds a change storage does not: drop it.
            self.inner().borrow_mut().docs.remove(customer_id);
            return Err(err);
        }
        Ok(Some(customer))
    }

    /// Whether this tab writes (else it asks the writer tab); waits for the election.
    async fn writes_here(&self) -> Result<bool, RepoError> {
        match self.tabs.settled().await {
            Role::Writer => Ok(true),
            Role::Follower | Role::Electing => Ok(false),
            Role::Unsupported => Err(RepoError::Unsupported),
        }
    }

    /// The actor id for a document loaded or made now: the device's in the writer; a fresh
    /// one per load in another tab, so two copies never make changes with the same actor
    /// and sequence number.
    fn actor_for_load(&self, inner: &RepoInner) -> ActorId {
        if self.tabs.is_writer() {
            inner.actor.clone()
        } else {
            ActorId::random()
        }
    }

    /// Has the writer tab store `uploads`; on failure the save indicator says why.
    async fn ask_writer(&self, uploads: Vec<Upload>) -> Result<(), RepoError> {
        match self.tabs.ask(TabRequest::Store(uploads)).await {
            Ok(()) => Ok(()),
            Err(message) => Err(RepoError::Writer(message)),
        }
    }

    /// Writes one transaction and, once committed, tells the other tabs what changed.
    ///
    /// After a large write that is the last of its kind (an import's last batch) with no
    /// other write in flight, or after the last page of a download whatever its size
    /// (`WriteBatch::ends_bulk`), new snapshots follow shortly ([`CompactAfter::Bulk`]), so
    /// a start right after it reads one value instead of the log — in their own
    /// transaction, after the caller has heard of the commit: an import's report does not
    /// wait for 10,000 summaries to be encoded (the log holds everything until then).
    async fn write(&self, store: &Store, batch: WriteBatch) -> Result<Vec<u64>, StoreError> {
        self.write_by(store, batch, None).await
    }

    /// [`Repo::write`] for the page's request `by` (named in the commit's event).
    async fn write_by(
        &self,
        store: &Store,
        mut batch: WriteBatch,
        by: Option<RequestId>,
    ) -> Result<Vec<u64>, StoreError> {
        let mut bulk_end = Vec::new();
        // An erased customer this device lists (a download's erased entries are mostly of
        // customers it never had: nothing to take out of the list).
        let erases_listed = {
            let inner = self.inner();
            let inner = inner.borrow();
            (batch.erase.iter().chain(&batch.hide)).any(|id| inner.summaries.contains(id))
        };
        if erases_listed {
            // The list's snapshot is rewritten without the erased customers, from every
            // committed summary: only once no other write is in flight (module `erase`).
            while self.inner().borrow().writes_in_flight > 0 {
                common::perf::sleep(10).await;
            }
            let started = common::perf::now_ms();
            let inner = self.inner();
            let inner = inner.borrow();
            let erased: HashSet<&CustomerId> = batch.erase.iter().chain(&batch.hide).collect();
            let kept = |id: &CustomerId| !erased.contains(id);
            let summaries: Vec<&CustomerSummary> = (inner.summaries.with_newer(&batch.summaries))
                .into_iter()
                .filter(|summary| kept(&summary.id))
                .collect();
            batch
                .snapshots
                .push(SnapshotBytes::of_summaries(&summaries)?);
            if let (Some(index), None) = (&inner.facts, &inner.facts_pending) {
                let facts: Vec<&CustomerFacts> = (index.with_newer(&batch.facts))
                    .into_iter()
                    .filter(|facts| kept(&facts.id))
                    .collect();
                batch.snapshots.push(SnapshotBytes::of_facts(&facts)?);
            }
            common::perf::add_timing("store: snapshot without erased customers", started);
        } else {
            let inner = self.inner();
            let inner = inner.borrow();
            if !batch.more_follow && (inner.writes_in_flight == 0 || batch.ends_bulk) {
                if batch.ends_bulk || batch.summaries.len() > SNAPSHOT_WITH_WRITE_ABOVE {
                    bulk_end.push(Projection::Summaries);
                }
                // The facts too, from memory once a dashboard read them, else from the
                // stored records: a dashboard's first open after an import or a download
                // then reads one value, even if the app closed within the pause after
                // writing (the log's records decode slower, beside the start's reads).
                if batch.ends_bulk || batch.facts.len() > SNAPSHOT_WITH_WRITE_ABOVE {
                    bulk_end.push(Projection::Facts);
                }
            }
        }
        self.inner().borrow_mut().writes_in_flight += 1;
        let written = self.write_and_announce(store, batch, by).await;
        self.inner().borrow_mut().writes_in_flight -= 1;
        if written.is_ok() {
            for projection in bulk_end {
                self.compact_soon(projection, CompactAfter::Bulk);
            }
        }
        written
    }

    async fn write_and_announce(
        &self,
        store: &Store,
        batch: WriteBatch,
        by: Option<RequestId>,
    ) -> Result<Vec<u64>, StoreError> {
        let summaries = batch.summaries.clone();
        let facts = batch.facts.clone();
        let book = batch
            .meta
            .iter()
            .find(|(key, _)| *key == BOOK_META)
            .and_then(|(_, saved)| hex::decode(saved).ok());
        let keys = store.write(batch).await?;
        // Memory follows what is committed before anything else runs, so a snapshot made
        // from memory (a large write's, compaction's) holds every committed record.
        self.show_changed(summaries.clone());
        if self.wants_facts() {
            self.remember_facts(facts.clone());
        }
        if !summaries.is_empty() {
            self.compact_soon(Projection::Summaries, CompactAfter::Write);
        }
        if !facts.is_empty() {
            self.compact_soon(Projection::Facts, CompactAfter::Write);
        }
        self.tell_page_committed(&summaries, !facts.is_empty(), by);
        if !summaries.is_empty() || book.is_some() {
            self.tabs.announce(TabEvent::Committed {
                summaries,
                facts,
                book,
            });
        }
        Ok(keys)
    }

    /// This tab became the writer: the device's actor id (made once, kept forever, so
    /// history names the device), documents reloaded with it, and, after a takeover, the
    /// book read again from storage (a commit of the old writer may not have been
    /// announced before it closed).
    async fn become_writer(&self, takeover: bool) -> Result<(), RepoError> {
        let store = self.store().await?;
        mark("fieldbook:writer-start");
        // Another engine wrote until now.
        store.forget_packed();
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
        // What was computed from this database (the team dashboard's figures) is kept only
        // as long as its data version holds.
        store.ensure_data_version().await?;
        let mut book_doc = load_book_doc(&store, actor.clone()).await?;
        if let Some(change) = book_doc.take_rebuilt() {
            // A book saved by an app of another skeleton, carried over: stored and sent.
            let upload = Upload {
                document: DocumentId(BOOK_DOCUMENT.into()),
                kind: BlobKind::Change,
                bytes: change,
            };
            let batch = WriteBatch {
                meta: vec![(BOOK_META, hex::encode(book_doc.save()))],
                outbox: vec![OutboxValue::upload(&upload)],
                ..WriteBatch::default()
            };
            let keys = self.write(&store, batch).await?;
            tracing::info!("the book's settings, saved by an earlier app, were carried over");
            self.queued(keys, vec![upload]);
        }
        let summaries = if takeover {
            Some(store.load_summaries().await?)
        } else {
            None
        };
        self.settings.set(book_doc.settings().clone());
        {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.actor = actor;
            inner.book_doc = Some(book_doc);
            inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
        }
        if let Some(summaries) = summaries {
            self.tell_page_book(summaries);
        }
        // Whatever an earlier writer left behind is folded into the snapshots.
        for projection in [Projection::Summaries, Projection::Facts] {
            if store.snapshot_behind(projection).await? {
                self.compact_soon(projection, CompactAfter::Start);
            }
        }
        mark("fieldbook:writer-ready");
        let repo = *self;
        leptos::task::spawn_local(async move {
            // After the start's own reads and writes.
            common::perf::sleep(REPAIR_AFTER_START_MS).await;
            if let Err(err) = repo.repair_projections(&store).await {
                tracing::warn!(cause = %err, "could not check the list against the documents");
            }
        });
        Ok(())
    }

    /// Makes the summary (and facts) of every stored document the list lacks again from the
    /// document: a projection record that did not read (damage, or a build that cannot read
    /// what an older one wrote) costs a moment's work, never a customer.
    ///
    /// A customer that moved to another territory with changes of this device the move did
    /// not carry keeps its document here, out of the list (module `handover`): not missing.
    async fn repair_projections(&self, store: &Store) -> Result<(), RepoError> {
        common::perf::mark("fieldbook:projections-check-start");
        let started = common::perf::now_ms();
        let (stored, unverified) = store.stored_customers().await?;
        common::perf::add_timing("start: list checked against the documents", started);
        if !unverified.is_empty() {
            // Listed from other devices' projections before the last close: read back now.
            self.verify_soon(unverified);
        }
        let dormant = self.dormant_stored(store).await;
        let missing: Vec<CustomerId> = {
            let inner = self.inner();
            let inner = inner.borrow();
            stored
                .into_iter()
                .filter(|id| !inner.summaries.contains(id) && !dormant.contains(id.as_str()))
                .collect()
        };
        if missing.is_empty() {
            common::perf::mark("fieldbook:projections-checked");
            return Ok(());
        }
        tracing::warn!(
            n_customers = missing.len(),
            "stored customers missing from the list; making their summaries again"
        );
        let actor = self.inner().borrow().actor.clone();
        for ids in missing.chunks(FACTS_BACKFILL_BATCH) {
            if !self.tabs.is_writer() {
                return Ok(());
            }
            let mut docs = load_stored_docs(store, ids, &actor).await?;
            let batch = WriteBatch {
                summaries: docs.iter_mut().map(CustomerDoc::summary).collect(),
                facts: docs.iter().map(CustomerDoc::facts).collect(),
                ..WriteBatch::default()
            };
            self.write(store, batch).await?;
            common::perf::yield_now().await;
        }
        common::perf::mark("fieldbook:projections-checked");
        Ok(())
    }

    /// In a follower: what the writer tab committed or removed.
    fn writer_event(&self, event: TabEvent) {
        match event {
            TabEvent::Committed {
                summaries,
                facts,
                book,
            } => {
                let customers: Vec<CustomerId> = summaries.iter().map(|s| s.id.clone()).collect();
                {
                    let inner = self.inner();
                    let mut inner = inner.borrow_mut();
                    for id in &customers {
                        inner.docs.remove(id);
                    }
                }
                if let Some(bytes) = book {
                    match BookDoc::load(&bytes, ActorId::random()) {
                        Ok(book_doc) => {
                            self.settings.set(book_doc.settings().clone());
                            self.inner().borrow_mut().book_doc = Some(book_doc);
                        }
                        Err(err) => {
                            tracing::warn!(cause = %err, "unreadable book document from the writer")
                        }
                    }
                }
                self.tell_page_committed(&summaries, !facts.is_empty(), None);
                self.remember_facts(facts);
                self.show_changed(summaries);
            }
            TabEvent::Wiped => self.forget_in_memory(),
            TabEvent::Erased { ids, set_aside } => {
                self.forget_in_memory_only(&ids);
                self.tell_page(EngineEvent::Erased { ids, set_aside });
            }
            TabEvent::Moved { ids, notice } => {
                self.forget_moved_in_memory(&ids);
                self.tell_page(EngineEvent::Moved { ids, notice });
            }
            TabEvent::WriterChanged { .. } | TabEvent::Sync(_) => {}
        }
    }

    /// Remembers the customers whose summaries changed.
    fn show_changed(&self, summaries: Vec<CustomerSummary>) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        for summary in summaries {
            inner.summaries.upsert(summary);
        }
    }

    /// Before a write that stores changes unverified (in the same task, so its transaction
    /// is created before any other task runs): a load of those documents begun before it
    /// reads again (`with_doc`), and a read-back begun before it leaves them (`verify`).
    fn mark_fast_forwarded(&self, documents: &[(CustomerId, Vec<LogEntry>)]) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        inner.fast_forward_epoch += 1;
        let epoch = inner.fast_forward_epoch;
        for (id, _) in documents {
            inner.fast_forwarded_at.insert(id.clone(), epoch);
        }
    }

    /// After that write: a copy of one of those documents cached meanwhile takes the
    /// changes (checked, as from the relay).
    fn fast_forwarded(&self, documents: &[(CustomerId, Vec<LogEntry>)]) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        for (id, entries) in documents {
            if let Some(cached) = inner.docs.get(id) {
                let applied = cached
                    .doc
                    .apply_remote_all(entries.iter().map(|entry| entry.bytes.as_slice()));
                if let Err(err) = applied {
                    tracing::warn!(customer = %id, cause = %err, "a change listed from its projection does not apply to the open copy; it is read again");
                    inner.docs.remove(id);
                }
            }
        }
    }

    /// Reads back, a moment after a catch-up, the documents it listed from their changes'
    /// projections ([`fast_forward`]): each is loaded with its unverified changes checked,
    /// and if what it says differs from what was listed (another device's projection was
    /// wrong, or a change was refused), its summary and facts are rewritten from it, with
    /// the document compacted into one checked snapshot.
    fn verify_soon(&self, ids: Vec<CustomerId>) {
        let start = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.unverified.extend(ids);
            !std::mem::replace(&mut inner.verifying, true)
        };
        if !start {
            return;
        }
        let repo = *self;
        leptos::task::spawn_local(async move {
            common::perf::sleep(VERIFY_AFTER_MS).await;
            loop {
                let batch: Vec<CustomerId> = {
                    let inner = repo.inner();
                    let mut inner = inner.borrow_mut();
                    let take = inner.unverified.len().min(VERIFY_BATCH);
                    let batch: Vec<CustomerId> = inner.unverified.drain(..take).collect();
                    if batch.is_empty() {
                        inner.verifying = false;
                    }
                    batch
                };
                if batch.is_empty() {
                    break;
                }
                if let Err(err) = repo.verify(batch).await {
                    tracing::warn!(cause = %err, "reading back customers listed from their changes failed; they are read when next opened");
                }
                common::perf::yield_now().await;
            }
        });
    }

    async fn verify(&self, ids: Vec<CustomerId>) -> Result<(), RepoError> {
        let started = common::perf::now_ms();
        let store = self.store().await?;
        if !self.tabs.is_writer() {
            return Ok(());
        }
        let inner = self.inner();
        let (actor, epoch) = {
            let inner = inner.borrow();
            (inner.actor.clone(), inner.fast_forward_epoch)
        };
        let stored = store.load_docs(&ids).await?;
        let mut batch = WriteBatch::default();
        let mut rewritten = 0;
        // Each document read back is written at the chunk number read here: an edit of it
        // waits until then.
        let mut held = DocsHeld::hold(&inner, Vec::new());
        for (id, stored) in ids.iter().zip(stored) {
            // Nothing unverified left (loaded and compacted since), open in a screen (its
            // copy compacts them with its next change), or more changes stored since this
            // read (read back after those).
            let skip = {
                let mut inner = inner.borrow_mut();
                stored.unverified.is_empty()
                    || inner.docs.get(id).is_some()
                    || inner
                        .fast_forwarded_at
                        .get(id)
                        .is_some_and(|at| *at > epoch)
            };
            if skip {
                continue;
            }
            let Some(listed) = inner.borrow().summaries.get(id).cloned() else {
                continue;
            };
            held.add(id.clone());
            let (mut doc, _, refused) = match CustomerDoc::load_checking(
                id,
                &stored.bytes,
                &stored.unverified,
                [],
                actor.clone(),
            ) {
                Ok(loaded) => loaded,
                Err(err) => {
                    tracing::warn!(customer = %id, cause = %err, "a customer listed from its changes does not load");
                    continue;
                }
            };
            // One checked snapshot instead of the chunks and unverified changes.
            batch
                .delete_chunks_below
                .push((id.clone(), stored.next_seq));
            batch.chunks.push((id.clone(), stored.next_seq, doc.save()));
            let summary = doc.summary();
            if refused > 0 || summary != listed {
                tracing::warn!(customer = %id, refused, "a customer listed from another device's projection differed from its document: listed from the document");
                batch.facts.push(doc.facts());
                batch.summaries.push(summary);
                rewritten += 1;
            }
        }
        if !batch.chunks.is_empty() {
            common::perf::add_count(
                "verify: customers listed again from their document",
                rewritten,
            );
            self.write(&store, batch).await?;
        }
        common::perf::add_timing(
            "verify: read back customers listed from projections",
            started,
        );
        Ok(())
    }

    /// Marks a stored snapshot as behind its per-customer records (this engine just wrote
    /// them, or found them so) and folds them in at the moment `after` sets, once no write
    /// is in flight, so the next start reads one value. Only the writer compacts; an engine
    /// that stops writing meanwhile leaves it to the next writer.
    fn compact_soon(&self, projection: Projection, after: CompactAfter) {
        let start = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            let compaction = &mut inner.compaction;
            let at = common::perf::now_ms() + after.pause_ms();
            let due = compaction.due(projection);
            *due = Some(match (*due, after) {
                // A start never moves a moment already set: neither brings a write's pause
                // forward nor puts off a read's or a bulk write's snapshot (a dashboard
                // tapped at once reads the facts before the engine is the writer).
                (Some(earlier), CompactAfter::Start) => earlier,
                _ => at,
            });
            !std::mem::replace(&mut compaction.scheduled, true)
        };
        if !start {
            return;
        }
        let repo = *self;
        leptos::task::spawn_local(async move {
            loop {
                // Also not while a write is in flight (an import's next batch): compacting
                // then would read every stored record instead of memory. Wakes often, so a
                // moment brought forward (a bulk write's end) is kept.
                let (next, writing) = {
                    let inner = repo.inner();
                    let inner = inner.borrow();
                    (inner.compaction.next(), inner.writes_in_flight > 0)
                };
                let due = match next {
                    Some(at) if at <= common::perf::now_ms() && !writing => {
                        let inner = repo.inner();
                        let mut inner = inner.borrow_mut();
                        inner.compaction.take_due(common::perf::now_ms())
                    }
                    Some(at) => {
                        let wait = if writing {
                            COMPACT_WAKE_MS
                        } else {
                            (at - common::perf::now_ms()).clamp(1.0, COMPACT_WAKE_MS)
                        };
                        common::perf::sleep(wait.ceil() as i32).await;
                        continue;
                    }
                    None => {
                        repo.inner().borrow_mut().compaction.scheduled = false;
                        return;
                    }
                };
                if repo.tabs.settled().await != Role::Writer {
                    let inner = repo.inner();
                    let mut inner = inner.borrow_mut();
                    inner.compaction = Compaction::default();
                    return;
                }
                for projection in due {
                    repo.compact(projection).await;
                }
            }
        });
    }

    /// Writes a new snapshot of `projection`: from memory when this engine holds every
    /// record as committed and no write is in flight (the snapshot transaction then follows
    /// every committed write and precedes any later one), else by reading the stored records.
    async fn compact(&self, projection: Projection) {
        let Ok(store) = self.store().await else {
            return;
        };
        common::perf::mark_few(match projection {
            Projection::Summaries => "fieldbook:compact-summaries",
            Projection::Facts => "fieldbook:compact-facts",
        });
        let started = common::perf::now_ms();
        let from_memory = {
            let inner = self.inner();
            let inner = inner.borrow();
            match projection {
                _ if inner.writes_in_flight > 0 => None,
                Projection::Summaries => Some(SnapshotBytes::of_summaries(
                    &inner.summaries.with_newer(&[]),
                )),
                Projection::Facts => match (&inner.facts, &inner.facts_pending) {
                    (Some(index), None) => Some(SnapshotBytes::of_facts(&index.with_newer(&[]))),
                    _ => None,
                },
            }
        };
        // (`Store::compact` times itself.)
        let written = match from_memory {
            Some(Ok(snapshot)) => store.put_snapshot(snapshot).await.map(|()| {
                common::perf::add_timing("store: compact snapshots", started);
            }),
            Some(Err(err)) => Err(err),
            None => store.compact(projection).await.map(|_| ()),
        };
        match written {
            Ok(()) => {}
            Err(err) => {
                tracing::warn!(?projection, cause = %err, "cannot write a snapshot; the next start reads the log")
            }
        }
    }

    fn queued(&self, keys: Vec<u64>, uploads: Vec<Upload>) {
        self.queued_projected(keys, uploads, Vec::new());
    }

    /// Hands stored outbox items to sync, with the projections of the changes that have
    /// one (in the same order; missing ones are none).
    fn queued_projected(
        &self,
        keys: Vec<u64>,
        uploads: Vec<Upload>,
        projections: Vec<Option<EntryProjection>>,
    ) {
        let hook = self.inner().borrow().on_queued.clone();
        if let Some(hook) = hook {
            let mut projections = projections.into_iter();
            hook(
                keys.into_iter()
                    .zip(uploads)
                    .map(|(id, upload)| OutboxItem {
                        id,
                        upload,
                        projection: projections.next().flatten(),
                    })
                    .collect(),
            );
        }
    }

    /// Writes the catalog, pipeline and segments as a screen edited them from `version`
    /// (see [`BookDoc::update_to`]).
    pub async fn update_book_to(
        &self,
        version: Version,
        after: BookSettings,
    ) -> Result<(), RepoError> {
        self.change_book(move |book| book.update_to(&version, after, now()))
            .await
    }

    async fn change_book(
        &self,
        change: impl FnOnce(&mut BookDoc) -> Result<Option<Vec<u8>>, DocError>,
    ) -> Result<(), RepoError> {
        let store = self.store().await?;
        let writes_here = self.writes_here().await?;
        let inner = self.inner();
        let (change, saved, settings) = {
            let mut inner = inner.borrow_mut();
            let author = author_of(&inner);
            let actor = inner.actor.clone();
            let book = inner.book_doc.get_or_insert_with(|| BookDoc::new(actor));
            book.set_author(author);
            let Some(change) = change(book)? else {
                return Ok(());
            };
            (change, book.save(), book.settings().clone())
        };
        let upload = Upload {
            document: DocumentId(BOOK_DOCUMENT.into()),
            kind: BlobKind::Change,
            bytes: change,
        };
        if !writes_here {
            if let Err(err) = self.ask_writer(vec![upload]).await {
                self.reload_book_doc(&store).await;
                return Err(err);
            }
            self.settings.set(settings);
            return Ok(());
        }
        let batch = WriteBatch {
            meta: vec![(BOOK_META, hex::encode(saved))],
            outbox: vec![OutboxValue::upload(&upload)],
            ..WriteBatch::default()
        };
        match self.write(&store, batch).await {
            Ok(keys) => {
                self.queued(keys, vec![upload]);
                self.settings.set(settings);
                Ok(())
            }
            Err(err) => {
                self.reload_book_doc(&store).await;
                Err(err.into())
            }
        }
    }

    /// After a failed write: the in-memory book document may hold changes storage does not,
    /// so it is read back from storage.
    async fn reload_book_doc(&self, store: &Store) {
        let actor = self.actor_for_load(&self.inner().borrow());
        let book = load_book_doc(store, actor.clone())
            .await
            .unwrap_or_else(|_| BookDoc::new(actor));
        self.settings.set(book.settings().clone());
        self.inner().borrow_mut().book_doc = Some(book);
    }

    /// The signed-in device's name, if signed in.
    pub fn device_name(&self) -> Option<String> {
        self.inner().borrow().device_name.clone()
    }

    /// Connects the repo to sync: the device's name for change messages, the stored
    /// cursor, and the hook told about every committed local change.
    pub fn attach_sync(
        &self,
        device_name: Option<String>,
        cursor: Seq,
        on_queued: QueuedHook,
        on_forget: ForgetHook,
    ) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        inner.device_name = device_name;
        inner.cursor = cursor;
        inner.on_queued = Some(on_queued);
        inner.on_forget = Some(on_forget);
        // Cached documents pick up the device name for their next change.
        inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
    }

    /// In a follower tab: the device's name as the writer announces it, written into this
    /// tab's changes like the writer's (history and conflicts name the device).
    pub fn set_device_name(&self, device_name: Option<String>) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        if inner.device_name != device_name {
            inner.device_name = device_name;
            inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
        }
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
    ///
    /// `shared_space`: the entries are of a team book's shared space, whose only document
    /// the book uses is the book document (catalog, pipeline, fields): anything else there
    /// is left out, and the position is kept under that space's own keys.
    pub async fn apply_remote(
        &self,
        mut entries: Vec<LogEntry>,
        mut projections: Vec<Option<EntryProjection>>,
        cursor: Seq,
        bootstrap: Option<BootstrapPosition>,
        catch_up: bool,
        shared_space: bool,
    ) -> Result<(), String> {
        let (cursor_key, bootstrap_key) = if shared_space {
            ("cursor:shared", "bootstrap:shared")
        } else {
            ("cursor", "bootstrap")
        };
        if shared_space {
            let keep: Vec<bool> = (entries.iter())
                .map(|entry| entry.document.0 == BOOK_DOCUMENT)
                .collect();
            let mut index = 0;
            entries.retain(|_| {
                index += 1;
                keep[index - 1]
            });
            if !projections.is_empty() {
                let mut index = 0;
                projections.retain(|_| {
                    index += 1;
                    keep.get(index - 1).copied().unwrap_or(false)
                });
            }
        }
        let meta = vec![
            (cursor_key, cursor.0.to_string()),
            (
                bootstrap_key,
                match &bootstrap {
                    Some(position) => serde_json::to_string(position).map_err(|e| e.to_string())?,
                    None => String::new(),
                },
            ),
        ];
        let more_follow = bootstrap.is_some();
        self.merge_and_store(
            entries,
            projections,
            meta,
            Vec::new(),
            more_follow,
            catch_up,
        )
        .await?;
        if !shared_space {
            self.inner().borrow_mut().cursor = cursor;
        }
        Ok(())
    }

    /// Puts changes exported from a device (its unsynced changes, see
    /// [`Repo::unsynced_changes`]) back: merges them into the documents and queues them for
    /// the relay. Importing the same file twice changes nothing more. Returns how many
    /// customers it touched.
    pub async fn import_changes(&self, uploads: Vec<Upload>) -> Result<usize, String> {
        if !self.writes_here().await.map_err(|err| err.to_string())? {
            let touched = touched_customers(&uploads);
            self.tabs.ask(TabRequest::Store(uploads)).await?;
            return Ok(touched);
        }
        let entries: Vec<LogEntry> = uploads
            .iter()
            .map(|upload| LogEntry {
                seq: Seq(0),
                document: upload.document.clone(),
                kind: upload.kind,
                bytes: upload.bytes.clone(),
            })
            .collect();
        let touched = touched_customers(&uploads);
        self.merge_and_store(entries, Vec::new(), Vec::new(), uploads, false, false)
            .await?;
        Ok(touched)
    }

    /// A full backup: every customer's document and the book document, whole (as snapshot
    /// uploads, so restoring them merges like any import and backs them up to the relay).
    pub async fn backup(&self) -> Result<Vec<Upload>, String> {
        let store = self.store().await.map_err(|err| err.to_string())?;
        let mut ids: Vec<CustomerId> = (self.inner().borrow().summaries.items().iter())
            .map(|summary| summary.id.clone())
            .collect();
        shared::order::sort(&mut ids);
        let mut uploads = Vec::with_capacity(ids.len() + 1);
        for chunk in ids.chunks(1_000) {
            let stored = store
                .load_docs(chunk)
                .await
                .map_err(|err| err.to_string())?;
            for (id, doc) in chunk.iter().zip(stored) {
                if doc.n_chunks == 0 {
                    continue;
                }
                if doc.unverified.is_empty() {
                    uploads.push(snapshot_upload(id, doc.bytes, Seq(0)));
                } else {
                    // Changes stored unchecked are checked into the document first.
                    let mut loaded =
                        load_stored(id, &doc, ActorId::random()).map_err(|err| err.to_string())?;
                    uploads.push(snapshot_upload(id, loaded.save(), Seq(0)));
                }
            }
        }
        let book = self
            .inner()
            .borrow_mut()
            .book_doc
            .as_mut()
            .map(BookDoc::save);
        if let Some(bytes) = book {
            uploads.push(Upload {
                document: DocumentId(BOOK_DOCUMENT.into()),
                kind: BlobKind::Snapshot { covers: Seq(0) },
                bytes,
            });
        }
        Ok(uploads)
    }

    /// This device's changes the relay has not acknowledged yet (its outbox), in order.
    pub async fn unsynced_changes(&self) -> Result<Vec<Upload>, String> {
        let store = self.store().await.map_err(|err| err.to_string())?;
        let items = store.load_outbox().await.map_err(|err| err.to_string())?;
        Ok(items.into_iter().map(|(_, upload)| upload).collect())
    }

    /// Merges entries into their documents and stores chunks, summaries, `meta` and
    /// `outbox` items in one transaction. `projections` (one per entry, or none) are what
    /// the relay derived from snapshots: a document new on this device whose only entry is
    /// its snapshot is stored as is and listed from its projection, never loaded (a new
    /// device's download would otherwise load every document once).
    async fn merge_and_store(
        &self,
        entries: Vec<LogEntry>,
        projections: Vec<Option<EntryProjection>>,
        meta: Vec<(&'static str, String)>,
        outbox: Vec<Upload>,
        more_follow: bool,
        catch_up: bool,
    ) -> Result<(), String> {
        let store = self.store().await.map_err(|err| err.to_string())?;
        let inner = self.inner();
        let (actor, author) = {
            let inner = inner.borrow();
            (inner.actor.clone(), author_of(&inner))
        };
        // Entries of the book document (catalog, pipeline) merge into it; the rest are
        // customers'.
        let mut projections = projections.into_iter();
        let (book_entries, entries): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .map(|entry| (entry, projections.next().flatten()))
            .partition(|(entry, _)| entry.document.0 == BOOK_DOCUMENT);
        // Erased customers (module `erase`): forgotten, and nothing of theirs taken in.
        let started = common::perf::now_ms();
        let mut erasures = self.erasures_in(&store, &entries, &outbox).await?;
        let erased = |document: &DocumentId| {
            document
                .0
                .parse::<CustomerId>()
                .is_ok_and(|id| erasures.ids.contains(&id) || inner.borrow().erased.contains(&id))
        };
        let entries: Vec<_> = (entries.into_iter())
            .filter(|(entry, _)| !erased(&entry.document))
            .collect();
        // Customers moved to another territory (module `handover`): forgotten, their unsent
        // changes kept for the relay to forward.
        let mut moves = self.moves_in(&store, &entries).await?;
        common::perf::add_timing("apply: erasures and moves looked up", started);
        let entries: Vec<_> = (entries.into_iter().enumerate())
            .filter(|(index, (entry, _))| moves.keeps(*index, entry))
            .map(|(_, entry)| entry)
            .collect();
        let mut outbox: Vec<Upload> = (outbox.into_iter())
            .filter(|upload| upload.kind == BlobKind::Erased || !erased(&upload.document))
            .collect();
        let mut meta = meta;
        let mut book_settings = None;
        if !book_entries.is_empty() {
            let mut inner = inner.borrow_mut();
            let book = inner
                .book_doc
                .get_or_insert_with(|| BookDoc::new(actor.clone()));
            let mut changed = false;
            for (entry, _) in &book_entries {
                match book.apply_remote(&entry.bytes) {
                    Ok(applied) => changed |= applied,
                    // Not part of this book's history: the whole book of an app of another
                    // skeleton (what it has that this one lacks is added and sent), else a
                    // change that can never apply, which must not stop every later page.
                    Err(err) => match book.merge_foreign(&entry.bytes, now()) {
                        Ok(merged) => {
                            if let Some(change) = merged {
                                outbox.push(Upload {
                                    document: DocumentId(BOOK_DOCUMENT.into()),
                                    kind: BlobKind::Change,
                                    bytes: change,
                                });
                                changed = true;
                            }
                        }
                        Err(_) => tracing::warn!(
                            cause = %err,
                            seq = entry.seq.0,
                            "a change of the book's settings that cannot be merged was skipped"
                        ),
                    },
                }
            }
            if changed {
                meta.push((BOOK_META, hex::encode(book.save())));
                book_settings = Some(book.settings().clone());
            }
        }
        let started = common::perf::now_ms();
        // Documents touched by this page: from the cache, else all read in one transaction.
        let mut ids: Vec<CustomerId> = Vec::new();
        for (entry, _) in &entries {
            match entry.document.0.parse::<CustomerId>() {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!(document = %entry.document.0, "skipping an entry of an unknown document kind")
                }
            }
        }
        // Until written and back in the cache, an edit of one of them waits.
        let _held = DocsHeld::hold(&inner, ids.clone());
        let mut touched: Vec<Touched> = Vec::with_capacity(ids.len());
        let mut to_read = Vec::new();
        for id in ids {
            let cached = inner.borrow_mut().docs.take(&id);
            if cached.is_none() {
                to_read.push(touched.len());
            }
            touched.push(Touched {
                id,
                cached,
                snapshot: None,
                changed: false,
            });
        }
        // Entries grouped by document, each group in log order (documents are independent).
        let positions: HashMap<CustomerId, usize> = touched
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let mut per_doc: Vec<Vec<LogEntry>> = touched.iter().map(|_| Vec::new()).collect();
        // The projection of a document's entry, while it is the document's only one.
        let mut per_doc_projection: Vec<Option<EntryProjection>> =
            touched.iter().map(|_| None).collect();
        // The projection of a document's last entry (a change's, from its device).
        let mut last_projection: Vec<Option<EntryProjection>> =
            touched.iter().map(|_| None).collect();
        for (entry, projection) in entries {
            if let Some(&i) = entry
                .document
                .0
                .parse::<CustomerId>()
                .ok()
                .and_then(|id| positions.get(&id))
            {
                per_doc_projection[i] = if per_doc[i].is_empty() {
                    projection.clone()
                } else {
                    None
                };
                last_projection[i] = projection;
                per_doc[i].push(entry);
            }
        }
        common::perf::add_timing("apply: group the changes by customer", started);
        let checked = common::perf::now_ms();
        // Stored documents the page's changes follow exactly: listed from the projection
        // the last change came with, the changes stored unverified, nothing loaded.
        let mut fast: Vec<Option<(CustomerSummary, CustomerFacts)>> =
            touched.iter().map(|_| None).collect();
        // A document's changes as parsed for that check, read again for their hashes below
        // (parsing a change is most of the check's cost).
        let mut parsed: Vec<Option<Vec<automerge::Change>>> =
            touched.iter().map(|_| None).collect();
        for &i in &to_read {
            let Some(projection) = &last_projection[i] else {
                continue;
            };
            let Some(held) =
                (self.inner().borrow().summaries.get(&touched[i].id)).map(|summary| summary.heads)
            else {
                continue;
            };
            if held != 0 && per_doc[i].iter().all(|e| e.kind == BlobKind::Change) {
                let changes: Option<Vec<automerge::Change>> = (per_doc[i].iter())
                    .map(|entry| shared::sync::blob::single_change(&entry.bytes))
                    .collect();
                if let Some(changes) = changes {
                    fast[i] = fast_forward_parsed(&touched[i].id, held, &changes, &projection.0);
                    parsed[i] = Some(changes);
                }
            }
        }
        to_read.retain(|&i| fast[i].is_none());
        common::perf::add_timing("apply: check changes against the held heads", checked);
        // Only the read from here: grouping and the check have timings of their own.
        let started = common::perf::now_ms();
        if to_read.len() > LOOKUP_BY_RANGE_ABOVE {
            let ids: Vec<CustomerId> = to_read.iter().map(|&i| touched[i].id.clone()).collect();
            let stored = store.stored_among(&ids).await.map_err(|e| e.to_string())?;
            to_read.retain(|&i| stored.contains(&touched[i].id));
        }
        let read_ids: Vec<CustomerId> = to_read.iter().map(|&i| touched[i].id.clone()).collect();
        let stored = store
            .load_docs(&read_ids)
            .await
            .map_err(|e| e.to_string())?;
        common::perf::add_timing("apply: read stored documents", started);
        // A catch-up records which changes of other devices arrived, for history and
        // "Recent changes": a customer new on this device arrived whole.
        let arrived = common::perf::now_ms();
        let arrival = if catch_up {
            // Which touched documents this device had stored (a page has up to a thousand).
            let mut stored_here: Vec<bool> = fast.iter().map(Option::is_some).collect();
            for (&index, stored) in to_read.iter().zip(&stored) {
                stored_here[index] = stored.n_chunks > 0;
            }
            let changes: Vec<(CustomerId, Vec<String>)> = touched
                .iter()
                .zip(&per_doc)
                .enumerate()
                .filter_map(|(index, (slot, entries))| {
                    if slot.cached.is_none() && !stored_here[index] {
                        return Some((slot.id.clone(), Vec::new()));
                    }
                    let hashes: Vec<String> = match &parsed[index] {
                        Some(changes) => (changes.iter())
                            .filter_map(|change| foreign_hash(change, &actor))
                            .collect(),
                        None => (entries.iter())
                            .filter_map(|entry| foreign_change_hash(&entry.bytes, &actor))
                            .collect(),
                    };
                    (!hashes.is_empty()).then(|| (slot.id.clone(), hashes))
                })
                .collect();
            (!changes.is_empty()).then(|| Arrival { at: now(), changes })
        } else {
            None
        };
        common::perf::add_timing("apply: record what arrived", arrived);
        let started = common::perf::now_ms();
        // A stored document is loaded with its entries applied, hydrated once for both.
        for (&index, stored) in to_read.iter().zip(stored) {
            if stored.n_chunks > 0 {
                let entries = std::mem::take(&mut per_doc[index]);
                let (mut doc, changed, _) = CustomerDoc::load_checking(
                    &touched[index].id,
                    &stored.bytes,
                    &stored.unverified,
                    entries.iter().map(|entry| entry.bytes.as_slice()),
                    actor.clone(),
                )
                .map_err(|e| format!("customer {}: {e}", touched[index].id))?;
                doc.set_author(author.clone());
                touched[index].cached = Some(CachedDoc {
                    doc,
                    n_chunks: stored.n_chunks,
                    next_seq: stored.next_seq,
                });
                touched[index].changed = changed;
            }
        }
        common::perf::add_timing("apply: load stored documents with their entries", started);
        let started = common::perf::now_ms();
        // One transaction for the page: documents, summaries, cursor and bootstrap position
        // commit together or not at all. (Writing a large page in chunks, merging one while
        // the previous commits, was measured: no gain — the cost of IndexedDB requests is on
        // the main thread too.)
        meta.extend(std::mem::take(&mut erasures.meta));
        meta.append(&mut moves.meta);
        let mut batch = WriteBatch {
            meta,
            outbox: outbox.iter().map(OutboxValue::upload).collect(),
            more_follow,
            ends_bulk: !more_follow && !catch_up,
            arrival,
            erase: (erasures.ids.iter().chain(&moves.delete))
                .cloned()
                .collect(),
            hide: moves.hide.clone(),
            delete_outbox: erasures.delete_outbox.clone(),
            ..WriteBatch::default()
        };
        let mut written: Vec<(CustomerId, CachedDoc)> = Vec::new();
        let mut fast_forwarded: Vec<(CustomerId, Vec<LogEntry>)> = Vec::new();
        for (((slot, entries), projection), fast) in
            (touched.into_iter().zip(per_doc).zip(per_doc_projection)).zip(fast)
        {
            if let Some((summary, facts)) = fast {
                for entry in &entries {
                    batch
                        .unverified
                        .push((slot.id.clone(), entry.seq.0, entry.bytes.clone()));
                }
                batch.summaries.push(summary);
                batch.facts.push(facts);
                fast_forwarded.push((slot.id, entries));
                continue;
            }
            if slot.cached.is_none() {
                if let Some((summary, facts)) = projected(&slot.id, &entries, projection) {
                    // `projected` checked: the snapshot is the document's only entry.
                    let bytes = entries.into_iter().flat_map(|entry| entry.bytes).collect();
                    // New on this device: packed with the page's other new documents.
                    batch.new_docs.push((slot.id, bytes));
                    batch.summaries.push(summary);
                    batch.facts.push(facts);
                    continue;
                }
            }
            let Some((id, mut cached, snapshot)) = merge_entries(slot, entries, &actor, &author)?
            else {
                continue;
            };
            if add_to_batch(&mut batch, &id, &mut cached, snapshot) {
                batch.summaries.push(cached.doc.summary());
                batch.facts.push(cached.doc.facts());
            }
            written.push((id, cached));
        }
        common::perf::add_timing("apply: load and merge entries", started);
        let started = common::perf::now_ms();
        self.mark_fast_forwarded(&fast_forwarded);
        let keys = match self.write(&store, batch).await {
            Ok(keys) => keys,
            Err(err) => {
                if book_settings.is_some() {
                    self.reload_book_doc(&store).await;
                }
                return Err(err.to_string());
            }
        };
        common::perf::add_timing("apply: IndexedDB write", started);
        if !fast_forwarded.is_empty() {
            common::perf::add_count(
                "apply: documents listed from their changes' projection",
                fast_forwarded.len(),
            );
            self.fast_forwarded(&fast_forwarded);
            self.verify_soon(fast_forwarded.into_iter().map(|(id, _)| id).collect());
        }
        self.forget_erased(erasures);
        self.forget_moved(moves);
        if let Some(settings) = book_settings {
            self.settings.set(settings);
        }
        if !outbox.is_empty() {
            self.queued(keys, outbox);
        }
        let started = common::perf::now_ms();
        let mut touched = written;
        // Keep the documents just written in the cache only if few (a bootstrap page holds
        // hundreds; the cache would only churn).
        if touched.len() <= DOC_CACHE_CAPACITY {
            let mut inner = inner.borrow_mut();
            for (customer_id, cached) in touched.drain(..) {
                inner.docs.insert(customer_id, cached);
            }
        }
        common::perf::add_timing("apply: document cache", started);
        Ok(())
    }

    /// Forgets every customer on this device (sign-out, revocation).
    pub async fn wipe(&self) -> Result<(), RepoError> {
        let store = self.store().await?;
        store.wipe().await?;
        self.tabs.announce(TabEvent::Wiped);
        self.forget_in_memory();
        Ok(())
    }

    /// Forgets the book in memory (after it was removed from storage).
    fn forget_in_memory(&self) {
        {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.docs = DocCache::new(DOC_CACHE_CAPACITY);
            inner.cursor = Seq(0);
            inner.device_name = None;
            inner.book_doc = Some(BookDoc::new(inner.actor.clone()));
            inner.facts = None;
        }
        self.inner().borrow_mut().summaries = ByCustomer::default();
        self.settings.set(BookSettings::default());
        self.tell_page(EngineEvent::Wiped);
    }

    /// Updates the dashboard facts in memory, if a dashboard loaded them.
    fn remember_facts(&self, facts: Vec<CustomerFacts>) {
        if facts.is_empty() {
            return;
        }
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        let inner = &mut *inner;
        match (inner.facts.as_mut(), inner.facts_pending.as_mut()) {
            (Some(index), _) => {
                for record in facts {
                    index.upsert(record);
                }
            }
            (None, Some(pending)) => pending.extend(facts),
            (None, None) => {}
        }
    }

    /// Reads every customer's dashboard facts into memory (once; later changes keep them up
    /// to date). Customers stored before facts existed get theirs from their documents,
    /// `FACTS_BACKFILL_BATCH` at a time, with `progress(done, missing)` after each batch.
    /// A caller that comes while another is reading them (the screens ask as the dashboard
    /// is tapped, then again once its screen has loaded) waits for that read instead of
    /// reading them twice; if that read failed, it reads them itself.
    pub async fn load_facts(
        &self,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), RepoError> {
        let store = self.store().await?;
        loop {
            let reading = {
                let inner = self.inner();
                let mut inner = inner.borrow_mut();
                if inner.facts.is_some() {
                    return Ok(());
                }
                if inner.facts_pending.is_some() {
                    let (sender, receiver) = futures_channel::oneshot::channel();
                    inner.waiting_for_facts.push(sender);
                    Some(receiver)
                } else {
                    inner.facts_pending = Some(Vec::new());
                    None
                }
            };
            match reading {
                Some(receiver) => {
                    let _ = receiver.await;
                }
                None => break,
            }
        }
        let result = self.read_facts(&store, &mut progress).await;
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        let pending = inner.facts_pending.take().unwrap_or_default();
        for waiter in inner.waiting_for_facts.drain(..) {
            let _ = waiter.send(());
        }
        match result {
            Ok(mut index) => {
                // Changes made while reading win over what the read found.
                for record in pending {
                    index.upsert(record);
                }
                if inner.facts.is_none() {
                    inner.facts = Some(index);
                }
                drop(inner);
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    async fn read_facts(
        &self,
        store: &Store,
        progress: &mut impl FnMut(usize, usize),
    ) -> Result<FactsIndex, RepoError> {
        let started = common::perf::now_ms();
        mark("fieldbook:facts-read-start");
        let read = store.load_facts().await?;
        mark("fieldbook:facts-read");
        if read.since > 0 {
            // Every customer's facts are about to be in memory (a dashboard was tapped, or
            // they were preloaded after the start): the snapshot is made from them shortly,
            // not a second later, so that the next start's first dashboard reads one value
            // instead of the log, however short this session turns out to be.
            self.compact_soon(Projection::Facts, CompactAfter::Bulk);
        }
        let mut index = {
            // Facts of an erased customer stay in the stored facts until a dashboard has
            // them in memory when a customer is erased (module `erase`): left out here.
            let inner = self.inner();
            let inner = inner.borrow();
            let mut items = read.items;
            if !inner.erased.is_empty() {
                items.retain(|record| !inner.erased.contains(&record.id));
            }
            // Indexed at once, sized for all of them.
            FactsIndex::new(items)
        };
        common::perf::add_timing("dashboard: read facts", started);
        let started = common::perf::now_ms();
        let mut missing: Vec<CustomerId> = {
            let inner = self.inner();
            let inner = inner.borrow();
            let listed = inner.summaries.items();
            // Written together, the two usually hold the same customers in one order.
            let same_order = shared::model::snapshot::same_customers(listed, index.items());
            common::perf::add_count(
                "dashboard: facts in the list's order",
                usize::from(same_order),
            );
            match same_order {
                true => Vec::new(),
                false => (listed.iter())
                    .filter(|summary| !index.contains(&summary.id))
                    .map(|summary| summary.id.clone())
                    .collect(),
            }
        };
        shared::order::sort(&mut missing);
        let actor = self.inner().borrow().actor.clone();
        let mut done = 0;
        for ids in missing.chunks(FACTS_BACKFILL_BATCH) {
            progress(done, missing.len());
            let docs = load_stored_docs(store, ids, &actor).await?;
            let facts: Vec<CustomerFacts> = docs.iter().map(CustomerDoc::facts).collect();
            if self.tabs.is_writer() {
                self.write(
                    store,
                    WriteBatch {
                        facts: facts.clone(),
                        ..WriteBatch::default()
                    },
                )
                .await?;
            }
            for record in facts {
                index.upsert(record);
            }
            done += ids.len();
            common::perf::yield_now().await;
        }
        common::perf::add_timing("dashboard: facts made from documents", started);
        Ok(index)
    }

    fn wants_facts(&self) -> bool {
        let inner = self.inner();
        let inner = inner.borrow();
        inner.facts.is_some() || inner.facts_pending.is_some()
    }

    /// Runs `read` over the list's summaries (every listed customer's, archived included).
    pub fn with_summaries<T>(&self, read: impl FnOnce(&ByCustomer<CustomerSummary>) -> T) -> T {
        read(&self.inner().borrow().summaries)
    }

    /// Runs `read` over every customer's dashboard facts, if loaded.
    pub fn with_facts<T>(&self, read: impl FnOnce(&[CustomerFacts]) -> T) -> Option<T> {
        let inner = self.inner();
        let inner = inner.borrow();
        inner.facts.as_ref().map(|index| read(index.items()))
    }

    /// Writes many new customers, `batch_size` per transaction, reporting progress; used by
    /// imports and the sample-data generator. A batch whose write fails stops it with the
    /// earlier batches kept. `more_follow`: another request continues the same import, so
    /// even its last batch is not the last write of its kind ([`Repo::write`]).
    /// `continues`: this request continues the one before it, and is not written if that
    /// one was not (so what is stored is always the customers before a failure).
    ///
    /// The page keeps two such requests in flight. Requests are written in the order they
    /// arrived, each after the one before it ([`CreateTurns`]); but as a request arrives, the
    /// larger share of each of its batches goes at once to the document maker
    /// ([`crate::maker`]), which makes them on another core while this engine makes and
    /// writes the request before. (Making the next batch's documents here while the
    /// previous batch commits gained nothing: the time of a write is this worker's own.)
    pub async fn create_many(
        &self,
        customers: Vec<Customer>,
        batch_size: usize,
        more_follow: bool,
        continues: bool,
        mut progress: impl FnMut(usize),
    ) -> Result<usize, RepoError> {
        // Synchronously, as the request arrives: its place in the order, and the maker's
        // shares asked for.
        let mut turn = self.inner().borrow_mut().creates.join();
        let maker = {
            let inner = self.inner();
            let inner = inner.borrow();
            DocumentMaker {
                actor: self.actor_for_load(&inner),
                author: author_of(&inner),
                now: now(),
                fields: self.settings.with_untracked(|s| s.fields.clone()),
            }
        };
        let mut customers = customers;
        let mut batches = Vec::new();
        while !customers.is_empty() {
            let rest = customers.split_off(batch_size.min(customers.len()));
            batches.push(Batch::ask_maker(
                &maker,
                std::mem::replace(&mut customers, rest),
            ));
        }
        let n_batches = batches.len();
        let earlier_written = turn.earlier().await;
        if continues && !earlier_written {
            return Err(RepoError::EarlierPartFailed);
        }
        let store = self.store().await?;
        let writes_here = self.writes_here().await?;
        let cursor = self.inner().borrow().cursor;
        let mut n_written = 0;
        for (index, batch) in batches.into_iter().enumerate() {
            let (mut batch, uploads) = batch
                .make(&maker, cursor, &mut |made| progress(n_written + made))
                .await?;
            batch.more_follow = more_follow || index + 1 < n_batches;
            let n_batch = batch.summaries.len();
            if writes_here {
                let started = common::perf::now_ms();
                let keys = self.write(&store, batch).await?;
                common::perf::add_timing("create: IndexedDB write", started);
                self.queued(keys, uploads);
            } else {
                // The writer tab stores them and announces their summaries.
                self.ask_writer(uploads).await?;
            }
            n_written += n_batch;
            progress(n_written);
        }
        turn.written();
        Ok(n_written)
    }
}

/// The order in which requests creating many customers are written: each waits until the
/// one before it is written or failed.
#[derive(Default)]
struct CreateTurns {
    /// Resolves with whether the last request to arrive was written.
    last: Option<futures_channel::oneshot::Receiver<bool>>,
}

impl CreateTurns {
    /// The turn of a request arriving now.
    fn join(&mut self) -> CreateTurn {
        let (done, next) = futures_channel::oneshot::channel();
        CreateTurn {
            before: self.last.replace(next),
            done,
        }
    }
}

/// A request's place in [`CreateTurns`]. Dropped without [`CreateTurn::written`] (a failure
/// on any path), the next request hears that this one was not written.
struct CreateTurn {
    before: Option<futures_channel::oneshot::Receiver<bool>>,
    done: futures_channel::oneshot::Sender<bool>,
}

impl CreateTurn {
    /// Waits until the request before has ended: whether it was written.
    async fn earlier(&mut self) -> bool {
        match self.before.take() {
            Some(before) => before.await.unwrap_or(false),
            None => true,
        }
    }

    fn written(self) {
        let _ = self.done.send(true);
    }
}

/// The share of a large batch that the document maker makes (it makes the next request's
/// share while this engine writes the one before, which takes about as long as making the
/// rest here).
const MAKER_SHARE: f64 = 0.6;

/// Batches of at least this many customers are shared with the document maker.
const MAKER_FROM: usize = 100;

/// A batch of new customers: the maker's share, asked for as the request arrived, and
/// the rest, made here.
struct Batch {
    theirs: Option<crate::maker::Pending>,
    ours: Vec<Customer>,
}

impl Batch {
    /// Asks the document maker for the first [`MAKER_SHARE`] of a large batch's documents.
    fn ask_maker(maker: &DocumentMaker, mut customers: Vec<Customer>) -> Batch {
        if customers.len() < MAKER_FROM {
            return Batch {
                theirs: None,
                ours: customers,
            };
        }
        let ours = customers.split_off((customers.len() as f64 * MAKER_SHARE) as usize);
        match crate::maker::start(maker, customers) {
            Ok(pending) => Batch {
                theirs: Some(pending),
                ours,
            },
            // No maker: this engine makes every document, in order.
            Err(mut theirs) => {
                theirs.extend(ours);
                Batch {
                    theirs: None,
                    ours: theirs,
                }
            }
        }
    }

    /// The batch's documents, summaries, facts and outbox items, in the customers' order,
    /// with `progress(made so far here)` when it yields. If the maker failed, this engine
    /// makes its share too.
    async fn make(
        self,
        maker: &DocumentMaker,
        cursor: Seq,
        progress: &mut impl FnMut(usize),
    ) -> Result<(WriteBatch, Vec<Upload>), RepoError> {
        let mut ours = make_here(maker, self.ours, &mut |n| progress(n)).await?;
        let mut made = Vec::new();
        if let Some(pending) = self.theirs {
            let started = common::perf::now_ms();
            let theirs = pending.finish().await;
            common::perf::add_timing("create: documents, waiting for the maker", started);
            match theirs {
                Ok(theirs) => {
                    let theirs = theirs?;
                    common::perf::add_count("create: documents made by the maker", theirs.len());
                    made.extend(theirs);
                }
                // The maker failed: this engine makes them.
                Err(theirs) => {
                    let n_ours = ours.len();
                    made.extend(make_here(maker, theirs, &mut |n| progress(n_ours + n)).await?);
                }
            }
        }
        made.append(&mut ours);
        let mut batch = WriteBatch::default();
        let mut uploads = Vec::with_capacity(made.len());
        for MadeDocument {
            snapshot,
            summary,
            facts,
        } in made
        {
            let customer_id = summary.id.clone();
            uploads.push(snapshot_upload(&customer_id, snapshot.clone(), cursor));
            // Names the document's chunk 0 (packed, below) rather than holding its bytes
            // again.
            batch.outbox.push(OutboxValue::Snapshot {
                customer_id: customer_id.clone(),
                seq: 0,
                covers: cursor,
            });
            batch.new_docs.push((customer_id, snapshot));
            batch.summaries.push(summary);
            batch.facts.push(facts);
        }
        Ok((batch, uploads))
    }
}

/// `customers`' documents, made in this worker, yielding every ~40 ms so the engine keeps
/// answering (and the progress bar moves), with `progress(made so far)`.
async fn make_here(
    maker: &DocumentMaker,
    customers: Vec<Customer>,
    progress: &mut impl FnMut(usize),
) -> Result<Vec<MadeDocument>, RepoError> {
    let mut made = Vec::with_capacity(customers.len());
    let mut started = common::perf::now_ms();
    for customer in customers {
        if common::perf::now_ms() - started > 40.0 {
            common::perf::add_timing("create: documents", started);
            progress(made.len());
            common::perf::yield_now().await;
            started = common::perf::now_ms();
        }
        made.push(maker.make(customer)?);
    }
    common::perf::add_timing("create: documents", started);
    Ok(made)
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

/// Applies `change` to `doc`; the Automerge change it made, or `None` if it changed nothing.
fn changed(
    doc: &mut CustomerDoc,
    change: impl FnOnce(&mut CustomerDoc) -> Result<bool, RepoError>,
) -> Result<Option<Vec<u8>>, RepoError> {
    if !change(doc)? {
        return Ok(None);
    }
    Ok(doc.last_local_change())
}

/// The customers (not the book document) that `uploads` touch.
fn touched_customers(uploads: &[Upload]) -> usize {
    let mut documents: Vec<&DocumentId> = uploads
        .iter()
        .map(|u| &u.document)
        .filter(|document| document.0 != BOOK_DOCUMENT)
        .collect();
    shared::order::sort(&mut documents);
    documents.dedup();
    documents.len()
}

/// The book document stored on this device, or a new one.
async fn load_book_doc(store: &Store, actor: ActorId) -> Result<BookDoc, StoreError> {
    let book_doc = match store.get_meta(BOOK_META).await? {
        Some(hex) => hex::decode(hex)
            .ok()
            .and_then(|bytes| BookDoc::load(&bytes, actor.clone()).ok()),
        None => None,
    };
    Ok(book_doc.unwrap_or_else(|| BookDoc::new(actor)))
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

/// Applies a page's entries for one document (in log order) to it; returns the document,
/// and, when it is new on this device and only its first state arrived, those bytes.
#[allow(clippy::type_complexity)]
fn merge_entries(
    slot: Touched,
    entries: Vec<LogEntry>,
    actor: &ActorId,
    author: &Option<String>,
) -> Result<Option<(CustomerId, CachedDoc, Option<Vec<u8>>)>, String> {
    let Touched {
        id,
        mut cached,
        mut snapshot,
        mut changed,
    } = slot;
    let mut entries = entries.into_iter();
    if cached.is_none() {
        if let Some(entry) = entries.next() {
            // New on this device: the entry is its first state (a snapshot, or the change
            // that created it).
            let mut doc = CustomerDoc::from_remote(&entry.bytes, actor.clone())
                .map_err(|e| format!("customer {id}: {e}"))?;
            if doc.customer().id != id {
                return Err(format!("entry for {id} holds another customer"));
            }
            doc.set_author(author.clone());
            cached = Some(CachedDoc {
                doc,
                n_chunks: 0,
                next_seq: 0,
            });
            snapshot = Some(entry.bytes);
        }
    }
    let rest = entries.as_slice();
    if let Some(existing) = &mut cached {
        if !rest.is_empty() {
            // One hydration for all of the document's entries.
            existing
                .doc
                .apply_remote_all(rest.iter().map(|entry| entry.bytes.as_slice()))
                .map_err(|e| format!("customer {id}: {e}"))?;
            changed = true;
        }
    }
    let snapshot = if changed { None } else { snapshot };
    Ok(cached.map(|cached| (id, cached, snapshot)))
}

/// The stored documents of `ids` (read in one transaction), loaded with `actor`: those
/// without chunks are left out, and unreadable ones with a warning (the list and the
/// dashboards go without them rather than fail for every other customer).
/// A stored document, its unverified changes checked as they are applied
/// ([`StoredDoc::unverified`]; a refused one is left out).
fn load_stored(
    id: &CustomerId,
    stored: &StoredDoc,
    actor: ActorId,
) -> Result<CustomerDoc, DocError> {
    CustomerDoc::load_checking(id, &stored.bytes, &stored.unverified, [], actor)
        .map(|(doc, _, _)| doc)
}

async fn load_stored_docs(
    store: &Store,
    ids: &[CustomerId],
    actor: &ActorId,
) -> Result<Vec<CustomerDoc>, StoreError> {
    let stored = store.load_docs(ids).await?;
    let mut docs = Vec::with_capacity(ids.len());
    for (id, stored) in ids.iter().zip(stored) {
        if stored.n_chunks == 0 {
            continue;
        }
        match load_stored(id, &stored, actor.clone()) {
            Ok(doc) => docs.push(doc),
            Err(err) => {
                tracing::warn!(customer = %id, cause = %err, "an unreadable document stays out of the list and the dashboards")
            }
        }
    }
    Ok(docs)
}

/// The summary and facts of a document new on this device, from the relay's projection of
/// its snapshot, when that snapshot is its only entry and the projection is of this build's
/// format and of this customer.
fn projected(
    id: &CustomerId,
    entries: &[LogEntry],
    projection: Option<EntryProjection>,
) -> Option<(CustomerSummary, CustomerFacts)> {
    let [entry] = entries else {
        return None;
    };
    if !matches!(entry.kind, BlobKind::Snapshot { .. }) {
        return None;
    }
    let (summary, facts) = codec::projection(&projection?.0)?;
    (&summary.id == id && &facts.id == id).then_some((summary, facts))
}

/// Adds a merged document's new chunk (and compaction) to `batch`; false if nothing changed.
fn add_to_batch(
    batch: &mut WriteBatch,
    id: &CustomerId,
    cached: &mut CachedDoc,
    snapshot: Option<Vec<u8>>,
) -> bool {
    if let Some(bytes) = snapshot {
        // New, and nothing applied after its first state: those bytes are a whole saved
        // document already (or a change, which loads as one), stored as is.
        batch.chunks.push((id.clone(), 0, bytes));
        cached.n_chunks = 1;
    } else if cached.n_chunks == 0 || cached.n_chunks + 1 >= COMPACT_AT_CHUNKS {
        let seq = cached.next_seq;
        batch.delete_chunks_below.push((id.clone(), seq));
        batch.chunks.push((id.clone(), seq, cached.doc.save()));
        cached.n_chunks = 1;
    } else {
        let chunk = cached.doc.save_incremental();
        if chunk.is_empty() {
            return false;
        }
        batch.chunks.push((id.clone(), cached.next_seq, chunk));
        cached.n_chunks += 1;
    }
    cached.next_seq += 1;
    true
}
