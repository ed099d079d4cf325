//! What happens with a customer over time: activities (calls, visits, complaints…), follow-up
//! tasks, feedback scores, purchases and deals.
//!
//! Each kind is kept in the customer document as an Automerge map from a random record id to
//! the record, so records added on two devices at once both survive the merge, and a record's
//! fields merge one by one when two devices edit it. Records are never deleted by a merge of
//! duplicates: they are copied under their own ids, which are unique across the book.

use autosurgeon::{reconcile::NoKey, Hydrate, HydrateError, Reconcile, Reconciler};

use crate::{CalendarDate, Channel, Timestamp};

/// Defines a closed set of values stored as text, with their stable identifier (storage,
/// forms, URLs) and the label shown to the rep.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in the order shown to the rep.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable identifier used in storage and forms.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The name shown to the rep.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            /// Parses [`Self::as_str`] back.
            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl Reconcile for $name {
            type Key<'a> = NoKey;

            fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.as_str())
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(text: &'_ str) -> Result<Self, HydrateError> {
                $name::parse(text)
                    .ok_or_else(|| HydrateError::unexpected(stringify!($name), text.to_string()))
            }
        }

        // Text in human-readable formats (JSON), the position in `ALL` in compact binary
        // ones (postcard).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.serialize_str(self.as_str())
                } else {
                    let index = Self::ALL.iter().position(|value| value == self).unwrap_or(0);
                    serializer.serialize_u8(index as u8)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if !deserializer.is_human_readable() {
                    let index = u8::deserialize(deserializer)?;
                    return Self::ALL.get(usize::from(index)).copied().ok_or_else(|| {
                        serde::de::Error::custom(format!(concat!("unknown ", stringify!($name), " {}"), index))
                    });
                }
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unknown ", stringify!($name), " {:?}"), text))
                })
            }
        }
    };
}

text_enum! {
    /// What kind of interaction an activity records.
    ActivityKind {
        /// A phone call.
        Call = "call", "Call";
        /// A planned meeting.
        Meeting = "meeting", "Meeting";
        /// A visit at the customer's or at a stand.
        Visit = "visit", "Visit";
        /// An email.
        Email = "email", "Email";
        /// A text or chat message.
        Message = "message", "Message";
        /// A note for the record; not a contact with the customer.
        Note = "note", "Note";
        /// A complaint by the customer, followed until resolved.
        Complaint = "complaint", "Complaint";
    }
}

impl ActivityKind {
    /// Whether this kind counts as contact with the customer (for "last contact").
    pub fn is_contact(self) -> bool {
        !matches!(self, ActivityKind::Note)
    }

    /// The channel an activity of this kind uses unless the rep says otherwise.
    pub fn default_channel(self) -> Option<Channel> {
        match self {
            ActivityKind::Call => Some(Channel::Phone),
            ActivityKind::Meeting | ActivityKind::Visit => Some(Channel::InPerson),
            ActivityKind::Email => Some(Channel::Email),
            ActivityKind::Message => Some(Channel::Message),
            ActivityKind::Note | ActivityKind::Complaint => None,
        }
    }
}

text_enum! {
    /// Who started an interaction.
    Direction {
        /// The rep reached out.
        Outbound = "outbound", "Outbound";
        /// The customer reached out.
        Inbound = "inbound", "Inbound";
    }
}

text_enum! {
    /// Where a complaint stands.
    ComplaintStatus {
        /// Received, nobody answered yet.
        Open = "open", "Open";
        /// Someone answered and works on it.
        InProgress = "in_progress", "In progress";
        /// Done.
        Resolved = "resolved", "Resolved";
    }
}

text_enum! {
    /// How urgent a follow-up is.
    Priority {
        /// Whenever there is time.
        Low = "low", "Low";
        /// The default.
        Normal = "normal", "Normal";
        /// First thing.
        High = "high", "High";
    }
}

text_enum! {
    /// The survey a feedback response answers.
    FeedbackKind {
        /// Net Promoter Score: "How likely are you to recommend us?" 0-10.
        Nps = "nps", "NPS";
        /// Customer satisfaction: "How satisfied are you?" 1-5.
        Csat = "csat", "CSAT";
        /// Customer effort: "How easy was it?" 1-7.
        Ces = "ces", "CES";
    }
}

impl FeedbackKind {
    /// The lowest and highest score of this survey.
    pub fn range(self) -> (u8, u8) {
        match self {
            FeedbackKind::Nps => (0, 10),
            FeedbackKind::Csat => (1, 5),
            FeedbackKind::Ces => (1, 7),
        }
    }

    /// The question asked to the customer.
    pub fn question(self) -> &'static str {
        match self {
            FeedbackKind::Nps => "How likely are you to recommend us to a friend or colleague?",
            FeedbackKind::Csat => "How satisfied are you with us?",
            FeedbackKind::Ces => "How easy was it to get what you needed?",
        }
    }
}

text_enum! {
    /// The NPS group of a 0-10 answer.
    NpsCategory {
        /// 9 or 10.
        Promoter = "promoter", "Promoter";
        /// 7 or 8.
        Passive = "passive", "Passive";
        /// 0 to 6.
        Detractor = "detractor", "Detractor";
    }
}

impl NpsCategory {
    /// The group of an NPS score: 9-10 promoter, 7-8 passive, 0-6 detractor.
    pub fn of(score: u8) -> NpsCategory {
        match score {
            9.. => NpsCategory::Promoter,
            7 | 8 => NpsCategory::Passive,
            _ => NpsCategory::Detractor,
        }
    }
}

/// One interaction with the customer, or a note about them.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Activity {
    /// What kind of interaction.
    pub kind: ActivityKind,
    /// When it happened.
    pub at: Timestamp,
    /// Through which channel, if it applies.
    pub channel: Option<Channel>,
    /// Who started it, if it applies.
    pub direction: Option<Direction>,
    /// How it went, in a few words ("reached", "no answer", "interested", …).
    pub outcome: String,
    /// What was said or done.
    pub summary: String,
    /// The device that logged it.
    pub author: String,
    /// Set for complaints: their progress.
    pub complaint: Option<Complaint>,
}

impl Activity {
    /// A new activity of `kind` at `at`, with the kind's usual channel.
    pub fn new(kind: ActivityKind, at: Timestamp, author: &str) -> Activity {
        Activity {
            kind,
            at,
            channel: kind.default_channel(),
            direction: (kind != ActivityKind::Note && kind != ActivityKind::Complaint)
                .then_some(Direction::Outbound),
            outcome: String::new(),
            summary: String::new(),
            author: author.to_string(),
            complaint: (kind == ActivityKind::Complaint).then(Complaint::default),
        }
    }
}

/// The progress of a complaint, with the instants that yield first response time and
/// resolution time.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Complaint {
    /// Where it stands.
    pub status: ComplaintStatus,
    /// When it first left "open" (someone answered).
    #[autosurgeon(rename = "first_response_at")]
    pub first_response_at: Option<Timestamp>,
    /// When it was resolved (cleared if it is reopened).
    #[autosurgeon(rename = "resolved_at")]
    pub resolved_at: Option<Timestamp>,
}

impl Default for Complaint {
    /// A complaint just received: open, unanswered.
    fn default() -> Self {
        Complaint {
            status: ComplaintStatus::Open,
            first_response_at: None,
            resolved_at: None,
        }
    }
}

impl Complaint {
    /// Moves the complaint to `status` at `now`. Leaving "open" for the first time sets the
    /// first response; resolving sets the resolution time; reopening clears it (the first
    /// response stays: it happened).
    pub fn set_status(&mut self, status: ComplaintStatus, now: Timestamp) {
        if status != ComplaintStatus::Open && self.first_response_at.is_none() {
            self.first_response_at = Some(now);
        }
        self.resolved_at = match status {
            ComplaintStatus::Resolved => self.resolved_at.or(Some(now)),
            _ => None,
        };
        self.status = status;
    }

    /// Milliseconds from the complaint (`opened_at`) to its first response, if answered.
    pub fn first_response_ms(&self, opened_at: Timestamp) -> Option<i64> {
        self.first_response_at.map(|at| (at.0 - opened_at.0).max(0))
    }

    /// Milliseconds from the complaint (`opened_at`) to its resolution, if resolved.
    pub fn resolution_ms(&self, opened_at: Timestamp) -> Option<i64> {
        self.resolved_at.map(|at| (at.0 - opened_at.0).max(0))
    }
}

/// A follow-up: something to do for this customer by a given time.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Task {
    /// What to do.
    pub title: String,
    /// When it is due.
    pub due: Timestamp,
    /// How urgent.
    pub priority: Priority,
    /// When it was done; `None` while open.
    #[autosurgeon(rename = "done_at")]
    pub done_at: Option<Timestamp>,
    /// When it was created.
    #[autosurgeon(rename = "created_at")]
    pub created_at: Timestamp,
    /// Whom it is for, in a team book: a member's email (empty: whoever sees it). Tasks
    /// made before teams have no such key.
    #[autosurgeon(missing = "Default::default")]
    #[serde(default)]
    pub assignee: String,
}

impl Task {
    /// Whether the task is still to do.
    pub fn is_open(&self) -> bool {
        self.done_at.is_none()
    }
}

/// One answer to a feedback survey.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Feedback {
    /// Which survey.
    pub kind: FeedbackKind,
    /// The score, within [`FeedbackKind::range`].
    pub score: u8,
    /// When it was given.
    pub at: Timestamp,
    /// How it was collected ("in person" for the tablet survey).
    pub channel: Option<Channel>,
    /// What the customer added.
    pub comment: String,
}

/// A product bought by the customer.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Purchase {
    /// The catalog product's id.
    #[autosurgeon(rename = "product_id")]
    pub product_id: String,
    /// The product's name when bought (kept if the catalog changes).
    #[autosurgeon(rename = "product_name")]
    pub product_name: String,
    /// How many.
    pub quantity: u32,
    /// Price of one, in cents of `currency`.
    #[autosurgeon(rename = "unit_price_cents")]
    pub unit_price_cents: i64,
    /// ISO 4217 code, e.g. "EUR".
    pub currency: String,
    /// The day of the purchase.
    pub date: CalendarDate,
}

impl Purchase {
    /// Quantity × unit price, in cents.
    pub fn total_cents(&self) -> i64 {
        i64::from(self.quantity).saturating_mul(self.unit_price_cents)
    }
}

/// A sales opportunity moving through the pipeline.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct Deal {
    /// What is being sold.
    pub title: String,
    /// The pipeline stage's id (see [`crate::crm::pipeline`]).
    pub stage: String,
    /// Expected value, in cents of `currency`.
    #[autosurgeon(rename = "value_cents")]
    pub value_cents: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When the rep expects to close it.
    #[autosurgeon(rename = "expected_close")]
    pub expected_close: Option<CalendarDate>,
    /// When it was created.
    #[autosurgeon(rename = "created_at")]
    pub created_at: Timestamp,
    /// When it reached won or lost.
    #[autosurgeon(rename = "closed_at")]
    pub closed_at: Option<Timestamp>,
}

/// A customer's lifetime value in one currency: what they bought in it, and how often.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerValue {
    /// The total of quantity × unit price, in cents.
    pub cents: i64,
    /// The purchases counted.
    pub purchases: usize,
    /// Purchases in other currencies, not counted: (currency, cents, purchases), by
    /// currency.
    pub other_currencies: Vec<(String, i64, usize)>,
}

/// A customer's lifetime value: the total of every purchase (quantity × unit price) in
/// `currency`. The definition behind the customer page's figure, the sales screen's and the
/// summary's (segments, CSV export); the dashboard sums the same, up to the period's end,
/// in its one pass over each customer's purchases (`crm::kpi::compute`; the test
/// `the_dashboards_lifetime_value_is_the_customer_pages` holds the two equal).
/// `purchases`: (currency, total in cents).
pub fn customer_value<'a>(
    purchases: impl IntoIterator<Item = (&'a str, i64)>,
    currency: &str,
) -> CustomerValue {
    let mut value = CustomerValue::default();
    for (bought_in, cents) in purchases {
        if bought_in == currency {
            value.cents = value.cents.saturating_add(cents);
            value.purchases += 1;
        } else {
            match value
                .other_currencies
                .iter_mut()
                .find(|(other, _, _)| other == bought_in)
            {
                Some((_, total, n)) => {
                    *total = total.saturating_add(cents);
                    *n += 1;
                }
                None => value
                    .other_currencies
                    .push((bought_in.to_string(), cents, 1)),
            }
        }
    }
    crate::order::sort(&mut value.other_currencies);
    value
}

/// The currency most of `currencies` are in (ties: alphabetical), else `fallback`.
pub fn most_used_currency<'a>(
    currencies: impl IntoIterator<Item = &'a str>,
    fallback: &'a str,
) -> &'a str {
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    for currency in currencies {
        *counts.entry(currency).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map_or(fallback, |(currency, _)| currency)
}

/// A customer's lifetime value as the customer page and the sales screen show it: in the
/// currency most of their purchases use (`fallback` when they bought nothing), everything
/// up to today.
pub fn lifetime_value(purchases: &[&Purchase], fallback: &str) -> (String, CustomerValue) {
    let currency = most_used_currency(purchases.iter().map(|p| p.currency.as_str()), fallback);
    let value = customer_value(
        purchases
            .iter()
            .map(|p| (p.currency.as_str(), p.total_cents())),
        currency,
    );
    (currency.to_string(), value)
}

impl CustomerValue {
    /// "70.00 EUR · 2 purchases", then "· and 30.00 USD in 1 purchase" per other currency.
    pub fn describe(&self, currency: &str) -> String {
        let count = |n: usize| crate::crm::count(n, "purchase", "purchases");
        let mut text = format!(
            "{} · {}",
            format_money(self.cents, currency),
            count(self.purchases)
        );
        for (other, cents, n) in &self.other_currencies {
            text.push_str(&format!(
                " · and {} in {}",
                format_money(*cents, other),
                count(*n)
            ));
        }
        text
    }
}

/// Formats cents of a currency for the rep: "1,234.50 EUR".
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (idx, digit) in units.chars().enumerate() {
        if idx > 0 && (units.len() - idx).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02} {currency}", cents % 100)
}

/// Formats cents for a small space: in full below 1,000 units, whole units below 100,000
/// ("2,910 EUR"), then "327.2k EUR", "1.3M EUR".
pub fn format_money_short(cents: i64, currency: &str) -> String {
    let units = cents as f64 / 100.0;
    match units.abs() {
        u if u < 1_000.0 => format_money(cents, currency),
        u if u < 100_000.0 => {
            let whole = format_money((units.round() * 100.0) as i64, currency);
            whole.replacen(".00", "", 1)
        }
        u if u < 1_000_000.0 => format!("{:.1}k {currency}", units / 1_000.0),
        _ => format!("{:.1}M {currency}", units / 1_000_000.0),
    }
}

/// Parses an amount typed by the rep ("12", "12.5", "1,234.50", "12,50") into cents.
pub fn parse_money(text: &str) -> Option<i64> {
    let text: String = text.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return None;
    }
    // A comma followed by exactly two digits at the end is a decimal comma; other commas
    // group thousands.
    let normalised = match text.rfind(',') {
        Some(idx) if text.len() - idx == 3 && !text.contains('.') => {
            format!("{}.{}", text[..idx].replace(',', ""), &text[idx + 1..])
        }
        _ => text.replace(',', ""),
    };
    let (units, fraction) = match normalised.split_once('.') {
        Some((units, fraction)) => (units, fraction),
        None => (normalised.as_str(), ""),
    };
    if units.is_empty() && fraction.is_empty()
        || !units.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > 2
    {
        return None;
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().ok()?
    };
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    units.checked_mul(100)?.checked_add(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_money_for_tiles() {
        assert_eq!(format_money_short(44_554, "EUR"), "445.54 EUR");
        assert_eq!(format_money_short(290_991, "EUR"), "2,910 EUR");
        assert_eq!(format_money_short(9_999_999, "EUR"), "100,000 EUR");
        assert_eq!(format_money_short(10_000_000, "EUR"), "100.0k EUR");
        assert_eq!(format_money_short(32_716_440, "EUR"), "327.2k EUR");
        assert_eq!(format_money_short(-250_000_000, "USD"), "-2.5M USD");
    }

    #[test]
    fn nps_categories_follow_the_standard_cut_offs() {
        let categories: Vec<_> = (0..=10).map(NpsCategory::of).collect();
        assert_eq!(categories[..7], [NpsCategory::Detractor; 7]);
        assert_eq!(categories[7..9], [NpsCategory::Passive; 2]);
        assert_eq!(categories[9..], [NpsCategory::Promoter; 2]);
    }

    #[test]
    fn complaint_times_come_from_status_changes() {
        let opened = Timestamp(1_000);
        let mut complaint = Complaint::default();
        assert_eq!(complaint.first_response_ms(opened), None);
        complaint.set_status(ComplaintStatus::InProgress, Timestamp(61_000));
        complaint.set_status(ComplaintStatus::Resolved, Timestamp(3_601_000));
        assert_eq!(complaint.first_response_ms(opened), Some(60_000));
        assert_eq!(complaint.resolution_ms(opened), Some(3_600_000));
        // Reopening clears the resolution but not the first response.
        complaint.set_status(ComplaintStatus::Open, Timestamp(4_000_000));
        assert_eq!(complaint.resolution_ms(opened), None);
        assert_eq!(complaint.first_response_ms(opened), Some(60_000));
        // Resolving at once counts as the first response too.
        let mut direct = Complaint::default();
        direct.set_status(ComplaintStatus::Resolved, Timestamp(5_000));
        assert_eq!(direct.first_response_ms(opened), Some(4_000));
        assert_eq!(direct.resolution_ms(opened), Some(4_000));
    }

    #[test]
    fn money_is_parsed_and_formatted_in_cents() {
        assert_eq!(parse_money("12"), Some(1200));
        assert_eq!(parse_money("12.5"), Some(1250));
        assert_eq!(parse_money("1,234.50"), Some(123_450));
        assert_eq!(parse_money("12,50"), Some(1250));
        assert_eq!(parse_money(" 1 000 "), Some(100_000));
        assert_eq!(parse_money(".5"), Some(50));
        for bad in ["", "abc", "1.234", "-3", "1.2.3", "."] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
        assert_eq!(format_money(123_450, "EUR"), "1,234.50 EUR");
        assert_eq!(format_money(5, "USD"), "0.05 USD");
        assert_eq!(format_money(-100_000_000, "EUR"), "-1,000,000.00 EUR");
    }

    #[test]
    fn text_enums_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(FeedbackKind::parse("nps"), Some(FeedbackKind::Nps));
        assert_eq!(Priority::parse("urgent"), None);
    }
}
