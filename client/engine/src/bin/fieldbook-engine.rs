//! The engine worker's entry point: panic hook, logging, the engine (`engine::run`).

fn main() {
    console_error_panic_hook::set_once();
    engine::init_tracing();
    engine::run();
}
