//! The engine worker's entry point: panic hook, logging, the engine (`engine::run`).

fn main() {
    // Benchmarks read when the engine's wasm began to run (its boot: fetch, compile).
    common::perf::mark("fieldbook:engine-main");
    console_error_panic_hook::set_once();
    common::init_tracing();
    // The wasm linear memory, for the benchmark's memory figure (page + engine + JS heap).
    common::global::set_property("fieldbookWasmMemory", &wasm_bindgen::memory());
    engine::run();
}
