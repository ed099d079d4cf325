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

/// The local calendar date of an instant.
pub fn local_date(at: Timestamp) -> shared::CalendarDate {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64));
    shared::CalendarDate {
        year: date.get_full_year() as i32,
        month: date.get_month() + 1,
        day: date.get_date(),
    }
}

/// The local date of an instant, "2026-11-22".
pub fn day(at: Timestamp) -> String {
    local_date(at).to_string()
}

/// The local wall-clock time of an instant, "14:05".
pub fn clock(at: Timestamp) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

fn js_date(at: Timestamp) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.0 as f64))
}

/// An instant as the value of an `<input type="datetime-local">`: "2026-11-22T14:05".
pub fn local_input(at: Timestamp) -> String {
    format!("{}T{}", day(at), clock(at))
}

/// Parses the value of an `<input type="datetime-local">` (local time) back.
pub fn parse_local_input(text: &str) -> Option<Timestamp> {
    let ms = js_sys::Date::parse(text.trim());
    (text.len() >= 16 && ms.is_finite()).then_some(Timestamp(ms as i64))
}

/// Midnight (local time) at the start of the day of `at`.
pub fn start_of_day(at: Timestamp) -> Timestamp {
    let date = js_date(at);
    date.set_hours(0);
    date.set_minutes(0);
    date.set_seconds(0);
    date.set_milliseconds(0);
    Timestamp(date.get_time() as i64)
}

/// Midnight (local time) `days` days after the start of the day of `at`.
pub fn days_after(at: Timestamp, days: i32) -> Timestamp {
    let date = js_date(start_of_day(at));
    date.set_date((date.get_date() as i32 + days) as u32);
    Timestamp(date.get_time() as i64)
}

/// "Today 14:05", "Yesterday 09:30", "Tomorrow 10:00", else "2026-11-20 10:00".
pub fn when(at: Timestamp, now: Timestamp) -> String {
    let today = start_of_day(now);
    let label = match at.0 - today.0 {
        d if (0..Timestamp::DAY_MS).contains(&d) => "Today".to_string(),
        d if (-Timestamp::DAY_MS..0).contains(&d) => "Yesterday".to_string(),
        d if (Timestamp::DAY_MS..2 * Timestamp::DAY_MS).contains(&d) => "Tomorrow".to_string(),
        _ => day(at),
    };
    format!("{label} {}", clock(at))
}
