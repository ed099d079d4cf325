//! Performance marks and phase timings (the benchmarks read them to break a start, a
//! download or an import down), and yielding to the event loop. Works in a window and in a
//! worker.

use crate::global;

/// Records a `performance.mark`.
pub fn mark(name: &str) {
    if let Some(performance) = global::performance() {
        let _ = performance.mark(name);
    }
}

/// Records a `performance.mark` for something that recurs (a frame, a page applied): only
/// its first [`FEW_MARKS`] of the scope, so days of live sync do not grow the timeline.
pub fn mark_few(name: &str) {
    if let Some(performance) = global::performance() {
        if performance.get_entries_by_name(name).length() < FEW_MARKS {
            let _ = performance.mark(name);
        }
    }
}

/// How many of a recurring mark [`mark_few`] records.
pub const FEW_MARKS: u32 = 200;

/// Milliseconds since the scope started (navigation, or the worker's start), from the
/// monotonic performance clock.
pub fn now_ms() -> f64 {
    global::performance().map_or(0.0, |performance| performance.now())
}

/// Adds the time since `started` (from [`now_ms`]) to the total named `name` in
/// `fieldbookTimings` of the global scope (the page's window, or the engine worker's scope):
/// benchmarks read these totals to see where a long operation (a bootstrap, an import)
/// spends its time. Costs one property write.
pub fn add_timing(name: &str, started: f64) {
    add_to_total(name, now_ms() - started);
}

/// Adds `count` to the total named `name` in `fieldbookTimings` (see [`add_timing`]): how
/// many times something happened, read by the benchmarks beside the timings.
pub fn add_count(name: &str, count: usize) {
    add_to_total(name, count as f64);
}

fn add_to_total(name: &str, amount: f64) {
    let totals = match global::property("fieldbookTimings") {
        totals if totals.is_object() => totals,
        _ => {
            let totals: wasm_bindgen::JsValue = js_sys::Object::new().into();
            global::set_property("fieldbookTimings", &totals);
            totals
        }
    };
    let name = wasm_bindgen::JsValue::from_str(name);
    let before = js_sys::Reflect::get(&totals, &name)
        .ok()
        .and_then(|value| value.as_f64())
        .unwrap_or(0.0);
    let _ = js_sys::Reflect::set(
        &totals,
        &name,
        &wasm_bindgen::JsValue::from_f64(before + amount),
    );
}

/// Lets the browser run (paint, handle input) before continuing a long task: resolves on a
/// `setTimeout(0)`.
pub async fn yield_now() {
    sleep(0).await;
}

/// Resolves after `ms` milliseconds (a `setTimeout`).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = global::set_timeout(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
