//! One writer per browser profile: the engine holding the Web Lock `fieldbook-writer` writes
//! IndexedDB and syncs; every other engine and every page asks it (see
//! `shared::sync::tab_protocol` for why and for the messages).
//!
//! # Two sides
//!
//! Each tab runs its screens on the page ([`Side::Screens`]) and an engine in a dedicated
//! worker ([`Side::Engine`], `crate::engine`) that the page spawns. The engines take part in
//! the election; the page never writes: it asks over the channel (its own engine, when that
//! one is the writer, answers like any other), shows the writer's events, and tells its
//! engine when the browser goes online or offline. The page's [`Tabs::role`] is its engine's
//! part, as the engine reports it.
//!
//! # Election
//!
//! At start a tab asks for the lock without waiting (`ifAvailable`): if it gets it, it is
//! the writer at once; if not, another tab writes, this one is a follower and queues a
//! second, waiting request. The browser grants the lock to a waiting tab as soon as the
//! writer's page closes or crashes, so a follower takes over within moments. The lock is
//! held for the page's lifetime (its callback returns a promise that never settles).
//!
//! A tab becoming the writer first runs the `on_writer` steps registered by the repo and
//! sync (device actor, documents reloaded from storage, sync engine restored), only then
//! says so ([`TabEvent::WriterChanged`]) and serves requests, including its own unanswered
//! ones. A browser without Web Locks gets [`Role::Unsupported`]: the app refuses to write
//! rather than let two tabs corrupt each other's data.

use std::{cell::RefCell, collections::BTreeMap, future::Future, pin::Pin, rc::Rc};

use futures_channel::oneshot;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use leptos::prelude::*;
use shared::sync::tab_protocol::{
    decode, encode, RequestId, TabEvent, TabId, TabMessage, TabRequest,
};
use shared::sync::tab_protocol::{
    decode_worker_message, encode_worker_message, EngineRole, WorkerMessage,
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, DedicatedWorkerGlobalScope, MessageEvent, Worker};

/// The Web Lock only the writer tab holds.
const WRITER_LOCK: &str = "fieldbook-writer";
/// The channel every tab of the profile listens to.
const CHANNEL: &str = "fieldbook-tabs";
/// How long a follower waits for the writer's answer before reporting "not saved". Long
/// enough to cover a hand-over to another tab (which resends the request).
const ANSWER_TIMEOUT_MS: i32 = 15_000;

/// The engine worker's script (Trunk's loader shim of the `fieldbook-engine` binary), by an
/// absolute path: a relative one would resolve under client routes such as `/customers/…`.
const ENGINE_SCRIPT: &str = "/fieldbook-engine_loader.js";

/// Where this code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The page: screens only; it never writes.
    Screens,
    /// The tab's engine worker: it may be elected writer.
    Engine,
}

/// This tab's part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Asking for the writer lock.
    Electing,
    /// This tab writes IndexedDB and syncs.
    Writer,
    /// Another tab writes; this one asks it.
    Follower,
    /// The browser has no Web Locks: writing is refused.
    Unsupported,
}

/// A step run when this tab becomes the writer; `takeover` is true when it was a follower.
type WriterStep = Rc<dyn Fn(bool) -> Pin<Box<dyn Future<Output = ()>>>>;
/// The writer's handler of one request.
type Server =
    Rc<dyn Fn(Option<TabId>, TabRequest) -> Pin<Box<dyn Future<Output = Result<(), String>>>>>;
/// A follower's handler of the writer's events.
type Listener = Rc<dyn Fn(TabEvent)>;

struct Pending {
    request: TabRequest,
    answer: oneshot::Sender<Result<(), String>>,
    timer: Option<i32>,
}

struct Inner {
    side: Side,
    me: TabId,
    /// The page's engine worker (on the screens side).
    worker: Option<Worker>,
    channel: Option<BroadcastChannel>,
    next_request: u64,
    /// This tab's requests not answered yet, resent when a new writer announces itself.
    pending: BTreeMap<RequestId, Pending>,
    writer_steps: Vec<WriterStep>,
    server: Option<Server>,
    listeners: Vec<Listener>,
    /// Whether this tab has been a follower (so becoming the writer is a takeover).
    was_follower: bool,
    /// Callers of [`Tabs::settled`] waiting for the election.
    waiting: Vec<oneshot::Sender<()>>,
}

/// The handle to this tab's part in the profile, cheap to copy.
#[derive(Clone, Copy)]
pub struct Tabs {
    /// This tab's part; screens may show it.
    pub role: RwSignal<Role>,
    inner: StoredValue<Rc<RefCell<Inner>>, LocalStorage>,
}

impl Tabs {
    /// Opens the channel; the engine starts the election, the page spawns its engine.
    pub fn start(side: Side) -> Tabs {
        let me = TabId((js_sys::Math::random() * (u64::MAX as f64)) as u64);
        let tabs = Tabs {
            role: RwSignal::new(Role::Electing),
            inner: StoredValue::new_local(Rc::new(RefCell::new(Inner {
                side,
                me,
                worker: None,
                channel: None,
                next_request: 1,
                pending: BTreeMap::new(),
                writer_steps: Vec::new(),
                server: None,
                listeners: Vec::new(),
                was_follower: false,
                waiting: Vec::new(),
            }))),
        };
        tabs.open_channel();
        match side {
            // After the current task, so the repo and sync can register their steps first.
            Side::Engine => leptos::task::spawn_local(async move { tabs.elect() }),
            Side::Screens => tabs.spawn_engine(),
        }
        tabs
    }

    /// The page starts its engine worker and listens to it.
    fn spawn_engine(self) {
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = match Worker::new_with_options(ENGINE_SCRIPT, &options) {
            Ok(worker) => worker,
            Err(err) => {
                tracing::error!(cause = ?err, "cannot start the engine worker");
                self.settle(Role::Unsupported);
                return;
            }
        };
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
                return;
            };
            match decode_worker_message(&array.to_vec()) {
                Ok(WorkerMessage::Role(role)) => {
                    let first = self.role.get_untracked() == Role::Electing;
                    self.settle(match role {
                        EngineRole::Writer => Role::Writer,
                        EngineRole::Follower => Role::Follower,
                        EngineRole::Unsupported => Role::Unsupported,
                    });
                    if first {
                        // The engine listens now: tell it the network state.
                        self.tell_engine(&WorkerMessage::Online(crate::global::on_line()));
                    }
                }
                Ok(WorkerMessage::Online(_)) => {}
                Err(err) => tracing::warn!(cause = %err, "ignoring a message from the engine"),
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn Fn(JsValue)>::new(move |err: JsValue| {
            tracing::error!(cause = ?err, "the engine worker failed");
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.inner().borrow_mut().worker = Some(worker);
        // Whoever writes announces the sync state to this page.
        let me = self.inner().borrow().me;
        self.post(&TabMessage::Ask {
            from: me,
            id: RequestId(0),
            request: TabRequest::Hello,
        });
        for (event, online) in [("online", true), ("offline", false)] {
            let callback = Closure::<dyn Fn()>::new(move || {
                self.tell_engine(&WorkerMessage::Online(online));
            });
            let _ =
                window().add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
            // Lives as long as the page.
            callback.forget();
        }
    }

    fn tell_engine(self, message: &WorkerMessage) {
        let worker = self.inner().borrow().worker.clone();
        if let Some(worker) = worker {
            let bytes = encode_worker_message(message);
            if let Err(err) = worker.post_message(&Uint8Array::from(bytes.as_slice())) {
                tracing::warn!(cause = ?err, "could not tell the engine");
            }
        }
    }

    /// The engine tells its page the part it plays.
    pub fn tell_page(&self, role: Role) {
        let role = match role {
            Role::Writer => EngineRole::Writer,
            Role::Follower => EngineRole::Follower,
            Role::Unsupported => EngineRole::Unsupported,
            Role::Electing => return,
        };
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let bytes = encode_worker_message(&WorkerMessage::Role(role));
        if let Err(err) = scope.post_message(&Uint8Array::from(bytes.as_slice())) {
            tracing::warn!(cause = ?err, "could not tell the page");
        }
    }

    fn inner(&self) -> Rc<RefCell<Inner>> {
        self.inner.with_value(Rc::clone)
    }

    /// Whether this code writes: the engine elected writer (never the page).
    pub fn is_writer(&self) -> bool {
        self.role.get_untracked() == Role::Writer && self.inner().borrow().side == Side::Engine
    }

    /// Waits until the election decided this tab's part (not while it is being decided).
    pub async fn settled(&self) -> Role {
        let waiting = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            if self.role.get_untracked() != Role::Electing {
                return self.role.get_untracked();
            }
            let (sender, receiver) = oneshot::channel();
            inner.waiting.push(sender);
            receiver
        };
        let _ = waiting.await;
        self.role.get_untracked()
    }

    /// Registers a step to run when this tab becomes the writer, before it serves requests.
    pub fn on_writer<F, Fut>(&self, step: F)
    where
        F: Fn(bool) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.inner()
            .borrow_mut()
            .writer_steps
            .push(Rc::new(move |takeover| Box::pin(step(takeover))));
    }

    /// Sets what the writer does with a request, given the asking tab (`None`: its own).
    pub fn serve<F, Fut>(&self, server: F)
    where
        F: Fn(Option<TabId>, TabRequest) -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        self.inner().borrow_mut().server = Some(Rc::new(move |from, request| {
            Box::pin(server(from, request))
        }));
    }

    /// This tab's identity.
    pub fn me(&self) -> TabId {
        self.inner().borrow().me
    }

    /// Adds a handler of the writer's events (run in followers only).
    pub fn listen(&self, listener: impl Fn(TabEvent) + 'static) {
        self.inner().borrow_mut().listeners.push(Rc::new(listener));
    }

    /// Tells every other tab (the writer's commits and sync state).
    pub fn announce(&self, event: TabEvent) {
        if self.is_writer() {
            self.post(&TabMessage::Event(event));
        }
    }

    /// Has the writer do `request`: here if this tab writes, else by asking the writer tab.
    /// Fails with a sentence for the rep when the writer refuses or does not answer in time.
    pub async fn ask(&self, request: TabRequest) -> Result<(), String> {
        match self.settled().await {
            Role::Unsupported => return Err(unsupported_message()),
            _ if self.is_writer() => return self.serve_here(None, request).await,
            Role::Writer | Role::Follower | Role::Electing => {}
        }
        let (answer, receiver) = oneshot::channel();
        let inner = self.inner();
        let (id, message) = {
            let mut inner = inner.borrow_mut();
            let id = RequestId(inner.next_request);
            inner.next_request += 1;
            let message = TabMessage::Ask {
                from: inner.me,
                id,
                request: request.clone(),
            };
            inner.pending.insert(
                id,
                Pending {
                    request,
                    answer,
                    timer: None,
                },
            );
            (id, message)
        };
        let tabs = *self;
        let timer = Closure::once_into_js(move || {
            let pending = tabs.inner().borrow_mut().pending.remove(&id);
            if let Some(pending) = pending {
                let _ = pending.answer.send(Err(
                    "not saved: the Fieldbook tab that stores changes did not answer; \
                     try again"
                        .into(),
                ));
            }
        });
        if let Some(handle) = crate::global::set_timeout(&timer, ANSWER_TIMEOUT_MS) {
            if let Some(pending) = inner.borrow_mut().pending.get_mut(&id) {
                pending.timer = Some(handle);
            }
        }
        self.post(&message);
        receiver
            .await
            .unwrap_or_else(|_| Err("not saved: the request was dropped".into()))
    }

    async fn serve_here(&self, from: Option<TabId>, request: TabRequest) -> Result<(), String> {
        let server = self.inner().borrow().server.clone();
        match server {
            Some(server) => server(from, request).await,
            None => Err("this tab cannot store changes yet".into()),
        }
    }

    fn post(&self, message: &TabMessage) {
        let channel = self.inner().borrow().channel.clone();
        if let Some(channel) = channel {
            let bytes = encode(message);
            let array = Uint8Array::from(bytes.as_slice());
            if let Err(err) = channel.post_message(&array) {
                tracing::warn!(cause = ?err, "could not tell the other tabs");
            }
        }
    }

    fn open_channel(&self) {
        let channel = match BroadcastChannel::new(CHANNEL) {
            Ok(channel) => channel,
            Err(err) => {
                tracing::error!(cause = ?err, "no BroadcastChannel: tabs cannot coordinate");
                return;
            }
        };
        let tabs = *self;
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
                return;
            };
            match decode(&array.to_vec()) {
                Ok(message) => tabs.received(message),
                Err(err) => tracing::warn!(cause = %err, "ignoring a message from another tab"),
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // Lives as long as the page.
        on_message.forget();
        self.inner().borrow_mut().channel = Some(channel);
    }

    fn received(self, message: TabMessage) {
        let me = self.inner().borrow().me;
        match message {
            TabMessage::Ask { from, id, request } => {
                if !self.is_writer() {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let result = self.serve_here(Some(from), request).await;
                    self.post(&TabMessage::Answer {
                        to: from,
                        id,
                        result,
                    });
                });
            }
            TabMessage::Answer { to, id, result } if to == me => {
                let pending = self.inner().borrow_mut().pending.remove(&id);
                if let Some(pending) = pending {
                    if let Some(timer) = pending.timer {
                        crate::global::clear_timeout(timer);
                    }
                    let _ = pending.answer.send(result);
                }
            }
            TabMessage::Answer { .. } => {}
            TabMessage::Event(event) => {
                if self.is_writer() {
                    // Two writers cannot exist while the lock works; never follow another.
                    tracing::warn!("another tab claims to write; ignoring its event");
                    return;
                }
                if matches!(event, TabEvent::WriterChanged { .. }) {
                    self.resend_pending();
                }
                let listeners = self.inner().borrow().listeners.clone();
                for listener in listeners {
                    listener(event.clone());
                }
            }
        }
    }

    /// Sends this tab's unanswered requests again (to a new writer).
    fn resend_pending(self) {
        let messages: Vec<TabMessage> = {
            let inner = self.inner();
            let inner = inner.borrow();
            inner
                .pending
                .iter()
                .map(|(id, pending)| TabMessage::Ask {
                    from: inner.me,
                    id: *id,
                    request: pending.request.clone(),
                })
                .collect()
        };
        for message in messages {
            self.post(&message);
        }
    }

    fn settle(self, role: Role) {
        self.role.set(role);
        if self.inner().borrow().side == Side::Engine {
            self.tell_page(role);
        }
        let waiting = std::mem::take(&mut self.inner().borrow_mut().waiting);
        for waiter in waiting {
            let _ = waiter.send(());
        }
    }

    fn elect(self) {
        let Some(locks) = web_locks() else {
            tracing::error!("this browser has no Web Locks");
            self.settle(Role::Unsupported);
            return;
        };
        let options = Object::new();
        let _ = Reflect::set(&options, &"ifAvailable".into(), &JsValue::TRUE);
        let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            if lock.is_null() {
                // Another tab writes: follow it, and wait for the lock in case it closes.
                self.inner().borrow_mut().was_follower = true;
                self.settle(Role::Follower);
                self.post(&TabMessage::Ask {
                    from: self.inner().borrow().me,
                    id: RequestId(0),
                    request: TabRequest::Hello,
                });
                self.wait_for_lock();
                return JsValue::UNDEFINED;
            }
            self.become_writer();
            held_forever()
        });
        if let Err(err) = request_lock(&locks, Some(&options), &callback) {
            tracing::error!(cause = ?err, "cannot ask for the writer lock");
            self.settle(Role::Unsupported);
        }
    }

    fn wait_for_lock(self) {
        let Some(locks) = web_locks() else {
            return;
        };
        let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            self.become_writer();
            held_forever()
        });
        if let Err(err) = request_lock(&locks, None, &callback) {
            tracing::error!(cause = ?err, "cannot wait for the writer lock");
        }
    }

    fn become_writer(self) {
        leptos::task::spawn_local(async move {
            let (steps, takeover) = {
                let inner = self.inner();
                let inner = inner.borrow();
                (inner.writer_steps.clone(), inner.was_follower)
            };
            for step in steps {
                step(takeover).await;
            }
            self.settle(Role::Writer);
            let me = self.inner().borrow().me;
            self.post(&TabMessage::Event(TabEvent::WriterChanged { writer: me }));
            // The followers learn the sync state from the new writer.
            if let Err(message) = self.serve_here(None, TabRequest::Hello).await {
                tracing::warn!(%message, "could not announce the sync state");
            }
            // This tab's own requests asked while it followed: done here now.
            let pending = std::mem::take(&mut self.inner().borrow_mut().pending);
            for (_, pending) in pending {
                if let Some(timer) = pending.timer {
                    crate::global::clear_timeout(timer);
                }
                let result = self.serve_here(None, pending.request).await;
                let _ = pending.answer.send(result);
            }
            tracing::warn!(takeover, "this tab now stores changes and syncs");
        });
    }
}

/// What the rep reads when the browser cannot coordinate tabs.
pub fn unsupported_message() -> String {
    "This browser cannot coordinate several Fieldbook tabs (no Web Locks), so Fieldbook does \
     not store changes here. Update the browser or use Chrome, Safari 15.4+ or Firefox."
        .into()
}

fn web_locks() -> Option<JsValue> {
    let navigator = crate::global::navigator()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

fn request_lock(
    locks: &JsValue,
    options: Option<&Object>,
    callback: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    match options {
        Some(options) => request.call3(locks, &WRITER_LOCK.into(), options, callback),
        None => request.call2(locks, &WRITER_LOCK.into(), callback),
    }
}

/// A promise that never settles: returned from the lock callback, it keeps the lock until
/// the page goes away.
fn held_forever() -> JsValue {
    Promise::new(&mut |_resolve, _reject| {}).into()
}
