//! The browser entry point: panic hook, logging, mount.

fn main() {
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
    leptos::mount::mount_to_body(client::App);
}
