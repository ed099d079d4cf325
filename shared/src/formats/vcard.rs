//! vCard 3.0 and 4.0 (RFC 2426, RFC 6350): customers to contact cards and back; reading
//! also takes vCard 2.1 as Android and older phones export it (quoted-printable values in
//! their `CHARSET`, soft line breaks, base64 photos skipped).

use crate::{
    formats::ics::{escape, fold},
    formats::import::{custom_value, settle, CustomValue, ImportedRow},
    formats::text::{decode_quoted_printable, TextEncoding},
    model::custom_fields::{value_words, FieldDefinition},
    model::customer::ContactPointId,
    Birthday, ContactPoint, Customer, CustomerId, Timestamp,
};

/// Which vCard version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// vCard 3.0: what most phones and address books read.
    V3,
    /// vCard 4.0.
    V4,
}

fn type_param(version: Version, kind: &str) -> String {
    match version {
        Version::V3 => format!(";TYPE={}", kind.to_uppercase()),
        Version::V4 => format!(";TYPE={kind}"),
    }
}

fn phone_kind(label: &str) -> &'static str {
    match label {
        "mobile" => "cell",
        "home" => "home",
        _ => "work",
    }
}

/// One customer as a vCard, without custom fields.
pub fn to_vcard(customer: &Customer, version: Version) -> String {
    to_vcard_with_fields(customer, version, &CustomProperties::default())
}

/// The property each custom field is written as ([`CustomProperties::of`]).
#[derive(Debug, Clone, Default)]
pub struct CustomProperties(Vec<(String, String, FieldDefinition)>);

impl CustomProperties {
    /// The book's active fields in their order, each named `X-` and its name's words
    /// (`Fleet size` → `X-FLEET-SIZE`): the name the import maps back to the field of that
    /// name. A name without letters or digits of its own, or one that another field's
    /// name or Fieldbook's own properties already took, is written
    /// `X-FIELDBOOK-FIELD-<id>` instead.
    pub fn of(fields: &std::collections::BTreeMap<String, FieldDefinition>) -> CustomProperties {
        let mut active: Vec<(&String, &FieldDefinition)> =
            fields.iter().filter(|(_, field)| !field.archived).collect();
        crate::order::sort_by(&mut active, |a, b| {
            (a.1.position, &a.1.name, a.0).cmp(&(b.1.position, &b.1.name, b.0))
        });
        let mut taken: Vec<String> = ["X-FIELDBOOK-STAGE", "X-FIELDBOOK-OWNER"]
            .map(String::from)
            .to_vec();
        let mut out = Vec::with_capacity(active.len());
        for (id, field) in active {
            let words: Vec<String> = field
                .name
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .filter(|word| !word.is_empty())
                .map(str::to_ascii_uppercase)
                .collect();
            let mut name = format!("X-{}", words.join("-"));
            if words.is_empty() || taken.contains(&name) {
                let safe: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
                name = format!("X-FIELDBOOK-FIELD-{}", safe.to_ascii_uppercase());
            }
            taken.push(name.clone());
            out.push((name, id.clone(), field.clone()));
        }
        CustomProperties(out)
    }
}

/// One customer as a vCard, with a property per custom field she has a value of (as words:
/// a choice's label, "Yes", an amount with its currency; several choices separated by
/// `;`), which this app's import reads back into the field of that name.
pub fn to_vcard_with_fields(
    customer: &Customer,
    version: Version,
    custom: &CustomProperties,
) -> String {
    let mut lines = vec![
        "BEGIN:VCARD".to_string(),
        format!(
            "VERSION:{}",
            if version == Version::V3 { "3.0" } else { "4.0" }
        ),
    ];
    let full_name = customer.display_name();
    lines.push(format!("FN:{}", escape(full_name)));
    let mut words: Vec<&str> = customer.name.split_whitespace().collect();
    let family = if words.len() > 1 {
        words.pop().unwrap_or("")
    } else {
        ""
    };
    lines.push(format!(
        "N:{};{};;;",
        escape(family),
        escape(&words.join(" "))
    ));
    if !customer.company.is_empty() {
        lines.push(format!("ORG:{}", escape(&customer.company)));
    }
    if !customer.job_title.is_empty() {
        lines.push(format!("TITLE:{}", escape(&customer.job_title)));
    }
    for email in &customer.emails {
        let kind = if email.label == "personal" {
            "home"
        } else {
            "work"
        };
        lines.push(format!(
            "EMAIL{}:{}",
            type_param(version, kind),
            escape(email.value.trim())
        ));
    }
    for phone in &customer.phones {
        lines.push(format!(
            "TEL{}:{}",
            type_param(version, phone_kind(&phone.label)),
            escape(phone.value.trim())
        ));
    }
    let a = &customer.address;
    if !a.is_empty() {
        lines.push(format!(
            "ADR{}:;;{};{};{};{};{}",
            type_param(version, "work"),
            escape(&a.street),
            escape(&a.city),
            escape(&a.region),
            escape(&a.postal_code),
            escape(&a.country)
        ));
    }
    if let Some(birthday) = customer.birthday {
        lines.push(match (birthday.year, version) {
            (Some(_), _) => format!("BDAY:{birthday}"),
            // vCard 4's date without a year.
            (None, Version::V4) => format!("BDAY:--{:02}{:02}", birthday.month, birthday.day),
            // vCard 3 has none: Apple's convention, a placeholder year named in a parameter.
            (None, Version::V3) => format!(
                "BDAY;X-APPLE-OMIT-YEAR={OMITTED_YEAR}:{OMITTED_YEAR}-{:02}-{:02}",
                birthday.month, birthday.day
            ),
        });
    }
    if !customer.tags.is_empty() {
        let tags: Vec<String> = customer.tags.iter().map(escape).collect();
        lines.push(format!("CATEGORIES:{}", tags.join(",")));
    }
    if !customer.notes.as_str().trim().is_empty() {
        lines.push(format!("NOTE:{}", escape(customer.notes.as_str().trim())));
    }
    // Fieldbook's own fields, read back by this app and ignored by others.
    lines.push(format!("X-FIELDBOOK-STAGE:{}", customer.stage.as_str()));
    if !customer.owner.trim().is_empty() {
        lines.push(format!(
            "X-FIELDBOOK-OWNER:{}",
            escape(customer.owner.trim())
        ));
    }
    for (property, id, field) in &custom.0 {
        let value = value_words(customer, id, field);
        if !value.trim().is_empty() {
            lines.push(format!("{property}:{}", escape(value.trim())));
        }
    }
    lines.push(format!("UID:urn:uuid:{}", customer.id));
    lines.push("END:VCARD".to_string());
    let mut out = String::new();
    for line in lines {
        fold(&line, &mut out);
    }
    out
}

/// A content line: name (upper case, group dropped), parameters (lower case), raw value.
type Property = (String, String, String);

/// Splits a value at unescaped `sep` and unescapes each part.
fn split_unescape(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') | Some('N') => parts.last_mut().map_or((), |p| p.push('\n')),
                Some(other) => parts.last_mut().map_or((), |p| p.push(other)),
                None => {}
            },
            c if c == sep => parts.push(String::new()),
            c => parts.last_mut().map_or((), |p| p.push(c)),
        }
    }
    parts
}

/// The cards of a .vcf file as customers: each with the line its card starts on, and the
/// values that had no valid place (kept in the notes, like a CSV row's), or why it cannot
/// be imported (nothing names a person or a company). `ids` makes record ids.
pub fn parse_vcards(
    text: &str,
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Vec<(u64, Result<ImportedRow, String>)> {
    parse_vcards_with(text, &CardFields::new(), ids, now)
}

/// Properties (by name, upper case) read into the book's custom fields: the field's id
/// and definition.
pub type CardFields = std::collections::BTreeMap<String, (String, FieldDefinition)>;

/// [`parse_vcards`], reading the properties of `fields` into those custom fields: a value
/// the field does not take (a word in a number field, a choice it does not offer, a second
/// value for a one-value field) is kept in the notes with a warning.
pub fn parse_vcards_with(
    text: &str,
    fields: &CardFields,
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Vec<(u64, Result<ImportedRow, String>)> {
    cards(text)
        .into_iter()
        .map(|(start, props)| (start, card_to_customer(&props, fields, ids, now)))
        .collect()
}

/// The name a new custom field made from property `name` gets: `X-BOOTH-NUMBER` is
/// "Booth number", `URL` "Website", `NICKNAME` "Nickname".
pub fn property_label(name: &str) -> String {
    match name {
        "URL" => return "Website".into(),
        "IMPP" => return "Messaging".into(),
        "ROLE" => return "Role".into(),
        _ => {}
    }
    let bare = name.strip_prefix("X-").unwrap_or(name);
    let words = bare.replace(['-', '_'], " ").to_lowercase();
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_string(),
    }
}

/// The non-empty values of property `name` (upper case) in every card of a .vcf file, as
/// text (unescaped), for guessing the kind of a field made from it.
pub fn property_values(text: &str, name: &str) -> Vec<String> {
    (cards(text).into_iter())
        .flat_map(|(_, props)| props)
        .filter(|(prop, _, _)| prop == name)
        .map(|(_, _, value)| split_unescape(&value, '\u{0}').concat().trim().to_string())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Properties a card carries that say how it is written, not what it says about someone.
const FORMAT_PROPERTIES: &[&str] = &[
    "VERSION",
    "PRODID",
    "REV",
    "UID",
    "KIND",
    "CLASS",
    "SOURCE",
    "X-ABLABEL",
    "X-ABADR",
    "X-ABSHOWAS",
    "X-ABUID",
];

/// The properties of a .vcf file that are not imported (a photo, a website, a nickname…),
/// with how many non-empty values each holds, for the import report.
pub fn unused_properties(text: &str) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, props) in cards(text) {
        for (name, _, value) in props {
            if IMPORTED.contains(&name.as_str())
                || FORMAT_PROPERTIES.contains(&name.as_str())
                || value.trim().is_empty()
            {
                continue;
            }
            match counts.iter_mut().find(|(seen, _)| *seen == name) {
                Some((_, n)) => *n += 1,
                None => counts.push((name, 1)),
            }
        }
    }
    counts
}

/// A .vcf file's cards: each with the line it starts on and its properties (name in upper
/// case without its group, parameters in lower case, value decoded).
fn cards(text: &str) -> Vec<(u64, Vec<Property>)> {
    // Unfold: a line starting with a space or tab continues the previous one; so does any
    // line after a quoted-printable value's soft line break (a `=` at the end, vCard 2.1).
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut soft_break = false;
    for (idx, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if soft_break {
            if let Some(last) = lines.last_mut() {
                last.1.pop();
                last.1.push_str(raw);
            }
        } else if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
            if let Some(last) = lines.last_mut() {
                last.1.push_str(&raw[1..]);
            }
        } else {
            lines.push((idx as u64 + 1, raw.to_string()));
        }
        soft_break = lines
            .last()
            .is_some_and(|(_, line)| line.ends_with('=') && is_quoted_printable(line));
    }
    let mut cards = Vec::new();
    let mut current: Option<(u64, Vec<Property>)> = None;
    for (line_no, line) in lines {
        let Some((head, value)) = line.split_once(':') else {
            continue;
        };
        let mut params = head.split(';');
        let name = params.next().unwrap_or("");
        // Drop a group prefix ("item1.EMAIL").
        let name = name.rsplit('.').next().unwrap_or(name).to_uppercase();
        let params = params.collect::<Vec<_>>().join(";").to_lowercase();
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VCARD") => current = Some((line_no, Vec::new())),
            "END" if value.eq_ignore_ascii_case("VCARD") => {
                if let Some(card) = current.take() {
                    cards.push(card);
                }
            }
            _ => {
                if let Some((_, props)) = current.as_mut() {
                    let value = if params.contains("quoted-printable") {
                        let charset = params
                            .split(';')
                            .find_map(|param| param.strip_prefix("charset="))
                            .and_then(TextEncoding::from_charset)
                            .unwrap_or(TextEncoding::Utf8);
                        decode_quoted_printable(value, charset)
                    } else {
                        value.to_string()
                    };
                    props.push((name, params, value));
                }
            }
        }
    }
    cards
}

/// The placeholder year this app writes, with `X-APPLE-OMIT-YEAR`, for a vCard 3 birthday
/// without a year (the year Apple's Contacts uses).
const OMITTED_YEAR: i32 = 1604;

/// A `BDAY` value: `1984-02-29`, `19840229`, a date and time (`1984-02-29T00:00:00Z`), vCard
/// 4's `--0615` / `--06-15`, or Apple's placeholder year named by `X-APPLE-OMIT-YEAR` (so
/// `1604-06-15` is 15 June, year unknown, not a birth in 1604). `params` are lower case.
fn birthday_from(value: &str, params: &str) -> Option<Birthday> {
    let value = value.trim();
    if value.starts_with("--") {
        return Birthday::parse(value);
    }
    // Eight ASCII digits first (so the slices below fall on character boundaries).
    let compact = (value.as_bytes().get(..8)).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    let date = if compact {
        format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..8])
    } else {
        value.chars().take(10).collect()
    };
    let birthday = Birthday::parse(&date)?;
    let omitted = params
        .split(';')
        .find_map(|param| param.strip_prefix("x-apple-omit-year="))
        .and_then(|year| year.trim().parse::<i32>().ok());
    Some(match omitted {
        Some(year) if birthday.year == Some(year) => Birthday {
            year: None,
            ..birthday
        },
        _ => birthday,
    })
}

/// Whether a content line's value is quoted-printable (`ENCODING=QUOTED-PRINTABLE`, or
/// vCard 2.1's bare `QUOTED-PRINTABLE` parameter).
fn is_quoted_printable(line: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(head, _)| head.to_ascii_lowercase().contains("quoted-printable"))
}

/// The properties [`card_to_customer`] reads.
const IMPORTED: &[&str] = &[
    "FN",
    "N",
    "ORG",
    "TITLE",
    "EMAIL",
    "TEL",
    "ADR",
    "BDAY",
    "CATEGORIES",
    "NOTE",
    "X-FIELDBOOK-STAGE",
    "X-FIELDBOOK-OWNER",
];

fn card_to_customer(
    props: &[Property],
    fields: &CardFields,
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Result<ImportedRow, String> {
    let id: CustomerId = ids().parse().map_err(|_| "cannot make an id".to_string())?;
    let mut customer = Customer::new(id, now);
    let mut structured_name = String::new();
    let mut notes = Vec::new();
    // (property, raw value, why) of values that have no valid place: kept in the notes.
    let mut unused: Vec<(String, String, String)> = Vec::new();
    for (name, params, value) in props {
        let text = || split_unescape(value, '\u{0}').concat();
        match name.as_str() {
            "FN" => customer.name = text().trim().to_string(),
            "N" => {
                let parts = split_unescape(value, ';');
                let given = parts.get(1).map_or("", |s| s.trim());
                let family = parts.first().map_or("", |s| s.trim());
                structured_name = [given, family]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            "ORG" => {
                customer.company = split_unescape(value, ';')
                    .first()
                    .cloned()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            }
            "TITLE" => customer.job_title = text().trim().to_string(),
            "EMAIL" => customer.emails.push(ContactPoint {
                id: ContactPointId(ids()),
                label: if params.contains("home") {
                    "personal"
                } else {
                    "work"
                }
                .into(),
                value: text().trim().to_string(),
            }),
            "TEL" => customer.phones.push(ContactPoint {
                id: ContactPointId(ids()),
                label: if params.contains("cell") {
                    "mobile"
                } else if params.contains("home") {
                    "home"
                } else {
                    "work"
                }
                .into(),
                value: text().trim().trim_start_matches("tel:").to_string(),
            }),
            "ADR" => {
                let parts = split_unescape(value, ';');
                let part = |i: usize| parts.get(i).map_or(String::new(), |s| s.trim().to_string());
                customer.address.street = part(2);
                customer.address.city = part(3);
                customer.address.region = part(4);
                customer.address.postal_code = part(5);
                customer.address.country = part(6);
            }
            "BDAY" => match birthday_from(value, params) {
                Some(birthday) => customer.birthday = Some(birthday),
                None => unused.push(("Birthday".into(), text().trim().into(), "not a date".into())),
            },
            "CATEGORIES" => {
                for tag in split_unescape(value, ',') {
                    if !tag.trim().is_empty() {
                        customer.tags.insert(tag.trim());
                    }
                }
            }
            "NOTE" => notes.push(text().trim().to_string()),
            "X-FIELDBOOK-STAGE" => {
                if let Some(stage) = crate::LifecycleStage::parse(text().trim()) {
                    customer.stage = stage;
                }
            }
            "X-FIELDBOOK-OWNER" => customer.owner = text().trim().to_string(),
            other => {
                let Some((id, field)) = fields.get(other) else {
                    continue;
                };
                let value = text().trim().to_string();
                if value.is_empty() {
                    continue;
                }
                match custom_value(field, &value) {
                    Ok(CustomValue::One(stored)) => {
                        if customer.custom.contains_key(id) {
                            let why = "the field holds one value".to_string();
                            unused.push((field.name.clone(), value, why));
                        } else {
                            customer.custom.insert(id.clone(), stored);
                        }
                    }
                    Ok(CustomValue::Set(chosen)) => {
                        let set = customer.custom_sets.entry(id.clone()).or_default();
                        for choice in chosen {
                            set.insert(&choice);
                        }
                    }
                    Err(why) => unused.push((field.name.clone(), value, why)),
                }
            }
        }
    }
    if customer.name.is_empty() || customer.name == customer.company {
        customer.name = structured_name;
    }
    settle(customer, notes, unused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    fn sample() -> Customer {
        let mut c = Customer::new(
            "7d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap(),
            Timestamp(0),
        );
        c.name = "Zoë de la Cruz".into();
        c.company = "Fromagerie; Lyon, et fils".into();
        c.job_title = "Buyer".into();
        c.emails.push(ContactPoint {
            id: ContactPointId("e".into()),
            label: "work".into(),
            value: "zoe@fromagerie.example".into(),
        });
        c.phones.push(ContactPoint {
            id: ContactPointId("p".into()),
            label: "mobile".into(),
            value: "+33 6 12 34 56 78".into(),
        });
        c.address.street = "12 rue de la Paix".into();
        c.address.city = "Lyon".into();
        c.address.postal_code = "69002".into();
        c.address.country = "France".into();
        c.birthday = crate::Birthday::parse("1984-02-29");
        c.tags.insert("vip");
        c.tags.insert("salon-2026");
        c.stage = crate::LifecycleStage::Loyal;
        c.owner = "Marc; Lyon".into();
        c.notes.update("Prefers mornings.\nTwo shops; one in Lyon, one in Annecy — a very long note that needs folding across lines.");
        c
    }

    #[test]
    fn vcards_round_trip_in_both_versions() {
        for version in [Version::V3, Version::V4] {
            let original = sample();
            let card = to_vcard(&original, version);
            assert!(card.lines().all(|line| line.len() <= 75), "{card}");
            let parsed = parse_vcards(&card, &mut ids(), Timestamp(0));
            assert_eq!(parsed.len(), 1);
            let back = parsed.into_iter().next().unwrap().1.unwrap().customer;
            assert_eq!(back.name, original.name);
            assert_eq!(back.company, original.company);
            assert_eq!(back.job_title, original.job_title);
            assert_eq!(back.emails[0].value, original.emails[0].value);
            assert_eq!(
                (back.phones[0].value.as_str(), back.phones[0].label.as_str()),
                ("+33 6 12 34 56 78", "mobile")
            );
            assert_eq!(back.address, original.address);
            assert_eq!(back.birthday, original.birthday);
            assert_eq!(back.tags, original.tags);
            assert_eq!(back.notes.as_str(), original.notes.as_str());
            assert_eq!(back.stage, original.stage);
            assert_eq!(back.owner, original.owner);
        }
    }

    #[test]
    fn birthdays_without_a_year_are_written_and_read_in_each_version_and_from_apple() {
        let mut original = sample();
        original.birthday = Birthday::parse("--06-15");
        let v4 = to_vcard(&original, Version::V4);
        assert!(v4.contains("\r\nBDAY:--0615\r\n"), "{v4}");
        let v3 = to_vcard(&original, Version::V3);
        assert!(
            v3.contains("\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-06-15\r\n"),
            "{v3}"
        );
        for card in [v3, v4] {
            let back = parse_vcards(&card, &mut ids(), Timestamp(0));
            assert_eq!(
                back[0].1.as_ref().unwrap().customer.birthday,
                original.birthday
            );
        }
        // What other tools write: Apple (another placeholder year, lower case), vCard 4's
        // dashed form, a date and time, a real birth in 1604 without the parameter.
        for (line, expected) in [
            ("BDAY;x-apple-omit-year=1900:1900-12-31", "--12-31"),
            ("BDAY:--12-31", "--12-31"),
            ("BDAY;VALUE=date:19840229", "1984-02-29"),
            ("BDAY:1984-02-29T00:00:00Z", "1984-02-29"),
            ("BDAY:1604-06-15", "1604-06-15"),
        ] {
            let card = format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\n{line}\r\nEND:VCARD\r\n");
            let back = parse_vcards(&card, &mut ids(), Timestamp(0));
            let birthday = back[0].1.as_ref().unwrap().customer.birthday;
            assert_eq!(
                birthday.map(|b| b.to_string()).as_deref(),
                Some(expected),
                "{line}"
            );
        }
    }

    #[test]
    fn a_birthday_of_other_characters_is_kept_in_the_notes_not_a_panic() {
        // Fuzzing found it: a multi-byte character within the first eight bytes.
        let card = "BEGIN:VCARD\r\r\nBDAY:2-06\u{7cb}\u{8b}\u{88}\u{8b}\u{88}\u{90}\nEND:VCARD\n";
        let cards = parse_vcards(card, &mut ids(), Timestamp(0));
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].1, Err("enter a name or a company".to_string()));
        let card = "BEGIN:VCARD\r\nFN:A\r\nBDAY:2-06ß‹›\r\nEND:VCARD\r\n";
        let cards = parse_vcards(card, &mut ids(), Timestamp(0));
        let card = cards[0].1.as_ref().unwrap();
        assert_eq!(card.customer.birthday, None);
        assert_eq!(
            card.warnings,
            ["Birthday \"2-06ß‹›\": not a date; kept in the notes"]
        );
    }

    #[test]
    fn android_vcard_2_1_quoted_printable_values_are_read_in_their_charset() {
        // As Android's Contacts app exports: 2.1, non-ASCII values quoted-printable in
        // UTF-8 with soft line breaks, a photo in base64 on indented lines ending with a
        // blank line, CRLF line ends.
        let file = [
            "BEGIN:VCARD",
            "VERSION:2.1",
            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Wi=C5=9Bniewski;=C5=81ukasz;;;",
            "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C5=81ukasz Wi=C5=9Bniewski",
            "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Pi=C3=B3rkowa Sp. z o.o.",
            "TEL;CELL:+48 601 234 567",
            "EMAIL;HOME:lukasz@example.pl",
            "ADR;HOME;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;ul. =C5=BBurawia 12;Krak=C3=B3w;;30-001;Pols=",
            "ka",
            "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Spotkanie na targach =E2=80=93 stoisko B12.=0D=0A=",
            "Zadzwoni=C4=87 w pi=C4=85tek.",
            "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/",
            "  2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ",
            "",
            "END:VCARD",
            "BEGIN:VCARD",
            "VERSION:2.1",
            "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=F6rg;;;",
            "TEL;WORK;VOICE:+49 89 1234567",
            "END:VCARD",
            "",
        ]
        .join("\r\n");
        let cards = parse_vcards(&file, &mut ids(), Timestamp(0));
        assert_eq!(cards.len(), 2);
        let (line, first) = &cards[0];
        assert_eq!(*line, 1);
        let first = &first.as_ref().unwrap().customer;
        assert_eq!(first.name, "Łukasz Wiśniewski");
        assert_eq!(first.company, "Piórkowa Sp. z o.o.");
        assert_eq!(first.phones[0].value, "+48 601 234 567");
        assert_eq!(first.phones[0].label, "mobile");
        assert_eq!(first.emails[0].value, "lukasz@example.pl");
        assert_eq!(first.address.street, "ul. Żurawia 12");
        assert_eq!(first.address.city, "Kraków");
        assert_eq!(first.address.postal_code, "30-001");
        assert_eq!(first.address.country, "Polska");
        assert_eq!(
            first.notes.as_str(),
            "Spotkanie na targach – stoisko B12.\r\nZadzwonić w piątek."
        );
        let (line, second) = &cards[1];
        assert_eq!(*line, 16);
        assert_eq!(second.as_ref().unwrap().customer.name, "Jörg Müller");
    }

    #[test]
    fn cards_from_phones_are_read_and_a_bad_value_is_kept_in_the_notes() {
        let file = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dupont;Jean;;;\r\nitem1.EMAIL;type=INTERNET;type=pref:jean@dupont.example\r\nTEL;TYPE=CELL:06 12 34 56 78\r\nBDAY:19800115\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad Mail\r\nEMAIL:not-an-email\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n";
        let cards = parse_vcards(file, &mut ids(), Timestamp(0));
        let summary: Vec<String> = cards
            .iter()
            .map(|(line, result)| match result {
                Ok(ImportedRow {
                    customer: c,
                    warnings,
                }) => format!(
                    "{line}: {} {:?} {:?} {warnings:?} {:?}",
                    c.name,
                    c.emails.first().map(|e| &e.value),
                    c.birthday.map(|d| d.to_string()),
                    c.notes.as_str()
                ),
                Err(e) => format!("{line}: {e}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "1: Jean Dupont Some(\"jean@dupont.example\") Some(\"1980-01-15\") [] \"\"",
                // One bad value no longer costs the card: it is kept in the notes.
                "8: Bad Mail None None [\"Email \\\"not-an-email\\\": \\\"not-an-email\\\" is not an email address (expected name@example.com); kept in the notes\"] \"From the import, values without a place:\\nEmail: not-an-email\"",
                "13: enter a name or a company",
            ]
        );
    }

    #[test]
    fn properties_without_a_built_in_place_go_into_custom_fields_made_from_them() {
        use crate::formats::import::field_from_values;
        use crate::model::custom_fields::FieldKind;
        let file = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Lima\r\nX-INDUSTRY:Bakery\r\nX-FLEET-SIZE:12\r\nURL:https://lima.example\r\nURL:https://second.example\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo Chen\r\nX-INDUSTRY:Dairy\r\nX-FLEET-SIZE:a dozen\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy Diaz\r\nX-INDUSTRY:bakery\r\nX-FLEET-SIZE:3\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Di Eng\r\nX-INDUSTRY:Dairy\r\nEND:VCARD\r\n";
        // The properties the import offers, named for people, with their values' kinds.
        let unused: Vec<(String, usize)> = unused_properties(file);
        assert_eq!(
            unused,
            [
                ("X-INDUSTRY".to_string(), 4),
                ("X-FLEET-SIZE".to_string(), 3),
                ("URL".to_string(), 2)
            ]
        );
        let labels: Vec<String> = unused.iter().map(|(p, _)| property_label(p)).collect();
        assert_eq!(labels, ["Industry", "Fleet size", "Website"]);
        let made = |name: &str, at: i64| {
            let values = property_values(file, name);
            field_from_values(
                &property_label(name),
                values.iter().map(String::as_str),
                at,
                Timestamp(0),
            )
        };
        let industry = made("X-INDUSTRY", 1);
        assert_eq!(industry.kind, FieldKind::Choice);
        let labels: Vec<&str> = industry
            .offered_choices()
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(labels, ["Bakery", "Dairy"]);
        // "a dozen" is one value of three: the guess is text, not number.
        assert_eq!(made("X-FLEET-SIZE", 2).kind, FieldKind::Text);
        let mut fleet = made("X-FLEET-SIZE", 2);
        fleet.kind = FieldKind::Number;
        let website = made("URL", 3);
        assert_eq!(website.kind, FieldKind::Link);
        let fields: CardFields = [
            ("X-INDUSTRY".to_string(), ("f-ind".to_string(), industry)),
            ("X-FLEET-SIZE".to_string(), ("f-fleet".to_string(), fleet)),
            ("URL".to_string(), ("f-web".to_string(), website)),
        ]
        .into();
        let cards = parse_vcards_with(file, &fields, &mut ids(), Timestamp(0));
        let rows: Vec<&ImportedRow> = cards.iter().map(|(_, r)| r.as_ref().unwrap()).collect();
        let ana = &rows[0].customer;
        assert_eq!(ana.custom.get("f-ind").map(String::as_str), Some("c1"));
        assert_eq!(ana.custom.get("f-fleet").map(String::as_str), Some("12"));
        assert_eq!(
            ana.custom.get("f-web").map(String::as_str),
            Some("https://lima.example")
        );
        // A second value of a one-value field, and a word in a number field, are kept in
        // the notes with a warning; nothing of the card is lost.
        assert!(
            ana.notes
                .as_str()
                .contains("Website: https://second.example"),
            "{}",
            ana.notes.as_str()
        );
        assert_eq!(rows[0].warnings.len(), 1, "{:?}", rows[0].warnings);
        let bo = &rows[1].customer;
        assert_eq!(bo.custom.get("f-ind").map(String::as_str), Some("c2"));
        assert!(!bo.custom.contains_key("f-fleet"));
        assert!(bo.notes.as_str().contains("Fleet size: a dozen"));
        assert!(
            rows[1].warnings[0].starts_with("Fleet size \"a dozen\""),
            "{:?}",
            rows[1].warnings
        );
        // Choices match their label whatever the case.
        assert_eq!(
            rows[2].customer.custom.get("f-ind").map(String::as_str),
            Some("c1")
        );
        // Without fields, nothing goes into them (as before).
        let plain = parse_vcards(file, &mut ids(), Timestamp(0));
        assert!(plain
            .iter()
            .all(|(_, r)| r.as_ref().unwrap().customer.custom.is_empty()));
    }

    #[test]
    fn custom_values_are_written_as_properties_the_import_maps_back_by_name() {
        use crate::formats::import::field_from_values;
        use crate::model::custom_fields::FieldKind;
        let choice = |name: &str, labels: &[&str], kind: FieldKind| {
            let mut field = field_from_values(name, labels.iter().copied(), 0, Timestamp(0));
            field.kind = kind;
            field
        };
        let mut fields = std::collections::BTreeMap::new();
        fields.insert(
            "f-ind".to_string(),
            choice(
                "Industry",
                &["Bakery", "Dairy", "Bakery", "Dairy"],
                FieldKind::Choice,
            ),
        );
        fields.insert(
            "f-lines".to_string(),
            choice(
                "Product lines",
                &["Bread", "Cakes", "Bread", "Cakes"],
                FieldKind::Choices,
            ),
        );
        fields.insert(
            "f-fleet".to_string(),
            FieldDefinition::new("Fleet size", FieldKind::Number, 2, Timestamp(0)),
        );
        fields.insert(
            "f-ok".to_string(),
            FieldDefinition::new("Signed NDA?", FieldKind::YesNo, 3, Timestamp(0)),
        );
        fields.insert(
            "f-note".to_string(),
            FieldDefinition::new("Booth; hall, row", FieldKind::Text, 4, Timestamp(0)),
        );
        // Names that would take a name already used, or have no letters of their own.
        fields.insert(
            "f-ind2".to_string(),
            FieldDefinition::new("industry", FieldKind::Text, 5, Timestamp(0)),
        );
        fields.insert(
            "f-jp".to_string(),
            FieldDefinition::new("業種", FieldKind::Text, 6, Timestamp(0)),
        );
        let mut archived = FieldDefinition::new("Old", FieldKind::Text, 7, Timestamp(0));
        archived.archived = true;
        fields.insert("f-old".to_string(), archived);
        let id_of = |name: &str| -> String {
            fields[name]
                .offered_choices()
                .first()
                .map(|(id, _)| id.to_string())
                .unwrap_or_default()
        };
        let mut customer = sample();
        customer.custom.insert("f-ind".into(), id_of("f-ind"));
        let lines: Vec<String> = fields["f-lines"]
            .offered_choices()
            .iter()
            .map(|(id, _)| id.to_string())
            .collect();
        for line in &lines {
            customer
                .custom_sets
                .entry("f-lines".into())
                .or_default()
                .insert(line);
        }
        customer.custom.insert("f-fleet".into(), "12".into());
        customer.custom.insert("f-ok".into(), "yes".into());
        customer
            .custom
            .insert("f-note".into(), "Hall 3; row B, stand 12".into());
        customer.custom.insert("f-ind2".into(), "Food".into());
        customer.custom.insert("f-jp".into(), "製パン".into());
        customer.custom.insert("f-old".into(), "kept out".into());
        let properties = CustomProperties::of(&fields);
        let card = to_vcard_with_fields(&customer, Version::V3, &properties);
        for line in [
            "X-INDUSTRY:Bakery",
            "X-PRODUCT-LINES:Bread\\;Cakes",
            "X-FLEET-SIZE:12",
            "X-SIGNED-NDA:Yes",
            "X-BOOTH-HALL-ROW:Hall 3\\; row B\\, stand 12",
            "X-FIELDBOOK-FIELD-FIND2:Food",
            "X-FIELDBOOK-FIELD-FJP:製パン",
        ] {
            assert!(card.contains(line), "{line} in {card}");
        }
        assert!(
            !card.contains("kept out"),
            "archived fields are not written"
        );
        // The import offers each property under its label; mapped by name to the field of
        // that name, every value comes back as it was.
        let offered: Vec<String> = unused_properties(&card)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let labels: Vec<String> = offered.iter().map(|p| property_label(p)).collect();
        let found = crate::formats::import::custom_columns(&labels, &[], &fields);
        let mapping: CardFields = (found.into_iter())
            .map(|(col, id)| (offered[col].clone(), (id.clone(), fields[&id].clone())))
            .collect();
        let mapped: Vec<&str> = mapping.values().map(|(id, _)| id.as_str()).collect();
        assert_eq!(mapped.len(), 5, "{mapping:?}");
        for id in ["f-ind", "f-lines", "f-fleet", "f-ok", "f-note"] {
            assert!(mapped.contains(&id), "{id} mapped back: {mapped:?}");
        }
        let rows = parse_vcards_with(&card, &mapping, &mut ids(), Timestamp(0));
        let back = &rows[0].1.as_ref().unwrap().customer;
        for id in ["f-ind", "f-fleet", "f-ok", "f-note"] {
            assert_eq!(back.custom.get(id), customer.custom.get(id), "{id}");
        }
        assert_eq!(
            back.custom_sets.get("f-lines"),
            customer.custom_sets.get("f-lines")
        );
        // Without fields the card is what it always was.
        assert!(!to_vcard(&customer, Version::V3).contains("X-INDUSTRY"));
    }
}
