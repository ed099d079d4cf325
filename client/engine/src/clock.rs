//! The clock of the engine's scope (a worker has no window): now, performance marks and
//! timings for the benchmarks, yielding to the event loop.

use shared::Timestamp;

thread_local! {
    /// How far the page's clock is ahead of this worker's (see [`follow_page`]).
    static PAGE_OFFSET_MS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Now, on the clock of the page this engine serves (`std::time::SystemTime::now()` panics
/// on wasm32). The page and its worker read the same system clock, but the page's is the one
/// the rep sees and the one tests set, so edits are dated by it.
pub fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64 + PAGE_OFFSET_MS.with(std::cell::Cell::get))
}

/// The page said its clock reads `page_now`: [`now`] follows it from here on.
pub fn follow_page(page_now: Timestamp) {
    PAGE_OFFSET_MS.with(|offset| offset.set(page_now.0 - js_sys::Date::now() as i64));
}

/// Records a `performance.mark` (benchmarks read them to break startup down).
pub fn mark(name: &str) {
    if let Some(performance) = crate::global::performance() {
        let _ = performance.mark(name);
    }
}

/// Milliseconds since navigation, from the monotonic performance clock.
pub fn now_ms() -> f64 {
    crate::global::performance().map_or(0.0, |performance| performance.now())
}

/// Adds the time since `started` (from [`now_ms`]) to the total named `name` in
/// `fieldbookTimings` of the global scope (the page's window, or the engine worker's scope):
/// benchmarks read these totals to see where a long operation (a bootstrap, an import)
/// spends its time. Costs one property write.
pub fn add_timing(name: &str, started: f64) {
    let totals = match crate::global::property("fieldbookTimings") {
        totals if totals.is_object() => totals,
        _ => {
            let totals: wasm_bindgen::JsValue = js_sys::Object::new().into();
            crate::global::set_property("fieldbookTimings", &totals);
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
        &wasm_bindgen::JsValue::from_f64(before + now_ms() - started),
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
        let _ = crate::global::set_timeout(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
