//! Fieldbook's engine: everything that owns the book, running in a dedicated Web Worker
//! that each tab's page starts (`src/bin/fieldbook-engine.rs`).
//!
//! # Layout
//!
//! - [`page`]: the link to this tab's screens: their requests, the events they show
//!   (`shared::sync::engine_protocol`).
//! - [`repo`]: documents, the document cache ([`doc_cache`]), every IndexedDB write
//!   ([`store`]), dashboard facts.
//! - [`tabs`]: one writer per browser profile (Web Locks) among the tabs' engines; the others
//!   ask it over a `BroadcastChannel`.
//! - [`sync`]: the sync runtime (WebSocket, timers, outbox, account API) around
//!   `shared::sync::ClientEngine`; runs in the writer only.
//! - [`global`], [`clock`]: the worker's scope (no window): timers, network state, fetch,
//!   performance marks.

pub mod clock;
pub mod doc_cache;
pub mod global;
pub mod page;
pub mod repo;
pub mod store;
pub mod sync;
pub mod tabs;

/// Sends `tracing` output to the browser console.
pub fn init_tracing() {
    use tracing_subscriber::{fmt, prelude::*};
    let layer = fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_writer(tracing_subscriber_wasm::MakeConsoleWriter::default());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Starts the engine in this worker: the election among the tabs, storage, sync, and the
/// link to the page.
pub fn run() {
    use leptos::prelude::*;
    // Leptos's task spawner and a reactive owner without a DOM: the repo and sync keep their
    // state in signals.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    owner.set();
    // Lives as long as the worker.
    std::mem::forget(owner);
    let tabs = tabs::Tabs::start();
    let repo = repo::Repo::start(tabs);
    let sync = sync::Sync::start(repo, tabs);
    page::serve(tabs, repo, sync);
}
