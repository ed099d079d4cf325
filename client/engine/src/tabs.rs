//! One writer per browser profile: the tab holding the Web Lock `fieldbook-writer` writes
//! IndexedDB and syncs; every other tab asks it (see `shared::sync::tab_protocol` for why and for
//! the messages).
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
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

/// The Web Lock only the writer tab holds.
const WRITER_LOCK: &str = "fieldbook-writer";
/// The channel every tab of the profile (of this build) listens to.
const CHANNEL: &str = "fieldbook-tabs";

/// The names of the lock and the channel of the book this thread works in: the account's
/// own book keeps the plain names; a team book's tabs elect their own writer and talk on
/// their own channel, so tabs of two books never mix.
fn scoped(name: &str) -> String {
    let database = common::store::database();
    if database == common::store::OWN_DATABASE {
        name.to_string()
    } else {
        format!("{name}:{database}")
    }
}
/// How long a follower waits for the writer's answer before reporting "not saved". Long
/// enough to cover a hand-over to another tab (which resends the request).
const ANSWER_TIMEOUT_MS: i32 = 15_000;

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
type Server = Rc<dyn Fn(TabRequest) -> Pin<Box<dyn Future<Output = Result<(), String>>>>>;
/// A follower's handler of the writer's events.
type Listener = Rc<dyn Fn(TabEvent)>;

struct Pending {
    request: TabRequest,
    answer: oneshot::Sender<Result<(), String>>,
    timer: Option<i32>,
}

struct Inner {
    me: TabId,
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
    /// Opens the channel and starts the election.
    pub fn start() -> Tabs {
        let me = TabId((js_sys::Math::random() * (u64::MAX as f64)) as u64);
        let tabs = Tabs {
            role: RwSignal::new(Role::Electing),
            inner: StoredValue::new_local(Rc::new(RefCell::new(Inner {
                me,
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
        // After the current task, so the repo and sync can register their steps first.
        leptos::task::spawn_local(async move { tabs.elect() });
        tabs
    }

    fn inner(&self) -> Rc<RefCell<Inner>> {
        self.inner.with_value(Rc::clone)
    }

    /// Whether this tab writes.
    pub fn is_writer(&self) -> bool {
        self.role.get_untracked() == Role::Writer
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

    /// Sets what the writer does with a follower's request.
    pub fn serve<F, Fut>(&self, server: F)
    where
        F: Fn(TabRequest) -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        self.inner().borrow_mut().server = Some(Rc::new(move |request| Box::pin(server(request))));
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
            Role::Writer => return self.serve_here(request).await,
            Role::Unsupported => return Err(unsupported_message()),
            Role::Follower | Role::Electing => {}
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
        if let Some(handle) = common::global::set_timeout(&timer, ANSWER_TIMEOUT_MS) {
            if let Some(pending) = inner.borrow_mut().pending.get_mut(&id) {
                pending.timer = Some(handle);
            }
        }
        self.post(&message);
        receiver
            .await
            .unwrap_or_else(|_| Err("not saved: the request was dropped".into()))
    }

    async fn serve_here(&self, request: TabRequest) -> Result<(), String> {
        let server = self.inner().borrow().server.clone();
        match server {
            Some(server) => server(request).await,
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
        // Tabs of two builds never read each other's messages (their types may differ; see
        // `WIRE_FINGERPRINT`): a tab of another build cannot reach this writer and reports
        // its edits as not saved rather than have them misread.
        let name = format!(
            "{}-{:016x}",
            scoped(CHANNEL),
            shared::sync::engine_protocol::WIRE_FINGERPRINT
        );
        let channel = match BroadcastChannel::new(&name) {
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
                    let result = self.serve_here(request).await;
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
                        common::global::clear_timeout(timer);
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
            if let Err(message) = self.serve_here(TabRequest::Hello).await {
                tracing::warn!(%message, "could not announce the sync state");
            }
            // This tab's own requests asked while it followed: done here now.
            let pending = std::mem::take(&mut self.inner().borrow_mut().pending);
            for (_, pending) in pending {
                if let Some(timer) = pending.timer {
                    common::global::clear_timeout(timer);
                }
                let result = self.serve_here(pending.request).await;
                let _ = pending.answer.send(result);
            }
            tracing::warn!(takeover, "this tab now stores changes and syncs");
        });
    }
}

/// What the rep reads when the browser cannot coordinate tabs.
pub fn unsupported_message() -> String {
    shared::sync::engine_protocol::UNSUPPORTED.into()
}

pub(crate) fn web_locks() -> Option<JsValue> {
    let navigator = common::global::navigator()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

fn request_lock(
    locks: &JsValue,
    options: Option<&Object>,
    callback: &JsValue,
) -> Result<JsValue, JsValue> {
    request_named_lock(locks, &scoped(WRITER_LOCK), options, callback)
}

/// `navigator.locks.request(name, [options,] callback)`.
pub(crate) fn request_named_lock(
    locks: &JsValue,
    name: &str,
    options: Option<&Object>,
    callback: &JsValue,
) -> Result<JsValue, JsValue> {
    let request: Function = Reflect::get(locks, &"request".into())?.dyn_into()?;
    match options {
        Some(options) => request.call3(locks, &name.into(), options, callback),
        None => request.call2(locks, &name.into(), callback),
    }
}

/// A promise that never settles: returned from the lock callback, it keeps the lock until
/// the page goes away.
pub(crate) fn held_forever() -> JsValue {
    Promise::new(&mut |_resolve, _reject| {}).into()
}
