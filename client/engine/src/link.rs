//! One WebSocket per browser profile for every book the device keeps
//! (`shared::sync::hub`).
//!
//! - [`contend`]: every engine asks for the hub's Web Lock; the one holding it runs the
//!   [`shared::sync::hub::Hub`] around the real socket, announces itself, and relays each
//!   book's frames.
//! - [`BookLink`]: what a book's sync runtime (`crate::sync`, in that book's writer) uses
//!   instead of a socket of its own: open, send, close, and the events "opened", "frame",
//!   "closed".
//!
//! They talk over `BroadcastChannel`s named for this build (its wire fingerprint): the
//! hub's inbox, an announcement channel every book link listens to, and one channel per
//! book that only that book's writer opens. A book link in the engine that runs the hub
//! (the usual case: one tab, its own book) skips the channels both ways ([`LOCAL_HUB`],
//! [`LOCAL_BOOKS`]): each message runs as a microtask of this worker, in order, once its
//! sender's code has returned, instead of a hop through the browser's processes (4–8 ms
//! each under load, several per sync).

use std::{cell::RefCell, collections::BTreeMap, rc::Rc};

use js_sys::Uint8Array;
use shared::sync::engine_protocol::{decode, encode, WIRE_FINGERPRINT};
use shared::sync::hub::{FromHub, Hub, HubEffect, ToHub};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BinaryType, BroadcastChannel, MessageEvent, WebSocket};

use crate::clock::now;

thread_local! {
    /// The hub, when this engine runs it: this engine's book links reach it directly.
    static LOCAL_HUB: RefCell<Option<HubRuntime>> = const { RefCell::new(None) };
    /// This engine's book links, by book: the hub here tells them directly.
    static LOCAL_BOOKS: RefCell<BTreeMap<String, BookLink>> = const { RefCell::new(BTreeMap::new()) };
}

/// Runs `deliver` as a microtask, once the code running now has returned, in the order
/// asked: a message within this worker never arrives while its sender is still working
/// (the hub and the links call each other back).
fn soon(deliver: impl FnOnce() + 'static) {
    wasm_bindgen_futures::spawn_local(async move { deliver() });
}

fn name(what: &str) -> String {
    format!("fieldbook-{what}-{WIRE_FINGERPRINT:016x}")
}

fn inbox_name() -> String {
    name("hub")
}

fn announcements_name() -> String {
    name("hub-up")
}

fn book_channel_name(book: &str) -> String {
    format!("{}:{book}", name("link"))
}

fn post<M: serde::Serialize>(channel: &BroadcastChannel, message: &M) {
    let bytes = Uint8Array::from(encode(message).as_slice());
    if let Err(err) = channel.post_message(&bytes) {
        tracing::warn!(cause = ?err, "could not post to the hub or a book");
    }
}

/// Listens to `channel` with `handler` for messages of type `M`; the closure lives as long as
/// the worker.
fn listen<M: serde::de::DeserializeOwned + 'static>(
    channel: &BroadcastChannel,
    handler: impl Fn(M) + 'static,
) {
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
            return;
        };
        match decode::<M>(&array.to_vec()) {
            Ok(message) => handler(message),
            Err(err) => tracing::warn!(cause = %err, "ignoring a hub message"),
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

/// Adds `n` to a number on the worker's scope, which tests and the benchmark read.
fn count(property: &str, n: f64) {
    let before = common::global::property(property).as_f64().unwrap_or(0.0);
    common::global::set_property(property, &(before + n).into());
}

// ---------------------------------------------------------------------------------------
// The hub

struct HubInner {
    hub: Hub,
    socket: Option<WebSocket>,
    /// Closures the socket calls; dropped with it.
    socket_closures: Vec<Box<dyn std::any::Any>>,
    generation: u64,
    timer: Option<i32>,
    /// Each book's channel, opened when first told something.
    books: BTreeMap<String, BroadcastChannel>,
}

#[derive(Clone)]
struct HubRuntime(Rc<RefCell<HubInner>>);

/// Asks for the hub's lock; runs the hub in this engine once granted (at once when no other
/// engine of the profile holds it, or when that engine goes away).
pub fn contend() {
    let Some(locks) = crate::tabs::web_locks() else {
        // The tabs' election reports it; nothing syncs without Web Locks.
        return;
    };
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        if let Err(message) = HubRuntime::start() {
            tracing::error!(%message, "cannot run the connection hub");
        }
        crate::tabs::held_forever()
    });
    if let Err(err) = crate::tabs::request_named_lock(&locks, &name("hub-lock"), None, &callback) {
        tracing::error!(cause = ?err, "cannot ask for the hub's lock");
    }
}

impl HubRuntime {
    fn start() -> Result<(), String> {
        let inbox = BroadcastChannel::new(&inbox_name()).map_err(|e| format!("{e:?}"))?;
        let announcements =
            BroadcastChannel::new(&announcements_name()).map_err(|e| format!("{e:?}"))?;
        let hub = Hub::new(crate::sync::random_seed());
        let up = hub.up();
        let runtime = HubRuntime(Rc::new(RefCell::new(HubInner {
            hub,
            socket: None,
            socket_closures: Vec::new(),
            generation: 0,
            timer: None,
            books: BTreeMap::new(),
        })));
        let receiver = runtime.clone();
        listen(&inbox, move |message: ToHub| {
            receiver.call(|hub| hub.from_book(message, now()));
        });
        LOCAL_HUB.with(|hub| *hub.borrow_mut() = Some(runtime.clone()));
        // Books linked to an earlier hub attach again; books that asked before this hub
        // listened ask again (this engine's own too: the channel reaches every other
        // channel object of its name, in this worker as well).
        post(&announcements, &up);
        common::global::set_property("fieldbookHub", &true.into());
        // Both channels live as long as the worker.
        std::mem::forget(inbox);
        std::mem::forget(announcements);
        tracing::warn!("this engine now holds the device's connection to the relay");
        Ok(())
    }

    fn call(&self, event: impl FnOnce(&mut Hub) -> Vec<HubEffect>) {
        let effects = event(&mut self.0.borrow_mut().hub);
        self.run(effects);
        self.schedule();
    }

    fn run(&self, effects: Vec<HubEffect>) {
        for effect in effects {
            match effect {
                HubEffect::Open => self.open(),
                HubEffect::Send(frame) => {
                    let socket = self.0.borrow().socket.clone();
                    if let Some(socket) = socket {
                        count("fieldbookSocketBytes", frame.len() as f64);
                        count("fieldbookSocketSends", 1.0);
                        if let Err(err) = socket.send_with_u8_array(&frame) {
                            tracing::warn!(cause = ?err, "send failed");
                        }
                    }
                }
                HubEffect::Close => self.close(),
                HubEffect::Tell { book, message } => {
                    if let Some(link) = LOCAL_BOOKS.with(|books| books.borrow().get(&book).cloned())
                    {
                        soon(move || link.received(message));
                        continue;
                    }
                    let channel = {
                        let mut inner = self.0.borrow_mut();
                        match inner.books.get(&book) {
                            Some(channel) => Some(channel.clone()),
                            None => match BroadcastChannel::new(&book_channel_name(&book)) {
                                Ok(channel) => {
                                    inner.books.insert(book.clone(), channel.clone());
                                    Some(channel)
                                }
                                Err(err) => {
                                    tracing::warn!(cause = ?err, "no channel to a book");
                                    None
                                }
                            },
                        }
                    };
                    if let Some(channel) = channel {
                        post(&channel, &message);
                    }
                }
            }
        }
    }

    fn schedule(&self) {
        if let Some(timer) = self.0.borrow_mut().timer.take() {
            common::global::clear_timeout(timer);
        }
        let Some(at) = self.0.borrow().hub.next_wakeup() else {
            return;
        };
        let delay = (at.0 - now().0).clamp(0, i32::MAX as i64) as i32;
        let runtime = self.clone();
        let callback = Closure::once_into_js(move || {
            runtime.0.borrow_mut().timer = None;
            runtime.call(|hub| hub.tick(now()));
        });
        if let Some(handle) = common::global::set_timeout(&callback, delay) {
            self.0.borrow_mut().timer = Some(handle);
        }
    }

    fn open(&self) {
        self.close();
        common::perf::mark("fieldbook:socket-opening");
        let (protocol, host) = common::global::protocol_and_host();
        let scheme = if protocol == "https:" { "wss" } else { "ws" };
        let socket = match WebSocket::new(&format!("{scheme}://{host}/sync")) {
            Ok(socket) => socket,
            Err(err) => {
                tracing::warn!(cause = ?err, "cannot open a WebSocket");
                self.call(Hub::closed);
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let generation = {
            let mut inner = self.0.borrow_mut();
            inner.generation += 1;
            inner.generation
        };
        let current = {
            let runtime = self.clone();
            move || runtime.0.borrow().generation == generation
        };
        let (runtime, is_current) = (self.clone(), current.clone());
        let on_open = Closure::<dyn Fn()>::new(move || {
            if is_current() {
                // For tests: which engine holds the open socket, and how many it opened.
                common::global::set_property("fieldbookSocketOpen", &true.into());
                count("fieldbookSocketsOpened", 1.0);
                common::perf::mark("fieldbook:socket-open");
                runtime.call(|hub| hub.opened(now()));
            }
        });
        let (runtime, is_current) = (self.clone(), current.clone());
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if !is_current() {
                return;
            }
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                let bytes = Uint8Array::new(&buffer).to_vec();
                count("fieldbookSocketBytes", bytes.len() as f64);
                count("fieldbookSocketReceives", 1.0);
                common::perf::mark_few("fieldbook:socket-frame");
                runtime.call(|hub| hub.frame(&bytes));
            }
        });
        let runtime = self.clone();
        let on_close = Closure::<dyn Fn()>::new(move || {
            if current() {
                common::global::set_property("fieldbookSocketOpen", &false.into());
                runtime.0.borrow_mut().socket = None;
                runtime.call(Hub::closed);
            }
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.0.borrow_mut();
        inner.socket = Some(socket);
        inner.socket_closures = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
    }

    fn close(&self) {
        let mut inner = self.0.borrow_mut();
        inner.generation += 1;
        if let Some(socket) = inner.socket.take() {
            common::global::set_property("fieldbookSocketOpen", &false.into());
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        inner.socket_closures.clear();
    }
}

// ---------------------------------------------------------------------------------------
// A book's side

/// What a book's link reports to its sync runtime.
#[derive(Debug)]
pub enum LinkEvent {
    /// The connection is open: send.
    Opened,
    /// A frame from the relay for this book's channels.
    Frame(Vec<u8>),
    /// The connection closed, or did not open.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Off,
    Opening,
    Open { hub: u64 },
}

struct LinkInner {
    book: String,
    attempt: u64,
    phase: Phase,
    to_hub: BroadcastChannel,
    on_event: Rc<dyn Fn(LinkEvent)>,
}

/// Sends `message` to the hub: directly when this engine runs it, else on its inbox.
fn to_hub(inbox: &BroadcastChannel, message: ToHub) {
    match LOCAL_HUB.with(|hub| hub.borrow().clone()) {
        Some(hub) => soon(move || hub.call(|hub| hub.from_book(message, now()))),
        None => post(inbox, &message),
    }
}

/// A book's connection to the relay, through the hub.
#[derive(Clone)]
pub struct BookLink(Rc<RefCell<LinkInner>>);

impl BookLink {
    /// The link of `book` (its database's name), reporting to `on_event`.
    pub fn new(book: String, on_event: impl Fn(LinkEvent) + 'static) -> Result<BookLink, String> {
        let to_hub = BroadcastChannel::new(&inbox_name()).map_err(|e| format!("{e:?}"))?;
        let from_hub =
            BroadcastChannel::new(&book_channel_name(&book)).map_err(|e| format!("{e:?}"))?;
        let announcements =
            BroadcastChannel::new(&announcements_name()).map_err(|e| format!("{e:?}"))?;
        let link = BookLink(Rc::new(RefCell::new(LinkInner {
            book,
            attempt: (js_sys::Math::random() * 1e9) as u64,
            phase: Phase::Off,
            to_hub,
            on_event: Rc::new(on_event),
        })));
        let receiver = link.clone();
        listen(&from_hub, move |message: FromHub| {
            receiver.received(message)
        });
        LOCAL_BOOKS.with(|books| {
            books
                .borrow_mut()
                .insert(link.0.borrow().book.clone(), link.clone())
        });
        let receiver = link.clone();
        listen(&announcements, move |message: FromHub| {
            receiver.received(message)
        });
        // Both live as long as the worker (a book's link is made once, in its writer).
        std::mem::forget(from_hub);
        std::mem::forget(announcements);
        Ok(link)
    }

    /// Asks the hub for a connection (a new attempt; an earlier one is let go).
    pub fn open(&self) {
        self.close();
        let mut inner = self.0.borrow_mut();
        inner.attempt += 1;
        inner.phase = Phase::Opening;
        let message = ToHub::Attach {
            book: inner.book.clone(),
            attempt: inner.attempt,
        };
        to_hub(&inner.to_hub, message);
    }

    /// Sends a frame, if the link is open.
    pub fn send(&self, frame: Vec<u8>) {
        let inner = self.0.borrow();
        if !matches!(inner.phase, Phase::Open { .. }) {
            return;
        }
        to_hub(
            &inner.to_hub,
            ToHub::Frame {
                book: inner.book.clone(),
                attempt: inner.attempt,
                frame,
            },
        );
    }

    /// Lets the connection go (no `Closed` event follows).
    pub fn close(&self) {
        let mut inner = self.0.borrow_mut();
        if inner.phase == Phase::Off {
            return;
        }
        inner.phase = Phase::Off;
        let message = ToHub::Detach {
            book: inner.book.clone(),
            attempt: inner.attempt,
        };
        to_hub(&inner.to_hub, message);
    }

    fn received(&self, message: FromHub) {
        let event = {
            let mut inner = self.0.borrow_mut();
            match message {
                FromHub::Opened { hub, attempt }
                    if attempt == inner.attempt && inner.phase == Phase::Opening =>
                {
                    inner.phase = Phase::Open { hub };
                    LinkEvent::Opened
                }
                FromHub::Frame { attempt, frame }
                    if attempt == inner.attempt && matches!(inner.phase, Phase::Open { .. }) =>
                {
                    LinkEvent::Frame(frame)
                }
                FromHub::Closed { attempt }
                    if attempt == inner.attempt && inner.phase != Phase::Off =>
                {
                    inner.phase = Phase::Off;
                    LinkEvent::Closed
                }
                FromHub::Up { hub } => match inner.phase {
                    // The attach may have gone out before this hub listened: ask again.
                    Phase::Opening => {
                        inner.attempt += 1;
                        let message = ToHub::Attach {
                            book: inner.book.clone(),
                            attempt: inner.attempt,
                        };
                        to_hub(&inner.to_hub, message);
                        return;
                    }
                    Phase::Open { hub: linked } if linked != hub => {
                        inner.phase = Phase::Off;
                        LinkEvent::Closed
                    }
                    _ => return,
                },
                _ => return,
            }
        };
        let on_event = Rc::clone(&self.0.borrow().on_event);
        on_event(event);
    }
}
