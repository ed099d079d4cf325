//! [`Repo`]: the one handle screens use to read and change customers. It holds what the
//! screens show live — the book of summaries, the catalog and pipeline — kept current by the
//! engine's events, and asks the engine ([`crate::engine`]) for everything else, dashboard
//! figures included (the engine holds the facts they are computed from). No document, no
//! storage here.
//!
//! # Writes
//!
//! An edit is made on a plain copy of the customer, read with its version; the edited copy
//! and that version go to the engine, which writes exactly what changed (keeping whatever
//! arrived meanwhile) in one IndexedDB transaction. [`SaveState::Saved`] is shown only when
//! the engine answers that the transaction committed, in this tab's engine or in the writer
//! tab's.
//!
//! A screen that shows the customer edits the copy it shows, with the version it read
//! ([`Repo::update_from`]): one request per edit. Its answer holds the customer as committed
//! and goes to every screen showing that customer ([`RemoteChanges::saved`]); the commit's
//! event names the request (`EngineEvent::Committed::by`), so no screen reads the customer
//! again for it. Every other commit (another tab's, device's, an import's) makes the screens
//! showing one of its customers read them again.

use std::{cell::RefCell, rc::Rc, sync::Arc};

use leptos::prelude::*;
use shared::crm::kpi::{DashboardFigures, DashboardRequest};
use shared::documents::book_doc::BookSettings;
use shared::model::history::{RecentChange, SetAside};
use shared::search::first_screen::{FirstScreen, ListCounts};
use shared::sync::engine_protocol::{
    EngineError, EngineEvent, EngineRequest, Reply, ToEngine, VersionedCustomer,
};
use shared::sync::handover::MovedNotice;
use shared::sync::protocol::Upload;
use shared::{
    Book, Customer, CustomerId, CustomerSummary, HistoryEntry, Timestamp, ValidationErrors, Version,
};

use crate::{engine::Engine, time::now};

/// How many new customers go to the engine per message: small enough that encoding them
/// never blocks the page for long, large enough that messages stay few.
const CREATE_PER_MESSAGE: usize = 1_000;

/// How many of those requests are in flight at once: two, so the engine's document maker
/// works on the next while the engine writes one.
const CREATES_IN_FLIGHT: usize = 2;

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SaveState {
    /// Nothing written in this session yet.
    #[default]
    Idle,
    /// A write is in flight.
    Saving,
    /// The last write committed to IndexedDB at this time.
    Saved(Timestamp),
    /// The last write failed; the message says why.
    Failed(String),
}

/// Why a repo operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The edit breaks a validation rule; nothing was stored.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The customer does not exist on this device.
    #[error("this customer is not on this device")]
    NotFound,
    /// Storage, the engine or the writer tab failed; the sentence says why.
    #[error("{0}")]
    Failed(String),
}

impl From<EngineError> for RepoError {
    fn from(error: EngineError) -> RepoError {
        match error {
            EngineError::Invalid(errors) => RepoError::Invalid(errors),
            EngineError::NotFound => RepoError::NotFound,
            other => RepoError::Failed(other.to_string()),
        }
    }
}

fn unexpected(reply: Reply) -> RepoError {
    RepoError::Failed(format!(
        "the engine answered something unexpected: {reply:?}"
    ))
}

/// What the save indicator shows after a save answered with `result`.
fn outcome<T>(result: &Result<T, RepoError>) -> SaveState {
    match result {
        Ok(_) => SaveState::Saved(now()),
        // An invalid edit was never attempted: the form says what to fix.
        Err(RepoError::Invalid(_)) => SaveState::Idle,
        Err(err) => SaveState::Failed(err.to_string()),
    }
}

/// Customers just changed by other devices, other tabs or another screen of this one, for
/// screens showing one of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteChanges {
    /// Increases with every change.
    pub generation: u64,
    /// The customers changed.
    pub customers: Vec<CustomerId>,
    /// The customer as this page's own edit committed it ([`Repo::update_from`]'s answer):
    /// a screen showing it shows this instead of reading it again.
    pub saved: Option<Arc<VersionedCustomer>>,
}

#[derive(Default)]
struct Inner {
    /// The version of the settings shown, sent back with an edit of them.
    settings_version: Version,
    /// The signed-in device's name, as the engine reports it.
    device_name: Option<String>,
    /// Counts calls of `prepare_search`: only the latest one's slices run (a download's
    /// commits would otherwise start one walk over the book each).
    search_preparation: u64,
    /// Saves asked of the engine and not answered yet: the indicator says "Saving" while
    /// any is in flight.
    saves_in_flight: usize,
    /// What the last answered save said, shown once none is in flight.
    settled: SaveState,
    /// Whether the screens are to be told, shortly, that many customers were laid into the
    /// book ([`Repo::show_many_soon`]).
    book_changed_soon: bool,
}

thread_local! {
    /// Edits of a customer in flight on this page, whatever book they are of
    /// ([`after_edits`]), and who waits for none to be.
    static EDITS_IN_FLIGHT: RefCell<EditsInFlight> = RefCell::default();
}

#[derive(Default)]
struct EditsInFlight {
    count: u32,
    waiting: Vec<futures_channel::oneshot::Sender<()>>,
}

/// An edit of one customer from its sending until its answer (or until the call is
/// dropped): what [`after_edits`] waits for. Bulk writes (an import, a download) do not
/// count: the background work they would hold back for seconds would then land on their
/// report.
struct EditInFlight;

impl EditInFlight {
    fn start() -> EditInFlight {
        EDITS_IN_FLIGHT.with(|edits| edits.borrow_mut().count += 1);
        EditInFlight
    }
}

impl Drop for EditInFlight {
    /// With no edit left, every [`after_edits`] is told.
    fn drop(&mut self) {
        let waiting = EDITS_IN_FLIGHT.with(|edits| {
            let mut edits = edits.borrow_mut();
            edits.count = edits.count.saturating_sub(1);
            match edits.count {
                0 => std::mem::take(&mut edits.waiting),
                _ => Vec::new(),
            }
        });
        for waiter in waiting {
            let _ = waiter.send(());
        }
    }
}

/// Resolves once no edit of a customer is in flight on this page: background work of the
/// page's start (the search texts' preparation, the screens' chunks) waits between its
/// slices, so the rep's edit is answered without a slice of it in the way (an edit right
/// after a start took up to 59 ms at 50,000 customers behind them, against ~15 ms
/// otherwise). Told, not polled (several preparations may be waiting).
///
/// Once told, it lets the browser run one task before looking again: an edit that follows
/// at once (the rep's next change, in the same task as the "saved" it waited for) is then
/// made before the background work, not behind one slice of it.
pub async fn after_edits() {
    loop {
        let waiting = EDITS_IN_FLIGHT.with(|edits| {
            let mut edits = edits.borrow_mut();
            (edits.count > 0).then(|| {
                let (sender, receiver) = futures_channel::oneshot::channel();
                edits.waiting.push(sender);
                receiver
            })
        });
        let Some(waiting) = waiting else {
            return;
        };
        let _ = waiting.await;
        common::perf::yield_now().await;
    }
}

/// How long after a bulk commit's event the screens are told of it ([`Repo::show_many_soon`]):
/// one frame.
const SHOW_MANY_AFTER_MS: u64 = 16;

/// The list's first screen while the whole book is read ([`Repo::first_screen`]).
pub struct FirstScreenShown {
    /// Its rows, as a book (the list queries it as it would the whole one).
    pub book: Book,
    /// The counts beside them; `None` when the log changed something since they were made.
    pub counts: Option<ListCounts>,
}

/// The data-access handle, cheap to copy into closures.
#[derive(Clone, Copy)]
pub struct Repo {
    /// Every customer's summary; the list, search and counts read this.
    pub book: RwSignal<Book>,
    /// Whether the book has been read.
    pub load_state: RwSignal<LoadState>,
    /// While the book is still being read: the list's first screen
    /// (`common::store::read_early_first_screen`), which only the list shows. `book` stays
    /// empty until the whole book is read, so no other screen counts from its rows.
    pub first_screen: RwSignal<Option<FirstScreenShown>>,
    /// The save indicator.
    pub save_state: RwSignal<SaveState>,
    /// The product catalog and deal pipeline, shared by the rep's devices.
    pub settings: RwSignal<BookSettings>,
    /// Customers just changed by other devices, tabs or screens.
    pub remote_changes: RwSignal<RemoteChanges>,
    /// Increases whenever a commit changed some customer's dashboard facts (a dashboard on
    /// screen asks for its figures again).
    pub facts_version: RwSignal<u64>,
    /// Increases whenever customers were set aside because another device erased them (the
    /// notice asks for them again).
    pub set_aside_version: RwSignal<u64>,
    /// Customers that moved to another territory of the team, until the rep dismisses it.
    pub moved: RwSignal<MovedNotice>,
    engine: Engine,
    inner: StoredValue<Rc<RefCell<Inner>>, LocalStorage>,
}

/// The largest book whose start holds the engine until the list shows it (`Engine::start`).
/// The engine's own start reads and decodes the whole book too: at 10,000 customers its
/// boot beside the page's start cost the list ~40 ms, but at 50,000 its start, put after the
/// list, still ran through the rep's first second of typing (search p95 18-22 ms against
/// 10-11 ms) where, started at once, it runs on the other core during the page's own
/// longer start.
const HOLD_ENGINE_UP_TO: usize = 20_000;

impl Repo {
    /// The repo of this page, shown from `engine`'s events.
    pub fn start(engine: Engine) -> Repo {
        let repo = Repo {
            book: RwSignal::new(Book::default()),
            load_state: RwSignal::new(LoadState::Loading),
            first_screen: RwSignal::new(None),
            save_state: RwSignal::new(SaveState::Idle),
            settings: RwSignal::new(BookSettings::default()),
            remote_changes: RwSignal::new(RemoteChanges::default()),
            facts_version: RwSignal::new(0),
            set_aside_version: RwSignal::new(0),
            moved: RwSignal::new(MovedNotice::default()),
            engine,
            inner: StoredValue::new_local(Rc::new(RefCell::new(Inner::default()))),
        };
        engine.listen(move |event| repo.event(event));
        leptos::task::spawn_local(repo.read_stored_book());
        leptos::task::spawn_local(async move {
            match repo.engine.ask(EngineRequest::MovedNotice).await {
                Ok(Reply::Moved(notice)) => repo.moved.set(notice),
                Ok(other) => tracing::warn!(answer = ?other, "unexpected answer"),
                Err(err) => tracing::warn!(cause = %err, "cannot read the moved customers"),
            }
        });
        repo
    }

    /// Shows the book as stored on the device, read by `index.html` while the wasm loaded
    /// (`common::store::read_early_book`): the list need not wait for the engine worker. The
    /// engine's own read follows and replaces it only if something changed in between.
    ///
    /// Tells the engine, always and once, the data version it was read at (or that the page
    /// shows no book of its own): an engine that reads the same answers `BookAsHeld` instead
    /// of sending the book again, and one whose read ends first waits for this word.
    ///
    /// The list's first screen, read before the rest, is drawn first when it arrives before
    /// the whole book (see `shared::search::first_screen`).
    async fn read_stored_book(self) {
        if let Some(first) = common::store::read_early_first_screen().await {
            let customers = (first.counts.as_ref()).map(|counts| counts.active + counts.archived);
            if customers.is_some_and(|n| n > HOLD_ENGINE_UP_TO) {
                self.engine.release();
            }
            self.show_first_screen(first);
        }
        let early = common::store::read_early_book()
            .await
            .filter(|_| self.load_state.get_untracked() == LoadState::Loading);
        if early.is_none() {
            // Nothing stored to show (or not readable here): the list waits for the engine.
            self.engine.release();
        }
        let data_version = early.as_ref().and_then(|early| early.data_version.clone());
        // Before the list is built: the engine decides meanwhile; its answer is heard after.
        self.engine.tell(ToEngine::Holds { data_version });
        if let Some(early) = early {
            self.show_book(early.summaries);
        }
    }

    /// Prepares the book's search texts in slices once the list is on screen (a new book
    /// does not make them, `Book::prepare_search`), so the first keystroke finds them ready.
    fn prepare_search(&self) {
        let book = self.book;
        let inner = self.inner();
        let preparation = {
            let mut inner = inner.borrow_mut();
            inner.search_preparation += 1;
            inner.search_preparation
        };
        leptos::task::spawn_local(async move {
            let mut from = 0;
            loop {
                common::perf::yield_now().await;
                after_edits().await;
                if inner.borrow().search_preparation != preparation {
                    // A later call walks the whole book (again from its start).
                    break;
                }
                common::perf::mark_few("fieldbook:search-slice");
                let Some((next, len)) = book
                    .try_update_untracked(|book| (book.prepare_search(from, 2_000), book.len()))
                else {
                    break;
                };
                if next >= len {
                    // Benchmarks read this mark (time from the list to a fast first search).
                    common::perf::mark("fieldbook:search-prepared");
                    break;
                }
                from = next;
            }
        });
    }

    /// Tells the screens, [`SHOW_MANY_AFTER_MS`] from now, that the book changed: a
    /// download's or an import's customers arrive as several events in a row (250 each, see
    /// the engine's `COMMITTED_PER_EVENT`), and the list searched, sorted and drawn after
    /// each one made each event one long task of the page's (up to ~55 ms at 10,000). Now
    /// an event only lays its customers into the book, and the list follows once per burst.
    fn show_many_soon(&self) {
        let first = !std::mem::replace(&mut self.inner().borrow_mut().book_changed_soon, true);
        if first {
            let repo = *self;
            set_timeout(
                move || {
                    repo.inner().borrow_mut().book_changed_soon = false;
                    common::perf::mark_few("fieldbook:book-shown");
                    repo.book.notify();
                },
                std::time::Duration::from_millis(SHOW_MANY_AFTER_MS),
            );
        }
    }

    /// Resolves once the stored book is in memory (or could not be read): work that compares
    /// with the whole book, such as an import's duplicate check, must not run on a book that
    /// is still loading.
    pub async fn book_loaded(&self) {
        while self.load_state.get_untracked() == LoadState::Loading {
            common::perf::sleep(20).await;
        }
    }

    /// Shows the list's first screen while the whole book is read (the list draws it only
    /// for its start's query).
    fn show_first_screen(&self, first: FirstScreen) {
        if self.load_state.get_untracked() != LoadState::Loading
            || !self.book.with_untracked(Book::is_empty)
            || first.rows.is_empty()
        {
            return;
        }
        self.first_screen.set(Some(FirstScreenShown {
            book: Book::from_summaries(first.rows),
            counts: first.counts,
        }));
        common::perf::mark("fieldbook:first-screen-built");
    }

    /// Shows `summaries` as the whole book (unless the book already holds exactly them).
    fn show_book(&self, summaries: Vec<CustomerSummary>) {
        common::perf::mark("fieldbook:summaries-read");
        if !self
            .book
            .with_untracked(|book| !book.is_empty() && book.holds_exactly(&summaries))
        {
            let mut book = Book::from_summaries(summaries);
            book.set_custom_search(
                self.settings
                    .with_untracked(|s| shared::search::book::CustomSearch::of(&s.fields)),
            );
            self.book.set(book);
            self.prepare_search();
        }
        self.book_built();
    }

    /// The book shown is the stored one (as just shown, or as the engine found it already
    /// shown, `EngineEvent::BookAsHeld`): ready.
    fn book_built(&self) {
        common::perf::mark("fieldbook:book-built");
        if self.first_screen.with_untracked(Option::is_some) {
            self.first_screen.set(None);
        }
        if self.load_state.get_untracked() != LoadState::Ready {
            self.load_state.set(LoadState::Ready);
            crate::routes::dashboard::preload_if_used(*self);
        }
    }

    /// Tells the screens showing one of `customers` that they changed: with `saved`, as
    /// this page's own edit committed it (shown as is), else to be read again.
    fn tell_changed(&self, customers: Vec<CustomerId>, saved: Option<Arc<VersionedCustomer>>) {
        self.remote_changes.update(|changes| {
            changes.generation += 1;
            changes.customers = customers;
            changes.saved = saved;
        });
    }

    fn inner(&self) -> Rc<RefCell<Inner>> {
        self.inner.with_value(Rc::clone)
    }

    fn event(&self, event: &EngineEvent) {
        match event {
            EngineEvent::Book(summaries) => self.show_book(summaries.clone()),
            EngineEvent::BookAsHeld => self.book_built(),
            EngineEvent::LoadFailed(message) => {
                if self.first_screen.with_untracked(Option::is_some) {
                    self.first_screen.set(None);
                }
                self.load_state.set(LoadState::Failed(message.clone()))
            }
            EngineEvent::Settings { settings, version } => {
                self.inner().borrow_mut().settings_version = version.clone();
                if self
                    .settings
                    .with_untracked(|shown| shown != settings.as_ref())
                {
                    self.settings.set(settings.as_ref().clone());
                }
            }
            EngineEvent::Committed {
                summaries,
                facts_changed,
                by,
            } => {
                // Benchmarks name a long task by the marks around it.
                common::perf::mark_few("fieldbook:committed");
                if *facts_changed {
                    self.facts_version.update(|version| *version += 1);
                }
                if summaries.len() > 1 {
                    // A download's or an import's customers: laid into the book now, shown
                    // with the next ones of the same burst; searched fast once prepared.
                    self.book
                        .update_untracked(|book| book.upsert_all(summaries.clone()));
                    self.show_many_soon();
                    self.prepare_search();
                } else {
                    self.book.update(|book| book.upsert_all(summaries.clone()));
                }
                // Every screen showing one of them reloads it, except after this page's own
                // edit: its answer follows with the customer as committed, and is shown
                // instead ([`Repo::update_from`]). A reload never rewrites an input whose
                // stored value did not change (`routes::customer::Editor::value`), so the
                // rep's typing is kept.
                if by.is_none() {
                    let customers = summaries.iter().map(|s| s.id.clone()).collect();
                    self.tell_changed(customers, None);
                }
            }
            EngineEvent::Erased { ids, set_aside } => {
                self.facts_version.update(|version| *version += 1);
                self.book.update(|book| book.remove_all(ids));
                self.prepare_search();
                if *set_aside {
                    self.set_aside_version.update(|version| *version += 1);
                }
                // A screen showing one of them reads it again and finds it gone.
                self.tell_changed(ids.clone(), None);
            }
            EngineEvent::Moved { ids, notice } => {
                if let Some(notice) = notice {
                    self.moved.set(*notice);
                }
                if !ids.is_empty() {
                    self.facts_version.update(|version| *version += 1);
                    self.book.update(|book| book.remove_all(ids));
                    self.prepare_search();
                    self.tell_changed(ids.clone(), None);
                }
            }
            EngineEvent::Wiped => {
                self.facts_version.update(|version| *version += 1);
                self.book.set(Book::default());
                self.settings.set(BookSettings::default());
            }
            EngineEvent::Sync(state) => {
                self.inner().borrow_mut().device_name =
                    state.session.as_ref().map(|s| s.device_name.clone());
            }
            EngineEvent::Role(_) => {}
        }
    }

    async fn saving<T>(
        &self,
        request: impl std::future::Future<Output = Result<T, RepoError>>,
    ) -> Result<T, RepoError> {
        self.save_started();
        let result = request.await;
        self.save_ended(Some(outcome(&result)));
        result
    }

    /// A save starts: the indicator says "Saving" until every save in flight is answered
    /// (so an answer to an earlier save never shows "Saved" while a later one is pending).
    fn save_started(&self) {
        self.inner().borrow_mut().saves_in_flight += 1;
        self.save_state.set(SaveState::Saving);
    }

    /// A save was answered with `outcome` (`None`: nothing was written, e.g. an edit that
    /// changed nothing). A failure shows at once; otherwise the last outcome shows once no
    /// save is in flight. (A no-op edit used to put back the indicator it had found, which
    /// could be another save's "Saving" that had meanwhile ended: stuck at "Saving…".)
    fn save_ended(&self, outcome: Option<SaveState>) {
        let show = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.saves_in_flight = inner.saves_in_flight.saturating_sub(1);
            if let Some(outcome) = outcome {
                inner.settled = outcome;
            }
            match &inner.settled {
                failed @ SaveState::Failed(_) => Some(failed.clone()),
                settled if inner.saves_in_flight == 0 => Some(settled.clone()),
                _ => None,
            }
        };
        if let Some(show) = show {
            self.save_state.set(show);
        }
    }

    /// The customer as stored, the version read and its conflicting fields: what a screen
    /// that edits it shows ([`Repo::update_from`]).
    pub async fn versioned(
        &self,
        customer_id: &CustomerId,
    ) -> Result<VersionedCustomer, RepoError> {
        match self
            .engine
            .ask(EngineRequest::Customer(customer_id.clone()))
            .await?
        {
            Reply::Customer(versioned) => Ok(*versioned),
            other => Err(unexpected(other)),
        }
    }

    /// The customer as stored.
    pub async fn customer(&self, customer_id: &CustomerId) -> Result<Customer, RepoError> {
        Ok(self.versioned(customer_id).await?.customer)
    }

    /// Creates a customer; resolves once it is committed to IndexedDB.
    pub async fn create(&self, customer: Customer) -> Result<Customer, RepoError> {
        self.saving(async {
            match self
                .engine
                .ask(EngineRequest::Create(Box::new(customer)))
                .await?
            {
                Reply::Customer(versioned) => Ok(versioned.customer),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Applies `edit` to a customer as stored; resolves with the new state once committed,
    /// or `None` when the edit changed nothing. A screen showing the customer edits what it
    /// shows instead ([`Repo::update_from`]).
    pub async fn update(
        &self,
        customer_id: &CustomerId,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<Option<Customer>, RepoError> {
        // "Saving" from the first moment: until the engine answers, nothing may still read
        // "Saved" from an earlier edit (the rep could close the tab on it).
        self.save_started();
        let _edit = EditInFlight::start();
        let before = match self.versioned(customer_id).await {
            Ok(versioned) => versioned,
            Err(err) => {
                self.save_ended(Some(SaveState::Failed(err.to_string())));
                return Err(err);
            }
        };
        let result = self
            .update_saving(&before.customer, before.version, edit)
            .await;
        Ok(result?.map(|versioned| versioned.customer))
    }

    /// Applies `edit` to the customer as a screen shows it, read at a version: the engine
    /// writes what the edit changed against that version, keeping whatever
    /// arrived since. Resolves with the customer as committed (also told to every screen
    /// showing it, [`RemoteChanges::saved`]), or `None` when the edit changed nothing.
    ///
    /// `shown` resolves with the customer and version once it is the edit's turn (the
    /// editor's earlier edits answered); the indicator says "Saving" from the start, also
    /// while the edit waits. `None`: nothing to edit any more.
    pub async fn update_from(
        &self,
        shown: impl std::future::Future<Output = Option<(Customer, Version)>>,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<Option<VersionedCustomer>, RepoError> {
        self.save_started();
        let _edit = EditInFlight::start();
        let Some((before, version)) = shown.await else {
            self.save_ended(None);
            return Ok(None);
        };
        self.update_saving(&before, version, edit).await
    }

    /// [`Repo::update_from`] once the save indicator says "Saving".
    async fn update_saving(
        &self,
        before: &Customer,
        version: Version,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<Option<VersionedCustomer>, RepoError> {
        let mut after = before.clone();
        edit(&mut after);
        after.id = before.id.clone();
        if after == *before {
            self.save_ended(None);
            return Ok(None);
        }
        let result = async {
            match self
                .engine
                .ask(EngineRequest::Update {
                    version,
                    after: Box::new(after),
                })
                .await?
            {
                Reply::Updated(updated) => Ok(updated.map(|versioned| *versioned)),
                other => Err(unexpected(other)),
            }
        }
        .await;
        if let Ok(Some(saved)) = &result {
            // Its commit's event said it was this request's (no screen read it again).
            self.tell_changed(
                vec![saved.customer.id.clone()],
                Some(Arc::new(saved.clone())),
            );
        }
        self.save_ended(Some(outcome(&result)));
        result
    }

    /// The customer's changes in words, newest first.
    pub async fn history(&self, customer_id: &CustomerId) -> Result<Vec<HistoryEntry>, RepoError> {
        match self
            .engine
            .ask(EngineRequest::History(customer_id.clone()))
            .await?
        {
            Reply::History(history) => Ok(history),
            other => Err(unexpected(other)),
        }
    }

    /// Changes made on other devices that reached this one since `since`, newest first.
    pub async fn recent_changes(&self, since: Timestamp) -> Result<Vec<RecentChange>, RepoError> {
        match self
            .engine
            .ask(EngineRequest::RecentChanges { since })
            .await?
        {
            Reply::RecentChanges(changes) => Ok(changes),
            other => Err(unexpected(other)),
        }
    }

    /// Erases a customer's history on every device and at the relay; with `keep_as`, the
    /// customer as it is now goes on under that new id without history.
    pub async fn erase(
        &self,
        customer_id: &CustomerId,
        keep_as: Option<CustomerId>,
    ) -> Result<(), RepoError> {
        let request = EngineRequest::Erase {
            customer: customer_id.clone(),
            keep_as,
        };
        self.saving(async {
            match self.engine.ask(request).await? {
                Reply::Done => Ok(()),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// The rep read the notice of customers moved to another territory.
    pub async fn dismiss_moved(&self) -> Result<(), RepoError> {
        match self.engine.ask(EngineRequest::DismissMoved).await? {
            Reply::Done => {
                self.moved.set(MovedNotice::default());
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    /// Customers erased on another device while this one had unsent changes to them.
    pub async fn set_aside(&self) -> Result<Vec<SetAside>, RepoError> {
        match self.engine.ask(EngineRequest::SetAside).await? {
            Reply::SetAside(items) => Ok(items),
            other => Err(unexpected(other)),
        }
    }

    /// The rep downloaded or discarded set-aside customer `key`.
    pub async fn dismiss_set_aside(&self, key: u64) -> Result<(), RepoError> {
        match self
            .engine
            .ask(EngineRequest::DismissSetAside { key })
            .await?
        {
            Reply::Done => {
                self.set_aside_version.update(|version| *version += 1);
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    /// Puts an earlier value of `field` back; saved and synced like any edit.
    pub async fn put_back(
        &self,
        customer_id: &CustomerId,
        field: &str,
        value: &str,
    ) -> Result<Option<Customer>, RepoError> {
        let request = EngineRequest::PutBack {
            customer: customer_id.clone(),
            field: field.into(),
            value: value.into(),
        };
        self.saving(async {
            match self.engine.ask(request).await? {
                Reply::Updated(updated) => Ok(updated.map(|v| v.customer)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Keeps value `op` of a conflicting `field`; saved and synced like any edit. Resolves
    /// with the customer as committed, its conflicts left.
    pub async fn resolve_conflict(
        &self,
        customer_id: &CustomerId,
        field: &str,
        op: &str,
    ) -> Result<Option<VersionedCustomer>, RepoError> {
        let request = EngineRequest::ResolveConflict {
            customer: customer_id.clone(),
            field: field.into(),
            op: op.into(),
        };
        self.saving(async {
            match self.engine.ask(request).await? {
                Reply::Updated(updated) => Ok(updated.map(|versioned| *versioned)),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Edits the catalog, pipeline or segments: validated and stored by the engine, then
    /// shown (from its event).
    pub async fn update_book(&self, edit: impl FnOnce(&mut BookSettings)) -> Result<(), RepoError> {
        let before = self.settings.get_untracked();
        let mut after = before.clone();
        edit(&mut after);
        if after == before {
            return Ok(());
        }
        let version = self.inner().borrow().settings_version.clone();
        self.saving(async {
            match self
                .engine
                .ask(EngineRequest::UpdateBook {
                    version,
                    after: Box::new(after),
                })
                .await?
            {
                Reply::Done => Ok(()),
                other => Err(unexpected(other)),
            }
        })
        .await
    }

    /// Writes many new customers (an import, sample data), `batch_size` per transaction,
    /// reporting how many are written so far.
    ///
    /// Sends [`CREATE_PER_MESSAGE`] customers per request and keeps [`CREATES_IN_FLIGHT`]
    /// requests in flight, so the engine's document maker makes the next request's
    /// documents while the engine writes the one before (`Repo::create_many` in
    /// `client/engine`). Each request after the first `continues` the one before: if one
    /// fails, none after it is written, and what is stored is the customers before.
    pub async fn create_many(
        &self,
        customers: impl Iterator<Item = Customer>,
        batch_size: usize,
        progress: impl Fn(usize) + 'static,
    ) -> Result<usize, RepoError> {
        // Progress never goes back (a later request's making reports while an earlier one
        // is still being written).
        let shown = Rc::new(std::cell::Cell::new(0usize));
        let progress = Rc::new(move |n: usize| {
            if n > shown.get() {
                shown.set(n);
                progress(n);
            }
        });
        let mut written = 0;
        let mut sent = 0;
        let mut customers = customers.peekable();
        let mut in_flight = std::collections::VecDeque::new();
        self.save_started();
        loop {
            while in_flight.len() < CREATES_IN_FLIGHT && customers.peek().is_some() {
                let chunk: Vec<Customer> = customers.by_ref().take(CREATE_PER_MESSAGE).collect();
                let more_follow = customers.peek().is_some();
                let before = sent;
                sent += chunk.len();
                let report = Rc::clone(&progress);
                in_flight.push_back(self.engine.send(
                    EngineRequest::CreateMany {
                        customers: chunk,
                        batch_size,
                        more_follow,
                        continues: before > 0,
                    },
                    Some(Rc::new(move |done, _total| report(before + done))),
                ));
            }
            let Some(reply) = in_flight.pop_front() else {
                break;
            };
            let failure = match reply.await {
                Ok(Reply::Count(n)) => {
                    written += n;
                    None
                }
                Ok(other) => Some(unexpected(other)),
                Err(err) => Some(RepoError::from(err)),
            };
            if let Some(err) = failure {
                // The requests after it are not written (each `continues` this one).
                self.save_ended(Some(SaveState::Failed(err.to_string())));
                return Err(err);
            }
            progress(written);
        }
        self.save_ended(Some(SaveState::Saved(now())));
        Ok(written)
    }

    /// Puts changes from an export or backup file back; returns how many customers they
    /// touched.
    pub async fn import_changes(&self, uploads: Vec<Upload>) -> Result<usize, String> {
        match self
            .engine
            .ask(EngineRequest::ImportChanges(uploads))
            .await
            .map_err(|err| err.to_string())?
        {
            Reply::Count(n) => Ok(n),
            other => Err(unexpected(other).to_string()),
        }
    }

    /// A full backup: every document whole.
    pub async fn backup(&self) -> Result<Vec<Upload>, String> {
        self.uploads(EngineRequest::Backup).await
    }

    /// This device's changes the relay has not acknowledged yet, in order.
    pub async fn unsynced_changes(&self) -> Result<Vec<Upload>, String> {
        self.uploads(EngineRequest::Unsynced).await
    }

    async fn uploads(&self, request: EngineRequest) -> Result<Vec<Upload>, String> {
        match self
            .engine
            .ask(request)
            .await
            .map_err(|err| err.to_string())?
        {
            Reply::Uploads(uploads) => Ok(uploads),
            other => Err(unexpected(other).to_string()),
        }
    }

    /// Has the engine read every customer's dashboard facts into its memory (a dashboard
    /// opens without waiting for them), with `progress(done, missing)` while facts are made
    /// from documents.
    pub async fn load_facts(
        &self,
        progress: impl Fn(usize, usize) + 'static,
    ) -> Result<(), RepoError> {
        match self
            .engine
            .ask_with_progress(EngineRequest::Facts, Some(Rc::new(progress)))
            .await?
        {
            Reply::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// A dashboard's figures, computed by the engine over every customer's facts (read first
    /// if needed, with `progress(done, missing)`).
    pub async fn dashboard(
        &self,
        request: DashboardRequest,
        progress: impl Fn(usize, usize) + 'static,
    ) -> Result<DashboardFigures, RepoError> {
        match self
            .engine
            .ask_with_progress(
                EngineRequest::Dashboard(Box::new(request)),
                Some(Rc::new(progress)),
            )
            .await?
        {
            Reply::Dashboard(figures) => Ok(*figures),
            other => Err(unexpected(other)),
        }
    }

    /// The customers behind the dashboard figure `key`, with its title (`None`: no such
    /// figure), from the engine, which keeps the lists behind the figures.
    pub async fn dashboard_customers(
        &self,
        request: DashboardRequest,
        key: String,
        progress: impl Fn(usize, usize) + 'static,
    ) -> Result<Option<(String, Vec<CustomerId>)>, RepoError> {
        match self
            .engine
            .ask_with_progress(
                EngineRequest::DashboardCustomers {
                    request: Box::new(request),
                    key,
                },
                Some(Rc::new(progress)),
            )
            .await?
        {
            Reply::DashboardCustomers(found) => Ok(found),
            other => Err(unexpected(other)),
        }
    }

    /// The team dashboard over territories stored on this device, computed by this tab's
    /// engine (their own engines keep them in sync, see `routes::team_dashboard`).
    pub async fn team_dashboard(
        &self,
        request: shared::crm::team_kpi::TeamDashboardRequest,
    ) -> Result<shared::crm::team_kpi::TeamDashboardAnswer, RepoError> {
        match self
            .engine
            .ask(EngineRequest::TeamDashboard(Box::new(request)))
            .await?
        {
            Reply::TeamDashboard(answer) => Ok(*answer),
            other => Err(unexpected(other)),
        }
    }

    /// The signed-in device's name, if signed in.
    pub fn device_name(&self) -> Option<String> {
        self.inner().borrow().device_name.clone()
    }

    /// The name this device's records carry as their author (an activity's "by …", a merge
    /// note): the signed-in device's name, or before signing in the browser's ("Chrome on
    /// Android") — the name the engine writes into the same changes.
    pub fn author_name(&self) -> String {
        self.device_name()
            .unwrap_or_else(common::global::device_label)
    }
}

/// The repo provided to the component tree.
pub fn use_repo() -> Repo {
    expect_context::<Repo>()
}
