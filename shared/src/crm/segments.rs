//! Segments: a filter over the book's summaries ("loyal customers in Lyon not contacted for
//! 60 days"), saved by name in the book document so every device of the rep has them.

use autosurgeon::{Hydrate, Reconcile};

use crate::{
    model::records::NpsCategory, model::summary::CustomerSummary, Book, CustomerId, LifecycleStage,
    Timestamp,
};

/// The conditions of a segment; every condition set must hold (empty ones are ignored).
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate,
)]
pub struct SegmentFilter {
    /// Lifecycle stage (its storage id), or empty for any.
    pub stage: String,
    /// Tags the customer must all have (an event tag is a tag).
    pub tags: Vec<String>,
    /// Owner, case-insensitive; empty for any.
    pub owner: String,
    /// City, case-insensitive; empty for any.
    pub city: String,
    /// Country, case-insensitive; empty for any.
    pub country: String,
    /// Not contacted for at least this many days (never contacted counts); 0 for any.
    #[autosurgeon(rename = "not_contacted_days")]
    pub not_contacted_days: u32,
    /// Lifetime value at least this, in cents; 0 for any.
    #[autosurgeon(rename = "min_lifetime_value_cents")]
    pub min_lifetime_value_cents: i64,
    /// NPS group of the latest answer ("promoter", "passive", "detractor"), or empty.
    pub nps: String,
    /// Birthday month 1-12, or 0 for any.
    #[autosurgeon(rename = "birthday_month")]
    pub birthday_month: u32,
    /// Conditions on custom fields, all of which must hold.
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub custom: Vec<crate::model::custom_fields::CustomCondition>,
}

impl SegmentFilter {
    /// Whether `summary` belongs to the segment at `now`. Archived customers never do.
    pub fn matches(&self, summary: &CustomerSummary, now: Timestamp) -> bool {
        let same = |wanted: &str, value: &str| {
            wanted.trim().is_empty() || wanted.trim().eq_ignore_ascii_case(value.trim())
        };
        !summary.archived
            && (self.stage.is_empty() || LifecycleStage::parse(&self.stage) == Some(summary.stage))
            && self
                .tags
                .iter()
                .all(|tag| summary.tags.iter().any(|t| t == tag))
            && same(&self.owner, &summary.owner)
            && same(&self.city, &summary.city)
            && same(&self.country, &summary.country)
            && (self.not_contacted_days == 0
                || summary.last_contact.is_none_or(|at| {
                    now.0 - at.0 >= i64::from(self.not_contacted_days) * Timestamp::DAY_MS
                }))
            && summary.lifetime_value_cents >= self.min_lifetime_value_cents
            && (self.nps.is_empty()
                || summary
                    .nps
                    .is_some_and(|score| NpsCategory::of(score).as_str() == self.nps))
            && (self.birthday_month == 0
                || summary
                    .birthday
                    .is_some_and(|d| d.month == self.birthday_month))
            && (self.custom.iter())
                .all(|condition| condition.matches(&summary.custom, &summary.custom_sets))
    }

    /// A one-line description for the rep, e.g. "stage Loyal customer · city Lyon · not
    /// contacted for 60 days · Industry is Retail", naming custom fields by `fields`.
    pub fn describe(
        &self,
        fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
    ) -> String {
        let mut parts = Vec::new();
        if let Some(stage) = LifecycleStage::parse(&self.stage) {
            parts.push(format!("stage {}", stage.label()));
        }
        for tag in &self.tags {
            parts.push(format!("#{tag}"));
        }
        for (what, value) in [
            ("owner", &self.owner),
            ("city", &self.city),
            ("country", &self.country),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{what} {}", value.trim()));
            }
        }
        if self.not_contacted_days > 0 {
            parts.push(format!(
                "not contacted for {} days",
                self.not_contacted_days
            ));
        }
        if self.min_lifetime_value_cents > 0 {
            parts.push(format!(
                "lifetime value ≥ {}",
                crate::model::records::format_money(self.min_lifetime_value_cents, "EUR")
            ));
        }
        if let Some(category) = NpsCategory::parse(&self.nps) {
            parts.push(format!("NPS {}", category.label().to_lowercase()));
        }
        if (1..=12).contains(&self.birthday_month) {
            parts.push(format!("birthday in month {}", self.birthday_month));
        }
        for condition in &self.custom {
            parts.push(describe_condition(condition, fields));
        }
        if parts.is_empty() {
            "every customer".into()
        } else {
            parts.join(" · ")
        }
    }
}

/// A custom field condition in words ("Industry is Retail", "Fleet size is more than 10").
pub fn describe_condition(
    condition: &crate::model::custom_fields::CustomCondition,
    fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
) -> String {
    let field = fields.get(&condition.field);
    let name = field.map_or("a removed field", |field| field.name.as_str());
    let op = condition.op.label(condition.kind);
    if !condition.op.takes_value() {
        return format!("{name} {op}");
    }
    let value = field.map_or_else(
        || condition.value.clone(),
        |field| crate::model::custom_fields::display_value(field, &condition.value),
    );
    format!("{name} {op} {value}")
}

/// A named, saved segment.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct SavedSegment {
    /// Its name, e.g. "Loyal in Lyon, quiet for 60 days".
    pub name: String,
    /// Its conditions.
    pub filter: SegmentFilter,
}

/// The customers of the segment, by name.
pub fn members(book: &Book, filter: &SegmentFilter, now: Timestamp) -> Vec<CustomerId> {
    let mut found: Vec<&CustomerSummary> = book
        .summaries()
        .filter(|summary| filter.matches(summary, now))
        .collect();
    crate::order::sort_by(&mut found, |a, b| {
        a.display_name()
            .to_lowercase()
            .cmp(&b.display_name().to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    found
        .into_iter()
        .map(|summary| summary.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::records::{Activity, ActivityKind, Feedback, FeedbackKind},
        Customer,
    };

    const DAY: i64 = Timestamp::DAY_MS;

    fn customer(
        n: u8,
        name: &str,
        stage: LifecycleStage,
        city: &str,
        last_contact_day: Option<i64>,
    ) -> Customer {
        let mut c = Customer::new(format!("c{n}").parse().unwrap(), Timestamp(0));
        c.name = name.into();
        c.stage = stage;
        c.address.city = city.into();
        c.address.country = "France".into();
        if let Some(day) = last_contact_day {
            c.activities.insert(
                "a".into(),
                Activity::new(ActivityKind::Call, Timestamp(day * DAY), "x"),
            );
        }
        c
    }

    #[test]
    fn loyal_customers_in_lyon_not_contacted_for_60_days() {
        let now = Timestamp(100 * DAY);
        let mut quiet = customer(1, "Quiet Lyon", LifecycleStage::Loyal, "lyon", Some(30));
        quiet.tags.insert("vip");
        quiet.birthday = crate::Birthday::parse("1980-03-04");
        quiet.feedback.insert(
            "f".into(),
            Feedback {
                kind: FeedbackKind::Nps,
                score: 10,
                at: Timestamp(5),
                channel: None,
                comment: String::new(),
            },
        );
        let recent = customer(2, "Recent Lyon", LifecycleStage::Loyal, "Lyon", Some(70));
        let never = customer(3, "Never Lyon", LifecycleStage::Loyal, "Lyon", None);
        let paris = customer(4, "Quiet Paris", LifecycleStage::Loyal, "Paris", Some(10));
        let lead = customer(5, "Lead Lyon", LifecycleStage::Lead, "Lyon", Some(10));
        let mut archived = customer(6, "Archived Lyon", LifecycleStage::Loyal, "Lyon", Some(10));
        archived.archived = true;
        let book = Book::from_summaries(
            [&quiet, &recent, &never, &paris, &lead, &archived].map(CustomerSummary::of),
        );
        let filter = SegmentFilter {
            stage: "loyal".into(),
            city: "Lyon".into(),
            not_contacted_days: 60,
            ..SegmentFilter::default()
        };
        let names = |ids: Vec<CustomerId>| -> Vec<String> {
            ids.iter()
                .map(|id| book.get(id).unwrap().name.clone())
                .collect()
        };
        assert_eq!(
            names(members(&book, &filter, now)),
            ["Never Lyon", "Quiet Lyon"]
        );
        assert_eq!(
            filter.describe(&Default::default()),
            "stage Loyal customer · city Lyon · not contacted for 60 days"
        );
        let promoters = SegmentFilter {
            nps: "promoter".into(),
            tags: vec!["vip".into()],
            birthday_month: 3,
            ..SegmentFilter::default()
        };
        assert_eq!(names(members(&book, &promoters, now)), ["Quiet Lyon"]);
        assert_eq!(members(&book, &SegmentFilter::default(), now).len(), 5);
    }
}
