//! Time from the browser, and how the UI writes it.

use shared::Timestamp;

/// Now, from the browser's clock (`std::time::SystemTime::now()` panics on wasm32).
pub fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64)
}

/// "just now", "5 min ago", "3 h ago", "2 days ago", else the date.
pub fn relative(then: Timestamp, now: Timestamp) -> String {
    let seconds = (now.0 - then.0) / 1000;
    match seconds {
        s if s < 45 => "just now".to_string(),
        s if s < 3600 => format!("{} min ago", (s + 30) / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s if s < 7 * 86_400 => {
            let days = s / 86_400;
            if days == 1 {
                "yesterday".to_string()
            } else {
                format!("{days} days ago")
            }
        }
        _ => {
            let (year, month, day) = then.civil_date();
            format!("{year}-{month:02}-{day:02}")
        }
    }
}

/// The local wall-clock time of an instant, "14:05".
pub fn clock(at: Timestamp) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// Records a `performance.mark` (benchmarks read them to break startup down).
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
        let _ = performance.mark(name);
    }
}
