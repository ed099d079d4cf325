//! [`CustomerSummary`]: the compact projection of one customer.
//!
//! The list, search, filters and counts read summaries only, never documents: a loaded
//! Automerge document costs tens of kilobytes of memory, a summary a few hundred bytes. The
//! client stores one summary per customer in IndexedDB beside the document bytes and
//! rewrites it in the same transaction as every document change, so the two never disagree.
//!
//! Serialization boundary: summaries are stored as JSON in IndexedDB, so field names here are
//! a storage format. Add fields with `#[serde(default)]`; never rename one.

use serde::{Deserialize, Serialize};

use crate::{
    model::records::{lifetime_value, ComplaintStatus, FeedbackKind, Priority, Purchase},
    CalendarDate, Customer, CustomerId, LifecycleStage, Timestamp,
};

/// What the list needs to know about one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// The customer.
    pub id: CustomerId,
    /// Contact name (may be empty when a company is set).
    pub name: String,
    /// Company (may be empty when a name is set).
    pub company: String,
    /// Role at the company.
    #[serde(default)]
    pub job_title: String,
    /// Lifecycle stage (stored as its text, see `LifecycleStage`'s serde).
    pub stage: LifecycleStage,
    /// Tags, alphabetical.
    pub tags: Vec<String>,
    /// Email addresses, for search.
    pub emails: Vec<String>,
    /// Phone numbers as typed, for search and one-tap calling.
    pub phones: Vec<String>,
    /// City, for search and segments.
    #[serde(default)]
    pub city: String,
    /// Country, for segments.
    #[serde(default)]
    pub country: String,
    /// Owner, for segments.
    #[serde(default)]
    pub owner: String,
    /// The earliest open follow-up or recurring check-in.
    #[serde(default)]
    pub next_follow_up: Option<Timestamp>,
    /// Open follow-ups, earliest first.
    #[serde(default)]
    pub open_tasks: Vec<OpenTask>,
    /// When the recurring check-in falls due, if the customer has one.
    #[serde(default)]
    pub check_in_due: Option<Timestamp>,
    /// The latest activity that was a contact with the customer.
    #[serde(default)]
    pub last_contact: Option<Timestamp>,
    /// Complaints not resolved yet.
    #[serde(default)]
    pub open_complaints: u32,
    /// The latest NPS answer.
    #[serde(default)]
    pub nps: Option<u8>,
    /// Lifetime value: the total of the purchases (quantity × unit price) in
    /// [`Self::lifetime_value_currency`], in cents (see `records::lifetime_value`).
    #[serde(default)]
    pub lifetime_value_cents: i64,
    /// The currency most of the customer's purchases use ("" before any purchase).
    #[serde(default)]
    pub lifetime_value_currency: String,
    /// Number of purchases.
    #[serde(default)]
    pub purchases: u32,
    /// The catalog products bought, sorted, once each (for cross-sell suggestions).
    #[serde(default)]
    pub products: Vec<String>,
    /// Every deal, for the pipeline board and forecasts.
    #[serde(default)]
    pub deals: Vec<DealSummary>,
    /// Birthday, for personal touches and segments.
    #[serde(default)]
    pub birthday: Option<crate::Birthday>,
    /// The day the customer was added (its anniversary is a personal touch).
    #[serde(default)]
    pub since: Option<CalendarDate>,
    /// When the customer last changed.
    pub updated_at: Timestamp,
    /// Whether the customer is archived.
    pub archived: bool,
    /// Custom field values, by field id (as in [`Customer::custom`]), for search, filters,
    /// sort and segments.
    #[serde(default)]
    pub custom: std::collections::BTreeMap<String, String>,
    /// Several-choice custom field values: the chosen choice ids, by field id.
    #[serde(default)]
    pub custom_sets: std::collections::BTreeMap<String, Vec<String>>,
    /// A digest of the heads of the document this summary was made from
    /// (`crate::documents::customer_doc::heads_tag`; 0: not known, e.g. made from a
    /// customer without its document). A device lists a change from another device by the
    /// projection that came with it, without loading the document, only when its own
    /// summary's tag is the digest of the change's dependencies (the change follows exactly
    /// the state this device holds).
    #[serde(default)]
    pub heads: u64,
}

impl CustomerSummary {
    /// The projection of `customer`.
    pub fn of(customer: &Customer) -> CustomerSummary {
        let mut open_tasks: Vec<OpenTask> = customer
            .tasks
            .iter()
            .filter(|(_, task)| task.is_open())
            .map(|(id, task)| OpenTask {
                id: id.clone(),
                title: task.title.trim().to_string(),
                due: task.due,
                priority: task.priority,
                assignee: task.assignee.trim().to_string(),
            })
            .collect();
        crate::order::sort_by(&mut open_tasks, |a, b| {
            a.due.cmp(&b.due).then_with(|| a.id.cmp(&b.id))
        });
        let check_in_due = customer.check_in_due();
        let purchases: Vec<&Purchase> = customer.purchases.values().collect();
        let (lifetime_currency, lifetime) = lifetime_value(&purchases, "");
        CustomerSummary {
            id: customer.id.clone(),
            name: customer.name.trim().to_string(),
            company: customer.company.trim().to_string(),
            job_title: customer.job_title.trim().to_string(),
            stage: customer.stage,
            tags: customer.tags.iter().map(str::to_string).collect(),
            emails: customer
                .emails
                .iter()
                .map(|email| email.value.trim().to_string())
                .collect(),
            phones: customer
                .phones
                .iter()
                .map(|phone| phone.value.trim().to_string())
                .collect(),
            city: customer.address.city.trim().to_string(),
            country: customer.address.country.trim().to_string(),
            owner: customer.owner.trim().to_string(),
            next_follow_up: open_tasks
                .first()
                .map(|task| task.due)
                .into_iter()
                .chain(check_in_due)
                .min(),
            open_tasks,
            check_in_due,
            last_contact: customer.last_contact(),
            open_complaints: customer
                .activities
                .values()
                .filter_map(|activity| activity.complaint.as_ref())
                .filter(|complaint| complaint.status != ComplaintStatus::Resolved)
                .count() as u32,
            nps: customer
                .feedback
                .values()
                .filter(|feedback| feedback.kind == FeedbackKind::Nps)
                .max_by_key(|feedback| feedback.at)
                .map(|feedback| feedback.score),
            lifetime_value_cents: lifetime.cents,
            lifetime_value_currency: lifetime_currency,
            purchases: customer.purchases.len() as u32,
            products: {
                let mut products: Vec<String> = customer
                    .purchases
                    .values()
                    .map(|purchase| purchase.product_id.clone())
                    .collect();
                crate::order::sort(&mut products);
                products.dedup();
                products
            },
            deals: customer
                .deals
                .iter()
                .map(|(id, deal)| DealSummary {
                    id: id.clone(),
                    title: deal.title.trim().to_string(),
                    stage: deal.stage.clone(),
                    value_cents: deal.value_cents,
                    currency: deal.currency.clone(),
                    expected_close: deal.expected_close,
                })
                .collect(),
            birthday: customer.birthday,
            since: {
                let (year, month, day) = customer.created_at.civil_date();
                Some(CalendarDate { year, month, day })
            },
            updated_at: customer.updated_at,
            archived: customer.archived,
            custom: (customer.custom.iter())
                .filter(|(_, value)| !value.trim().is_empty())
                .map(|(id, value)| (id.clone(), value.clone()))
                .collect(),
            custom_sets: (customer.custom_sets.iter())
                .filter(|(_, chosen)| !chosen.is_empty())
                .map(|(id, chosen)| (id.clone(), chosen.iter().map(str::to_string).collect()))
                .collect(),
            heads: 0,
        }
    }

    /// The name to show: the person's name, else the company.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.company
        } else {
            &self.name
        }
    }

    /// Up to two initials for an avatar.
    pub fn initials(&self) -> String {
        self.display_name()
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .filter(|c| c.is_alphanumeric())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// An open follow-up, as the follow-up views list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenTask {
    /// The task's record id in the customer document.
    pub id: String,
    /// What to do.
    pub title: String,
    /// When it is due.
    pub due: Timestamp,
    /// How urgent.
    pub priority: Priority,
    /// Whom it is for (a team member's email; empty: anyone).
    #[serde(default)]
    pub assignee: String,
}

/// A deal, as the pipeline board shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealSummary {
    /// The deal's record id in the customer document.
    pub id: String,
    /// What is being sold.
    pub title: String,
    /// The pipeline stage's id.
    pub stage: String,
    /// Expected value, in cents.
    pub value_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When the rep expects to close it.
    pub expected_close: Option<CalendarDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_come_from_the_display_name() {
        let mut customer = Customer::new("c".parse().unwrap(), Timestamp(0));
        customer.company = "acme industries".into();
        assert_eq!(CustomerSummary::of(&customer).initials(), "AI");
        customer.name = "Zoë de la Cruz".into();
        assert_eq!(CustomerSummary::of(&customer).initials(), "ZD");
    }

    #[test]
    fn the_stage_is_stored_as_its_text() {
        let mut customer = Customer::new("c".parse().unwrap(), Timestamp(0));
        customer.name = "Ada".into();
        customer.stage = LifecycleStage::Loyal;
        let json = serde_json::to_value(CustomerSummary::of(&customer)).unwrap();
        assert_eq!(json["stage"], "loyal");
        let back: CustomerSummary = serde_json::from_value(json).unwrap();
        assert_eq!(back.stage, LifecycleStage::Loyal);
    }

    #[test]
    fn follow_ups_complaints_and_nps_are_projected() {
        use crate::model::records::*;
        const DAY: i64 = Timestamp::DAY_MS;
        let mut customer = Customer::new("c".parse().unwrap(), Timestamp(0));
        customer.name = "Ada".into();
        let task = |title: &str, due: i64, done: bool| Task {
            title: title.into(),
            due: Timestamp(due),
            priority: Priority::Normal,
            done_at: done.then_some(Timestamp(1)),
            created_at: Timestamp(0),
            assignee: String::new(),
        };
        customer
            .tasks
            .insert("t1".into(), task("Send the quote", 10 * DAY, false));
        customer
            .tasks
            .insert("t2".into(), task("Call back", 3 * DAY, true));
        customer
            .tasks
            .insert("t3".into(), task("Visit", 20 * DAY, false));
        let mut call = Activity::new(ActivityKind::Call, Timestamp(2 * DAY), "phone");
        call.summary = "Reached".into();
        customer.activities.insert("a1".into(), call);
        customer.activities.insert(
            "a2".into(),
            Activity::new(ActivityKind::Note, Timestamp(5 * DAY), "phone"),
        );
        let mut complaint = Activity::new(ActivityKind::Complaint, Timestamp(DAY), "phone");
        customer.activities.insert("a3".into(), complaint.clone());
        if let Some(progress) = complaint.complaint.as_mut() {
            progress.set_status(ComplaintStatus::Resolved, Timestamp(2 * DAY));
        }
        customer.activities.insert("a4".into(), complaint);
        for (id, score, at) in [("f1", 9, 2), ("f2", 4, 3)] {
            customer.feedback.insert(
                id.into(),
                Feedback {
                    kind: FeedbackKind::Nps,
                    score,
                    at: Timestamp(at),
                    channel: None,
                    comment: String::new(),
                },
            );
        }
        customer.feedback.insert(
            "f3".into(),
            Feedback {
                kind: FeedbackKind::Csat,
                score: 5,
                at: Timestamp(9),
                channel: None,
                comment: String::new(),
            },
        );

        let summary = CustomerSummary::of(&customer);
        let titles: Vec<&str> = summary
            .open_tasks
            .iter()
            .map(|t| t.title.as_str())
            .collect();
        assert_eq!(titles, ["Send the quote", "Visit"]);
        assert_eq!(summary.next_follow_up, Some(Timestamp(10 * DAY)));
        // The note does not count as contact; the complaint (day 1) and the call (day 2) do.
        assert_eq!(summary.last_contact, Some(Timestamp(2 * DAY)));
        assert_eq!(summary.open_complaints, 1);
        assert_eq!(summary.nps, Some(4));

        // A check-in every 7 days falls due 7 days after the last contact, before the task.
        customer.check_in_days = Some(7);
        let summary = CustomerSummary::of(&customer);
        assert_eq!(summary.check_in_due, Some(Timestamp(9 * DAY)));
        assert_eq!(summary.next_follow_up, Some(Timestamp(9 * DAY)));
    }
}
