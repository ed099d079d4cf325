//! A customer's history as the screens show it: entries of changes in words, a field's values
//! over time, what the fields are called, and setting a field back to an earlier value.
//! Read from the documents by [`crate::documents::history`]; kept apart from it so the
//! screens' wasm, which shows history, holds no document code.

use std::collections::HashMap;

use crate::{Birthday, Channel, ContactPointId, Customer, CustomerId, LifecycleStage, Timestamp};

/// Changes made on other devices that reached this one in a catch-up, and when: stored by
/// the engine with the changes themselves (one record per stored page).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// When they were stored here.
    pub at: Timestamp,
    /// Per customer, the hashes ([`HistoryEntry::change`]) of the changes that arrived;
    /// none: the customer itself is new on this device (every change then arrived).
    pub changes: Vec<(CustomerId, Vec<String>)>,
}

/// One line of "Recent changes": a change of a customer made on another device.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct RecentChange {
    /// The customer.
    pub customer: CustomerId,
    /// Their name as shown in the list.
    pub name: String,
    /// The change, with when it arrived.
    pub entry: HistoryEntry,
}

/// A customer another device erased while this device held changes to it that it had not
/// sent: kept for the rep (downloaded or discarded by her), never dropped unseen.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct SetAside {
    /// Its key among the set-aside customers.
    pub key: u64,
    /// The customer as this device had it, its unsent changes included.
    pub customer: crate::Customer,
    /// How many changes had not been sent.
    pub unsent: usize,
    /// When this device learned of the erasure.
    pub at: Timestamp,
}

/// Dates the entries of `customer`'s history (newest first) that arrived by sync: those
/// named in `arrivals`, and, where the customer itself arrived, every change of another
/// device it brought.
pub fn mark_arrivals(entries: &mut [HistoryEntry], customer: &CustomerId, arrivals: &[Arrival]) {
    let mut by_hash: HashMap<&str, Timestamp> = HashMap::new();
    let mut whole: Option<Timestamp> = None;
    for arrival in arrivals {
        for (id, hashes) in &arrival.changes {
            if id != customer {
                continue;
            }
            if hashes.is_empty() {
                whole = Some(whole.map_or(arrival.at, |at| at.min(arrival.at)));
            }
            for hash in hashes {
                by_hash.entry(hash.as_str()).or_insert(arrival.at);
            }
        }
    }
    for entry in entries.iter_mut() {
        entry.arrived = by_hash.get(entry.change.as_str()).copied();
        if entry.arrived.is_none() && !entry.this_device {
            entry.arrived = whole;
        }
    }
}

/// The customers and changes that arrived since `since`, as [`Arrival`]s hold them: the
/// customer, and the hashes (none: every change of another device).
pub fn arrived_since(arrivals: &[Arrival], since: Timestamp) -> Vec<(CustomerId, Vec<String>)> {
    let mut found: Vec<(CustomerId, Vec<String>)> = Vec::new();
    for arrival in arrivals.iter().filter(|arrival| arrival.at >= since) {
        for (id, hashes) in &arrival.changes {
            match found.iter_mut().find(|(known, _)| known == id) {
                Some((_, known)) if known.is_empty() => {}
                Some((_, known)) if hashes.is_empty() => known.clear(),
                Some((_, known)) => known.extend(hashes.iter().cloned()),
                None => found.push((id.clone(), hashes.clone())),
            }
        }
    }
    found
}

/// One change of a customer, in words.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The change's hash, hex: identifies the entry on every device.
    pub change: String,
    /// The device that made it, as it named itself (or "another device" / "this device").
    pub device: String,
    /// Whether this device made it.
    pub this_device: bool,
    /// When it was made, to the second.
    pub time: Timestamp,
    /// What it did, one line per field or record.
    pub lines: Vec<HistoryLine>,
    /// When it reached this device, for a change made on another one that arrived by sync
    /// (see [`Arrival`]); `None` for this device's own changes and those of a download.
    pub arrived: Option<Timestamp>,
}

/// One thing a change did.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    /// The field it set, for a field's own history and "Put this back" (keys as in
    /// [`crate::FieldConflict::field`]: `stage`, `address.city`, `phones.<id>.value`, …).
    pub field: Option<String>,
    /// What the rep reads.
    pub text: String,
    /// The value the field got, as [`CustomerDoc::put_back`] takes it.
    pub value: Option<String>,
    /// The value it replaced.
    pub before: Option<String>,
}

impl HistoryLine {
    /// A line about no one field.
    pub(crate) fn text(text: String) -> HistoryLine {
        HistoryLine {
            field: None,
            text,
            value: None,
            before: None,
        }
    }
}

/// One value a field had: a line of [`field_history`].
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FieldValue {
    /// The value, as [`CustomerDoc::put_back`] takes it ("" for none).
    pub value: String,
    /// The value as shown.
    pub display: String,
    /// Who set it and when.
    pub device: String,
    /// When.
    pub time: Timestamp,
    /// The change that set it.
    pub change: String,
}

/// The values `field` had, newest first, from a history (newest first). The value a field
/// was created with is not a line of its own (the creation is one line): it is the value the
/// oldest change of the field replaced, dated with the creation.
pub fn field_history(history: &[HistoryEntry], field: &str) -> Vec<FieldValue> {
    let value = |value: String, entry: &HistoryEntry| FieldValue {
        display: display_field(field, &value),
        value,
        device: entry.device.clone(),
        time: entry.time,
        change: entry.change.clone(),
    };
    let mut values = Vec::new();
    let mut oldest_before = None;
    for entry in history {
        for line in entry
            .lines
            .iter()
            .filter(|line| line.field.as_deref() == Some(field))
        {
            if let Some(set) = &line.value {
                values.push(value(set.clone(), entry));
                oldest_before = line.before.clone();
            }
        }
    }
    if let (Some(before), Some(created)) = (oldest_before.filter(|v| !v.is_empty()), history.last())
    {
        values.push(value(before, created));
    }
    values
}

/// What the rep calls a field, from its key.
pub fn field_label(field: &str) -> String {
    let label = match field {
        "name" => "Name",
        "company" => "Company",
        "job_title" => "Job title",
        "stage" => "Stage",
        "preferred_channel" => "Preferred channel",
        "birthday" => "Birthday",
        "owner" => "Owner",
        "check_in_days" => "Check-in",
        "address.street" => "Street",
        "address.city" => "City",
        "address.postal_code" => "Postal code",
        "address.region" => "Region",
        "address.country" => "Country",
        other => {
            let mut parts = other.split('.');
            let noun = match parts.next() {
                Some("emails") => "Email",
                Some("phones") => "Phone",
                _ => return other.to_string(),
            };
            return match parts.nth(1) {
                Some("label") => format!("{noun} label"),
                _ => noun.to_string(),
            };
        }
    };
    label.to_string()
}

/// A stored value of `field` as the rep reads it.
pub fn display_field(field: &str, value: &str) -> String {
    if value.is_empty() {
        return "(empty)".to_string();
    }
    match field {
        "stage" => LifecycleStage::parse(value)
            .map(|stage| stage.label().to_string())
            .unwrap_or_else(|| value.to_string()),
        "preferred_channel" => Channel::parse(value)
            .map(|channel| channel.label().to_string())
            .unwrap_or_else(|| value.to_string()),
        "check_in_days" => format!("every {value} days"),
        _ => value.to_string(),
    }
}

impl Customer {
    /// The value of the field named by `field` as history stores it, `None` if there is no
    /// such field (a contact point since removed).
    pub fn field_value(&self, field: &str) -> Option<String> {
        let text = |value: &str| Some(value.to_string());
        match field {
            "name" => text(&self.name),
            "company" => text(&self.company),
            "job_title" => text(&self.job_title),
            "owner" => text(&self.owner),
            "address.street" => text(&self.address.street),
            "address.city" => text(&self.address.city),
            "address.postal_code" => text(&self.address.postal_code),
            "address.region" => text(&self.address.region),
            "address.country" => text(&self.address.country),
            custom if custom.starts_with("custom.") => Some(
                self.custom
                    .get(&custom["custom.".len()..])
                    .cloned()
                    .unwrap_or_default(),
            ),
            "stage" => text(self.stage.as_str()),
            "preferred_channel" => Some(
                self.preferred_channel
                    .map(|channel| channel.as_str().to_string())
                    .unwrap_or_default(),
            ),
            "birthday" => Some(
                self.birthday
                    .map(|birthday| birthday.to_string())
                    .unwrap_or_default(),
            ),
            "check_in_days" => Some(
                self.check_in_days
                    .map(|days| days.to_string())
                    .unwrap_or_default(),
            ),
            other => {
                let mut parts = other.splitn(3, '.');
                let (list, id, prop) = (parts.next()?, parts.next()?, parts.next()?);
                let points = match list {
                    "emails" => &self.emails,
                    "phones" => &self.phones,
                    _ => return None,
                };
                let point = points.iter().find(|point| point.id.0 == id)?;
                match prop {
                    "value" => text(&point.value),
                    "label" => text(&point.label),
                    _ => None,
                }
            }
        }
    }

    /// Sets the field named by `field` (a [`HistoryLine::field`] key) to a value as history
    /// stores it ("" clears it). The caller validates the result.
    pub fn set_field(&mut self, field: &str, value: &str) -> Result<(), String> {
        let label = field_label(field);
        let unknown = || format!("{} cannot be put back", label.to_lowercase());
        match field {
            "name" => self.name = value.to_string(),
            "company" => self.company = value.to_string(),
            "job_title" => self.job_title = value.to_string(),
            "owner" => self.owner = value.to_string(),
            "address.street" => self.address.street = value.to_string(),
            "address.city" => self.address.city = value.to_string(),
            "address.postal_code" => self.address.postal_code = value.to_string(),
            "address.region" => self.address.region = value.to_string(),
            "address.country" => self.address.country = value.to_string(),
            "stage" => {
                self.stage = LifecycleStage::parse(value)
                    .ok_or_else(|| format!("“{value}” is not a stage"))?
            }
            "preferred_channel" if value.is_empty() => self.preferred_channel = None,
            "preferred_channel" => {
                self.preferred_channel = Some(
                    Channel::parse(value).ok_or_else(|| format!("“{value}” is not a channel"))?,
                )
            }
            "birthday" if value.is_empty() => self.birthday = None,
            "birthday" => {
                self.birthday =
                    Some(Birthday::parse(value).ok_or_else(|| format!("“{value}” is not a day"))?)
            }
            "check_in_days" if value.is_empty() => self.check_in_days = None,
            "check_in_days" => {
                self.check_in_days = Some(
                    value
                        .parse()
                        .map_err(|_| format!("“{value}” is not a number of days"))?,
                )
            }
            other if other.starts_with("custom.") => {
                // A stored value, put back as it was (the engine checks it against the
                // field's definition like any edit).
                let id = other["custom.".len()..].to_string();
                if value.is_empty() {
                    self.custom.remove(&id);
                } else {
                    self.custom.insert(id, value.to_string());
                }
            }
            other => {
                let mut parts = other.splitn(3, '.');
                let (Some(list), Some(id), Some(prop)) = (parts.next(), parts.next(), parts.next())
                else {
                    return Err(unknown());
                };
                let points = match list {
                    "emails" => &mut self.emails,
                    "phones" => &mut self.phones,
                    _ => return Err(unknown()),
                };
                let id = ContactPointId(id.to_string());
                let Some(point) = points.iter_mut().find(|point| point.id == id) else {
                    return Err(format!(
                        "that {} is no longer on this customer: add it again instead",
                        label.to_lowercase()
                    ));
                };
                match prop {
                    "value" => point.value = value.to_string(),
                    "label" => point.label = value.to_string(),
                    _ => return Err(unknown()),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Address, ContactPoint, CustomerId};

    fn customer() -> Customer {
        let id: CustomerId = "7d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap();
        let mut customer = Customer::new(id, Timestamp(0));
        customer.name = "Zoë Dupont".into();
        customer.address = Address {
            city: "Lyon".into(),
            ..Address::default()
        };
        customer.phones = vec![ContactPoint {
            id: ContactPointId("p1".into()),
            label: "mobile".into(),
            value: "+33 6 12 34 56 78".into(),
        }];
        customer.birthday = Birthday::parse("--06-15");
        customer.check_in_days = Some(30);
        customer.preferred_channel = Some(Channel::Phone);
        customer
    }

    const FIELDS: &[&str] = &[
        "name",
        "company",
        "job_title",
        "owner",
        "stage",
        "preferred_channel",
        "birthday",
        "check_in_days",
        "address.street",
        "address.city",
        "address.postal_code",
        "address.region",
        "address.country",
        "phones.p1.value",
        "phones.p1.label",
    ];

    #[test]
    fn every_field_reads_and_sets_back_the_same_value() {
        let original = customer();
        for field in FIELDS {
            let value = original.field_value(field).expect(field);
            let mut copy = original.clone();
            copy.set_field(field, &value).unwrap();
            assert_eq!(copy, original, "{field}");
            assert!(!field_label(field).contains('.'), "{field} has a label");
        }
        assert_eq!(original.field_value("phones.p9.value"), None);
        assert_eq!(original.field_value("tags"), None);
    }

    #[test]
    fn values_are_checked_and_shown_in_words() {
        let mut customer = customer();
        customer.set_field("stage", "customer").unwrap();
        assert_eq!(customer.stage, LifecycleStage::Customer);
        assert!(customer.set_field("stage", "boss").is_err());
        assert!(customer.set_field("birthday", "31-02").is_err());
        assert!(customer.set_field("check_in_days", "soon").is_err());
        assert!(customer
            .set_field("phones.p2.value", "+1")
            .unwrap_err()
            .contains("no longer"));
        customer.set_field("birthday", "").unwrap();
        assert_eq!(customer.birthday, None);
        assert_eq!(display_field("stage", "loyal"), "Loyal customer");
        assert_eq!(display_field("preferred_channel", "in_person"), "In person");
        assert_eq!(display_field("city", ""), "(empty)");
        assert_eq!(field_label("emails.e1.label"), "Email label");
    }

    fn entry(change: &str, this_device: bool) -> HistoryEntry {
        HistoryEntry {
            change: change.into(),
            device: "Tablet".into(),
            this_device,
            time: Timestamp(1_000),
            lines: Vec::new(),
            arrived: None,
        }
    }

    #[test]
    fn arrivals_date_the_changes_they_brought_and_list_what_came_since_a_moment() {
        let ada = customer().id;
        let bob: CustomerId = "0d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap();
        let arrivals = vec![
            // Bob arrived whole (created on another device), then Ada's change "b".
            Arrival {
                at: Timestamp(5_000),
                changes: vec![(bob.clone(), Vec::new())],
            },
            Arrival {
                at: Timestamp(9_000),
                changes: vec![
                    (ada.clone(), vec!["b".into()]),
                    (bob.clone(), vec!["y".into()]),
                ],
            },
        ];
        let mut history = vec![entry("c", true), entry("b", false), entry("a", false)];
        mark_arrivals(&mut history, &ada, &arrivals);
        let arrived: Vec<Option<Timestamp>> = history.iter().map(|e| e.arrived).collect();
        assert_eq!(arrived, [None, Some(Timestamp(9_000)), None]);
        let mut history = vec![entry("z", true), entry("y", false), entry("x", false)];
        mark_arrivals(&mut history, &bob, &arrivals);
        let arrived: Vec<Option<Timestamp>> = history.iter().map(|e| e.arrived).collect();
        assert_eq!(
            arrived,
            [None, Some(Timestamp(9_000)), Some(Timestamp(5_000))],
            "this device's own change did not arrive"
        );
        assert_eq!(
            arrived_since(&arrivals, Timestamp(6_000)),
            [
                (ada.clone(), vec!["b".to_string()]),
                (bob.clone(), vec!["y".to_string()])
            ]
        );
        // Since before Bob arrived: all of Bob.
        assert_eq!(
            arrived_since(&arrivals, Timestamp(0)),
            [(bob, Vec::new()), (ada, vec!["b".to_string()])]
        );
    }
}
