//! The rules a customer must satisfy before it is stored, each with a message a rep
//! understands.
//!
//! Validation runs before a change is written into a document ([`crate::CustomerDoc`]), so an
//! invalid edit changes nothing, on any device.

use std::fmt;

use crate::Customer;

/// Longest accepted name, company, job title, owner or address part, in characters.
pub const MAX_SHORT_TEXT: usize = 200;
/// Longest accepted notes, in characters.
pub const MAX_NOTES: usize = 20_000;
/// Longest accepted tag, in characters.
pub const MAX_TAG: usize = 40;
/// Most emails or phones one customer may carry.
pub const MAX_CONTACT_POINTS: usize = 20;
/// Longest accepted activity summary or feedback comment, in characters.
pub const MAX_SUMMARY: usize = 5_000;
/// Longest recurring check-in interval, in days.
pub const MAX_CHECK_IN_DAYS: u32 = 730;

/// One broken rule, attached to the field a form should highlight.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field: `name`, `company`, `emails.<entry id>`, `phones.<entry id>`, `tags`, …
    pub field: String,
    /// What is wrong, in words for the rep (lowercase, no trailing period).
    pub message: String,
}

/// Every rule a customer breaks; never empty.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The message for `field`, if that field is invalid.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (error_idx, error) in self.0.iter().enumerate() {
            if error_idx > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&error.message)?;
        }
        Ok(())
    }
}

/// Checks every rule; `Ok` only if the customer may be stored.
pub fn validate(customer: &Customer) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    let mut fail = |field: String, message: String| errors.push(FieldError { field, message });

    if customer.name.trim().is_empty() && customer.company.trim().is_empty() {
        fail("name".into(), "enter a name or a company".into());
    }
    for (field, value) in [
        ("name", &customer.name),
        ("company", &customer.company),
        ("job_title", &customer.job_title),
        ("owner", &customer.owner),
        ("address.street", &customer.address.street),
        ("address.city", &customer.address.city),
        ("address.postal_code", &customer.address.postal_code),
        ("address.region", &customer.address.region),
        ("address.country", &customer.address.country),
    ] {
        if value.chars().count() > MAX_SHORT_TEXT {
            fail(
                field.into(),
                format!("too long: at most {MAX_SHORT_TEXT} characters"),
            );
        }
    }
    if customer.notes.as_str().chars().count() > MAX_NOTES {
        fail(
            "notes".into(),
            format!("notes are too long: at most {MAX_NOTES} characters"),
        );
    }
    for (list, entries) in [("emails", &customer.emails), ("phones", &customer.phones)] {
        if entries.len() > MAX_CONTACT_POINTS {
            fail(
                list.into(),
                format!("at most {MAX_CONTACT_POINTS} {list} per customer"),
            );
        }
        for entry in entries.iter() {
            let check = if list == "emails" {
                check_email(&entry.value)
            } else {
                check_phone(&entry.value)
            };
            if let Err(message) = check {
                fail(format!("{list}.{}", entry.id), message);
            }
            if entry.label.chars().count() > MAX_TAG {
                fail(
                    format!("{list}.{}", entry.id),
                    format!("label too long: at most {MAX_TAG} characters"),
                );
            }
        }
    }
    for tag in customer.tags.iter() {
        if tag.trim().is_empty() {
            fail("tags".into(), "a tag cannot be empty".into());
        } else if tag.chars().count() > MAX_TAG {
            fail(
                "tags".into(),
                format!("tag \"{tag}\" is too long: at most {MAX_TAG} characters"),
            );
        }
    }

    validate_records(customer, &mut fail);

    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// The rules of activities, follow-ups, feedback, purchases and deals; fields are named
/// `<kind>.<record id>.<field>`.
fn validate_records(customer: &Customer, fail: &mut impl FnMut(String, String)) {
    let mut too_long = |field: String, value: &str, max: usize| {
        if value.chars().count() > max {
            fail(field, format!("too long: at most {max} characters"));
            false
        } else {
            true
        }
    };
    let mut required = Vec::new();
    let mut other = Vec::new();
    for (id, activity) in &customer.activities {
        too_long(
            format!("activities.{id}.summary"),
            &activity.summary,
            MAX_SUMMARY,
        );
        too_long(
            format!("activities.{id}.outcome"),
            &activity.outcome,
            MAX_SHORT_TEXT,
        );
    }
    for (id, task) in &customer.tasks {
        if too_long(format!("tasks.{id}.title"), &task.title, MAX_SHORT_TEXT) {
            required.push((format!("tasks.{id}.title"), &task.title, "say what to do"));
        }
    }
    for (id, feedback) in &customer.feedback {
        too_long(
            format!("feedback.{id}.comment"),
            &feedback.comment,
            MAX_SUMMARY,
        );
        let (low, high) = feedback.kind.range();
        if !(low..=high).contains(&feedback.score) {
            other.push((
                format!("feedback.{id}.score"),
                format!(
                    "a {} score is from {low} to {high}, not {}",
                    feedback.kind.label(),
                    feedback.score
                ),
            ));
        }
    }
    for (id, purchase) in &customer.purchases {
        if too_long(
            format!("purchases.{id}.product"),
            &purchase.product_name,
            MAX_SHORT_TEXT,
        ) {
            required.push((
                format!("purchases.{id}.product"),
                &purchase.product_name,
                "choose a product",
            ));
        }
        if purchase.quantity == 0 {
            other.push((
                format!("purchases.{id}.quantity"),
                "the quantity must be at least 1".into(),
            ));
        }
        if purchase.unit_price_cents < 0 {
            other.push((
                format!("purchases.{id}.price"),
                "a price cannot be negative".into(),
            ));
        }
        if let Err(message) = check_currency(&purchase.currency) {
            other.push((format!("purchases.{id}.currency"), message));
        }
    }
    for (id, deal) in &customer.deals {
        if too_long(format!("deals.{id}.title"), &deal.title, MAX_SHORT_TEXT) {
            required.push((format!("deals.{id}.title"), &deal.title, "name the deal"));
        }
        if deal.value_cents < 0 {
            other.push((
                format!("deals.{id}.value"),
                "a deal's value cannot be negative".into(),
            ));
        }
        if deal.stage.trim().is_empty() {
            other.push((format!("deals.{id}.stage"), "choose a stage".into()));
        }
        if let Err(message) = check_currency(&deal.currency) {
            other.push((format!("deals.{id}.currency"), message));
        }
    }
    if let Some(days) = customer.check_in_days {
        if !(1..=MAX_CHECK_IN_DAYS).contains(&days) {
            other.push((
                "check_in_days".into(),
                format!("check in every 1 to {MAX_CHECK_IN_DAYS} days"),
            ));
        }
    }
    for (field, value, message) in required {
        if value.trim().is_empty() {
            fail(field, message.into());
        }
    }
    for (field, message) in other {
        fail(field, message);
    }
}

/// Checks an ISO 4217 currency code: three capital letters.
pub fn check_currency(code: &str) -> Result<(), String> {
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "\"{code}\" is not a currency code (expected three letters, e.g. EUR)"
        ))
    }
}

/// Checks the shape of an email address: `local@domain.tld`, no spaces.
pub fn check_email(value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("enter an email address".into());
    }
    let shape_ok = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
                && value.len() <= 254
        }
        None => false,
    };
    if shape_ok {
        Ok(())
    } else {
        // Echo a bounded, printable excerpt only.
        let shown: String = value
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .take(80)
            .collect();
        let more = if value.chars().count() > 80 {
            "…"
        } else {
            ""
        };
        Err(format!(
            "\"{shown}{more}\" is not an email address (expected name@example.com)"
        ))
    }
}

/// Checks the shape of a phone number: digits with optional spaces, dots, dashes, slashes and
/// parentheses, an optional leading `+`, and 5 to 20 digits.
pub fn check_phone(value: &str) -> Result<(), String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("enter a phone number".into());
    }
    let body = value.strip_prefix('+').unwrap_or(value);
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'));
    let n_digits = body.chars().filter(char::is_ascii_digit).count();
    if !allowed {
        Err(format!(
            "\"{value}\" is not a phone number (use digits, spaces, and an optional leading +)"
        ))
    } else if !(5..=20).contains(&n_digits) {
        Err(format!(
            "\"{value}\" is not a phone number (expected 5 to 20 digits, found {n_digits})"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::{ContactPoint, ContactPointId, CustomerId, Timestamp};

    fn check(edit: impl FnOnce(&mut Customer), expect: Expect) {
        let mut customer = Customer::new("c1".parse::<CustomerId>().unwrap(), Timestamp(0));
        customer.name = "Ada Lovelace".into();
        edit(&mut customer);
        let actual = match validate(&customer) {
            Ok(()) => "ok".to_string(),
            Err(errors) => errors
                .0
                .iter()
                .map(|error| format!("{}: {}", error.field, error.message))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        expect.assert_eq(&actual);
    }

    fn point(id: &str, value: &str) -> ContactPoint {
        ContactPoint {
            id: ContactPointId(id.into()),
            label: "work".into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_name_alone_is_enough() {
        check(|_| {}, expect!["ok"]);
    }

    #[test]
    fn a_company_alone_is_enough() {
        check(
            |c| {
                c.name.clear();
                c.company = "Analytical Engines Ltd".into();
            },
            expect!["ok"],
        );
    }

    #[test]
    fn name_or_company_is_required() {
        check(
            |c| c.name = "   ".into(),
            expect!["name: enter a name or a company"],
        );
    }

    #[test]
    fn emails_must_look_like_emails() {
        check(
            |c| {
                c.emails = vec![
                    point("e1", "ada@example.com"),
                    point("e2", "ada.example.com"),
                    point("e3", "ada@localhost"),
                    point("e4", "ada @example.com"),
                    point("e5", ""),
                ]
            },
            expect![[r#"
                emails.e2: "ada.example.com" is not an email address (expected name@example.com)
                emails.e3: "ada@localhost" is not an email address (expected name@example.com)
                emails.e4: "ada @example.com" is not an email address (expected name@example.com)
                emails.e5: enter an email address"#]],
        );
    }

    #[test]
    fn phones_must_look_like_phones() {
        check(
            |c| {
                c.phones = vec![
                    point("p1", "+33 6 12 34 56 78"),
                    point("p2", "(555) 010-4477"),
                    point("p3", "call me"),
                    point("p4", "123"),
                    point("p5", "06+12"),
                ]
            },
            expect![[r#"
                phones.p3: "call me" is not a phone number (use digits, spaces, and an optional leading +)
                phones.p4: "123" is not a phone number (expected 5 to 20 digits, found 3)
                phones.p5: "06+12" is not a phone number (use digits, spaces, and an optional leading +)"#]],
        );
    }

    #[test]
    fn lengths_are_bounded() {
        check(
            |c| {
                c.company = "x".repeat(MAX_SHORT_TEXT + 1);
                c.tags.insert(&"t".repeat(MAX_TAG + 1));
            },
            expect![[r#"
                company: too long: at most 200 characters
                tags: tag "ttttttttttttttttttttttttttttttttttttttttt" is too long: at most 40 characters"#]],
        );
    }

    #[test]
    fn records_are_checked_field_by_field() {
        use crate::model::records::*;
        use crate::CalendarDate;
        check(
            |c| {
                let mut call = Activity::new(ActivityKind::Call, Timestamp(5), "phone");
                call.summary = "s".repeat(MAX_SUMMARY + 1);
                c.activities.insert("a1".into(), call);
                c.tasks.insert(
                    "t1".into(),
                    Task {
                        title: "  ".into(),
                        due: Timestamp(9),
                        priority: Priority::Normal,
                        done_at: None,
                        created_at: Timestamp(5),
                        assignee: String::new(),
                    },
                );
                c.feedback.insert(
                    "f1".into(),
                    Feedback {
                        kind: FeedbackKind::Csat,
                        score: 0,
                        at: Timestamp(5),
                        channel: None,
                        comment: String::new(),
                    },
                );
                c.purchases.insert(
                    "p1".into(),
                    Purchase {
                        product_id: "x".into(),
                        product_name: "Espresso machine".into(),
                        quantity: 0,
                        unit_price_cents: -1,
                        currency: "euro".into(),
                        date: CalendarDate::parse("2026-01-02").unwrap(),
                    },
                );
                c.check_in_days = Some(0);
            },
            expect![[r#"
                activities.a1.summary: too long: at most 5000 characters
                tasks.t1.title: say what to do
                feedback.f1.score: a CSAT score is from 1 to 5, not 0
                purchases.p1.quantity: the quantity must be at least 1
                purchases.p1.price: a price cannot be negative
                purchases.p1.currency: "euro" is not a currency code (expected three letters, e.g. EUR)
                check_in_days: check in every 1 to 730 days"#]],
        );
    }
}
