//! The engine: what runs in each tab's dedicated worker (`src/bin/fieldbook-engine.rs`), off
//! the page's thread.
//!
//! Every tab's engine takes part in the election of the one writer of the browser profile
//! ([`crate::tabs`]). The writer owns every IndexedDB write (the [`Repo`]'s write paths:
//! edits and new customers the pages send, pages from the relay, imports, compaction,
//! dashboard facts) and the sync runtime ([`Sync`]: the WebSocket, timers, the outbox); it
//! announces every commit to the pages. A page asks over the tabs' channel and never writes,
//! so a 10,000-customer download or a large import costs the screens only the summaries they
//! show. Online and offline come from the page ([`WorkerMessage::Online`]): a worker gets no
//! such events.

use leptos::prelude::*;
use shared::sync::tab_protocol::{decode_worker_message, TabRequest, WorkerMessage};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::{
    repo::Repo,
    sync::Sync,
    tabs::{Side, Tabs},
};

/// Starts the engine in this worker: election, storage, sync, and what the writer serves.
pub fn run() {
    // Leptos's task spawner and reactive owner without a DOM: the repo and sync keep their
    // state in signals, as they do on the page.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    owner.set();
    // Lives as long as the worker.
    std::mem::forget(owner);
    let tabs = Tabs::start(Side::Engine);
    let repo = Repo::start(tabs);
    let sync = Sync::start(repo, tabs);
    tabs.serve(move |from, request| async move {
        match request {
            TabRequest::Store(uploads) => repo
                .store_for(uploads, from)
                .await
                .map(|_| ())
                .map_err(|err| format!("not saved: {err}")),
            TabRequest::SignedIn(session) => sync.start_session(session).await,
            TabRequest::SignOut { discard_unsent } => {
                sync.sign_out_here(discard_unsent).await;
                Ok(())
            }
            TabRequest::Hello => {
                sync.announce();
                Ok(())
            }
        }
    });
    listen_to_page(sync);
}

fn listen_to_page(sync: Sync) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let Ok(array) = event.data().dyn_into::<js_sys::Uint8Array>() else {
            return;
        };
        match decode_worker_message(&array.to_vec()) {
            Ok(WorkerMessage::Online(online)) => sync.set_online(online),
            Ok(WorkerMessage::Role(_)) => {}
            Err(err) => tracing::warn!(cause = %err, "ignoring a message from the page"),
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the worker.
    on_message.forget();
}
