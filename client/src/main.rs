//! The browser entry point: panic hook, logging, mount.

fn main() {
    console_error_panic_hook::set_once();
    client::init_tracing();
    leptos::mount::mount_to_body(client::App);
}
