//! Follow-ups as an iCalendar file (RFC 5545), so a rep can put them in her phone's calendar.

use crate::Timestamp;

/// One follow-up to write as a calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarItem {
    /// Unique and stable across exports (customer id + task id), so re-importing updates.
    pub uid: String,
    /// The entry's title, e.g. "Send the quote — Zoë Dupont".
    pub title: String,
    /// When it is due.
    pub due: Timestamp,
    /// Extra text (the customer's company, phone).
    pub description: String,
}

/// How long each calendar entry lasts, in minutes.
const DURATION_MINUTES: i64 = 30;

/// The items as a VCALENDAR of VEVENTs (events show in every phone calendar; VTODOs often do
/// not), each lasting 30 minutes from its due time, with a reminder at the due time.
/// `now` is the DTSTAMP.
pub fn calendar(items: &[CalendarItem], now: Timestamp) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Fieldbook//Follow-ups//EN".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
    ];
    for item in items {
        lines.extend([
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}", escape(&item.uid)),
            format!("DTSTAMP:{}", utc(now)),
            format!("DTSTART:{}", utc(item.due)),
            format!(
                "DTEND:{}",
                utc(Timestamp(item.due.0 + DURATION_MINUTES * 60_000))
            ),
            format!("SUMMARY:{}", escape(&item.title)),
        ]);
        if !item.description.is_empty() {
            lines.push(format!("DESCRIPTION:{}", escape(&item.description)));
        }
        lines.extend([
            "BEGIN:VALARM".to_string(),
            "ACTION:DISPLAY".to_string(),
            format!("DESCRIPTION:{}", escape(&item.title)),
            "TRIGGER:PT0M".to_string(),
            "END:VALARM".to_string(),
            "END:VEVENT".to_string(),
        ]);
    }
    lines.push("END:VCALENDAR".to_string());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// `20261122T140500Z`.
fn utc(at: Timestamp) -> String {
    let (year, month, day) = at.civil_date();
    let seconds = at.0.rem_euclid(Timestamp::DAY_MS) / 1000;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

/// Escapes TEXT values: backslash, semicolon, comma and newlines.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded at 75 octets (never inside a UTF-8 character), CRLF-terminated.
pub(crate) fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_become_events_with_escaped_and_folded_text() {
        // 2026-11-22T10:00:00Z
        let due = Timestamp(1_795_341_600_000);
        let items = [CalendarItem {
            uid: "c1-t1@fieldbook".into(),
            title: "Send the quote; call back, Zoë".into(),
            due,
            description: "Fromagerie Lyonnaise\n+33 6 12 34 56 78 — a long line that goes past seventy-five octets for sure".into(),
        }];
        let ics = calendar(&items, due);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.contains("DTSTART:20261122T100000Z\r\n"));
        assert!(ics.contains("DTEND:20261122T103000Z\r\n"));
        assert!(ics.contains("SUMMARY:Send the quote\\; call back\\, Zoë\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is longer than 75 octets");
        }
        // Unfolding gives the escaped description back.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("DESCRIPTION:Fromagerie Lyonnaise\\n+33 6 12 34 56 78 — a long line that goes past seventy-five octets for sure\r\n"));
    }
}
