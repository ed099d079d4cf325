//! The engine worker's entry point: panic hook, logging, the engine (`client::engine`).

fn main() {
    console_error_panic_hook::set_once();
    client::init_tracing();
    client::engine::run();
}
