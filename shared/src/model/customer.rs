//! The customer document schema: plain Rust structs mapped onto one Automerge document per
//! customer with autosurgeon.
//!
//! Document keys are fixed with `rename=` so Rust names can change without breaking stored
//! documents, and every field added after the first release carries `missing=` so older
//! documents still hydrate. List items carry a `#[key]` so they keep their identity when two
//! devices edit the same list concurrently.

use std::collections::BTreeMap;
use std::fmt;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler, Text};

use crate::{
    model::records::{Activity, Deal, Feedback, Purchase, Task},
    CustomerId, Timestamp,
};

/// One customer: everything a rep knows about a person or account.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Customer {
    /// The customer's identity; equal to the id its document is stored under.
    pub id: CustomerId,
    /// Full name of the contact person. A customer needs a name or a company.
    pub name: String,
    /// The organisation the contact works for.
    pub company: String,
    /// The contact's role, e.g. "Head of purchasing".
    #[autosurgeon(rename = "job_title")]
    pub job_title: String,
    /// Email addresses, each with a label ("work", "home").
    pub emails: Vec<ContactPoint>,
    /// Phone numbers, each with a label ("mobile", "office").
    pub phones: Vec<ContactPoint>,
    /// Postal address.
    pub address: Address,
    /// Where the customer is in their relationship with the rep.
    pub stage: LifecycleStage,
    /// Free labels; a set, so the same tag added on two devices is kept once.
    pub tags: TagSet,
    /// How the customer prefers to be contacted, if known.
    #[autosurgeon(rename = "preferred_channel")]
    pub preferred_channel: Option<Channel>,
    /// Birthday, for the personal touch; the year may be unknown.
    pub birthday: Option<Birthday>,
    /// Free notes. Collaborative text: concurrent edits on two devices interleave instead of
    /// one overwriting the other.
    #[serde(with = "text_as_string")]
    pub notes: Text,
    /// Who looks after this customer (a rep's name until accounts exist).
    pub owner: String,
    /// When the customer was created.
    #[autosurgeon(rename = "created_at")]
    pub created_at: Timestamp,
    /// When any field last changed.
    #[autosurgeon(rename = "updated_at")]
    pub updated_at: Timestamp,
    /// Archived customers are hidden from the list by default but keep all their history.
    pub archived: bool,
    /// Calls, visits, emails, notes, complaints…, by record id.
    #[autosurgeon(missing = "Default::default")]
    pub activities: BTreeMap<String, Activity>,
    /// Follow-ups, by record id.
    #[autosurgeon(missing = "Default::default")]
    pub tasks: BTreeMap<String, Task>,
    /// NPS, CSAT and CES answers, by record id.
    #[autosurgeon(missing = "Default::default")]
    pub feedback: BTreeMap<String, Feedback>,
    /// Products bought, by record id.
    #[autosurgeon(missing = "Default::default")]
    pub purchases: BTreeMap<String, Purchase>,
    /// Sales opportunities, by record id.
    #[autosurgeon(missing = "Default::default")]
    pub deals: BTreeMap<String, Deal>,
    /// A recurring check-in: a follow-up falls due this many days after the last contact.
    #[autosurgeon(rename = "check_in_days", missing = "Default::default")]
    pub check_in_days: Option<u32>,
    /// Set when this customer was merged into another (and archived); its history stays.
    #[autosurgeon(rename = "merged_into", missing = "Default::default")]
    pub merged_into: Option<CustomerId>,
    /// Every change of lifecycle stage, by record id: what churn, retention and funnel
    /// conversion are computed from. Written by [`crate::CustomerDoc`] whenever `stage`
    /// changes; a map, so changes made on two devices at once are both kept.
    #[autosurgeon(rename = "stage_changes", missing = "Default::default")]
    pub stage_changes: BTreeMap<String, StageChange>,
    /// Values of the book's custom fields, by field id, each in its kind's canonical form
    /// ([`crate::model::custom_fields::parse_value`]); a map, so two devices filling
    /// different fields merge. Several-choice fields are in [`Customer::custom_sets`].
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
    /// Values of several-choice custom fields: the chosen choices' ids, by field id (a set:
    /// choices added on two devices are both kept).
    #[autosurgeon(rename = "custom_sets", missing = "Default::default")]
    #[serde(default)]
    pub custom_sets: BTreeMap<String, TagSet>,
}

/// One move of a customer from a lifecycle stage to another.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct StageChange {
    /// The stage left; `None` when the customer was created in `to`.
    pub from: Option<LifecycleStage>,
    /// The stage reached.
    pub to: LifecycleStage,
    /// When.
    pub at: Timestamp,
}

/// Notes travel between the screens and the engine as plain text; the engine writes them into
/// the document as a diff ([`crate::CustomerDoc::update_to`]).
mod text_as_string {
    use autosurgeon::Text;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(text: &Text, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(text.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        String::deserialize(deserializer).map(Text::with_value)
    }
}

impl Customer {
    /// Replaces the notes (screens edit them as plain text).
    pub fn set_notes(&mut self, notes: impl AsRef<str>) {
        self.notes = Text::with_value(notes);
    }

    /// A new, empty customer with the given id, created at `now`.
    pub fn new(id: CustomerId, now: Timestamp) -> Customer {
        Customer {
            id,
            name: String::new(),
            company: String::new(),
            job_title: String::new(),
            emails: Vec::new(),
            phones: Vec::new(),
            address: Address::default(),
            stage: LifecycleStage::Prospect,
            tags: TagSet::default(),
            preferred_channel: None,
            birthday: None,
            notes: Text::with_value(""),
            owner: String::new(),
            created_at: now,
            updated_at: now,
            archived: false,
            activities: BTreeMap::new(),
            tasks: BTreeMap::new(),
            feedback: BTreeMap::new(),
            purchases: BTreeMap::new(),
            deals: BTreeMap::new(),
            check_in_days: None,
            merged_into: None,
            stage_changes: BTreeMap::new(),
            custom: BTreeMap::new(),
            custom_sets: BTreeMap::new(),
        }
    }

    /// When the rep was last in contact with the customer (the latest activity other than a
    /// note).
    pub fn last_contact(&self) -> Option<Timestamp> {
        self.activities
            .values()
            .filter(|activity| activity.kind.is_contact())
            .map(|activity| activity.at)
            .max()
    }

    /// Activities, newest first (ties by id, so every device shows the same order).
    pub fn timeline(&self) -> Vec<(&str, &Activity)> {
        let mut activities: Vec<(&str, &Activity)> = self
            .activities
            .iter()
            .map(|(id, activity)| (id.as_str(), activity))
            .collect();
        crate::order::sort_by(&mut activities, |a, b| {
            b.1.at.cmp(&a.1.at).then_with(|| a.0.cmp(b.0))
        });
        activities
    }

    /// When the recurring check-in falls due: `check_in_days` after the last contact (or
    /// after the customer was created, if never contacted).
    pub fn check_in_due(&self) -> Option<Timestamp> {
        let days = i64::from(self.check_in_days?);
        let since = self.last_contact().unwrap_or(self.created_at);
        Some(Timestamp(since.0 + days * Timestamp::DAY_MS))
    }

    /// Stage changes, oldest first (ties by record id, so every device agrees).
    pub fn stage_history(&self) -> Vec<&StageChange> {
        let mut changes: Vec<(&String, &StageChange)> = self.stage_changes.iter().collect();
        crate::order::sort_by(&mut changes, |a, b| {
            a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(b.0))
        });
        changes.into_iter().map(|(_, change)| change).collect()
    }

    /// Records that the stage is now `to`, moved from `from` at `at`, under a record id made
    /// from `at` and `device` (unique: a suffix is added if taken).
    pub fn record_stage_change(
        &mut self,
        from: Option<LifecycleStage>,
        at: Timestamp,
        device: &str,
    ) {
        let base = format!("{}-{device}", at.0);
        let mut id = base.clone();
        let mut n = 1;
        while self.stage_changes.contains_key(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        self.stage_changes.insert(
            id,
            StageChange {
                from,
                to: self.stage,
                at,
            },
        );
    }

    /// The name to show: the person's name, else the company.
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            self.company.trim()
        } else {
            self.name.trim()
        }
    }
}

/// Identifies one email or phone entry inside a customer, so concurrent edits of the list
/// keep each entry's identity.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Reconcile,
    Hydrate,
)]
pub struct ContactPointId(pub String);

impl fmt::Display for ContactPointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address or phone number with a label.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct ContactPoint {
    /// Stable identity of the entry within its list.
    #[key]
    pub id: ContactPointId,
    /// What the entry is for, e.g. "work" or "mobile".
    pub label: String,
    /// The address or number as the rep typed it.
    pub value: String,
}

/// A postal address. Every part is optional free text.
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate,
)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// City or town.
    pub city: String,
    /// Postal or ZIP code.
    #[autosurgeon(rename = "postal_code")]
    pub postal_code: String,
    /// State, county or region.
    pub region: String,
    /// Country.
    pub country: String,
}

impl Address {
    /// Whether no part of the address is filled in.
    pub fn is_empty(&self) -> bool {
        [
            &self.street,
            &self.city,
            &self.postal_code,
            &self.region,
            &self.country,
        ]
        .iter()
        .all(|part| part.trim().is_empty())
    }
}

/// The lifecycle of a customer relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Reconcile, Hydrate)]
pub enum LifecycleStage {
    /// Someone who might buy; no contact yet.
    #[default]
    #[autosurgeon(rename = "prospect")]
    Prospect,
    /// A prospect who showed interest.
    #[autosurgeon(rename = "lead")]
    Lead,
    /// Has bought.
    #[autosurgeon(rename = "customer")]
    Customer,
    /// Buys repeatedly.
    #[autosurgeon(rename = "loyal")]
    Loyal,
    /// Recommends us to others.
    #[autosurgeon(rename = "advocate")]
    Advocate,
    /// Stopped buying.
    #[autosurgeon(rename = "churned")]
    Churned,
}

impl LifecycleStage {
    /// Every stage, in funnel order.
    pub const ALL: [LifecycleStage; 6] = [
        LifecycleStage::Prospect,
        LifecycleStage::Lead,
        LifecycleStage::Customer,
        LifecycleStage::Loyal,
        LifecycleStage::Advocate,
        LifecycleStage::Churned,
    ];

    /// The stable identifier used in storage and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Prospect => "prospect",
            LifecycleStage::Lead => "lead",
            LifecycleStage::Customer => "customer",
            LifecycleStage::Loyal => "loyal",
            LifecycleStage::Advocate => "advocate",
            LifecycleStage::Churned => "churned",
        }
    }

    /// The name shown to the rep.
    pub fn label(self) -> &'static str {
        match self {
            LifecycleStage::Prospect => "Prospect",
            LifecycleStage::Lead => "Lead",
            LifecycleStage::Customer => "Customer",
            LifecycleStage::Loyal => "Loyal customer",
            LifecycleStage::Advocate => "Advocate",
            LifecycleStage::Churned => "Churned",
        }
    }

    /// Parses [`LifecycleStage::as_str`] back.
    pub fn parse(text: &str) -> Option<LifecycleStage> {
        LifecycleStage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == text)
    }
}

// Text in human-readable formats, the position in `ALL` in compact binary ones.
impl serde::Serialize for LifecycleStage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(self.as_str())
        } else {
            let index = LifecycleStage::ALL
                .iter()
                .position(|s| s == self)
                .unwrap_or(0);
            serializer.serialize_u8(index as u8)
        }
    }
}

impl<'de> serde::Deserialize<'de> for LifecycleStage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            let index = u8::deserialize(deserializer)?;
            return LifecycleStage::ALL
                .get(usize::from(index))
                .copied()
                .ok_or_else(|| serde::de::Error::custom(format!("unknown stage {index}")));
        }
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        LifecycleStage::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown stage {text:?}")))
    }
}

/// How a customer prefers to be reached.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Reconcile,
    Hydrate,
)]
pub enum Channel {
    /// A phone call.
    #[autosurgeon(rename = "phone")]
    Phone,
    /// Email.
    #[autosurgeon(rename = "email")]
    Email,
    /// SMS or a messaging app.
    #[autosurgeon(rename = "message")]
    Message,
    /// A visit in person.
    #[autosurgeon(rename = "in_person")]
    InPerson,
}

impl Channel {
    /// Every channel, in the order shown to the rep.
    pub const ALL: [Channel; 4] = [
        Channel::Phone,
        Channel::Email,
        Channel::Message,
        Channel::InPerson,
    ];

    /// The stable identifier used in storage and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Message => "message",
            Channel::InPerson => "in_person",
        }
    }

    /// The name shown to the rep.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Phone => "Phone call",
            Channel::Email => "Email",
            Channel::Message => "Text message",
            Channel::InPerson => "In person",
        }
    }

    /// Parses [`Channel::as_str`] back.
    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

/// A calendar date without a time, stored as `YYYY-MM-DD` text so it reads the same
/// everywhere and sorts naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    /// Year, e.g. 1984.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31.
    pub day: u32,
}

impl CalendarDate {
    /// The months' names, January first.
    pub const MONTHS: [&'static str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];

    /// Days since 1970-01-01.
    pub fn day_number(self) -> i64 {
        crate::model::timestamp::days_from_civil(self.year, self.month, self.day)
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_day_number(days: i64) -> CalendarDate {
        let (year, month, day) = crate::model::timestamp::civil_from_days(days);
        CalendarDate { year, month, day }
    }

    /// Parses `YYYY-MM-DD` (what an `<input type="date">` produces); `None` if it is not a real
    /// date.
    pub fn parse(text: &str) -> Option<CalendarDate> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        let valid = (1000..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day);
        valid.then_some(CalendarDate { year, month, day })
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

// Text (`YYYY-MM-DD`) in human-readable formats such as JSON; the day number in compact
// binary ones (postcard: the dashboard facts).
impl serde::Serialize for CalendarDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_i64(self.day_number())
        }
    }
}

impl<'de> serde::Deserialize<'de> for CalendarDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if !deserializer.is_human_readable() {
            return Ok(CalendarDate::from_day_number(i64::deserialize(
                deserializer,
            )?));
        }
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CalendarDate::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text:?}")))
    }
}

impl Reconcile for CalendarDate {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for CalendarDate {
    fn hydrate_string(text: &'_ str) -> Result<Self, HydrateError> {
        CalendarDate::parse(text)
            .ok_or_else(|| HydrateError::unexpected("a YYYY-MM-DD date", text.to_string()))
    }
}

/// A birthday: day and month, and the year when it is known (address books and CRMs
/// export birthdays without a year, `--06-15`, and a rep often knows only the day).
///
/// Stored as text: `YYYY-MM-DD`, or `--MM-DD` without a year (ISO 8601's truncated form,
/// also vCard 4's), so documents written before the year became optional read unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Birthday {
    /// The year of birth, if known.
    pub year: Option<i32>,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, 1-31 (29 February is valid without a year).
    pub day: u32,
}

impl Birthday {
    /// A birthday from its parts; `None` if the day does not exist in that month (in a leap
    /// year when the year is unknown) or the year is outside 1000-9999.
    pub fn new(year: Option<i32>, month: u32, day: u32) -> Option<Birthday> {
        let valid = year.is_none_or(|year| (1000..=9999).contains(&year))
            && (1..=12).contains(&month)
            && (1..=days_in_month(year.unwrap_or(2000), month)).contains(&day);
        valid.then_some(Birthday { year, month, day })
    }

    /// Parses `YYYY-MM-DD`, `--MM-DD` or `--MMDD`; `None` if it is not a real day.
    pub fn parse(text: &str) -> Option<Birthday> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("--") {
            let (month, day) = match rest.split_once('-') {
                Some((month, day)) => (month, day),
                None if rest.len() == 4 && rest.is_ascii() => rest.split_at(2),
                None => return None,
            };
            if month.len() != 2 || day.len() != 2 {
                return None;
            }
            return Birthday::new(None, month.parse().ok()?, day.parse().ok()?);
        }
        CalendarDate::parse(text).map(Birthday::from)
    }

    /// For people: `1984-02-29`, or `06-15 (year unknown)`.
    pub fn describe(self) -> String {
        match self.year {
            Some(_) => self.to_string(),
            None => format!("{:02}-{:02} (year unknown)", self.month, self.day),
        }
    }

    /// The full date, when the year is known.
    pub fn date(self) -> Option<CalendarDate> {
        self.year.map(|year| CalendarDate {
            year,
            month: self.month,
            day: self.day,
        })
    }
}

impl From<CalendarDate> for Birthday {
    fn from(date: CalendarDate) -> Birthday {
        Birthday {
            year: Some(date.year),
            month: date.month,
            day: date.day,
        }
    }
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.year {
            Some(year) => write!(f, "{year:04}-{:02}-{:02}", self.month, self.day),
            None => write!(f, "--{:02}-{:02}", self.month, self.day),
        }
    }
}

// Text in every format: the dashboard facts carry few birthdays, and one form is simpler
// than two.
impl serde::Serialize for Birthday {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Birthday {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Birthday::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("not a YYYY-MM-DD or --MM-DD birthday: {text:?}"))
        })
    }
}

impl Reconcile for Birthday {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for Birthday {
    fn hydrate_string(text: &'_ str) -> Result<Self, HydrateError> {
        Birthday::parse(text).ok_or_else(|| {
            HydrateError::unexpected("a YYYY-MM-DD or --MM-DD birthday", text.to_string())
        })
    }
}

/// A set of tags, stored as an Automerge map from tag to `true`.
///
/// A map rather than a list: the same tag added concurrently on two devices merges into one
/// entry, and removing a tag on one device while another adds a different one keeps both
/// intentions.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct TagSet(BTreeMap<String, bool>);

impl TagSet {
    /// Tags in alphabetical order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Adds a tag (trimmed); returns whether it was new.
    pub fn insert(&mut self, tag: &str) -> bool {
        self.0.insert(tag.trim().to_string(), true).is_none()
    }

    /// Removes a tag; returns whether it was present.
    pub fn remove(&mut self, tag: &str) -> bool {
        self.0.remove(tag).is_some()
    }

    /// Whether the tag is present.
    pub fn contains(&self, tag: &str) -> bool {
        self.0.contains_key(tag)
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> FromIterator<&'a str> for TagSet {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        let mut tags = TagSet::default();
        for tag in iter {
            tags.insert(tag);
        }
        tags
    }
}

impl Reconcile for TagSet {
    type Key<'a> = autosurgeon::reconcile::NoKey;

    fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
        self.0.reconcile(reconciler)
    }
}

impl Hydrate for TagSet {
    fn hydrate_map<D: autosurgeon::ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
    ) -> Result<Self, HydrateError> {
        BTreeMap::<String, bool>::hydrate_map(doc, obj).map(TagSet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays_may_have_no_year_and_read_back_as_written() {
        let no_year = Birthday::parse("--06-15").unwrap();
        assert_eq!((no_year.year, no_year.month, no_year.day), (None, 6, 15));
        assert_eq!(no_year.to_string(), "--06-15");
        assert_eq!(no_year.date(), None);
        assert_eq!(Birthday::parse("--0615"), Some(no_year));
        assert_eq!(Birthday::parse("--02-29").unwrap().to_string(), "--02-29");
        assert_eq!(Birthday::parse("--02-30"), None);
        assert_eq!(Birthday::parse("--13-01"), None);
        assert_eq!(Birthday::parse("--6-15"), None);
        assert_eq!(Birthday::parse("--"), None);
        assert_eq!(Birthday::parse("--ü-"), None);
        let full = Birthday::parse("1984-02-29").unwrap();
        assert_eq!(full.to_string(), "1984-02-29");
        assert_eq!(full.date(), CalendarDate::parse("1984-02-29"));
        assert_eq!(Birthday::parse("1985-02-29"), None);
        assert_eq!(Birthday::new(Some(999), 1, 1), None);
        // Both forms survive JSON (backups) and the binary facts.
        for birthday in [no_year, full] {
            let json = serde_json::to_string(&birthday).unwrap();
            assert_eq!(serde_json::from_str::<Birthday>(&json).unwrap(), birthday);
            let bytes = postcard::to_allocvec(&birthday).unwrap();
            assert_eq!(postcard::from_bytes::<Birthday>(&bytes).unwrap(), birthday);
        }
    }

    #[test]
    fn a_birthday_without_a_year_is_stored_and_read_back_from_the_document() {
        let mut customer = Customer::new("c".parse().unwrap(), Timestamp(0));
        customer.name = "Ana".into();
        customer.birthday = Birthday::parse("--06-15");
        let mut doc = automerge::AutoCommit::new();
        autosurgeon::reconcile(&mut doc, &customer).unwrap();
        let back: Customer = autosurgeon::hydrate(&doc).unwrap();
        assert_eq!(back.birthday, customer.birthday);
        // A document written before the year became optional still reads.
        customer.birthday = Birthday::parse("1990-01-31");
        autosurgeon::reconcile(&mut doc, &customer).unwrap();
        let back: Customer = autosurgeon::hydrate(&doc).unwrap();
        assert_eq!(
            back.birthday.unwrap().date(),
            CalendarDate::parse("1990-01-31")
        );
    }

    #[test]
    fn calendar_dates_parse_only_real_dates() {
        assert_eq!(
            CalendarDate::parse("1984-02-29"),
            Some(CalendarDate {
                year: 1984,
                month: 2,
                day: 29
            })
        );
        assert_eq!(CalendarDate::parse("1985-02-29"), None);
        assert_eq!(CalendarDate::parse("2000-13-01"), None);
        assert_eq!(CalendarDate::parse("2000-04-31"), None);
        assert_eq!(CalendarDate::parse("yesterday"), None);
        assert_eq!(CalendarDate::parse("12-01-01"), None);
        assert_eq!(
            CalendarDate::parse("1990-7-4").unwrap().to_string(),
            "1990-07-04"
        );
    }

    #[test]
    fn stages_round_trip_through_their_names() {
        for stage in LifecycleStage::ALL {
            assert_eq!(LifecycleStage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(LifecycleStage::parse("vip"), None);
    }

    #[test]
    fn tag_set_is_a_set() {
        let mut tags: TagSet = ["vip", " lyon "].into_iter().collect();
        assert!(!tags.insert("vip"));
        assert!(tags.contains("lyon"));
        assert!(tags.remove("vip"));
        assert_eq!(tags.iter().collect::<Vec<_>>(), ["lyon"]);
    }
}
