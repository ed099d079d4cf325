//! The document maker: a second instance of this wasm, in a worker the engine starts for a
//! large create (an import, sample data), which makes part of each batch's new documents
//! on another core while the engine makes the rest ([`crate::repo::Repo::create_many`]).
//!
//! Making a new customer's document (Automerge through autosurgeon) is most of an import's
//! time, and it is pure: customer in, bytes, summary and facts out. The maker holds nothing
//! between requests — each [`MakeDocuments`] carries the actor, author, time and fields the
//! engine would use — and never touches storage: the engine writes what it made, in the
//! same transaction as its own part, so nothing is stored half-way whoever made it.
//!
//! A maker that cannot start, fails or does not answer is stopped and not started again by
//! this engine: the engine then makes every document itself, as before there was a maker.
//! An idle maker is stopped after [`IDLE_MS`], so its memory is not kept.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
};

use automerge::ActorId;
use futures_channel::oneshot;
use js_sys::Uint8Array;
use shared::sync::engine_protocol::{
    decode, encode, EngineError, MadeDocument, MadeDocuments, MakeDocuments,
};
use shared::{Customer, CustomerDoc, Timestamp};
use wasm_bindgen::{prelude::*, JsCast};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::repo::RepoError;

/// The maker's worker name: [`crate::run`] serves [`MakeDocuments`] in a worker so named
/// instead of starting an engine.
pub const WORKER_NAME: &str = "fieldbook-maker";

/// The engine's script (Trunk's loader of this wasm), started once more for the maker.
const SCRIPT: &str = "/fieldbook-engine_loader.js";

/// A maker idle this long is stopped; the next large create starts another.
const IDLE_MS: i32 = 15_000;

/// A maker that has not answered within this long is taken as broken.
const ANSWER_WITHIN_MS: i32 = 20_000;

/// Makes new customers' documents: the engine's own part and the maker's alike.
pub struct DocumentMaker {
    /// The Automerge actor of the documents.
    pub actor: ActorId,
    /// Who their history names.
    pub author: Option<String>,
    /// When they are made.
    pub now: Timestamp,
    /// The book's custom fields, which every customer's values are checked against.
    pub fields: std::collections::BTreeMap<String, shared::model::custom_fields::FieldDefinition>,
}

impl DocumentMaker {
    /// `customer`'s new document, its summary and its facts.
    pub fn make(&self, customer: Customer) -> Result<MadeDocument, RepoError> {
        shared::model::custom_fields::check_values(None, &customer, &self.fields)
            .map_err(RepoError::Invalid)?;
        let (snapshot, summary, facts) = CustomerDoc::create_snapshot(
            customer,
            self.actor.clone(),
            self.author.as_deref(),
            self.now,
        )?;
        Ok(MadeDocument {
            snapshot,
            summary,
            facts,
        })
    }

    /// The request asking the maker for `customers`' documents.
    fn request(&self, id: u64, customers: &[Customer]) -> MakeDocuments {
        MakeDocuments {
            id,
            customers: customers.to_vec(),
            actor: self.actor.to_bytes().to_vec(),
            author: self.author.clone(),
            now: self.now,
            fields: self.fields.clone(),
        }
    }
}

/// Serves [`MakeDocuments`] in this worker, the maker (named [`WORKER_NAME`]).
pub fn serve() {
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
            return;
        };
        let request = match decode::<MakeDocuments>(&array.to_vec()) {
            Ok(request) => request,
            Err(err) => {
                tracing::warn!(cause = %err, "the maker ignores a message");
                return;
            }
        };
        let id = request.id;
        let maker = DocumentMaker {
            actor: ActorId::from(request.actor),
            author: request.author,
            now: request.now,
            fields: request.fields,
        };
        let made = (request.customers.into_iter())
            .map(|customer| maker.make(customer).map_err(EngineError::from))
            .collect();
        post(&MadeDocuments { id, made });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_message.forget();
    // Messages posted to a worker before its handler exists are lost: the engine holds its
    // requests until this says the maker listens.
    post(&MadeDocuments {
        id: READY,
        made: Ok(Vec::new()),
    });
}

/// The id of the maker's first message, which says it listens (requests count from 1).
const READY: u64 = 0;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts the maker's answer, its bytes transferred.
fn post(answer: &MadeDocuments) {
    let bytes = Uint8Array::from(encode(answer).as_slice());
    if let Err(err) = common::global::post_transferred(&js_sys::global(), &bytes) {
        tracing::warn!(cause = ?err, "the maker could not answer");
    }
}

type Answer = Result<Vec<MadeDocument>, EngineError>;

/// The engine's handle to its maker.
struct Maker {
    worker: Worker,
    pending: HashMap<u64, oneshot::Sender<Answer>>,
    next_id: u64,
    /// Requests posted once the maker listens (`None` from then on).
    queued: Option<Vec<Uint8Array>>,
    /// Bumped by every request: an idle stop scheduled before a later request does nothing.
    generation: u64,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(JsValue)>,
}

thread_local! {
    static MAKER: RefCell<Option<Maker>> = const { RefCell::new(None) };
    /// Set once a maker failed: this engine makes every document itself from then on.
    static BROKEN: Cell<bool> = const { Cell::new(false) };
}

/// Documents the maker is making; [`Pending::finish`] has them.
pub struct Pending {
    id: u64,
    answer: oneshot::Receiver<Answer>,
    /// Given back if the maker fails, for the engine to make itself.
    customers: Vec<Customer>,
}

/// Asks the maker for `customers`' documents (starting it if needed). `Err` gives them back
/// when there is no working maker: the caller makes them itself.
pub fn start(maker: &DocumentMaker, customers: Vec<Customer>) -> Result<Pending, Vec<Customer>> {
    if BROKEN.get() {
        return Err(customers);
    }
    let asked = MAKER.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.is_none() {
            *slot = spawn();
        }
        let handle = slot.as_mut()?;
        let id = handle.next_id;
        handle.next_id += 1;
        handle.generation += 1;
        let bytes = Uint8Array::from(encode(&maker.request(id, &customers)).as_slice());
        match &mut handle.queued {
            Some(queued) => queued.push(bytes),
            None => {
                if !handle.post(&bytes) {
                    return None;
                }
            }
        }
        let (sender, answer) = oneshot::channel();
        handle.pending.insert(id, sender);
        Some((id, answer))
    });
    match asked {
        Some((id, answer)) => {
            // Also when the caller drops what it asked for (an import that failed before).
            stop_when_idle();
            Ok(Pending {
                id,
                answer,
                customers,
            })
        }
        None => {
            broken();
            Err(customers)
        }
    }
}

impl Pending {
    /// The maker's documents (or the first customer's error); `Err` gives the customers back
    /// when the maker failed or did not answer in time: the caller makes them itself.
    pub async fn finish(self) -> Result<Result<Vec<MadeDocument>, RepoError>, Vec<Customer>> {
        use futures_util::future::{select, Either};
        let timeout = std::pin::pin!(common::perf::sleep(ANSWER_WITHIN_MS));
        let answer = match select(self.answer, timeout).await {
            Either::Left((Ok(answer), _)) => Some(answer),
            Either::Left((Err(_), _)) | Either::Right(_) => None,
        };
        let Some(answer) = answer else {
            tracing::warn!(request = self.id, "the document maker did not answer");
            broken();
            return Err(self.customers);
        };
        stop_when_idle();
        Ok(answer.map_err(|err| match err {
            EngineError::Invalid(errors) => RepoError::Invalid(errors),
            other => RepoError::Failed(other.to_string()),
        }))
    }
}

impl Maker {
    /// Posts a request's bytes, transferred; false if the worker refused them.
    fn post(&self, bytes: &Uint8Array) -> bool {
        match common::global::post_transferred(&self.worker, bytes) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(cause = ?err, "cannot ask the document maker");
                false
            }
        }
    }
}

/// Starts the maker's worker; `None` if it cannot start.
fn spawn() -> Option<Maker> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    options.set_name(WORKER_NAME);
    let worker = match Worker::new_with_options(SCRIPT, &options) {
        Ok(worker) => worker,
        Err(err) => {
            tracing::warn!(cause = ?err, "cannot start the document maker");
            return None;
        }
    };
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|event: MessageEvent| {
        let Ok(array) = event.data().dyn_into::<Uint8Array>() else {
            return;
        };
        match decode::<MadeDocuments>(&array.to_vec()) {
            Ok(MadeDocuments { id: READY, .. }) => {
                let posted = MAKER.with(|slot| {
                    let mut slot = slot.borrow_mut();
                    let Some(maker) = slot.as_mut() else {
                        return true;
                    };
                    let queued = maker.queued.take().unwrap_or_default();
                    queued.iter().all(|bytes| maker.post(bytes))
                });
                if !posted {
                    broken();
                }
            }
            Ok(MadeDocuments { id, made }) => {
                let sender = MAKER.with(|slot| {
                    (slot.borrow_mut().as_mut()).and_then(|maker| maker.pending.remove(&id))
                });
                if let Some(sender) = sender {
                    let _ = sender.send(made);
                }
            }
            Err(err) => {
                tracing::warn!(cause = %err, "the document maker's answer cannot be read");
                broken();
            }
        }
    });
    let on_error = Closure::<dyn Fn(JsValue)>::new(|err: JsValue| {
        let message = js_sys::Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|message| message.as_string())
            .unwrap_or_default();
        tracing::warn!(%message, "the document maker failed");
        broken();
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Maker {
        worker,
        pending: HashMap::new(),
        next_id: READY + 1,
        queued: Some(Vec::new()),
        generation: 0,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// Stops the maker for good: whatever it was asked fails over to the engine (the pending
/// answers' senders are dropped).
fn broken() {
    BROKEN.set(true);
    if let Some(maker) = MAKER.with(|slot| slot.borrow_mut().take()) {
        maker.worker.terminate();
        // Dropped in a later task: this may run inside the maker's own message or error
        // handler, which must not be freed while it runs.
        leptos::task::spawn_local(async move { drop(maker) });
    }
}

/// Stops the maker once it has been idle for [`IDLE_MS`].
fn stop_when_idle() {
    let Some(generation) = MAKER.with(|slot| slot.borrow().as_ref().map(|m| m.generation)) else {
        return;
    };
    leptos::task::spawn_local(async move {
        common::perf::sleep(IDLE_MS).await;
        let idle = MAKER.with(|slot| {
            let mut slot = slot.borrow_mut();
            let idle = (slot.as_ref())
                .is_some_and(|maker| maker.generation == generation && maker.pending.is_empty());
            if idle {
                slot.take()
            } else {
                None
            }
        });
        if let Some(maker) = idle {
            maker.worker.terminate();
        }
    });
}
