//! The global scope the code runs in: a window (the screens) or a dedicated worker (the
//! engine, see [`crate::engine`]). Timers, the network state, `fetch`, the location and the
//! performance clock exist in both; `web_sys::window()` exists only in the first, so code
//! that may run in the engine goes through here.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn global() -> JsValue {
    js_sys::global().into()
}

fn call(name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let global = global();
    let function: Function = Reflect::get(&global, &JsValue::from_str(name))?.dyn_into()?;
    function.apply(&global, args)
}

/// Whether this code runs in a dedicated worker (no window).
pub fn in_worker() -> bool {
    web_sys::window().is_none()
}

/// The name this worker was started with (`WorkerOptions::name`; empty on a page): which
/// book the engine opens.
pub fn worker_name() -> String {
    js_sys::Reflect::get(&js_sys::global(), &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .filter(|_| in_worker())
        .unwrap_or_default()
}

/// `setTimeout(callback, ms)`; the handle for [`clear_timeout`].
pub fn set_timeout(callback: &JsValue, ms: i32) -> Option<i32> {
    call("setTimeout", &Array::of2(callback, &JsValue::from(ms)))
        .ok()
        .and_then(|handle| handle.as_f64())
        .map(|handle| handle as i32)
}

/// `clearTimeout(handle)`.
pub fn clear_timeout(handle: i32) {
    let _ = call("clearTimeout", &Array::of1(&JsValue::from(handle)));
}

/// `navigator` (a `Navigator` or a `WorkerNavigator`).
pub fn navigator() -> Option<JsValue> {
    Reflect::get(&global(), &JsValue::from_str("navigator"))
        .ok()
        .filter(|navigator| navigator.is_object())
}

/// This device's name from its browser ("Chrome on Android"), in a page or the worker: what
/// the device signs in as by default, and the author of its changes before it signs in.
pub fn device_label() -> String {
    let agent = navigator()
        .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("userAgent")).ok())
        .and_then(|agent| agent.as_string())
        .unwrap_or_default();
    shared::sync::account::device_label(&agent)
}

/// `navigator.onLine`; true when unknown.
pub fn on_line() -> bool {
    navigator()
        .and_then(|navigator| Reflect::get(&navigator, &JsValue::from_str("onLine")).ok())
        .and_then(|online| online.as_bool())
        .unwrap_or(true)
}

/// `location.protocol` and `location.host` of the page (or of the worker's script, which is
/// served by the same relay).
pub fn protocol_and_host() -> (String, String) {
    let location = Reflect::get(&global(), &JsValue::from_str("location")).unwrap_or_default();
    let read = |name: &str| {
        Reflect::get(&location, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    (read("protocol"), read("host"))
}

/// `fetch(request)`.
pub fn fetch(request: &web_sys::Request) -> Promise {
    match call("fetch", &Array::of1(request)) {
        Ok(promise) => promise.unchecked_into(),
        Err(err) => Promise::reject(&err),
    }
}

/// `performance`, the monotonic clock and marks.
pub fn performance() -> Option<web_sys::Performance> {
    Reflect::get(&global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|performance| performance.dyn_into().ok())
}

/// A property of the global scope, for diagnostics the benchmarks and tests read.
pub fn set_property(name: &str, value: &JsValue) {
    let _ = Reflect::set(&global(), &JsValue::from_str(name), value);
}

/// A property of the global scope.
pub fn property(name: &str) -> JsValue {
    Reflect::get(&global(), &JsValue::from_str(name)).unwrap_or_default()
}

/// Posts `bytes` to `target` — a `Worker` (the screens to the engine, the engine to its
/// document maker) or a worker's own scope (answering whoever started it) — with their
/// buffer transferred rather than copied. `bytes` is detached afterwards.
pub fn post_transferred(target: &JsValue, bytes: &js_sys::Uint8Array) -> Result<(), JsValue> {
    let post: Function = Reflect::get(target, &JsValue::from_str("postMessage"))?.dyn_into()?;
    post.call2(target, bytes, &Array::of1(&bytes.buffer()))?;
    Ok(())
}
