//! Custom fields: the rep's own facts about customers (industry, fleet size, licence
//! expiry…).
//!
//! A field is defined once for the book ([`FieldDefinition`], in the book document's
//! `fields`, by a stable id made when it is defined) and its values live in each customer's
//! document, keyed by that id ([`crate::Customer::custom`], and
//! [`crate::Customer::custom_sets`] for several choices). Ids, never names: renaming a field
//! or a choice on one device while another fills values keeps both; two devices that define
//! fields offline end with both (different ids in one map); two devices filling different
//! fields of a customer merge (different keys).
//!
//! A value is stored as text in one canonical form per kind ([`parse_value`]: "12.5",
//! "2026-12-01", "yes", "1250 EUR", a choice's id…), so it reads the same on every device and
//! in every build; [`display_value`] gives the words shown. Several choices are a set of
//! choice ids (concurrent additions of two choices merge).

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::model::validation::{
    check_email, check_phone, FieldError, ValidationErrors, MAX_SHORT_TEXT,
};
use crate::{CalendarDate, Customer, Timestamp};

/// Longest long-text value, in characters.
pub const MAX_LONG_TEXT: usize = 5_000;
/// Most fields a book may define (archived ones included).
pub const MAX_FIELDS: usize = 100;
/// Most choices one field may offer.
pub const MAX_CHOICES: usize = 100;

/// What a field holds.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Reconcile,
    Hydrate,
)]
pub enum FieldKind {
    /// One line of text.
    #[default]
    #[autosurgeon(rename = "text")]
    Text,
    /// Several lines of text.
    #[autosurgeon(rename = "long_text")]
    LongText,
    /// A number ("12.5").
    #[autosurgeon(rename = "number")]
    Number,
    /// An amount with its currency ("1250.00 EUR").
    #[autosurgeon(rename = "money")]
    Money,
    /// A day ("2026-12-01").
    #[autosurgeon(rename = "date")]
    Date,
    /// Yes or no.
    #[autosurgeon(rename = "yes_no")]
    YesNo,
    /// One of the field's choices.
    #[autosurgeon(rename = "choice")]
    Choice,
    /// Any of the field's choices.
    #[autosurgeon(rename = "choices")]
    Choices,
    /// A web address.
    #[autosurgeon(rename = "link")]
    Link,
    /// An email address.
    #[autosurgeon(rename = "email")]
    Email,
    /// A phone number.
    #[autosurgeon(rename = "phone")]
    Phone,
}

impl FieldKind {
    /// Every kind, in the order a form offers them.
    pub const ALL: [FieldKind; 11] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Number,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::YesNo,
        FieldKind::Choice,
        FieldKind::Choices,
        FieldKind::Link,
        FieldKind::Email,
        FieldKind::Phone,
    ];

    /// Its name in words.
    pub fn label(self) -> &'static str {
        match self {
            FieldKind::Text => "Text",
            FieldKind::LongText => "Long text",
            FieldKind::Number => "Number",
            FieldKind::Money => "Money",
            FieldKind::Date => "Date",
            FieldKind::YesNo => "Yes/no",
            FieldKind::Choice => "One choice",
            FieldKind::Choices => "Several choices",
            FieldKind::Link => "Link",
            FieldKind::Email => "Email",
            FieldKind::Phone => "Phone",
        }
    }

    /// Its stored name (as in documents and URLs).
    pub fn stored(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::YesNo => "yes_no",
            FieldKind::Choice => "choice",
            FieldKind::Choices => "choices",
            FieldKind::Link => "link",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
        }
    }

    /// The kind stored as `key` (see [`FieldKind::stored`]).
    pub fn parse(key: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|kind| kind.stored() == key)
    }

    /// Whether its values are choices of the field.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Choice | FieldKind::Choices)
    }

    /// Whether search looks into its values.
    pub fn is_searched(self) -> bool {
        matches!(
            self,
            FieldKind::Text
                | FieldKind::LongText
                | FieldKind::Link
                | FieldKind::Email
                | FieldKind::Phone
        )
    }
}

/// One choice a choice field offers.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct FieldChoice {
    /// What the rep reads; renaming it keeps every value (values hold the choice's id).
    pub label: String,
    /// Where it is offered among the others (smaller first).
    pub position: i64,
    /// No longer offered; values that hold it keep it.
    pub archived: bool,
}

/// A field the book defines.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Reconcile, Hydrate)]
pub struct FieldDefinition {
    /// Its name ("Industry").
    pub name: String,
    /// What it holds. Fixed once the field exists: values are never reinterpreted.
    pub kind: FieldKind,
    /// For choice kinds: the choices, by id.
    #[autosurgeon(missing = "Default::default")]
    pub choices: BTreeMap<String, FieldChoice>,
    /// Whether a customer must have a value.
    pub required: bool,
    /// Whether quick capture asks for it.
    #[autosurgeon(rename = "in_capture")]
    pub in_capture: bool,
    /// Hidden from forms and lists; its values are kept and come back with it.
    pub archived: bool,
    /// Where it shows among the others (smaller first).
    pub position: i64,
    /// When it was defined.
    #[autosurgeon(rename = "created_at")]
    pub created_at: Timestamp,
}

impl FieldDefinition {
    /// A new field of `kind` named `name`.
    pub fn new(name: &str, kind: FieldKind, position: i64, now: Timestamp) -> FieldDefinition {
        FieldDefinition {
            name: name.trim().to_string(),
            kind,
            choices: BTreeMap::new(),
            required: false,
            in_capture: false,
            archived: false,
            position,
            created_at: now,
        }
    }

    /// The choices still offered, in order: (id, label).
    pub fn offered_choices(&self) -> Vec<(&str, &str)> {
        let mut choices: Vec<(&str, &FieldChoice)> = (self.choices.iter())
            .filter(|(_, choice)| !choice.archived)
            .map(|(id, choice)| (id.as_str(), choice))
            .collect();
        crate::order::sort_by(&mut choices, |a, b| {
            (a.1.position, a.0).cmp(&(b.1.position, b.0))
        });
        choices
            .into_iter()
            .map(|(id, choice)| (id, choice.label.as_str()))
            .collect()
    }

    /// The choice whose label is `label` (ignoring case and spaces around it).
    pub fn choice_by_label(&self, label: &str) -> Option<&str> {
        let label = label.trim();
        (self.choices.iter())
            .find(|(_, choice)| choice.label.trim().eq_ignore_ascii_case(label))
            .map(|(id, _)| id.as_str())
    }
}

/// What is wrong with a definition, for the form.
pub fn check_definition(
    definition: &FieldDefinition,
    others: &BTreeMap<String, FieldDefinition>,
    id: &str,
) -> Result<(), String> {
    let name = definition.name.trim();
    if name.is_empty() {
        return Err("give the field a name".into());
    }
    if name.chars().count() > 60 {
        return Err("the name is too long: at most 60 characters".into());
    }
    let taken = (others.iter())
        .any(|(other_id, other)| other_id != id && other.name.trim().eq_ignore_ascii_case(name));
    if taken {
        return Err(format!("there is already a field named “{name}”"));
    }
    if definition.kind.has_choices() {
        let labels: Vec<&str> = (definition.choices.values())
            .filter(|choice| !choice.archived)
            .map(|choice| choice.label.trim())
            .collect();
        if labels.is_empty() {
            return Err("offer at least one choice".into());
        }
        if definition.choices.len() > MAX_CHOICES {
            return Err(format!("at most {MAX_CHOICES} choices"));
        }
        if labels.iter().any(|label| label.is_empty()) {
            return Err("a choice needs a name".into());
        }
        for (at, label) in labels.iter().enumerate() {
            if labels[..at]
                .iter()
                .any(|other| other.eq_ignore_ascii_case(label))
            {
                return Err(format!("“{label}” is offered twice"));
            }
        }
    }
    Ok(())
}

/// A value as typed, in the canonical form stored for `definition` (`Ok(None)`: empty, no
/// value), or what is wrong with it. Several choices are not parsed here (they are a set
/// of choice ids, [`crate::Customer::custom_sets`]).
pub fn parse_value(definition: &FieldDefinition, typed: &str) -> Result<Option<String>, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let value = match definition.kind {
        FieldKind::Text => {
            if typed.contains('\n') {
                return Err("one line only".into());
            }
            too_long(typed, MAX_SHORT_TEXT)?;
            typed.to_string()
        }
        FieldKind::LongText => {
            too_long(typed, MAX_LONG_TEXT)?;
            typed.to_string()
        }
        FieldKind::Number => number(typed).ok_or("enter a number, such as 12 or 12.5")?,
        FieldKind::Money => {
            money(typed).ok_or("enter an amount and its currency, such as 1250 EUR")?
        }
        FieldKind::Date => CalendarDate::parse(typed)
            .map(|date| date.to_string())
            .ok_or("enter a date as YYYY-MM-DD")?,
        FieldKind::YesNo => match typed.to_lowercase().as_str() {
            "yes" | "y" | "true" | "1" | "x" | "ja" | "oui" | "sí" | "si" => "yes".to_string(),
            "no" | "n" | "false" | "0" | "nein" | "non" => "no".to_string(),
            _ => return Err("yes or no".into()),
        },
        FieldKind::Choice => {
            if definition.choices.contains_key(typed) {
                typed.to_string()
            } else {
                definition
                    .choice_by_label(typed)
                    .map(str::to_string)
                    .ok_or_else(|| format!("“{typed}” is not one of the choices"))?
            }
        }
        FieldKind::Choices => return Err("several choices are chosen, not typed".into()),
        FieldKind::Link => {
            too_long(typed, MAX_SHORT_TEXT)?;
            let with_scheme = if typed.contains("://") {
                typed.to_string()
            } else {
                format!("https://{typed}")
            };
            let host = with_scheme
                .split_once("://")
                .map(|(scheme, rest)| (scheme, rest.split(['/', '?', '#']).next().unwrap_or("")));
            match host {
                Some(("http" | "https", host))
                    if host.contains('.') && !host.contains(char::is_whitespace) =>
                {
                    with_scheme
                }
                _ => return Err("enter a web address, such as example.com".into()),
            }
        }
        FieldKind::Email => {
            check_email(typed)?;
            typed.to_string()
        }
        FieldKind::Phone => {
            check_phone(typed)?;
            typed.to_string()
        }
    };
    Ok(Some(value))
}

/// How a [`CustomCondition`] compares a customer's value.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Reconcile,
    Hydrate,
)]
pub enum ConditionOp {
    /// The value is the one given (a choice field: that choice; several choices: it holds
    /// that choice).
    #[default]
    #[autosurgeon(rename = "equals")]
    Equals,
    /// The text contains the one given (case and accents ignored).
    #[autosurgeon(rename = "contains")]
    Contains,
    /// A number or amount above the one given, a date after it.
    #[autosurgeon(rename = "greater")]
    Greater,
    /// A number or amount below the one given, a date before it.
    #[autosurgeon(rename = "less")]
    Less,
    /// No value.
    #[autosurgeon(rename = "empty")]
    Empty,
    /// Any value.
    #[autosurgeon(rename = "not_empty")]
    NotEmpty,
}

impl ConditionOp {
    /// The comparisons a field of `kind` offers, in the order a form lists them.
    pub fn offered(kind: FieldKind) -> &'static [ConditionOp] {
        use ConditionOp::*;
        match kind {
            FieldKind::Number | FieldKind::Money | FieldKind::Date => {
                &[Equals, Greater, Less, Empty, NotEmpty]
            }
            FieldKind::YesNo | FieldKind::Choice | FieldKind::Choices => &[Equals, Empty, NotEmpty],
            _ => &[Contains, Equals, Empty, NotEmpty],
        }
    }

    /// Its words for a field of `kind` ("is after", "contains", "is empty").
    pub fn label(self, kind: FieldKind) -> &'static str {
        match (self, kind) {
            (ConditionOp::Equals, FieldKind::Choices) => "includes",
            (ConditionOp::Equals, _) => "is",
            (ConditionOp::Contains, _) => "contains",
            (ConditionOp::Greater, FieldKind::Date) => "is after",
            (ConditionOp::Less, FieldKind::Date) => "is before",
            (ConditionOp::Greater, _) => "is more than",
            (ConditionOp::Less, _) => "is less than",
            (ConditionOp::Empty, _) => "is empty",
            (ConditionOp::NotEmpty, _) => "is not empty",
        }
    }

    /// Its stored name.
    pub fn stored(self) -> &'static str {
        match self {
            ConditionOp::Equals => "equals",
            ConditionOp::Contains => "contains",
            ConditionOp::Greater => "greater",
            ConditionOp::Less => "less",
            ConditionOp::Empty => "empty",
            ConditionOp::NotEmpty => "not_empty",
        }
    }

    /// The comparison stored as `key`.
    pub fn parse(key: &str) -> Option<ConditionOp> {
        use ConditionOp::*;
        [Equals, Contains, Greater, Less, Empty, NotEmpty]
            .into_iter()
            .find(|op| op.stored() == key)
    }

    /// Whether it compares with a value (not for empty / not empty).
    pub fn takes_value(self) -> bool {
        !matches!(self, ConditionOp::Empty | ConditionOp::NotEmpty)
    }
}

/// A condition on one custom field (segments, the list's filter). It carries the field's
/// kind, which never changes once the field exists, so it is checked without the book's
/// definitions.
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Default, Reconcile, Hydrate,
)]
pub struct CustomCondition {
    /// The field's id.
    pub field: String,
    /// The field's kind.
    pub kind: FieldKind,
    /// The comparison.
    pub op: ConditionOp,
    /// What the value is compared with, in the kind's canonical form ([`parse_value`]; a
    /// choice's id); unused for empty / not empty.
    pub value: String,
}

impl CustomCondition {
    /// Whether a customer with these values (see [`crate::CustomerSummary::custom`] and
    /// `custom_sets`) meets it.
    pub fn matches(
        &self,
        custom: &BTreeMap<String, String>,
        custom_sets: &BTreeMap<String, Vec<String>>,
    ) -> bool {
        if self.kind == FieldKind::Choices {
            let chosen = custom_sets.get(&self.field).filter(|set| !set.is_empty());
            return match self.op {
                ConditionOp::Empty => chosen.is_none(),
                ConditionOp::NotEmpty => chosen.is_some(),
                _ => chosen.is_some_and(|set| set.contains(&self.value)),
            };
        }
        let value = custom
            .get(&self.field)
            .map(String::as_str)
            .filter(|v| !v.is_empty());
        let Some(value) = value else {
            return self.op == ConditionOp::Empty;
        };
        match self.op {
            ConditionOp::Empty => false,
            ConditionOp::NotEmpty => true,
            ConditionOp::Equals => match self.kind {
                FieldKind::Number | FieldKind::Money => {
                    compare(self.kind, value, &self.value) == Some(std::cmp::Ordering::Equal)
                }
                FieldKind::Text
                | FieldKind::LongText
                | FieldKind::Email
                | FieldKind::Link
                | FieldKind::Phone => fold(value) == fold(&self.value),
                _ => value == self.value,
            },
            ConditionOp::Contains => fold(value).contains(&fold(&self.value)),
            ConditionOp::Greater => {
                compare(self.kind, value, &self.value) == Some(std::cmp::Ordering::Greater)
            }
            ConditionOp::Less => {
                compare(self.kind, value, &self.value) == Some(std::cmp::Ordering::Less)
            }
        }
    }
}

/// Lowercase without accents, for comparisons that ignore them.
fn fold(text: &str) -> String {
    let mut folded = String::new();
    crate::search::book::fold_into(text, &mut folded);
    folded
}

/// The order of two stored values of `kind`: numbers as numbers, amounts as numbers when
/// their currencies agree, dates (YYYY-MM-DD) and anything else as text; `None` when they
/// do not compare (amounts in two currencies, unreadable numbers).
pub fn compare(kind: FieldKind, a: &str, b: &str) -> Option<std::cmp::Ordering> {
    let amount = |text: &str| -> Option<(f64, String)> {
        let mut parts = text.split_whitespace();
        let amount = parts.next()?.parse::<f64>().ok()?;
        Some((amount, parts.next().unwrap_or("").to_string()))
    };
    match kind {
        FieldKind::Number => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        FieldKind::Money => {
            let (a, a_currency) = amount(a)?;
            let (b, b_currency) = amount(b)?;
            if !b_currency.is_empty() && a_currency != b_currency {
                return None;
            }
            a.partial_cmp(&b)
        }
        _ => Some(a.cmp(b)),
    }
}

/// What is wrong with the custom values of `after`, a customer as a screen or an import
/// made it from `before` (`None`: a new customer), for the book's `fields`. Only values that
/// changed are checked — one another device wrote, or one of a field archived since, stays
/// as it is: each must be of a defined field and in its kind's canonical form
/// ([`parse_value`]), a several-choice set must hold only that field's choices, and a
/// required field cannot be emptied. Errors are keyed `custom.<field id>`.
pub fn check_values(
    before: Option<&Customer>,
    after: &Customer,
    fields: &BTreeMap<String, FieldDefinition>,
) -> Result<(), ValidationErrors> {
    let mut errors = Vec::new();
    let mut fail = |id: &str, message: String| {
        errors.push(FieldError {
            field: format!("custom.{id}"),
            message,
        })
    };
    let empty = BTreeMap::new();
    let empty_sets = BTreeMap::new();
    let (old, old_sets) = before.map_or((&empty, &empty_sets), |before| {
        (&before.custom, &before.custom_sets)
    });
    for (id, value) in &after.custom {
        if old.get(id) == Some(value) {
            continue;
        }
        let Some(field) = fields.get(id) else {
            fail(id, "this field is not defined in the book".into());
            continue;
        };
        if field.kind == FieldKind::Choices {
            fail(id, "several choices are a set, not a value".into());
            continue;
        }
        match parse_value(field, value) {
            Ok(Some(canonical)) if &canonical == value => {}
            Ok(None) => fail(id, "an empty value is no value: leave it out".into()),
            Ok(Some(_)) => fail(id, format!("{}: not in its stored form", field.name)),
            Err(message) => fail(id, message),
        }
    }
    for (id, chosen) in &after.custom_sets {
        if old_sets.get(id) == Some(chosen) {
            continue;
        }
        let Some(field) = fields.get(id) else {
            fail(id, "this field is not defined in the book".into());
            continue;
        };
        if field.kind != FieldKind::Choices {
            fail(id, format!("{} holds one value, not a set", field.name));
            continue;
        }
        if let Some(unknown) = chosen.iter().find(|c| !field.choices.contains_key(*c)) {
            fail(id, format!("“{unknown}” is not one of the choices"));
        }
    }
    if before.is_some() {
        for (id, field) in fields {
            let had = old.contains_key(id) || old_sets.get(id).is_some_and(|set| !set.is_empty());
            let has = after.custom.contains_key(id)
                || after.custom_sets.get(id).is_some_and(|set| !set.is_empty());
            if field.required && !field.archived && had && !has {
                fail(id, format!("{} is required", field.name));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// The required fields (not archived) a new customer made by a form lacks, as errors keyed
/// `custom.<field id>`. Imports are not held to it: a file may not have the column.
pub fn check_required(
    customer: &Customer,
    fields: &BTreeMap<String, FieldDefinition>,
) -> Result<(), ValidationErrors> {
    let errors: Vec<FieldError> = (fields.iter())
        .filter(|(_, field)| field.required && !field.archived)
        .filter(|(id, _)| {
            !customer.custom.contains_key(*id)
                && customer
                    .custom_sets
                    .get(*id)
                    .is_none_or(|set| set.is_empty())
        })
        .map(|(id, field)| FieldError {
            field: format!("custom.{id}"),
            message: format!("{} is required", field.name),
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errors))
    }
}

/// What is wrong with the definitions of `after` compared with `before` (the book's fields
/// before an edit): each definition added or changed is checked ([`check_definition`]); a
/// field keeps its kind (values are never reinterpreted: make a new field instead), fields
/// and choices are archived, never removed (values hold their ids), and a book holds at
/// most [`MAX_FIELDS`]. Definitions not changed are not checked: two devices that named a
/// field alike offline do not block every later edit of the book.
pub fn check_definitions(
    before: &BTreeMap<String, FieldDefinition>,
    after: &BTreeMap<String, FieldDefinition>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if after.len() > MAX_FIELDS && after.len() > before.len() {
        errors.push(FieldError {
            field: "fields".into(),
            message: format!("a book holds at most {MAX_FIELDS} fields"),
        });
    }
    for (id, old) in before {
        let message = match after.get(id) {
            None => Some("a field is archived, not removed: its values stay".to_string()),
            Some(new) if new.kind != old.kind => Some(format!(
                "“{}” holds {} values: its type cannot change (make a new field instead)",
                old.name,
                old.kind.label().to_lowercase()
            )),
            Some(new) if old.choices.keys().any(|c| !new.choices.contains_key(c)) => {
                Some("a choice is archived, not removed: values hold it".to_string())
            }
            Some(_) => None,
        };
        if let Some(message) = message {
            errors.push(FieldError {
                field: format!("fields.{id}"),
                message,
            });
        }
    }
    for (id, field) in after {
        if before.get(id) == Some(field) {
            continue;
        }
        if let Err(message) = check_definition(field, after, id) {
            errors.push(FieldError {
                field: format!("fields.{id}"),
                message,
            });
        }
    }
    errors
}

fn too_long(text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() > max {
        Err(format!("too long: at most {max} characters"))
    } else {
        Ok(())
    }
}

/// A number as typed ("1 250,5", "-3", "12.50") in canonical form ("1250.5", "-3", "12.5").
fn number(typed: &str) -> Option<String> {
    let compact: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'' && *c != '\u{a0}')
        .collect();
    // One decimal separator: the last of '.' or ','; the other is a thousands separator.
    let decimal = compact.rfind(['.', ',']);
    let mut canonical = String::with_capacity(compact.len());
    for (at, c) in compact.char_indices() {
        match c {
            '.' | ',' if Some(at) == decimal => {
                let thousands = compact[at + 1..].len() == 3
                    && compact[..at].contains(if c == '.' { ',' } else { '.' });
                canonical.push(if thousands { ' ' } else { '.' });
            }
            '.' | ',' => {}
            other => canonical.push(other),
        }
    }
    let canonical: String = canonical.chars().filter(|c| *c != ' ').collect();
    let value: f64 = canonical.parse().ok()?;
    if !value.is_finite() || canonical.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    let mut text = canonical;
    if text.contains('.') {
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    if text == "-0" {
        text = "0".into();
    }
    Some(text)
}

/// An amount with a currency ("1250 EUR", "EUR 1.250,00", "€ 12") in canonical form
/// ("1250 EUR", "12 EUR").
fn money(typed: &str) -> Option<String> {
    let symbols = [("€", "EUR"), ("$", "USD"), ("£", "GBP"), ("CHF", "CHF")];
    let mut currency = None;
    let mut amount = typed.to_string();
    for (symbol, code) in symbols {
        if amount.contains(symbol) {
            currency = Some(code.to_string());
            amount = amount.replace(symbol, "");
        }
    }
    let words: Vec<&str> = amount.split_whitespace().collect();
    let code_at = words
        .iter()
        .position(|word| word.len() == 3 && word.chars().all(|c| c.is_ascii_alphabetic()));
    if let Some(at) = code_at {
        currency = Some(words[at].to_ascii_uppercase());
    }
    let digits: String = (words.iter().enumerate())
        .filter(|(at, _)| Some(*at) != code_at)
        .map(|(_, word)| *word)
        .collect();
    let amount = number(&digits)?;
    Some(format!("{amount} {}", currency?))
}

/// A customer's value of field `id` as words, as exports write it: [`display_value`], and
/// several choices' labels sorted and separated by `;` (empty without a value).
pub fn value_words(customer: &crate::Customer, id: &str, definition: &FieldDefinition) -> String {
    if definition.kind == FieldKind::Choices {
        let mut labels: Vec<String> = (customer.custom_sets.get(id).into_iter())
            .flat_map(|set| set.iter())
            .map(|choice| display_value(definition, choice))
            .collect();
        crate::order::sort(&mut labels);
        labels.join(";")
    } else {
        (customer.custom.get(id))
            .map(|value| display_value(definition, value))
            .unwrap_or_default()
    }
}

/// The words shown for stored `value` of `definition` (a choice's label, "Yes", the amount
/// with its currency…).
pub fn display_value(definition: &FieldDefinition, value: &str) -> String {
    match definition.kind {
        FieldKind::YesNo => match value {
            "yes" => "Yes".into(),
            "no" => "No".into(),
            other => other.into(),
        },
        FieldKind::Choice | FieldKind::Choices => definition
            .choices
            .get(value)
            .map(|choice| choice.label.clone())
            .unwrap_or_else(|| "(a removed choice)".into()),
        _ => value.into(),
    }
}

/// The kind an imported column's values suggest (the first rule every non-empty value
/// passes): yes/no, number, money, date, email, phone, link, one choice (few distinct
/// short values repeated), long text, else text.
pub fn guess_kind<'a>(values: impl IntoIterator<Item = &'a str>) -> FieldKind {
    let values: Vec<&str> = (values.into_iter())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .collect();
    if values.is_empty() {
        return FieldKind::Text;
    }
    let probe = FieldDefinition::new("probe", FieldKind::Text, 0, Timestamp(0));
    let all = |kind: FieldKind| {
        let definition = FieldDefinition {
            kind,
            ..probe.clone()
        };
        values
            .iter()
            .all(|value| parse_value(&definition, value).is_ok())
    };
    let yes_no = values.iter().all(|value| {
        matches!(
            value.to_lowercase().as_str(),
            "yes" | "no" | "true" | "false" | "y" | "n" | "ja" | "nein" | "oui" | "non"
        )
    });
    if yes_no {
        return FieldKind::YesNo;
    }
    let looks_like_phone = |value: &&str| value.starts_with('+') || value.starts_with('0');
    if values.iter().all(|value| {
        value.chars().filter(|c| c.is_ascii_digit()).count() >= 8 && looks_like_phone(value)
    }) && all(FieldKind::Phone)
    {
        return FieldKind::Phone;
    }
    for kind in [FieldKind::Number, FieldKind::Date, FieldKind::Email] {
        if all(kind) {
            return kind;
        }
    }
    if values.iter().all(|value| {
        value.chars().any(|c| c.is_ascii_digit())
            && value
                .chars()
                .any(|c| c.is_alphabetic() || "€$£".contains(c))
    }) && all(FieldKind::Money)
    {
        return FieldKind::Money;
    }
    if values.iter().all(|value| {
        value.starts_with("http://") || value.starts_with("https://") || value.starts_with("www.")
    }) && all(FieldKind::Link)
    {
        return FieldKind::Link;
    }
    let mut distinct: Vec<String> = values.iter().map(|value| value.to_lowercase()).collect();
    crate::order::sort(&mut distinct);
    distinct.dedup();
    let short = values.iter().all(|value| value.chars().count() <= 40);
    if short && values.len() >= 4 && distinct.len() <= 12 && distinct.len() * 2 <= values.len() {
        return FieldKind::Choice;
    }
    if values
        .iter()
        .any(|value| value.contains('\n') || value.chars().count() > MAX_SHORT_TEXT)
    {
        return FieldKind::LongText;
    }
    FieldKind::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind) -> FieldDefinition {
        let mut definition = FieldDefinition::new("Field", kind, 0, Timestamp(0));
        if kind.has_choices() {
            for (id, label, position) in [("c1", "Retail", 1), ("c2", "Wholesale", 2)] {
                definition.choices.insert(
                    id.into(),
                    FieldChoice {
                        label: label.into(),
                        position,
                        archived: false,
                    },
                );
            }
        }
        definition
    }

    fn parsed(kind: FieldKind, typed: &str) -> Result<Option<String>, String> {
        parse_value(&field(kind), typed)
    }

    #[test]
    fn every_kind_stores_one_canonical_form_and_refuses_what_it_cannot_hold() {
        let ok = |kind, typed: &str, stored: &str| {
            assert_eq!(
                parsed(kind, typed),
                Ok(Some(stored.to_string())),
                "{kind:?} {typed:?}"
            )
        };
        let refused = |kind, typed: &str| {
            assert!(
                parsed(kind, typed).is_err(),
                "{kind:?} {typed:?} should be refused"
            )
        };
        for kind in FieldKind::ALL {
            assert_eq!(
                parsed(kind, "   "),
                Ok(None),
                "empty is no value ({kind:?})"
            );
        }
        ok(FieldKind::Text, " Booth B12 ", "Booth B12");
        refused(FieldKind::Text, "two\nlines");
        refused(FieldKind::Text, &"x".repeat(MAX_SHORT_TEXT + 1));
        ok(FieldKind::LongText, "two\nlines", "two\nlines");
        ok(FieldKind::Number, "12", "12");
        ok(FieldKind::Number, "12.50", "12.5");
        ok(FieldKind::Number, "12,5", "12.5");
        ok(FieldKind::Number, "1 250,5", "1250.5");
        ok(FieldKind::Number, "1,250.75", "1250.75");
        ok(FieldKind::Number, "1.250,75", "1250.75");
        ok(FieldKind::Number, "-3", "-3");
        refused(FieldKind::Number, "twelve");
        refused(FieldKind::Number, "12 kg");
        refused(FieldKind::Number, "inf");
        ok(FieldKind::Money, "1250 EUR", "1250 EUR");
        ok(FieldKind::Money, "€ 1.250,00", "1250 EUR");
        ok(FieldKind::Money, "usd 99.90", "99.9 USD");
        refused(FieldKind::Money, "1250");
        refused(FieldKind::Money, "EUR");
        ok(FieldKind::Date, "2026-12-01", "2026-12-01");
        refused(FieldKind::Date, "2026-02-30");
        refused(FieldKind::Date, "tomorrow");
        ok(FieldKind::YesNo, "Yes", "yes");
        ok(FieldKind::YesNo, "nein", "no");
        refused(FieldKind::YesNo, "maybe");
        ok(FieldKind::Choice, "c2", "c2");
        ok(FieldKind::Choice, " wholesale ", "c2");
        refused(FieldKind::Choice, "Export");
        refused(FieldKind::Choices, "Retail");
        ok(
            FieldKind::Link,
            "example.com/shop",
            "https://example.com/shop",
        );
        ok(FieldKind::Link, "http://example.com", "http://example.com");
        refused(FieldKind::Link, "ftp://example.com");
        refused(FieldKind::Link, "not a link");
        ok(FieldKind::Email, "ada@example.com", "ada@example.com");
        refused(FieldKind::Email, "ada@");
        ok(FieldKind::Phone, "+43 664 2003001", "+43 664 2003001");
        refused(FieldKind::Phone, "call me");
    }

    #[test]
    fn values_read_as_words_and_a_renamed_choice_keeps_its_values() {
        let mut definition = field(FieldKind::Choice);
        let stored = parse_value(&definition, "Retail").unwrap().unwrap();
        assert_eq!(display_value(&definition, &stored), "Retail");
        definition.choices.get_mut("c1").unwrap().label = "Shops".into();
        assert_eq!(display_value(&definition, &stored), "Shops");
        definition.choices.get_mut("c1").unwrap().archived = true;
        assert_eq!(
            display_value(&definition, &stored),
            "Shops",
            "archived: still read"
        );
        assert_eq!(definition.offered_choices(), [("c2", "Wholesale")]);
        assert_eq!(display_value(&definition, "gone"), "(a removed choice)");
        assert_eq!(display_value(&field(FieldKind::YesNo), "yes"), "Yes");
    }

    #[test]
    fn a_definition_needs_a_free_name_and_choices_for_choice_kinds() {
        let mut others = BTreeMap::new();
        others.insert(
            "f1".to_string(),
            FieldDefinition::new("Industry", FieldKind::Text, 0, Timestamp(0)),
        );
        let named = |name: &str, kind| FieldDefinition::new(name, kind, 1, Timestamp(0));
        assert!(check_definition(&named("", FieldKind::Text), &others, "f2").is_err());
        assert!(
            check_definition(&named(" industry ", FieldKind::Text), &others, "f2")
                .unwrap_err()
                .contains("already")
        );
        assert!(
            check_definition(&named("Industry", FieldKind::Number), &others, "f1").is_ok(),
            "itself"
        );
        assert!(
            check_definition(&named("Sector", FieldKind::Choice), &others, "f2")
                .unwrap_err()
                .contains("at least one choice")
        );
        let mut sector = field(FieldKind::Choice);
        sector.name = "Sector".into();
        assert!(check_definition(&sector, &others, "f2").is_ok());
        sector.choices.get_mut("c2").unwrap().label = "retail".into();
        assert!(check_definition(&sector, &others, "f2")
            .unwrap_err()
            .contains("twice"));
    }

    #[test]
    fn an_imported_columns_kind_is_guessed_from_its_values() {
        let guess = |values: &[&str]| guess_kind(values.iter().copied());
        assert_eq!(guess(&["yes", "No", "", "yes"]), FieldKind::YesNo);
        assert_eq!(guess(&["12", "7.5", "1 200"]), FieldKind::Number);
        assert_eq!(guess(&["2026-01-31", "2025-12-01"]), FieldKind::Date);
        assert_eq!(guess(&["a@example.com", "b@example.org"]), FieldKind::Email);
        assert_eq!(
            guess(&["+43 664 2003001", "0664 2003002"]),
            FieldKind::Phone
        );
        assert_eq!(guess(&["1250 EUR", "€ 99"]), FieldKind::Money);
        assert_eq!(
            guess(&["https://example.com", "www.example.org"]),
            FieldKind::Link
        );
        assert_eq!(
            guess(&[
                "Retail",
                "Wholesale",
                "retail",
                "Retail",
                "Wholesale",
                "Export"
            ]),
            FieldKind::Choice
        );
        assert_eq!(
            guess(&["met at booth B12", "came by after the talk"]),
            FieldKind::Text
        );
        assert_eq!(guess(&["line one\nline two"]), FieldKind::LongText);
        assert_eq!(guess(&[]), FieldKind::Text);
    }

    fn book() -> BTreeMap<String, FieldDefinition> {
        let mut fields = BTreeMap::new();
        let mut fleet = field(FieldKind::Number);
        fleet.name = "Fleet size".into();
        fleet.required = true;
        fields.insert("f-fleet".to_string(), fleet);
        let mut interests = field(FieldKind::Choices);
        interests.name = "Interests".into();
        fields.insert("f-interests".to_string(), interests);
        fields
    }

    #[test]
    fn changed_values_must_fit_their_field_and_others_are_left_alone() {
        let fields = book();
        let mut before = Customer::new("c".parse().unwrap(), Timestamp(0));
        before.custom.insert("f-fleet".into(), "12".into());
        // A value of a field no longer defined (another device's), unchanged: accepted.
        before.custom.insert("f-gone".into(), "x".into());
        let mut after = before.clone();
        assert_eq!(check_values(Some(&before), &after, &fields), Ok(()));
        after.custom.insert("f-fleet".into(), "twelve".into());
        after.custom.insert("f-new".into(), "x".into());
        after
            .custom_sets
            .insert("f-interests".into(), ["c1", "c9"].into_iter().collect());
        let errors = check_values(Some(&before), &after, &fields).unwrap_err();
        let fields_named: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields_named,
            ["custom.f-fleet", "custom.f-new", "custom.f-interests"]
        );
        assert!(errors.0[2].message.contains("c9"));
        // Not canonical ("12.50" is stored as "12.5").
        let mut after = before.clone();
        after.custom.insert("f-fleet".into(), "12.50".into());
        assert!(check_values(Some(&before), &after, &fields).is_err());
        // A required field cannot be emptied; a new customer without it is the form's
        // business (imports may lack it).
        let mut after = before.clone();
        after.custom.remove("f-fleet");
        let errors = check_values(Some(&before), &after, &fields).unwrap_err();
        assert_eq!(errors.0[0].message, "Fleet size is required");
        after.custom.remove("f-gone");
        assert_eq!(check_values(None, &after, &fields), Ok(()));
        // A form's new customer must have it.
        let errors = check_required(&after, &fields).unwrap_err();
        assert_eq!(errors.0[0].field, "custom.f-fleet");
        after.custom.insert("f-fleet".into(), "3".into());
        assert_eq!(check_required(&after, &fields), Ok(()));
    }

    #[test]
    fn a_field_keeps_its_kind_and_is_archived_rather_than_removed() {
        let before = book();
        let mut after = before.clone();
        after.get_mut("f-fleet").unwrap().kind = FieldKind::Text;
        assert!(check_definitions(&before, &after)[0]
            .message
            .contains("type cannot change"));
        let mut after = before.clone();
        after.remove("f-fleet");
        assert!(check_definitions(&before, &after)[0]
            .message
            .contains("archived"));
        let mut after = before.clone();
        after.get_mut("f-interests").unwrap().choices.remove("c1");
        assert!(!check_definitions(&before, &after).is_empty());
        // Renaming, reordering, archiving a choice: fine.
        let mut after = before.clone();
        let interests = after.get_mut("f-interests").unwrap();
        interests.name = "Topics".into();
        interests.choices.get_mut("c1").unwrap().archived = true;
        interests.choices.get_mut("c2").unwrap().position = -1;
        assert_eq!(check_definitions(&before, &after), []);
        // Two fields named alike (defined on two devices offline) do not block other
        // edits; naming a third alike is refused.
        let mut twins = before.clone();
        let mut again = field(FieldKind::Text);
        again.name = "Fleet size".into();
        twins.insert("f-twin".into(), again.clone());
        let mut after = twins.clone();
        after.get_mut("f-interests").unwrap().name = "Topics".into();
        assert_eq!(check_definitions(&twins, &after), []);
        after.insert("f-third".into(), again);
        assert_eq!(check_definitions(&twins, &after).len(), 1);
    }

    #[test]
    fn segment_conditions_compare_each_kind_its_own_way() {
        let values: BTreeMap<String, String> = [
            ("number", "12.5"),
            ("money", "1250 EUR"),
            ("date", "2026-03-01"),
            ("text", "Booth B12, hall Süd"),
            ("yes", "yes"),
            ("choice", "c1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sets: BTreeMap<String, Vec<String>> = [(
            "choices".to_string(),
            vec!["c1".to_string(), "c2".to_string()],
        )]
        .into();
        let holds = |field: &str, kind, op, value: &str| {
            CustomCondition {
                field: field.into(),
                kind,
                op,
                value: value.into(),
            }
            .matches(&values, &sets)
        };
        use ConditionOp::*;
        use FieldKind as K;
        // Numbers as numbers ("9" < "12.5" although "9" > "1" as text).
        assert!(holds("number", K::Number, Greater, "9"));
        assert!(!holds("number", K::Number, Less, "9"));
        assert!(holds("number", K::Number, Equals, "12.50"));
        // Amounts in their currency; another currency never compares.
        assert!(holds("money", K::Money, Greater, "999 EUR"));
        assert!(holds("money", K::Money, Less, "2000"));
        assert!(!holds("money", K::Money, Greater, "10 USD"));
        assert!(!holds("money", K::Money, Less, "10 USD"));
        // Dates before / after.
        assert!(holds("date", K::Date, Greater, "2026-02-28"));
        assert!(holds("date", K::Date, Less, "2026-03-02"));
        assert!(!holds("date", K::Date, Greater, "2026-03-01"));
        // Text: contains and equals ignore case and accents.
        assert!(holds("text", K::Text, Contains, "hall sud"));
        assert!(!holds("text", K::Text, Equals, "booth"));
        assert!(holds("text", K::Text, Equals, "booth b12, HALL SUD"));
        // Yes/no, one choice, several choices.
        assert!(holds("yes", K::YesNo, Equals, "yes"));
        assert!(!holds("yes", K::YesNo, Equals, "no"));
        assert!(holds("choice", K::Choice, Equals, "c1"));
        assert!(holds("choices", K::Choices, Equals, "c2"));
        assert!(!holds("choices", K::Choices, Equals, "c3"));
        // Empty and not empty, for a value and for a set.
        assert!(holds("missing", K::Text, Empty, ""));
        assert!(!holds("missing", K::Text, NotEmpty, ""));
        assert!(!holds("missing", K::Number, Greater, "0"));
        assert!(holds("choices", K::Choices, NotEmpty, ""));
        assert!(holds("other-set", K::Choices, Empty, ""));
        // Every kind offers empty / not empty, and only sensible comparisons.
        for kind in FieldKind::ALL {
            let offered = ConditionOp::offered(kind);
            assert!(offered.contains(&Empty) && offered.contains(&NotEmpty));
            assert_eq!(
                offered.contains(&Greater),
                matches!(kind, K::Number | K::Money | K::Date)
            );
        }
    }
}
