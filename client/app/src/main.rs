//! The browser entry point: panic hook, logging, mount.

fn main() {
    // Benchmarks read when the screens' wasm began to run (see `e2e/bench`).
    common::perf::mark("fieldbook:screens-main");
    console_error_panic_hook::set_once();
    common::init_tracing();
    // The wasm linear memory, for the benchmark's memory figure (JS heap + this).
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(
            &window,
            &"fieldbookWasmMemory".into(),
            &wasm_bindgen::memory(),
        );
    }
    // The placeholder `index.html` shows while this wasm loads.
    if let Some(shell) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("app-shell"))
    {
        shell.remove();
    }
    leptos::mount::mount_to_body(client::App);
}
