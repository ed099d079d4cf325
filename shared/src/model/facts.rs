//! [`CustomerFacts`]: what the dashboards need to know about one customer.
//!
//! The dashboards compute churn, conversion, satisfaction, revenue and activity figures over
//! any period from these records alone, never from documents (a loaded document costs tens of
//! kilobytes; 50,000 of them would not fit). Facts are bigger than a [`crate::CustomerSummary`]
//! (every activity's kind and instant), so the client keeps them in their own IndexedDB
//! store, written in the same transaction as the summary and read only when a dashboard
//! opens: the list's warm start does not pay for them.
//!
//! Serialization boundary: facts are stored as bytes ([`CustomerFacts::encode`]: a format
//! byte, then postcard), compact and fast to decode: the first dashboard of a session reads
//! every customer's. Postcard is not self-describing, so a changed struct needs a new
//! [`FACTS_FORMAT`]; records of another format do not decode and are made again from their
//! documents. (The JSON form, with short field names, serves tests and debugging.)

use serde::{Deserialize, Serialize};

use crate::{
    model::records::{ActivityKind, FeedbackKind},
    CalendarDate, Customer, CustomerId, LifecycleStage, Timestamp,
};

/// The dated facts of one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFacts {
    /// The customer.
    pub id: CustomerId,
    /// When the customer was added.
    #[serde(rename = "c")]
    pub created_at: Timestamp,
    /// The current lifecycle stage.
    #[serde(rename = "s")]
    pub stage: LifecycleStage,
    /// Archived (or merged into another) customers count in no figure.
    #[serde(rename = "x", default)]
    pub archived: bool,
    /// Stage changes, oldest first: (from, to, when).
    #[serde(rename = "sc", default)]
    pub stages: Vec<(Option<LifecycleStage>, LifecycleStage, Timestamp)>,
    /// Feedback answers: (survey, score, when).
    #[serde(rename = "f", default)]
    pub feedback: Vec<(FeedbackKind, u8, Timestamp)>,
    /// Purchases.
    #[serde(rename = "p", default)]
    pub purchases: Vec<PurchaseFact>,
    /// Complaints: (received, first response, resolved).
    #[serde(rename = "k", default)]
    pub complaints: Vec<(Timestamp, Option<Timestamp>, Option<Timestamp>)>,
    /// Every activity: (kind, when), oldest first.
    #[serde(rename = "a", default)]
    pub activities: Vec<(ActivityKind, Timestamp)>,
    /// Deals: (pipeline stage id, value in cents, currency).
    #[serde(rename = "d", default)]
    pub deals: Vec<(String, i64, String)>,
}

/// One purchase, as the revenue figures need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseFact {
    /// The catalog product's id.
    #[serde(rename = "i")]
    pub product_id: String,
    /// The product's name when bought.
    #[serde(rename = "n")]
    pub product_name: String,
    /// How many.
    #[serde(rename = "q")]
    pub quantity: u32,
    /// Price of one, in cents.
    #[serde(rename = "u")]
    pub unit_price_cents: i64,
    /// ISO 4217 code.
    #[serde(rename = "m")]
    pub currency: String,
    /// The day of the purchase.
    #[serde(rename = "t")]
    pub date: CalendarDate,
}

impl PurchaseFact {
    /// Quantity × unit price, in cents.
    pub fn total_cents(&self) -> i64 {
        i64::from(self.quantity).saturating_mul(self.unit_price_cents)
    }
}

/// The format byte of [`CustomerFacts::encode`]; bump it whenever the struct changes.
pub const FACTS_FORMAT: u8 = 1;

impl CustomerFacts {
    /// The stored form: [`FACTS_FORMAT`], then the facts in postcard.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_extend(self, vec![FACTS_FORMAT])
            .expect("facts serialize: plain data, no maps with non-string keys")
    }

    /// Reads [`Self::encode`]'s bytes; `None` for another format or damaged bytes.
    pub fn decode(bytes: &[u8]) -> Option<CustomerFacts> {
        match bytes.split_first() {
            Some((&FACTS_FORMAT, rest)) => postcard::from_bytes(rest).ok(),
            _ => None,
        }
    }

    /// The facts of `customer`.
    pub fn of(customer: &Customer) -> CustomerFacts {
        let mut activities: Vec<(ActivityKind, Timestamp)> = customer
            .activities
            .values()
            .map(|activity| (activity.kind, activity.at))
            .collect();
        crate::order::sort_by_key(&mut activities, |(_, at)| *at);
        let mut feedback: Vec<(FeedbackKind, u8, Timestamp)> = customer
            .feedback
            .values()
            .map(|answer| (answer.kind, answer.score, answer.at))
            .collect();
        crate::order::sort_by_key(&mut feedback, |(_, _, at)| *at);
        let mut purchases: Vec<PurchaseFact> = customer
            .purchases
            .values()
            .map(|purchase| PurchaseFact {
                product_id: purchase.product_id.clone(),
                product_name: purchase.product_name.trim().to_string(),
                quantity: purchase.quantity,
                unit_price_cents: purchase.unit_price_cents,
                currency: purchase.currency.clone(),
                date: purchase.date,
            })
            .collect();
        crate::order::sort_by_key(&mut purchases, |purchase| purchase.date);
        let mut complaints: Vec<(Timestamp, Option<Timestamp>, Option<Timestamp>)> = customer
            .activities
            .values()
            .filter_map(|activity| {
                let progress = activity.complaint.as_ref()?;
                Some((
                    activity.at,
                    progress.first_response_at,
                    progress.resolved_at,
                ))
            })
            .collect();
        crate::order::sort(&mut complaints);
        CustomerFacts {
            id: customer.id.clone(),
            created_at: customer.created_at,
            stage: customer.stage,
            archived: customer.archived,
            stages: customer
                .stage_history()
                .into_iter()
                .map(|change| (change.from, change.to, change.at))
                .collect(),
            feedback,
            purchases,
            complaints,
            activities,
            deals: customer
                .deals
                .values()
                .map(|deal| (deal.stage.clone(), deal.value_cents, deal.currency.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::{Activity, ComplaintStatus, Feedback, Purchase};

    #[test]
    fn facts_are_projected_sorted_and_survive_json() {
        let mut customer = crate::seed::customer(1, 1, Timestamp(1_795_341_600_000));
        crate::seed::add_records(&mut customer, 1, 30, Timestamp(1_795_341_600_000));
        let mut complaint = Activity::new(ActivityKind::Complaint, Timestamp(5), "phone");
        if let Some(progress) = complaint.complaint.as_mut() {
            progress.set_status(ComplaintStatus::Resolved, Timestamp(9));
        }
        customer.activities.insert("zz".into(), complaint);
        customer.feedback.insert(
            "f".into(),
            Feedback {
                kind: FeedbackKind::Nps,
                score: 10,
                at: Timestamp(3),
                channel: None,
                comment: "great".into(),
            },
        );
        customer.purchases.insert(
            "p".into(),
            Purchase {
                product_id: "x".into(),
                product_name: " X ".into(),
                quantity: 3,
                unit_price_cents: 250,
                currency: "EUR".into(),
                date: CalendarDate {
                    year: 1970,
                    month: 1,
                    day: 1,
                },
            },
        );
        let facts = CustomerFacts::of(&customer);
        assert_eq!(facts.activities.len(), 31);
        assert!(facts.activities.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(facts.activities[0], (ActivityKind::Complaint, Timestamp(5)));
        assert!(facts
            .complaints
            .contains(&(Timestamp(5), Some(Timestamp(9)), Some(Timestamp(9)))));
        assert_eq!(facts.feedback[0], (FeedbackKind::Nps, 10, Timestamp(3)));
        assert_eq!(facts.purchases[0].product_name, "X");
        assert_eq!(facts.purchases[0].total_cents(), 750);
        assert_eq!(facts.stages.last().map(|s| s.1), Some(customer.stage));
        let bytes = facts.encode();
        assert_eq!(CustomerFacts::decode(&bytes), Some(facts.clone()));
        let json_len = serde_json::to_string(&facts).unwrap().len();
        assert!(
            bytes.len() * 3 < json_len,
            "{} bytes vs {json_len} in JSON",
            bytes.len()
        );
        // Another format, or damaged bytes: no facts (they are made again from the document).
        let mut other = bytes.clone();
        other[0] = FACTS_FORMAT + 1;
        assert_eq!(CustomerFacts::decode(&other), None);
        assert_eq!(CustomerFacts::decode(&bytes[..bytes.len() / 2]), None);
        assert_eq!(CustomerFacts::decode(&[]), None);
        let json = serde_json::to_string(&facts).unwrap();
        let back: CustomerFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, facts);
        // Records written before a field existed still read.
        let minimal: CustomerFacts =
            serde_json::from_str(r#"{"id":"c1","c":0,"s":"lead"}"#).unwrap();
        assert_eq!(minimal.stage, LifecycleStage::Lead);
        assert!(minimal.activities.is_empty());
    }
}
