//! The engine worker's entry point: panic hook, logging, the engine (`engine::run`).

fn main() {
    console_error_panic_hook::set_once();
    common::init_tracing();
    // The wasm linear memory, for the benchmark's memory figure (page + engine + JS heap).
    common::global::set_property("fieldbookWasmMemory", &wasm_bindgen::memory());
    engine::run();
}
