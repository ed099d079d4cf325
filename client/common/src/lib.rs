//! What both threads of Fieldbook's client share: the screens on the page
//! (`client/app`) and the engine in its worker (`client/engine`).
//!
//! # Layout
//!
//! - [`store`]: the device's IndexedDB database — its layout, the engine's writes, and the
//!   read-only snapshot reads the page makes itself at start (see [`store::read_book`]).
//! - [`global`]: the global scope, a window or a dedicated worker: timers, network state,
//!   fetch, properties the tests read.
//! - [`perf`]: performance marks and phase timings for the benchmarks, yielding to the event
//!   loop.

pub mod global;
pub mod perf;
pub mod store;

/// Sends `tracing` output to the browser console.
pub fn init_tracing() {
    use tracing_subscriber::{fmt, prelude::*};
    let layer = fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_writer(tracing_subscriber_wasm::MakeConsoleWriter::default());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
