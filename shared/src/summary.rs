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

use crate::{Customer, CustomerId, LifecycleStage, Timestamp};

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
    /// Lifecycle stage.
    #[serde(with = "stage_text")]
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
    /// The next open follow-up, once follow-ups exist.
    #[serde(default)]
    pub next_follow_up: Option<Timestamp>,
    /// When the customer last changed.
    pub updated_at: Timestamp,
    /// Whether the customer is archived.
    pub archived: bool,
}

impl CustomerSummary {
    /// The projection of `customer`.
    pub fn of(customer: &Customer) -> CustomerSummary {
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
            next_follow_up: None,
            updated_at: customer.updated_at,
            archived: customer.archived,
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

mod stage_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::LifecycleStage;

    pub fn serialize<S: Serializer>(stage: &LifecycleStage, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(stage.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LifecycleStage, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        LifecycleStage::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown stage {text:?}")))
    }
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
}
