//! The device's other books, kept in sync while the app is open: a rep's territories do not
//! wait until she opens them to download what colleagues and managers did, and the
//! follow-ups assigned to her there are counted where she is.
//!
//! Which books: every team book opened on this device ([`crate::book::known`]), every
//! territory she belongs to as a rep or viewer (read from the relay's team list at start,
//! after joining and when the menu opens; a manager's or admin's "every territory" is only
//! kept once she opened it — the team dashboard syncs the rest while it is open), and her
//! own book when this tab shows a team book. Not the tab's own book: its engine is
//! [`crate::engine::Engine::start`]'s.
//!
//! Each runs in an engine of its own ([`Engine::start_book`]), which takes part in its book's
//! writer election exactly as a tab showing that book would: it writes and syncs that book,
//! or follows the tab that does. So every tab of the profile keeps the other books (only
//! one of them writes each), and closing a tab changes nothing for the others.
//!
//! A book whose copy is removed (the member left the territory, nothing unsent) is
//! forgotten on this device; one held because changes were never backed up stays, with the
//! reason, until she opens it and exports them.

use std::{cell::RefCell, collections::HashMap, rc::Rc, time::Duration};

use leptos::{prelude::*, task::spawn_local};
use shared::crm::follow_ups::due_times;
use shared::documents::book_doc::BookSettings;
use shared::sync::engine_protocol::EngineEvent;
use shared::sync::tab_protocol::SyncState;
use shared::sync::team::{TeamBook, TeamCall, TeamInfo};
use shared::sync::SyncPhase;
use shared::{CustomerId, Timestamp, Version};

use crate::engine::{Engine, ListenerId};
use crate::sync::Sync;
use crate::time::{days_after, now};

/// How long after the tab's own book is ready the other books' engines start: their start
/// (a wasm instance, the book read) must not compete with the first list on a phone.
const START_AFTER_MS: i32 = 1_500;

/// One other book, as the screens show it.
#[derive(Clone, PartialEq)]
pub struct OtherBook {
    /// The book; `None`: the account's own.
    pub book: Option<TeamBook>,
    /// What its engine reports; `None` while it starts.
    pub state: RwSignal<Option<SyncState>>,
    /// Her follow-ups there that are overdue or due today.
    pub due: RwSignal<usize>,
}

impl OtherBook {
    /// `book` with no state yet (`None`: the own book); its signals belong to the current
    /// owner.
    pub fn new(book: Option<TeamBook>) -> OtherBook {
        OtherBook {
            book,
            state: RwSignal::new(None),
            due: RwSignal::new(0),
        }
    }

    /// Its key ([`key_of`]).
    pub fn key(&self) -> &str {
        key_of(self.book.as_ref())
    }

    /// What the rep calls it.
    pub fn title(&self) -> String {
        self.book
            .as_ref()
            .map_or_else(|| "Your own book".to_string(), TeamBook::title)
    }
}

/// A book's key among the other books: the territory's space, empty for the own book.
fn key_of(book: Option<&TeamBook>) -> &str {
    book.map_or("", |book| book.territory.as_str())
}

/// An engine this tab runs for another book.
struct Running {
    engine: Engine,
    listener: ListenerId,
    /// Kept for the device (not only while a screen needs it).
    kept: bool,
    /// Screens using it now ([`OtherBooks::borrow`]).
    borrowed: usize,
    /// Each customer's follow-ups for her, by when they fall due.
    dues: HashMap<CustomerId, Vec<Timestamp>>,
    /// The book's catalog, pipeline and fields as its engine last reported them.
    settings: Option<(BookSettings, Version)>,
}

/// The other books' engines, provided as context.
#[derive(Clone, Copy)]
pub struct OtherBooks {
    /// The books kept, in the switcher's order (own book first).
    pub books: RwSignal<Vec<OtherBook>>,
    running: StoredValue<Rc<RefCell<HashMap<String, Running>>>, LocalStorage>,
    sync: Sync,
}

impl OtherBooks {
    /// Starts keeping the other books once this tab's engine has started and the device is
    /// signed in (a team book needs the account; an own book without one has nothing to
    /// sync).
    pub fn start(engine: Engine, sync: Sync) -> OtherBooks {
        let books = OtherBooks {
            books: RwSignal::new(Vec::new()),
            running: StoredValue::new_local(Rc::default()),
            sync,
        };
        let begun = StoredValue::new(false);
        Effect::new(move |_| {
            if begun.get_value() || !sync.ready.get() || sync.session.with(Option::is_none) {
                return;
            }
            begun.set_value(true);
            spawn_local(async move {
                engine.started().await;
                common::perf::sleep(START_AFTER_MS).await;
                books.refresh();
            });
        });
        // Due follow-ups change with the clock too.
        set_interval(move || books.recount_all(), Duration::from_secs(60));
        books
    }

    /// Keeps every book this device should keep: those opened here and, from the relay's
    /// team list (when reachable), the territories she belongs to as a rep or viewer.
    pub fn refresh(self) {
        if self.sync.session.with_untracked(Option::is_none) {
            return;
        }
        let current = crate::book::current();
        if current.is_some() {
            self.keep(None);
        }
        self.keep_known(current.as_ref());
        spawn_local(async move {
            let Ok(teams) = self.sync.team::<Vec<TeamInfo>>(TeamCall::List).await else {
                return; // offline: the books known here are kept meanwhile
            };
            let me = (self
                .sync
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.email.clone())))
            .unwrap_or_default();
            for team in teams
                .iter()
                .filter(|team| !team.role.sees_every_territory())
            {
                for territory in &team.territories {
                    crate::book::remember(&TeamBook::of(team, territory, &me), false);
                }
            }
            self.keep_known(current.as_ref());
        });
    }

    fn keep_known(self, current: Option<&TeamBook>) {
        for book in crate::book::known() {
            if current.is_none_or(|current| current.territory != book.territory) {
                self.keep(Some(book));
            }
        }
    }

    /// Keeps `book` in sync on this device from now on.
    fn keep(self, book: Option<TeamBook>) {
        let running = self.running.with_value(Rc::clone);
        if let Some(running) = running.borrow_mut().get_mut(key_of(book.as_ref())) {
            running.kept = true;
            return;
        }
        self.run(book, true, 0);
    }

    /// The engine of `book` for a screen that needs it in sync while it is open (the team
    /// dashboard), and what it reports; [`OtherBooks::release`] when the screen goes.
    pub fn borrow(self, book: &TeamBook) -> (Engine, RwSignal<Option<SyncState>>) {
        let running = self.running.with_value(Rc::clone);
        let engine = {
            let mut running = running.borrow_mut();
            running.get_mut(&book.territory).map(|running| {
                running.borrowed += 1;
                running.engine
            })
        };
        let engine = engine.unwrap_or_else(|| self.run(Some(book.clone()), false, 1));
        (engine, self.state_of(&book.territory))
    }

    /// A screen no longer needs `territory`'s engine: it stops unless the device keeps the
    /// book or another screen still uses it.
    pub fn release(self, territory: &str) {
        let unused = self.running.with_value(|running| {
            let mut running = running.borrow_mut();
            running.get_mut(territory).is_some_and(|entry| {
                entry.borrowed = entry.borrowed.saturating_sub(1);
                entry.borrowed == 0 && !entry.kept
            })
        });
        if unused {
            self.stop(territory);
        }
    }

    /// Stops the engine of book `key` and takes the book off the list.
    fn stop(self, key: &str) {
        let removed = self
            .running
            .with_value(|running| running.borrow_mut().remove(key));
        if let Some(removed) = removed {
            removed.engine.unlisten(removed.listener);
            removed.engine.stop();
        }
        self.books.update(|books| books.retain(|b| b.key() != key));
    }

    /// The settings of the running book `key` and their version, once its copy here is up
    /// to date with the relay (a change based on them then merges with everything the team
    /// has); `None` if that takes longer than `timeout_ms` (offline, say).
    pub async fn settings_when_synced(
        self,
        key: &str,
        timeout_ms: f64,
    ) -> Option<(BookSettings, Version)> {
        let started = common::perf::now_ms();
        let state = self.state_of(key);
        loop {
            let synced = state.with_untracked(|state| {
                state.as_ref().is_some_and(|state| {
                    state.status.phase == SyncPhase::UpToDate && state.status.bootstrap.is_none()
                })
            });
            let settings = self.running.with_value(|running| {
                (running.borrow().get(key)).and_then(|entry| entry.settings.clone())
            });
            if let (true, Some(settings)) = (synced, settings) {
                return Some(settings);
            }
            if common::perf::now_ms() - started > timeout_ms {
                return None;
            }
            common::perf::sleep(100).await;
        }
    }

    fn state_of(self, key: &str) -> RwSignal<Option<SyncState>> {
        (self
            .books
            .with_untracked(|books| books.iter().find(|b| b.key() == key).map(|b| b.state)))
        .unwrap_or_else(|| RwSignal::new(None))
    }

    /// Starts `book`'s engine and follows what it reports; `kept` for the device,
    /// `borrowed` by that many screens.
    fn run(self, book: Option<TeamBook>, kept: bool, borrowed: usize) -> Engine {
        let key = key_of(book.as_ref()).to_string();
        // Owned by no screen: `run` may be called while a screen that goes away (the menu,
        // the "joined" banner) is the current owner, and the engine outlives it.
        let shown = crate::engine::unowned(|| OtherBook::new(book.clone()));
        self.books.update(|books| {
            books.retain(|b| b.key() != key);
            // The own book first, then the order of the switcher.
            if book.is_none() {
                books.insert(0, shown.clone());
            } else {
                books.push(shown.clone());
            }
        });
        let engine = Engine::start_book(book.as_ref());
        // In a team book her follow-ups are those for her or anyone's; in her own, all.
        let me = book
            .as_ref()
            .map(|b| b.me.clone())
            .filter(|me| !me.is_empty());
        let listener = {
            let key = key.clone();
            engine.listen(move |event| self.received(&key, &shown, me.as_deref(), event))
        };
        let running = self.running.with_value(Rc::clone);
        running.borrow_mut().insert(
            key,
            Running {
                engine,
                listener,
                kept,
                borrowed,
                dues: HashMap::new(),
                settings: None,
            },
        );
        engine
    }

    fn received(self, key: &str, shown: &OtherBook, me: Option<&str>, event: &EngineEvent) {
        let running = self.running.with_value(Rc::clone);
        let mut forget = false;
        {
            let mut running = running.borrow_mut();
            let Some(entry) = running.get_mut(key) else {
                return;
            };
            match event {
                EngineEvent::Sync(state) => {
                    if shown
                        .state
                        .with_untracked(|s| s.as_ref() != Some(state.as_ref()))
                    {
                        shown.state.set(Some(state.as_ref().clone()));
                    }
                    return;
                }
                EngineEvent::Settings { settings, version } => {
                    entry.settings = Some((settings.as_ref().clone(), version.clone()));
                    return;
                }
                EngineEvent::Book(summaries) => {
                    entry.dues = (summaries.iter())
                        .map(|summary| (summary.id.clone(), due_times(summary, me)))
                        .collect();
                }
                EngineEvent::Committed { summaries, .. } => {
                    for summary in summaries {
                        entry
                            .dues
                            .insert(summary.id.clone(), due_times(summary, me));
                    }
                }
                EngineEvent::Erased { ids, .. } | EngineEvent::Moved { ids, .. } => {
                    for id in ids {
                        entry.dues.remove(id);
                    }
                }
                EngineEvent::Wiped => {
                    entry.dues.clear();
                    // Removed from the territory with nothing unsent: its copy is gone, so
                    // is the book from this device (a held one stays, with its reason).
                    let held = shown
                        .state
                        .with_untracked(|s| s.as_ref().is_some_and(|s| s.held.is_some()));
                    forget = shown.book.is_some() && !held && entry.borrowed == 0;
                }
                _ => return,
            }
            let tomorrow = days_after(now(), 1);
            let due = count_due(&entry.dues, tomorrow);
            if shown.due.get_untracked() != due {
                shown.due.set(due);
            }
        }
        if forget {
            // Not inside the engine's own message handler: stopping it drops this listener.
            let key = key.to_string();
            spawn_local(async move { self.forget(&key) });
        }
    }

    /// Stops keeping a team book whose copy was removed, and forgets it on this device.
    fn forget(self, key: &str) {
        self.stop(key);
        crate::book::forget(key);
        tracing::info!(territory = %key, "a team book's copy was removed: forgotten here");
    }

    fn recount_all(self) {
        let tomorrow = days_after(now(), 1);
        let running = self.running.with_value(Rc::clone);
        let running = running.borrow();
        self.books.with_untracked(|books| {
            for book in books {
                if let Some(entry) = running.get(book.key()) {
                    let due = count_due(&entry.dues, tomorrow);
                    if book.due.get_untracked() != due {
                        book.due.set(due);
                    }
                }
            }
        });
    }
}

/// Follow-ups due before `tomorrow` (overdue or today).
fn count_due(dues: &HashMap<CustomerId, Vec<Timestamp>>, tomorrow: Timestamp) -> usize {
    dues.values()
        .flatten()
        .filter(|due| **due < tomorrow)
        .count()
}

/// The other books handle provided to the component tree.
pub fn use_other_books() -> OtherBooks {
    expect_context::<OtherBooks>()
}
