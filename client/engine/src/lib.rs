//! Fieldbook's engine: everything that owns the book, running in a dedicated Web Worker
//! that each tab's page starts (`src/bin/fieldbook-engine.rs`).
//!
//! # Layout
//!
//! - [`page`]: the link to this tab's screens: their requests, the events they show
//!   (`shared::sync::engine_protocol`).
//! - [`repo`]: documents, the document cache ([`doc_cache`]), every IndexedDB write
//!   (through `common::store`), dashboard facts.
//! - [`tabs`]: one writer per browser profile (Web Locks) among the tabs' engines; the others
//!   ask it over a `BroadcastChannel`.
//! - [`sync`]: the sync runtime (timers, outbox, account API) around
//!   `shared::sync::ClientEngine`; runs in the writer only.
//! - [`link`]: the device's one WebSocket, held by one engine of the profile (the hub) and
//!   shared by every book's writer (`shared::sync::hub`).
//! - [`maker`]: the document maker, a worker the engine starts to make part of a large
//!   import's new documents on another core.
//! - [`clock`]: now, on the page's clock. (The worker's scope — timers, network state,
//!   fetch, marks — is `common::global` and `common::perf`.)

pub mod clock;
pub mod doc_cache;
pub mod link;
pub mod maker;
pub mod page;
pub mod repo;
pub mod sync;
pub mod tabs;

/// Starts the engine in this worker: the election among the tabs, storage, sync, and the
/// link to the page.
pub fn run() {
    use leptos::prelude::*;
    if common::global::worker_name() == maker::WORKER_NAME {
        // A second instance of this wasm, making an import's documents for an engine.
        maker::serve();
        return;
    }
    // Leptos's task spawner and a reactive owner without a DOM: the repo and sync keep their
    // state in signals.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    owner.set();
    // Lives as long as the worker.
    std::mem::forget(owner);
    // Which book this tab works in: the account's own, or a team's territory (the page
    // names it when it starts the worker).
    let book: Option<shared::sync::team::TeamBook> =
        serde_json::from_str(&common::global::worker_name()).ok();
    if let Some(book) = &book {
        common::store::set_database(&book.database());
    }
    let tabs = tabs::Tabs::start();
    link::contend();
    let repo = repo::Repo::start(tabs);
    let sync = sync::Sync::start(repo, tabs, book);
    page::serve(tabs, repo, sync);
}
