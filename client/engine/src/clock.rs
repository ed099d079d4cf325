//! The engine's clock: now, as the page this engine serves reads it (marks, timings and
//! sleeping are in `common::perf`).

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
