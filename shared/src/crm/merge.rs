//! Merging two customers that are the same person: the rep picks, field by field, which
//! value to keep; everything that is a list or a history is united, never dropped.
//!
//! The merge is two ordinary synced edits: the kept customer receives the chosen values and a
//! copy of every record of the other (records keep their ids, unique across the book, so a
//! merge that reaches another device twice adds nothing twice), then the other is archived
//! with `merged_into` pointing at the kept one. Its document keeps all of its history.

use crate::{
    model::records::{Activity, ActivityKind},
    search::duplicates::{normalize_email, phone_key},
    Customer, Timestamp,
};

/// A field the rep chooses between the two customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergeField {
    /// Contact name.
    Name,
    /// Company.
    Company,
    /// Job title.
    JobTitle,
    /// Lifecycle stage.
    Stage,
    /// Postal address (all its parts together).
    Address,
    /// Preferred channel.
    PreferredChannel,
    /// Birthday.
    Birthday,
    /// Owner.
    Owner,
}

impl MergeField {
    /// Every field, in the order of the merge screen.
    pub const ALL: [MergeField; 8] = [
        MergeField::Name,
        MergeField::Company,
        MergeField::JobTitle,
        MergeField::Stage,
        MergeField::Address,
        MergeField::PreferredChannel,
        MergeField::Birthday,
        MergeField::Owner,
    ];

    /// The field's label.
    pub fn label(self) -> &'static str {
        match self {
            MergeField::Name => "Name",
            MergeField::Company => "Company",
            MergeField::JobTitle => "Job title",
            MergeField::Stage => "Stage",
            MergeField::Address => "Address",
            MergeField::PreferredChannel => "Preferred channel",
            MergeField::Birthday => "Birthday",
            MergeField::Owner => "Owner",
        }
    }

    /// The field's value in `customer`, as shown to the rep ("" when empty).
    pub fn show(self, customer: &Customer) -> String {
        match self {
            MergeField::Name => customer.name.clone(),
            MergeField::Company => customer.company.clone(),
            MergeField::JobTitle => customer.job_title.clone(),
            MergeField::Stage => customer.stage.label().to_string(),
            MergeField::Address => {
                let a = &customer.address;
                [&a.street, &a.postal_code, &a.city, &a.region, &a.country]
                    .into_iter()
                    .filter(|part| !part.trim().is_empty())
                    .map(|part| part.trim())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            MergeField::PreferredChannel => customer
                .preferred_channel
                .map(|c| c.label().to_string())
                .unwrap_or_default(),
            MergeField::Birthday => customer.birthday.map(|d| d.describe()).unwrap_or_default(),
            MergeField::Owner => customer.owner.clone(),
        }
    }

    fn take(self, into: &mut Customer, from: &Customer) {
        match self {
            MergeField::Name => into.name = from.name.clone(),
            MergeField::Company => into.company = from.company.clone(),
            MergeField::JobTitle => into.job_title = from.job_title.clone(),
            MergeField::Stage => into.stage = from.stage,
            MergeField::Address => into.address = from.address.clone(),
            MergeField::PreferredChannel => into.preferred_channel = from.preferred_channel,
            MergeField::Birthday => into.birthday = from.birthday,
            MergeField::Owner => into.owner = from.owner.clone(),
        }
    }
}

/// The default choice for a field: the kept customer's value, unless it is empty and the
/// other's is not.
pub fn default_takes_other(field: MergeField, keep: &Customer, other: &Customer) -> bool {
    field.show(keep).trim().is_empty() && !field.show(other).trim().is_empty()
}

/// The kept customer after the merge: the fields in `take_other` from `other`, the rest from
/// `keep`; emails, phones and tags united (same email or phone number once); notes joined;
/// every activity, task, feedback answer, purchase and deal of both; a note recording the
/// merge, written by `author` at `now` under the record id `history_id`.
pub fn merged(
    keep: &Customer,
    other: &Customer,
    take_other: &[MergeField],
    author: &str,
    now: Timestamp,
    history_id: &str,
) -> Customer {
    let mut result = keep.clone();
    for field in take_other {
        field.take(&mut result, other);
    }
    for email in &other.emails {
        let key = normalize_email(&email.value);
        if !result
            .emails
            .iter()
            .any(|e| normalize_email(&e.value) == key)
        {
            result.emails.push(email.clone());
        }
    }
    for phone in &other.phones {
        let key = phone_key(&phone.value);
        let same = |value: &str| {
            let existing = phone_key(value);
            if key.is_empty() || existing.is_empty() {
                value.trim() == phone.value.trim()
            } else {
                existing == key
            }
        };
        if !result.phones.iter().any(|p| same(&p.value)) {
            result.phones.push(phone.clone());
        }
    }
    for tag in other.tags.iter() {
        result.tags.insert(tag);
    }
    let other_notes = other.notes.as_str().trim();
    if !other_notes.is_empty() && !result.notes.as_str().contains(other_notes) {
        let joined = if result.notes.as_str().trim().is_empty() {
            other_notes.to_string()
        } else {
            format!("{}\n\n{}", result.notes.as_str().trim_end(), other_notes)
        };
        result.set_notes(joined);
    }
    for (id, record) in &other.activities {
        result
            .activities
            .entry(id.clone())
            .or_insert_with(|| record.clone());
    }
    for (id, record) in &other.tasks {
        result
            .tasks
            .entry(id.clone())
            .or_insert_with(|| record.clone());
    }
    for (id, record) in &other.feedback {
        result
            .feedback
            .entry(id.clone())
            .or_insert_with(|| record.clone());
    }
    for (id, record) in &other.purchases {
        result
            .purchases
            .entry(id.clone())
            .or_insert_with(|| record.clone());
    }
    for (id, record) in &other.deals {
        result
            .deals
            .entry(id.clone())
            .or_insert_with(|| record.clone());
    }
    if result.check_in_days.is_none() {
        result.check_in_days = other.check_in_days;
    }
    let taken: Vec<&str> = take_other.iter().map(|f| f.label()).collect();
    let mut note = Activity::new(ActivityKind::Note, now, author);
    let count = crate::crm::count;
    // Named as the rep knows it (the other record stays, archived, under that name).
    note.summary = format!(
        "Merged with {} (now archived): {}, {}, {}, {} and {} brought over{}.",
        other.display_name(),
        count(other.activities.len(), "activity", "activities"),
        count(other.tasks.len(), "follow-up", "follow-ups"),
        count(other.feedback.len(), "feedback answer", "feedback answers"),
        count(other.purchases.len(), "purchase", "purchases"),
        count(other.deals.len(), "deal", "deals"),
        if taken.is_empty() {
            String::new()
        } else {
            format!("; taken from it: {}", taken.join(", ").to_lowercase())
        }
    );
    note.outcome = "merge".into();
    result.activities.insert(history_id.to_string(), note);
    result.archived = keep.archived && other.archived;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::records::{Feedback, FeedbackKind, Priority, Purchase, Task},
        CalendarDate, ContactPoint, ContactPointId, LifecycleStage,
    };

    fn point(id: &str, value: &str) -> ContactPoint {
        ContactPoint {
            id: ContactPointId(id.into()),
            label: "work".into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_merge_keeps_everything_of_both() {
        let mut keep = Customer::new("k".parse().unwrap(), Timestamp(0));
        keep.name = "Amélie Novak".into();
        keep.emails = vec![point("e1", "amelie@zenith.example")];
        keep.phones = vec![point("p1", "+33 6 12 34 56 78")];
        keep.tags.insert("vip");
        keep.notes.update("Likes red wine.");
        keep.activities.insert(
            "a1".into(),
            Activity::new(ActivityKind::Call, Timestamp(1), "phone"),
        );
        let mut other = Customer::new("o".parse().unwrap(), Timestamp(0));
        other.name = "Amelie Novack".into();
        other.company = "Zenith Wines".into();
        other.stage = LifecycleStage::Loyal;
        other.emails = vec![
            point("e2", "AMELIE@zenith.example "),
            point("e3", "a.novak@home.example"),
        ];
        other.phones = vec![point("p2", "06 12 34 56 78")];
        other.tags.insert("salon-2026");
        other.notes.update("Two shops in Lyon.");
        other.birthday = crate::Birthday::parse("1984-02-29");
        other.activities.insert(
            "a2".into(),
            Activity::new(ActivityKind::Visit, Timestamp(2), "tablet"),
        );
        other.tasks.insert(
            "t1".into(),
            Task {
                title: "Call back".into(),
                due: Timestamp(9),
                priority: Priority::High,
                done_at: None,
                created_at: Timestamp(2),
                assignee: String::new(),
            },
        );
        other.feedback.insert(
            "f1".into(),
            Feedback {
                kind: FeedbackKind::Nps,
                score: 9,
                at: Timestamp(3),
                channel: None,
                comment: String::new(),
            },
        );
        other.purchases.insert(
            "b1".into(),
            Purchase {
                product_id: "x".into(),
                product_name: "Grinder".into(),
                quantity: 1,
                unit_price_cents: 19_900,
                currency: "EUR".into(),
                date: CalendarDate::parse("2026-01-02").unwrap(),
            },
        );

        let choices: Vec<MergeField> = MergeField::ALL
            .into_iter()
            .filter(|&f| default_takes_other(f, &keep, &other))
            .collect();
        // Empty on the kept side, filled on the other: company and birthday.
        assert_eq!(choices, [MergeField::Company, MergeField::Birthday]);
        let mut choices = choices;
        choices.push(MergeField::Stage);
        let result = merged(&keep, &other, &choices, "phone", Timestamp(100), "h1");

        assert_eq!(result.id, keep.id);
        assert_eq!(result.name, "Amélie Novak");
        assert_eq!(result.company, "Zenith Wines");
        assert_eq!(result.stage, LifecycleStage::Loyal);
        assert_eq!(result.birthday, other.birthday);
        let emails: Vec<&str> = result.emails.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(emails, ["amelie@zenith.example", "a.novak@home.example"]);
        assert_eq!(
            result.phones.len(),
            1,
            "the same number written differently is kept once"
        );
        assert_eq!(
            result.tags.iter().collect::<Vec<_>>(),
            ["salon-2026", "vip"]
        );
        assert_eq!(
            result.notes.as_str(),
            "Likes red wine.\n\nTwo shops in Lyon."
        );
        assert!(result.activities.contains_key("a1") && result.activities.contains_key("a2"));
        assert_eq!(
            (
                result.tasks.len(),
                result.feedback.len(),
                result.purchases.len()
            ),
            (1, 1, 1)
        );
        let history = &result.activities["h1"];
        assert_eq!(history.kind, ActivityKind::Note);
        assert!(history.summary.starts_with("Merged with Amelie Novack (now archived): 1 activity, 1 follow-up, 1 feedback answer, 1 purchase and 0 deals brought over; taken from it: company, birthday, stage."), "{}", history.summary);
        // Merging again (the same edit reaching a device twice) adds nothing more.
        let again = merged(&result, &other, &choices, "phone", Timestamp(100), "h1");
        assert_eq!(again, result);
        crate::model::validation::validate(&result).unwrap();
    }
}
