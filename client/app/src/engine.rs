//! The page's link to its engine: the dedicated worker that holds the book (`client/engine`,
//! built by Trunk as `fieldbook-engine`). Requests get an id and wait for exactly one answer;
//! events go to whoever registered for them ([`crate::repo::Repo`], [`crate::sync::Sync`]).
//! The messages are `shared::sync::engine_protocol`'s, as transferred postcard bytes.

use std::{cell::RefCell, collections::HashMap, rc::Rc};

use futures_channel::oneshot;
use js_sys::Uint8Array;
use leptos::prelude::*;
use shared::sync::engine_protocol::{
    decode, encode, EngineError, EngineEvent, EngineRequest, EngineRole, FromEngine, Reply,
    ToEngine, WireError, OTHER_BUILD,
};
use shared::sync::tab_protocol::RequestId;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{MessageEvent, Worker};

/// The engine worker's script (Trunk's loader shim of the `fieldbook-engine` binary), by an
/// absolute path: a relative one would resolve under client routes such as `/customers/…`.
const ENGINE_SCRIPT: &str = "/fieldbook-engine_loader.js";

/// The longest [`Engine::start`] holds this tab's engine.
const HOLD_AT_MOST: std::time::Duration = std::time::Duration::from_millis(1_500);

/// A message from the engine this long is marked as it arrives and once decoded.
const BULK_MESSAGE_BYTES: u32 = 64 * 1024;

/// The part this tab's engine plays among the tabs of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The engine is starting or taking part in the election.
    Starting,
    /// This tab's engine writes IndexedDB and syncs for every tab.
    Writer,
    /// Another tab's engine writes.
    Follower,
    /// Nothing can be written here (no Web Locks, or no worker).
    Unsupported,
}

type Listener = Rc<dyn Fn(&EngineEvent)>;
/// An `online` or `offline` listener of the window, by its event's name.
type NetworkListener = (&'static str, Closure<dyn Fn()>);
type Progress = Rc<dyn Fn(usize, usize)>;

struct Pending {
    answer: oneshot::Sender<Result<Reply, EngineError>>,
    progress: Option<Progress>,
}

struct Inner {
    worker: Option<Worker>,
    /// The page's online/offline listeners telling this engine (removed by [`Engine::stop`]).
    network: Vec<NetworkListener>,
    /// The engine's messages from before [`Engine::connect`].
    early: Option<Vec<MessageEvent>>,
    /// This tab's engine is not started yet ([`Engine::start`]): its boot would compete with
    /// the list's start for the device's cores. Requests wait in `queued` meanwhile.
    held: bool,
    /// [`Engine::connect`] was called while the engine was held: done when it starts.
    connect_when_started: bool,
    /// Until the engine's first message, requests wait here (a module worker may not listen
    /// yet while its wasm loads).
    queued: Option<Vec<Vec<u8>>>,
    next_request: u64,
    pending: HashMap<RequestId, Pending>,
    next_listener: u64,
    listeners: Vec<(ListenerId, Listener)>,
}

/// A handler of an engine's events, to remove it ([`Engine::unlisten`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerId(u64);

/// The handle to this tab's engine, cheap to copy.
#[derive(Clone, Copy)]
pub struct Engine {
    /// The engine's part; the app shows a "paused" screen when nothing can be written.
    pub role: RwSignal<Role>,
    /// Why the screens cannot work with this engine (it comes from another build).
    pub problem: RwSignal<Option<String>>,
    inner: StoredValue<Rc<RefCell<Inner>>, LocalStorage>,
}

impl Engine {
    /// The engine of this tab's book, its worker started at once when `index.html` already
    /// started it (the list waits for it), else held until [`Engine::release`]: a start that
    /// shows the stored book draws the list from `index.html`'s own read, and the engine's
    /// boot (its worker, its 2.6 MB wasm compiled on the device's cores) slowed that start's
    /// decode and build by a third when it ran beside them. Released once the list shows the
    /// whole book (`routes::list`), as any other screen is chosen ([`release_held`], from
    /// `screens`' routes), when there is no stored book to show, or after [`HOLD_AT_MOST`]
    /// in any case.
    pub fn start() -> Engine {
        let engine = Engine::new();
        if has_early_worker() {
            engine.spawn(None);
        } else {
            engine.inner().borrow_mut().held = true;
            set_timeout(move || engine.release(), HOLD_AT_MOST);
        }
        engine
    }

    /// Starts this tab's engine if [`Engine::start`] held it (else nothing).
    pub fn release(self) {
        let (held, connect) = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            (
                std::mem::take(&mut inner.held),
                std::mem::take(&mut inner.connect_when_started),
            )
        };
        if held {
            self.spawn(None);
            if connect {
                self.connect();
            }
        }
    }

    /// Starts an engine for another book (`None`: the account's own) — see
    /// [`crate::other_books`]: it keeps that book in sync, as its writer or following the tab
    /// that is, until [`Engine::stop`]. Its messages are read at once.
    pub fn start_book(book: Option<&shared::sync::team::TeamBook>) -> Engine {
        // Not owned by the screen that starts it: a message already queued when the screen
        // goes away still finds the engine's state (with no listener left, see `stop`).
        let engine = unowned(Engine::new);
        // The worker's name says which book it opens; the own book's is empty.
        let name = book.and_then(|book| serde_json::to_string(book).ok());
        engine.spawn(Some(name.unwrap_or_default()));
        engine.connect();
        // No page shows this book before its engine tells it (`ToEngine::Holds`).
        engine.tell(ToEngine::Holds { data_version: None });
        engine
    }

    /// Stops the worker (a background book's); what it committed stays committed, a
    /// request it had not answered fails.
    pub fn stop(self) {
        let (worker, network, pending) = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.listeners.clear();
            (
                inner.worker.take(),
                std::mem::take(&mut inner.network),
                std::mem::take(&mut inner.pending),
            )
        };
        if let Some(worker) = worker {
            worker.terminate();
            tracing::debug!("stopped a book's engine");
        }
        for (event, callback) in network {
            let _ = window()
                .remove_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        }
        drop(pending);
    }

    fn new() -> Engine {
        Engine {
            role: RwSignal::new(Role::Starting),
            problem: RwSignal::new(None),
            inner: StoredValue::new_local(Rc::new(RefCell::new(Inner {
                worker: None,
                network: Vec::new(),
                early: None,
                held: false,
                connect_when_started: false,
                queued: Some(Vec::new()),
                next_request: 1,
                pending: HashMap::new(),
                next_listener: 1,
                listeners: Vec::new(),
            }))),
        }
    }

    fn inner(&self) -> Rc<RefCell<Inner>> {
        self.inner.with_value(Rc::clone)
    }

    /// Starts the worker of `book` (a [`TeamBook`]'s JSON), or of this tab's book.
    ///
    /// [`TeamBook`]: shared::sync::team::TeamBook
    fn spawn(self, book: Option<String>) {
        if book.is_none() {
            // Benchmarks read when this tab's engine was started (see `e2e/bench`).
            common::perf::mark("fieldbook:engine-spawned");
        }
        let early = match book {
            Some(_) => None,
            None => {
                // `index.html` starts the worker before this wasm loads when the list needs it
                // (see there); else start it now, and tell `index.html` not to start another.
                let _ =
                    js_sys::Reflect::set(&window(), &"fieldbookEngineTaken".into(), &true.into());
                take_early_worker()
            }
        };
        let (worker, early) = match early {
            Some((worker, early)) => (worker, early),
            None => {
                let options = web_sys::WorkerOptions::new();
                options.set_type(web_sys::WorkerType::Module);
                // Which book the engine opens (`crate::book`).
                options.set_name(&book.unwrap_or_else(crate::book::worker_name));
                match Worker::new_with_options(ENGINE_SCRIPT, &options) {
                    Ok(worker) => (worker, Vec::new()),
                    Err(err) => {
                        tracing::error!(cause = ?err, "cannot start the engine worker");
                        self.role.set(Role::Unsupported);
                        return;
                    }
                }
            }
        };
        let on_error = Closure::<dyn Fn(JsValue)>::new(move |err: JsValue| {
            // An ErrorEvent: what failed and where, in words (its Debug form says nothing).
            let field = |name: &str| {
                js_sys::Reflect::get(&err, &JsValue::from_str(name))
                    .ok()
                    .filter(|value| !value.is_undefined())
                    .map(|value| value.as_string().unwrap_or_else(|| format!("{value:?}")))
                    .unwrap_or_default()
            };
            tracing::error!(
                message = %field("message"),
                file = %field("filename"),
                line = %field("lineno"),
                "the engine worker failed"
            );
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            inner.worker = Some(worker);
            inner.early = Some(early);
        }
        // A worker gets no online/offline events: the page tells its engine.
        for (event, online) in [("online", true), ("offline", false)] {
            let callback = Closure::<dyn Fn()>::new(move || {
                self.post(encode(&ToEngine::Online(online)));
            });
            let _ =
                window().add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
            self.inner().borrow_mut().network.push((event, callback));
        }
    }

    /// Starts reading the engine's messages, those it sent before included, in order. Called
    /// once the repo and sync listen (else an early `Book` event would reach nobody).
    pub fn connect(self) {
        let (worker, early) = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            if inner.held {
                inner.connect_when_started = true;
                return;
            }
            (inner.worker.clone(), inner.early.take().unwrap_or_default())
        };
        let Some(worker) = worker else {
            return;
        };
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
                return;
            };
            // A bulk answer (a dashboard's figures): when it arrived and how long its
            // decode took, for the benchmarks' marks.
            let bulk = array.length() > BULK_MESSAGE_BYTES;
            if bulk {
                common::perf::mark_few("fieldbook:bulk-message-arrived");
            }
            let decoded = decode::<FromEngine>(&array.to_vec());
            if bulk {
                common::perf::mark_few("fieldbook:bulk-message-decoded");
            }
            match decoded {
                Ok(message) => self.received(message),
                Err(WireError::OtherBuild) => {
                    tracing::error!("the engine worker comes from another build");
                    self.problem.set(Some(OTHER_BUILD.into()));
                }
                Err(err) => tracing::warn!(cause = %err, "ignoring a message from the engine"),
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // What the engine said before this wasm listened, in order (nothing else can arrive
        // before this synchronous loop ends).
        for event in early {
            let _ = on_message
                .as_ref()
                .unchecked_ref::<js_sys::Function>()
                .call1(&JsValue::NULL, &event);
        }
        on_message.forget();
    }

    fn received(self, message: FromEngine) {
        // The engine listens now: send what waited, then the network state.
        let queued = self.inner().borrow_mut().queued.take();
        if let Some(queued) = queued {
            self.post(encode(&ToEngine::Online(window().navigator().on_line())));
            for bytes in queued {
                self.post(bytes);
            }
        }
        match message {
            FromEngine::Answer { id, result } => {
                let pending = self.inner().borrow_mut().pending.remove(&id);
                if let Some(pending) = pending {
                    let _ = pending.answer.send(result);
                }
            }
            FromEngine::Progress { id, done, total } => {
                let progress = self
                    .inner()
                    .borrow()
                    .pending
                    .get(&id)
                    .and_then(|pending| pending.progress.clone());
                if let Some(progress) = progress {
                    progress(done, total);
                }
            }
            FromEngine::Event(EngineEvent::Role(role)) => self.role.set(match role {
                EngineRole::Writer => Role::Writer,
                EngineRole::Follower => Role::Follower,
                EngineRole::Unsupported => Role::Unsupported,
            }),
            FromEngine::Event(event) => {
                let listeners = self.inner().borrow().listeners.clone();
                for (_, listener) in listeners {
                    listener(&event);
                }
            }
        }
    }

    /// Tells the engine something that has no answer.
    pub fn tell(self, message: ToEngine) {
        self.post(encode(&message));
    }

    /// Posts bytes to the worker (transferred), or queues them until it listens.
    fn post(self, bytes: Vec<u8>) {
        let worker = {
            let inner = self.inner();
            let mut inner = inner.borrow_mut();
            if let Some(queued) = inner.queued.as_mut() {
                queued.push(bytes);
                return;
            }
            inner.worker.clone()
        };
        let Some(worker) = worker else {
            return;
        };
        let array = Uint8Array::from(bytes.as_slice());
        if let Err(err) = common::global::post_transferred(&worker, &array) {
            tracing::warn!(cause = ?err, "could not reach the engine");
        }
    }

    /// Resolves once the engine has decided its part (its wasm is loaded and running).
    pub fn started(self) -> impl std::future::Future<Output = ()> {
        let role = self.role;
        async move {
            while role.get_untracked() == Role::Starting {
                common::perf::sleep(50).await;
            }
        }
    }

    /// Adds a handler of the engine's events.
    pub fn listen(&self, listener: impl Fn(&EngineEvent) + 'static) -> ListenerId {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        let id = ListenerId(inner.next_listener);
        inner.next_listener += 1;
        inner.listeners.push((id, Rc::new(listener)));
        id
    }

    /// Removes a handler added by [`Engine::listen`] (a screen that goes away while the
    /// engine stays, see [`crate::other_books`]).
    pub fn unlisten(&self, id: ListenerId) {
        self.inner()
            .borrow_mut()
            .listeners
            .retain(|(listener, _)| *listener != id);
    }

    /// Asks the engine; resolves with its answer.
    pub async fn ask(&self, request: EngineRequest) -> Result<Reply, EngineError> {
        self.ask_with_progress(request, None).await
    }

    /// Asks the engine, with `progress(done, total)` while a long request runs.
    pub async fn ask_with_progress(
        &self,
        request: EngineRequest,
        progress: Option<Rc<dyn Fn(usize, usize)>>,
    ) -> Result<Reply, EngineError> {
        self.send(request, progress).await
    }

    /// Posts the request now (several can be in flight, answered in the engine's order);
    /// the future resolves with its answer.
    pub fn send(
        &self,
        request: EngineRequest,
        progress: Option<Rc<dyn Fn(usize, usize)>>,
    ) -> impl std::future::Future<Output = Result<Reply, EngineError>> + 'static {
        let receiver = if self.role.get_untracked() == Role::Unsupported {
            None
        } else {
            let (answer, receiver) = oneshot::channel();
            let id = {
                let inner = self.inner();
                let mut inner = inner.borrow_mut();
                let id = RequestId(inner.next_request);
                inner.next_request += 1;
                inner.pending.insert(id, Pending { answer, progress });
                id
            };
            self.post(encode(&ToEngine::Ask {
                id,
                now: crate::time::now(),
                request,
            }));
            Some(receiver)
        };
        async move {
            let Some(receiver) = receiver else {
                return Err(EngineError::Failed(unsupported_message()));
            };
            receiver.await.unwrap_or_else(|_| {
                Err(EngineError::Failed(
                    "not saved: the engine stopped before answering".into(),
                ))
            })
        }
    }
}

/// Runs `make` under an owner of its own, which no screen disposes (what it creates outlives
/// the screen that asked for it), then makes the current owner current again:
/// `Owner::new_root` makes itself the current owner, and a screen rendered after it would
/// lose its contexts (the router's: "use_resolved_path outside a <Router>").
pub(crate) fn unowned<T>(make: impl FnOnce() -> T) -> T {
    let previous = Owner::current();
    let root = Owner::new_root(None);
    let value = root.with(make);
    match previous {
        Some(previous) => previous.set(),
        None => root.clone().unset(),
    }
    // Kept for the page's lifetime (the thread-local holds it weakly).
    std::mem::forget(root);
    value
}

/// Starts this tab's engine if [`Engine::start`] held it: a screen that asks it is chosen.
pub fn release_held() {
    if let Some(engine) = use_context::<Engine>() {
        engine.release();
    }
}

/// Whether `index.html` started this tab's engine worker (see [`take_early_worker`]).
fn has_early_worker() -> bool {
    js_sys::Reflect::get(&window(), &JsValue::from_str(EARLY_WORKER))
        .is_ok_and(|started| started.is_object())
}

/// Where `index.html` leaves the worker it started early (`window.fieldbookEngine`).
const EARLY_WORKER: &str = "fieldbookEngine";

/// The worker `index.html` started early and the messages it posted since, if any.
fn take_early_worker() -> Option<(Worker, Vec<MessageEvent>)> {
    let window = window();
    let key = JsValue::from_str(EARLY_WORKER);
    let started = js_sys::Reflect::get(&window, &key).ok()?;
    let worker: Worker = js_sys::Reflect::get(&started, &"worker".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let early: js_sys::Array = js_sys::Reflect::get(&started, &"early".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let early = early
        .iter()
        .filter_map(|event| event.dyn_into::<MessageEvent>().ok())
        .collect();
    Some((worker, early))
}

/// What the rep reads when this browser cannot run Fieldbook's engine safely.
pub fn unsupported_message() -> String {
    shared::sync::engine_protocol::UNSUPPORTED.into()
}
