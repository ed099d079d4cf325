//! The browser side of sync: carries out the effects of `shared::sync::ClientEngine` over
//! the device's one WebSocket (shared by every book through [`crate::link`]), the
//! browser's timers and online/offline events, IndexedDB (through
//! the [`Repo`]) and `fetch` for the account API.
//!
//! # Flow
//!
//! [`Sync::start`] waits for the repo's storage, restores the session, the cursor, an
//! unfinished bootstrap and the outbox from IndexedDB, and builds the engine. From then on
//! every browser event (socket opened/closed/message, online/offline, timer, a local change
//! committed by the repo) becomes one engine call, whose effects [`Sync::run`] carries out.
//! Applying remote entries and deleting acknowledged outbox items are asynchronous; their
//! completion is reported back to the engine.
//!
//! Only the writer tab of the browser profile ([`crate::tabs`]) runs the engine, and every
//! book's writer sends its frames through the hub ([`crate::link`]), so one WebSocket serves
//! every tab and every book. It announces the sync state to the other tabs, which show
//! it; their sign-in and sign-out are carried out by the writer.
//!
//! # Nothing unsent is wiped silently
//!
//! Signing out or being revoked removes the book from the device only when every change
//! of it was acknowledged by the relay. Otherwise the book is **held** ([`HeldBook`], kept
//! in `meta` across reloads): syncing stops, the rep is told how many changes were never
//! backed up and offered to export them; the book is removed only when the rep says so
//! (`SignOut { discard_unsent: true }`), and signing in again to the same account sends them.

use std::{cell::RefCell, rc::Rc};

use leptos::prelude::*;
use shared::sync::protocol::{BootstrapPosition, DocumentId, Seq, SpaceId};
use shared::sync::team::TeamBook;
use shared::sync::{
    ChannelsEffect, ClientChannels, ClientConfig, ClientEffect, ClientEngine, Credentials,
    StoredItem, SyncPhase, SyncStatus,
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use shared::sync::tab_protocol::{SyncState, TabEvent, TabRequest};

use common::store::OutboxHead;

use crate::{
    clock::now,
    link::{BookLink, LinkEvent},
    repo::Repo,
    tabs::Tabs,
};

/// What the relay returned at sign-up or sign-in, kept in IndexedDB; and the account's
/// devices as the relay lists them.
pub use shared::sync::account::{DeviceInfo, HeldBook, Session as SessionInfo};

/// An API failure: a sentence, and per-field messages for forms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    /// What went wrong.
    pub message: String,
    /// Field → message.
    pub fields: Vec<(String, String)>,
}

impl ApiError {
    /// A failure that concerns no field in particular.
    fn new(message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

/// The channel of the book's customers (the account's own space, or a team's territory).
const CUSTOMERS: u16 = 0;
/// The channel of a team book's shared space: its book document (catalog, pipeline, fields).
const SHARED: u16 = 1;

/// Where a channel's sync position is kept in `meta`.
fn meta_keys(channel: u16) -> (&'static str, &'static str) {
    if channel == SHARED {
        ("cursor:shared", "bootstrap:shared")
    } else {
        ("cursor", "bootstrap")
    }
}

struct Inner {
    /// One engine per space of the book, over one connection (`shared::sync::channels`).
    conn: Option<ClientChannels>,
    /// The book's link to the device's one connection.
    link: Option<BookLink>,
    timer: Option<i32>,
    /// What the page last said of the network (`ToEngine::Online`), kept even while there
    /// is no connection state to apply it to (before the writer's start).
    page_online: Option<bool>,
}

/// How long a start waits for the page to say whether the browser is online before it
/// asks the worker's own `navigator.onLine`.
const PAGE_ONLINE_WAIT_MS: f64 = 1_000.0;

/// The sync runtime handle, provided as context.
#[derive(Clone, Copy)]
pub struct Sync {
    /// What the indicator shows.
    pub status: RwSignal<SyncStatus>,
    /// The signed-in account on this device.
    pub session: RwSignal<Option<SessionInfo>>,
    /// A message for the rep (e.g. signed out from another device).
    pub notice: RwSignal<Option<String>>,
    /// Whether the engine has been restored from storage.
    pub ready: RwSignal<bool>,
    /// A book kept after sign-out because some of its changes were never backed up.
    pub held: RwSignal<Option<HeldBook>>,
    repo: Repo,
    tabs: Tabs,
    /// The team book this tab works in (`None`: the account's own book).
    book: StoredValue<Option<TeamBook>>,
    inner: StoredValue<Rc<RefCell<Inner>>, LocalStorage>,
}

fn initial_status() -> SyncStatus {
    SyncStatus {
        phase: SyncPhase::LocalOnly,
        unsent: 0,
        last_synced: None,
        bootstrap: None,
        problem: None,
        retry_at: None,
    }
}

impl Sync {
    /// Starts sync once this tab is the writer (its repo's steps run first); in the other
    /// tabs, shows what the writer announces.
    pub fn start(repo: Repo, tabs: Tabs, book: Option<TeamBook>) -> Sync {
        let sync = Sync {
            status: RwSignal::new(initial_status()),
            session: RwSignal::new(None),
            notice: RwSignal::new(None),
            ready: RwSignal::new(false),
            held: RwSignal::new(None),
            repo,
            tabs,
            book: StoredValue::new(book),
            inner: StoredValue::new_local(Rc::new(RefCell::new(Inner {
                conn: None,
                link: None,
                timer: None,
                page_online: None,
            }))),
        };
        tabs.on_writer(move |_takeover| async move {
            if let Err(err) = sync.restore().await {
                tracing::error!(cause = %err, "cannot start sync");
                sync.notice
                    .set(Some(format!("Sync could not start: {err}")));
            }
        });
        tabs.listen(move |event| {
            if let TabEvent::Sync(state) = event {
                let SyncState {
                    status,
                    session,
                    notice,
                    held,
                } = *state;
                repo.set_device_name(session.as_ref().map(|s| s.device_name.clone()));
                sync.status.set(status);
                sync.session.set(session);
                sync.notice.set(notice);
                sync.held.set(held);
                sync.ready.set(true);
            }
        });
        // The writer tells the other tabs whenever what the indicator shows changes.
        Effect::new(move |_| {
            sync.status.track();
            sync.session.track();
            sync.notice.track();
            sync.held.track();
            if tabs.is_writer() {
                sync.announce();
            }
        });
        sync
    }

    /// Tells the other tabs the sync state (the writer only).
    pub fn announce(self) {
        self.tabs.announce(TabEvent::Sync(Box::new(SyncState {
            status: self.status.get_untracked(),
            session: self.session.get_untracked(),
            notice: self.notice.get_untracked(),
            held: self.held.get_untracked(),
        })));
    }

    fn inner(&self) -> Rc<RefCell<Inner>> {
        self.inner.with_value(Rc::clone)
    }

    async fn restore(self) -> Result<(), String> {
        let store = self.repo.storage().ok_or("storage is not open")?;
        // The account is signed in on the device's own book; a team book uses its session.
        let session_store = match self.book.get_value() {
            None => store.clone(),
            Some(_) => Rc::new(
                common::store::Store::open_named(common::store::OWN_DATABASE, || {}, || {})
                    .await
                    .map_err(|e| e.to_string())?,
            ),
        };
        let session: Option<SessionInfo> = session_store
            .get_meta("session")
            .await
            .map_err(|e| e.to_string())?
            .and_then(|json| serde_json::from_str(&json).ok());
        // Only ids and documents: the bytes are read back a push at a time (an import of
        // 10,000 customers never sent is tens of megabytes).
        let started = common::perf::now_ms();
        let outbox: Vec<StoredItem> = (store.outbox_heads().await)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(OutboxHead::stored)
            .collect();
        common::perf::add_timing("sync: outbox heads read at start", started);
        let mut outboxes = self.by_channel(outbox, |item| &item.document);
        let mut engines = Vec::new();
        let mut cursor = Seq(0);
        for (channel, credentials) in self.credentials(session.as_ref()).into_iter().enumerate() {
            let (cursor_key, bootstrap_key) = meta_keys(channel as u16);
            let at = store
                .get_meta(cursor_key)
                .await
                .map_err(|e| e.to_string())?
                .and_then(|text| text.parse().ok())
                .map_or(Seq(0), Seq);
            let bootstrap: Option<BootstrapPosition> = store
                .get_meta(bootstrap_key)
                .await
                .map_err(|e| e.to_string())?
                .filter(|json| !json.is_empty())
                .and_then(|json| serde_json::from_str(&json).ok());
            if channel as u16 == CUSTOMERS {
                cursor = at;
            }
            engines.push(
                ClientEngine::new(
                    ClientConfig::default(),
                    credentials,
                    at,
                    bootstrap,
                    Vec::new(),
                    random_seed(),
                )
                .with_stored(std::mem::take(&mut outboxes[channel])),
            );
        }
        self.inner().borrow_mut().conn = Some(ClientChannels::new(engines));
        self.attach(session.as_ref().map(|s| s.device_name.clone()), cursor);
        if session.is_none() {
            // Why this device was signed out, kept until the next sign-in (a revoked phone
            // may be reopened much later).
            let notice = store.get_meta("notice").await.map_err(|e| e.to_string())?;
            self.notice.set(notice);
            let held = store.get_meta("held").await.map_err(|e| e.to_string())?;
            self.held
                .set(held.and_then(|json| serde_json::from_str(&json).ok()));
        }
        self.session.set(session);
        let online = self.online_per_page().await;
        self.set_online(online);
        self.ready.set(true);
        Ok(())
    }

    /// Each channel's credentials: the book's customers, then (a team book) its shared
    /// space; `None` while signed out.
    fn credentials(self, session: Option<&SessionInfo>) -> Vec<Option<Credentials>> {
        let credentials = |space: &str| {
            session.map(|session| Credentials {
                space: SpaceId(space.to_string()),
                token: session.token.clone(),
            })
        };
        match self.book.get_value() {
            None => vec![session.map(credentials_of)],
            Some(book) => vec![credentials(&book.territory), credentials(&book.shared)],
        }
    }

    /// Outbox items by channel: a team book's book document goes to its shared space,
    /// everything else to the book's customers.
    fn by_channel<T>(self, items: Vec<T>, document: impl Fn(&T) -> &DocumentId) -> Vec<Vec<T>> {
        let team = self.book.with_value(Option::is_some);
        let mut channels = vec![Vec::new(), Vec::new()];
        for item in items {
            let channel = if team && document(&item).0 == shared::documents::book_doc::BOOK_DOCUMENT
            {
                SHARED
            } else {
                CUSTOMERS
            };
            channels[usize::from(channel)].push(item);
        }
        channels
    }

    /// Connects the repo to this runtime: the device name for change messages, the cursor
    /// snapshots record, and every committed local change fed to the engine.
    fn attach(self, device_name: Option<String>, cursor: Seq) {
        self.repo.attach_sync(
            device_name,
            cursor,
            Rc::new(move |items| {
                let channels = self.by_channel(items, |item| &item.upload.document);
                self.call(|conn, now| {
                    let mut effects = Vec::new();
                    for (channel, items) in channels.into_iter().enumerate() {
                        if !items.is_empty() {
                            effects.extend(
                                conn.with(channel as u16, now, |engine| engine.queued(items, now)),
                            );
                        }
                    }
                    effects
                })
            }),
            Rc::new(move |ids| {
                self.call(|conn, now| {
                    conn.each(now, |engine| {
                        engine.forget(&ids);
                        Vec::new()
                    })
                })
            }),
        );
    }

    /// The browser went online or offline (the page tells its engine).
    pub fn set_online(self, online: bool) {
        self.inner().borrow_mut().page_online = Some(online);
        self.call(|conn, now| conn.each(now, |engine| engine.set_online(online, now)));
    }

    /// Whether the browser is online, as the page says: a worker gets no online/offline
    /// events, and its own `navigator.onLine` can lag behind the page's (in the e2e runs the
    /// network's emulation reaches a new worker after it starts: the likely way an engine
    /// started offline once pushed a rep's offline edits). The page says it as soon as its
    /// engine talks (`crate::page`); this waits for that, briefly.
    async fn online_per_page(self) -> bool {
        let asked = common::perf::now_ms();
        loop {
            if let Some(online) = self.inner().borrow().page_online {
                return online;
            }
            if common::perf::now_ms() - asked > PAGE_ONLINE_WAIT_MS {
                return common::global::on_line();
            }
            common::perf::sleep(5).await;
        }
    }

    /// Feeds one channel's engine an event and carries out what it asks.
    fn on(
        self,
        channel: u16,
        event: impl FnOnce(&mut ClientEngine, shared::Timestamp) -> Vec<ClientEffect>,
    ) {
        self.call(|conn, now| conn.with(channel, now, |engine| event(engine, now)));
    }

    /// Feeds the engines one event and carries out what they ask.
    fn call(
        self,
        event: impl FnOnce(&mut ClientChannels, shared::Timestamp) -> Vec<ChannelsEffect>,
    ) {
        let inner = self.inner();
        let effects = {
            let mut inner = inner.borrow_mut();
            let Some(conn) = inner.conn.as_mut() else {
                return;
            };
            event(conn, now())
        };
        self.run(effects);
        let (status, wakeup) = {
            let inner = inner.borrow();
            match &inner.conn {
                Some(conn) => (combined_status(conn), conn.next_wakeup()),
                None => return,
            }
        };
        self.status.set(status);
        self.schedule(wakeup);
    }

    fn schedule(self, wakeup: Option<shared::Timestamp>) {
        let inner = self.inner();
        if let Some(timer) = inner.borrow_mut().timer.take() {
            common::global::clear_timeout(timer);
        }
        let Some(at) = wakeup else {
            return;
        };
        let delay = (at.0 - now().0).clamp(0, i32::MAX as i64) as i32;
        let callback = Closure::once_into_js(move || {
            self.inner().borrow_mut().timer = None;
            self.call(|conn, now| conn.tick(now));
        });
        if let Some(handle) = common::global::set_timeout(&callback, delay) {
            inner.borrow_mut().timer = Some(handle);
        }
    }

    fn run(self, effects: Vec<ChannelsEffect>) {
        for effect in effects {
            match effect {
                ChannelsEffect::Connect => self.connect(),
                ChannelsEffect::Send(frame) => {
                    let link = self.inner().borrow().link.clone();
                    if let Some(link) = link {
                        link.send(frame);
                    }
                }
                ChannelsEffect::Disconnect => self.close_link(),
                ChannelsEffect::Space { channel, effect } => self.run_space(channel, effect),
            }
        }
    }

    /// Carries out what one space's engine asks.
    fn run_space(self, channel: u16, effect: ClientEffect) {
        match effect {
            ClientEffect::Connect | ClientEffect::Send(_) | ClientEffect::Disconnect => {
                // `ClientChannels` turns these into the socket's.
            }
            ClientEffect::Apply {
                entries,
                projections,
                cursor,
                bootstrap,
                catch_up,
            } => {
                let repo = self.repo;
                let shared_space = channel == SHARED;
                common::perf::mark_few("fieldbook:apply-asked");
                leptos::task::spawn_local(async move {
                    common::perf::mark_few("fieldbook:apply-start");
                    match repo
                        .apply_remote(
                            entries,
                            projections,
                            cursor,
                            bootstrap,
                            catch_up,
                            shared_space,
                        )
                        .await
                    {
                        Ok(()) => {
                            common::perf::mark_few("fieldbook:apply-end");
                            self.on(channel, |engine, now| engine.applied(now))
                        }
                        Err(message) => {
                            tracing::error!(%message, "could not store changes from the relay");
                            self.on(channel, |engine, now| engine.apply_failed(message, now))
                        }
                    }
                });
            }
            ClientEffect::SaveCursor(cursor) => {
                let (key, _) = meta_keys(channel);
                if channel == CUSTOMERS {
                    self.repo.set_cursor(cursor);
                }
                if let Some(store) = self.repo.storage() {
                    leptos::task::spawn_local(async move {
                        if let Err(err) = store.put_meta(key, &cursor.0.to_string()).await {
                            tracing::warn!(cause = %err, "could not store the cursor");
                        }
                    });
                }
            }
            ClientEffect::ReadOutbox(ids) => {
                // The engine waits for an answer to every read (without one it would never
                // push again), given after the effects at hand like any storage's answer.
                let store = self.repo.storage();
                leptos::task::spawn_local(async move {
                    let read = match store {
                        Some(store) => {
                            (store.load_outbox_items(&ids).await).map_err(|err| err.to_string())
                        }
                        None => Err("device storage is not open".to_string()),
                    };
                    match read {
                        Ok(items) => self.on(channel, |engine, now| engine.outbox_read(items, now)),
                        Err(err) => {
                            tracing::error!(cause = %err, "could not read unsent changes back");
                            let message = format!("could not read unsent changes: {err}");
                            self.on(channel, |engine, now| {
                                engine.outbox_read_failed(message, now)
                            })
                        }
                    }
                });
            }
            ClientEffect::Acked(ids) => self.delete_outbox(ids),
            ClientEffect::Refused { ids, message } => {
                self.notice.set(Some(format!(
                    "A change was refused by the relay: {message}"
                )));
                self.delete_outbox(ids);
            }
            ClientEffect::Erased { document, ids } => {
                let repo = self.repo;
                leptos::task::spawn_local(async move {
                    repo.erased_elsewhere(&document, ids).await;
                });
            }
            ClientEffect::SignedOut { revoked, message } => {
                let reason = match (revoked, self.book.get_value()) {
                    (true, _) => "This device was signed out from another device.".to_string(),
                    (false, Some(book)) => format!(
                        "Your account no longer belongs to {} ({message}).",
                        book.title()
                    ),
                    (false, None) => format!("You were signed out: {message}"),
                };
                leptos::task::spawn_local(async move {
                    self.forget_account(reason, false).await;
                });
            }
        }
    }

    fn delete_outbox(self, ids: Vec<u64>) {
        if let Some(store) = self.repo.storage() {
            leptos::task::spawn_local(async move {
                if let Err(err) = store.delete_outbox(&ids).await {
                    // They stay and are pushed again: the relay stores each blob once.
                    tracing::warn!(cause = %err, "could not delete acknowledged outbox items");
                }
            });
        }
    }

    /// This book's link to the relay through the device's one connection (`crate::link`),
    /// made when first needed (in the writer only).
    fn link(self) -> Option<BookLink> {
        if let Some(link) = self.inner().borrow().link.clone() {
            return Some(link);
        }
        let link = BookLink::new(common::store::database(), move |event| match event {
            LinkEvent::Opened => {
                common::perf::mark("fieldbook:sync-opened");
                self.call(|conn, now| conn.connected(now))
            }
            LinkEvent::Frame(bytes) => {
                common::perf::mark_few("fieldbook:sync-frame");
                let started = common::perf::now_ms();
                self.call(|conn, now| conn.frame(&bytes, now));
                common::perf::add_timing("sync: decode and handle frames", started);
            }
            LinkEvent::Closed => self.call(|conn, now| conn.disconnected(now)),
        });
        match link {
            Ok(link) => {
                self.inner().borrow_mut().link = Some(link.clone());
                Some(link)
            }
            Err(message) => {
                tracing::error!(%message, "cannot link this book to the relay connection");
                None
            }
        }
    }

    fn connect(self) {
        common::perf::mark("fieldbook:sync-connect");
        match self.link() {
            Some(link) => link.open(),
            None => self.call(|conn, now| conn.disconnected(now)),
        }
    }

    fn close_link(self) {
        let link = self.inner().borrow().link.clone();
        if let Some(link) = link {
            link.close();
        }
    }

    /// Signs up (`create`) or in, stores the session and starts syncing.
    pub async fn sign_in(
        self,
        create: bool,
        email: String,
        password: String,
        device_name: String,
    ) -> Result<(), ApiError> {
        let path = if create { "/api/signup" } else { "/api/signin" };
        let body =
            serde_json::json!({ "email": email, "password": password, "device_name": device_name });
        let value = api("POST", path, Some(body), None).await?;
        let session: SessionInfo = serde_json::from_value(value).map_err(|err| {
            ApiError::new(format!("the relay answered something unexpected: {err}"))
        })?;
        // The writer tab (this one or another) keeps the session and syncs with it.
        if let Err(message) = self.tabs.ask(TabRequest::SignedIn(session.clone())).await {
            // Refused (e.g. a held book of another account): the new token is not kept.
            let _ = api("POST", "/api/signout", None, Some(&session.token)).await;
            return Err(ApiError::new(message));
        }
        Ok(())
    }

    /// In the writer: stores the session signed in (in any tab) and starts syncing with it.
    pub async fn start_session(self, session: SessionInfo) -> Result<(), String> {
        let store = self.repo.storage().ok_or("device storage is not open")?;
        if let Some(held) = self.held.get_untracked() {
            if held.space_id != session.space_id {
                return Err(format!(
                    "This device still holds {} change(s) of {} that were never backed up. \
                     Sign in to that account to send them, or export or remove them first.",
                    self.status.get_untracked().unsent,
                    held.email
                ));
            }
        }
        let json = serde_json::to_string(&session).unwrap_or_default();
        store
            .put_meta("session", &json)
            .await
            .map_err(|err| err.to_string())?;
        for key in ["notice", "held"] {
            if let Err(err) = store.delete_meta(key).await {
                tracing::warn!(cause = %err, key, "could not clear a sign-out record");
            }
        }
        self.held.set(None);
        let cursor = self.inner().borrow().conn.as_ref().map_or(Seq(0), |conn| {
            conn.engines().first().map_or(Seq(0), ClientEngine::cursor)
        });
        self.attach(Some(session.device_name.clone()), cursor);
        let credentials = self.credentials(Some(&session));
        self.session.set(Some(session));
        self.notice.set(None);
        self.call(|conn, now| {
            let mut effects = Vec::new();
            for (channel, credentials) in credentials.into_iter().enumerate() {
                effects.extend(conn.with(channel as u16, now, |engine| {
                    engine.set_credentials(credentials, now)
                }));
            }
            effects
        });
        self.announce();
        Ok(())
    }

    /// Signs this device out, in the writer tab (this one or another). Unless
    /// `discard_unsent`, a book with changes never backed up is held, not removed.
    pub async fn sign_out(self, discard_unsent: bool) {
        if let Err(message) = self.tabs.ask(TabRequest::SignOut { discard_unsent }).await {
            self.notice
                .set(Some(format!("Could not sign out: {message}")));
        }
    }

    /// In the writer: revokes this device's token (when the relay is reachable) and removes
    /// the book from this device (or holds it, see the module docs).
    pub async fn sign_out_here(self, discard_unsent: bool) {
        if let Some(session) = self.session.get_untracked() {
            if let Err(err) = api("POST", "/api/signout", None, Some(&session.token)).await {
                tracing::warn!(message = %err.message, "could not revoke the token at the relay");
            }
        }
        self.forget_account("You signed out.".into(), discard_unsent)
            .await;
    }

    /// Stops syncing and removes the book, or holds it while some changes were never
    /// backed up and the rep has not chosen to discard them.
    async fn forget_account(self, reason: String, discard_unsent: bool) {
        self.call(|conn, now| conn.each(now, |engine| engine.set_credentials(None, now)));
        // Changes set aside because another device erased their customer are unsent too:
        // the list offers them for download until the rep deals with them.
        let set_aside: usize = (self.repo.set_aside().await)
            .map(|items| items.iter().map(|item| item.unsent).sum())
            .unwrap_or(0);
        let unsent = self.status.get_untracked().unsent + set_aside;
        if unsent > 0 && !discard_unsent {
            self.hold(reason, unsent).await;
            return;
        }
        let notice = match (self.session.get_untracked(), self.held.get_untracked()) {
            (None, None) => None,
            _ if reason.starts_with("You signed out") => None,
            _ => Some(format!("{reason} Its copy of the book was removed.")),
        };
        if let Err(err) = self.repo.wipe().await {
            tracing::error!(cause = %err, "could not remove the book from this device");
        }
        // Fresh engines: no cursor, no outbox.
        let engines = self
            .credentials(None)
            .into_iter()
            .map(|_| {
                ClientEngine::new(
                    ClientConfig::default(),
                    None,
                    Seq(0),
                    None,
                    Vec::new(),
                    random_seed(),
                )
            })
            .collect();
        self.inner().borrow_mut().conn = Some(ClientChannels::new(engines));
        self.attach(None, Seq(0));
        self.session.set(None);
        self.held.set(None);
        if let (Some(notice), Some(store)) = (&notice, self.repo.storage()) {
            if let Err(err) = store.put_meta("notice", notice).await {
                tracing::warn!(cause = %err, "could not keep the sign-out notice");
            }
        }
        self.notice.set(notice);
        self.set_online(self.online_per_page().await);
        self.announce();
    }

    /// Keeps the book and its unsent changes after a sign-out, and says so (also after a
    /// reload, from `meta`).
    async fn hold(self, reason: String, unsent: usize) {
        let session = self.session.get_untracked();
        let held = match (session, self.held.get_untracked()) {
            (Some(session), _) => HeldBook {
                email: session.email,
                space_id: session.space_id,
                reason: reason.clone(),
            },
            (None, Some(held)) => held,
            // Never signed in: nothing to hold against; the book simply stays local.
            (None, None) => return,
        };
        if let Some(store) = self.repo.storage() {
            let json = serde_json::to_string(&held).unwrap_or_default();
            if let Err(err) = store.put_meta("held", &json).await {
                tracing::error!(cause = %err, "could not record the held book");
            }
            if let Err(err) = store.delete_meta("session").await {
                tracing::warn!(cause = %err, "could not forget the session");
            }
        }
        tracing::warn!(unsent, "signed out with unsent changes: the book is kept");
        self.session.set(None);
        self.held.set(Some(held));
        self.notice.set(Some(format!(
            "{reason} {unsent} change(s) made on this device were never backed up: export them before removing the book from this device."
        )));
        self.announce();
    }

    /// This account's devices.
    pub async fn devices(self) -> Result<Vec<DeviceInfo>, ApiError> {
        let token = self
            .session
            .get_untracked()
            .map(|s| s.token)
            .unwrap_or_default();
        let value = api("GET", "/api/devices", None, Some(&token)).await?;
        serde_json::from_value(value)
            .map_err(|err| ApiError::new(format!("the relay answered something unexpected: {err}")))
    }

    /// Revokes another device of the account; its open connection closes at once.
    pub async fn revoke(self, device_id: String) -> Result<(), ApiError> {
        let token = self
            .session
            .get_untracked()
            .map(|s| s.token)
            .unwrap_or_default();
        api(
            "POST",
            &format!("/api/devices/{device_id}/revoke"),
            None,
            Some(&token),
        )
        .await
        .map(|_| ())
    }
}

impl Sync {
    /// A call of the relay's team API with this device's token; the relay's JSON answer.
    pub async fn team(self, call: shared::sync::team::TeamCall) -> Result<String, ApiError> {
        let Some(session) = self.session.get_untracked() else {
            return Err(ApiError::new(
                "Sign in first: teams live on the relay, with your account.",
            ));
        };
        let (method, path, body) = call.http();
        let value = api(method, &path, body, Some(&session.token)).await?;
        Ok(value.to_string())
    }
}

fn credentials_of(session: &SessionInfo) -> Credentials {
    Credentials {
        space: SpaceId(session.space_id.clone()),
        token: session.token.clone(),
    }
}

/// What the indicator shows for all the book's spaces at once: the least advanced phase,
/// every unsent change, the first problem, synced when all are.
fn combined_status(conn: &ClientChannels) -> SyncStatus {
    let rank = |phase: SyncPhase| match phase {
        SyncPhase::LocalOnly => 0,
        SyncPhase::Offline => 1,
        SyncPhase::Connecting => 2,
        SyncPhase::Syncing => 3,
        SyncPhase::UpToDate => 4,
    };
    let statuses: Vec<SyncStatus> = conn.engines().iter().map(ClientEngine::status).collect();
    let Some(first) = statuses.first().cloned() else {
        return initial_status();
    };
    let mut status = first;
    for other in &statuses[1..] {
        if rank(other.phase) < rank(status.phase) {
            status.phase = other.phase;
        }
        status.unsent += other.unsent;
        status.problem = status.problem.take().or_else(|| other.problem.clone());
        status.last_synced = match (status.last_synced, other.last_synced) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
        status.bootstrap = status.bootstrap.or(other.bootstrap);
        status.retry_at = match (status.retry_at, other.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    status
}

pub(crate) fn random_seed() -> u64 {
    (js_sys::Math::random() * (u64::MAX as f64)) as u64
}

/// Calls the relay's JSON API.
async fn api(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    token: Option<&str>,
) -> Result<serde_json::Value, ApiError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::new("cannot build a request"))?;
    if let Some(body) = body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    if let Some(token) = token {
        let _ = headers.set("authorization", &format!("Bearer {token}"));
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(path, &init)
        .map_err(|_| ApiError::new("cannot build a request"))?;
    let response = JsFuture::from(common::global::fetch(&request))
        .await
        .map_err(|_| {
            ApiError::new("The relay cannot be reached. Check the connection and try again.")
        })?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| ApiError::new("no response"))?;
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let value: serde_json::Value = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    };
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let message = match value.get("error").and_then(|e| e.as_str()) {
        Some("wrong_credentials") => "Wrong email or password.".to_string(),
        Some("email_taken") => {
            "An account with this email already exists. Sign in instead.".to_string()
        }
        Some("rate_limited") => match value.get("retry_after").and_then(|s| s.as_u64()) {
            Some(1) => "Too many attempts. Try again in a second.".to_string(),
            Some(seconds) if seconds < 120 => {
                format!("Too many attempts. Try again in {seconds} seconds.")
            }
            Some(seconds) => format!(
                "Too many attempts. Try again in {} minutes.",
                seconds.div_ceil(60)
            ),
            None => "Too many attempts. Wait a few minutes, then try again.".to_string(),
        },
        Some("invalid") => "Some fields need attention.".to_string(),
        Some("forbidden") => "Only a team admin can do this.".to_string(),
        Some("not_found") => "That team, member or invite no longer exists.".to_string(),
        Some("last_admin") => {
            "A team needs at least one admin: make someone else admin first.".to_string()
        }
        Some("invite_unknown") => {
            "No invite has this code. Check it with the person who invited you.".to_string()
        }
        Some("invite_expired") => "This invite has expired. Ask for a new one.".to_string(),
        Some("invite_revoked") => "This invite was withdrawn. Ask for a new one.".to_string(),
        Some("invite_used_up") => "This invite was already used. Ask for a new one.".to_string(),
        _ => value
            .get("message")
            .and_then(|m| m.as_str())
            .map_or_else(|| format!("The relay answered {status}."), str::to_string),
    };
    let fields = value
        .get("fields")
        .and_then(|f| f.as_object())
        .map(|fields| {
            fields
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Err(ApiError { message, fields })
}
