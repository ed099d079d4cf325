//! One rule for phone numbers, shared by the duplicate finder, the import and search: the
//! same number written nationally ("0664 2003001", with its trunk prefix 0) or
//! internationally ("+43 664 200 3001", "0043 664 2003001") is the same number.
//!
//! - Two numbers are the same when their last [`KEY_DIGITS`] digits are ([`phone_key`]):
//!   what follows a country code or a trunk prefix is the national number, whose end is
//!   the same in every form.
//! - A search word typed as part of a number is looked for in each of its forms
//!   ([`search_forms`]): without a trunk 0 ("0664" finds "+43 664 …" and "0664 …"), and an
//!   international one ("+43 664…", "0043 664…") also as the national number after a country
//!   code of one to three digits, with the trunk 0 ("+436642003001" finds "0664 2003001").
//! - A book may name the country its numbers are written in when they carry no country code
//!   ([`Country`], Settings → Phone numbers): a national number is then also known by its
//!   international form ([`international`]), which the Call buttons dial, so a rep at a show
//!   abroad reaches "0664 2003001" as "+43 664 2003001". Stored numbers stay as typed, and
//!   matching stays by [`phone_key`] (a suggested duplicate is only a suggestion).

/// Digits compared at the end of phone numbers (the national number without prefixes).
pub const KEY_DIGITS: usize = 9;

/// Fewest digits of a number's national part an international search word must still
/// have once a country code is taken off, to be looked for as a national number.
const NATIONAL_MIN: usize = 6;

/// The digits of a phone number that identify it: its last [`KEY_DIGITS`] digits (fewer if
/// it is shorter; empty below six digits, too short to mean anything).
pub fn phone_key(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return String::new();
    }
    digits[digits.len().saturating_sub(KEY_DIGITS)..]
        .iter()
        .collect()
}

/// A country whose phone numbers a book writes without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, as stored in the book's settings.
    pub iso: &'static str,
    /// The country's name in English.
    pub name: &'static str,
    /// Its calling code, without "+".
    pub calling_code: &'static str,
    /// The national trunk prefix dropped after the calling code ("0" in most of Europe,
    /// "1" in North America, "" where nothing is dropped: Italy keeps its 0).
    pub trunk: &'static str,
}

const fn country(
    iso: &'static str,
    name: &'static str,
    calling_code: &'static str,
    trunk: &'static str,
) -> Country {
    Country {
        iso,
        name,
        calling_code,
        trunk,
    }
}

/// The countries offered, by name.
pub const COUNTRIES: &[Country] = &[
    country("AU", "Australia", "61", "0"),
    country("AT", "Austria", "43", "0"),
    country("BE", "Belgium", "32", "0"),
    country("BR", "Brazil", "55", "0"),
    country("CA", "Canada", "1", "1"),
    country("HR", "Croatia", "385", "0"),
    country("CZ", "Czechia", "420", ""),
    country("DK", "Denmark", "45", ""),
    country("FI", "Finland", "358", "0"),
    country("FR", "France", "33", "0"),
    country("DE", "Germany", "49", "0"),
    country("GR", "Greece", "30", ""),
    country("HU", "Hungary", "36", "06"),
    country("IN", "India", "91", "0"),
    country("IE", "Ireland", "353", "0"),
    country("IL", "Israel", "972", "0"),
    country("IT", "Italy", "39", ""),
    country("JP", "Japan", "81", "0"),
    country("LU", "Luxembourg", "352", ""),
    country("MX", "Mexico", "52", ""),
    country("NL", "Netherlands", "31", "0"),
    country("NZ", "New Zealand", "64", "0"),
    country("NO", "Norway", "47", ""),
    country("PL", "Poland", "48", ""),
    country("PT", "Portugal", "351", ""),
    country("RO", "Romania", "40", "0"),
    country("SK", "Slovakia", "421", "0"),
    country("SI", "Slovenia", "386", "0"),
    country("ZA", "South Africa", "27", "0"),
    country("ES", "Spain", "34", ""),
    country("SE", "Sweden", "46", "0"),
    country("CH", "Switzerland", "41", "0"),
    country("TR", "Türkiye", "90", "0"),
    country("GB", "United Kingdom", "44", "0"),
    country("US", "United States", "1", "1"),
];

impl Country {
    /// The country of an ISO code ("AT", any case); `None` for "" or an unknown code.
    pub fn of(iso: &str) -> Option<&'static Country> {
        COUNTRIES
            .iter()
            .find(|country| country.iso.eq_ignore_ascii_case(iso.trim()))
    }

    /// "Austria (+43)".
    pub fn label(&self) -> String {
        format!("{} (+{})", self.name, self.calling_code)
    }
}

/// The number in international form, digits only after "+" ("+436642003001"): a number
/// written with "+" or "00" as it is; a national number in `country`'s form with its trunk
/// prefix dropped (North American numbers: ten digits, or eleven after the trunk 1);
/// `None` when it cannot be told (no country, no digits, a form the country does not use).
pub fn international(phone: &str, country: Option<&Country>) -> Option<String> {
    let trimmed = phone.trim_start();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    if trimmed.starts_with('+') {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Some(format!("+{rest}"));
    }
    let country = country?;
    if country.calling_code == "1" {
        // North America: no trunk 0; "1" before the ten digits is the trunk prefix.
        return match digits.len() {
            10 => Some(format!("+1{digits}")),
            11 if digits.starts_with('1') => Some(format!("+{digits}")),
            _ => None,
        };
    }
    let national = if country.trunk.is_empty() {
        digits.as_str()
    } else {
        digits.strip_prefix(country.trunk)?
    };
    Some(format!("+{}{national}", country.calling_code))
}

/// What a Call button dials: the [`international`] form when known (a call from abroad
/// reaches the same phone), else the number's digits as written (with its leading "+").
pub fn dial(phone: &str, country: Option<&Country>) -> String {
    international(phone, country).unwrap_or_else(|| {
        phone
            .trim()
            .chars()
            .enumerate()
            .filter(|(idx, c)| c.is_ascii_digit() || (*idx == 0 && *c == '+'))
            .map(|(_, c)| c)
            .collect()
    })
}

/// The digits of a search word that looks like part of a phone number (3+ digits and
/// nothing but digits and phone punctuation), as typed; `None` for any other word.
pub fn typed_digits(word: &str) -> Option<String> {
    let digits: String = word.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 3
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | '(' | ')' | '/'));
    phone_like.then_some(digits)
}

/// The digit strings a phone-like search word is looked for as, in a number's digits (any
/// one found is a match; the empty string, for a country code alone such as "+43", matches
/// any number: it cannot tell a national number's country); `None` for a word that is not
/// part of a phone number.
pub fn search_forms(word: &str) -> Option<Vec<String>> {
    let word = word.trim();
    // A country code alone ("+43", "0043").
    let code = (word.strip_prefix('+'))
        .or_else(|| word.strip_prefix("00"))
        .filter(|code| (1..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()));
    if let Some(code) = code {
        return Some(vec![code.to_string(), String::new()]);
    }
    // A trunk 0 and one digit, as French numbers start ("06 12 34 56 78").
    if word.len() == 2 && word.starts_with('0') && word.bytes().all(|b| b.is_ascii_digit()) {
        return Some(vec![word[1..].to_string()]);
    }
    let digits = typed_digits(word)?;
    let international = word.starts_with('+') || digits.starts_with("00");
    if international {
        let number = digits.strip_prefix("00").unwrap_or(&digits).to_string();
        let mut forms = vec![number.clone()];
        // After a country code of one, two or three digits: the national number, written
        // with its trunk 0.
        for code in 1..=3 {
            if let Some(national) = number.get(code..).filter(|n| n.len() >= NATIONAL_MIN) {
                forms.push(format!("0{national}"));
            }
        }
        return Some(forms);
    }
    // A national number's trunk 0 is not written after a country code.
    match digits.strip_prefix('0') {
        Some(national) => Some(vec![national.to_string()]),
        None => Some(vec![digits]),
    }
}

/// Whether [`search_forms`] looks for the word as its digits exactly as typed (no prefix
/// taken off or added): only then does a longer word's match imply a shorter one's.
pub fn searched_as_typed(word: &str) -> bool {
    typed_digits(word).is_some_and(|digits| search_forms(word) == Some(vec![digits]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_national_number_is_dialled_in_its_countrys_international_form() {
        let at = Country::of("at");
        let it = Country::of("IT");
        let us = Country::of("US");
        let gb = Country::of("GB");
        for (phone, country, dialled) in [
            ("0664 2003001", at, "+436642003001"),
            ("+43 664 200 3001", at, "+436642003001"),
            ("+43 664 200 3001", None, "+436642003001"),
            ("0043 664 2003001", None, "+436642003001"),
            ("0043 664 2003001", us, "+436642003001"),
            // Italy keeps its 0 after +39.
            ("06 1234 5678", it, "+390612345678"),
            ("(202) 555-0100", us, "+12025550100"),
            ("1-202-555-0100", us, "+12025550100"),
            ("07700 900123", gb, "+447700900123"),
            // No country: dialled as written.
            ("0664 2003001", None, "06642003001"),
            // Not a national form of the country: as written.
            ("555-0100", us, "5550100"),
            ("664 2003001", at, "6642003001"),
        ] {
            assert_eq!(dial(phone, country), dialled, "{phone} in {country:?}");
        }
        assert_eq!(international("12", at), None);
        assert_eq!(Country::of(""), None);
        assert_eq!(Country::of("XX"), None);
        assert_eq!(
            Country::of("AT").map(Country::label).as_deref(),
            Some("Austria (+43)")
        );
        // Every country once, ordered by name.
        let names: Vec<&str> = COUNTRIES.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        crate::order::sort(&mut sorted);
        assert_eq!(names, sorted);
    }

    /// Whether `query` (its words all found, as text or by their forms) finds the number
    /// `stored`, as the search does.
    fn finds(query: &str, stored: &str) -> bool {
        let digits: String = stored.chars().filter(char::is_ascii_digit).collect();
        query.split_whitespace().all(|word| {
            stored.contains(word)
                || search_forms(word)
                    .unwrap_or_default()
                    .iter()
                    .any(|form| digits.contains(form.as_str()))
        })
    }

    #[test]
    fn national_and_international_forms_of_a_number_find_each_other() {
        // (query, stored, found): the table of the rule.
        let table = [
            ("0664 2003001", "+43 664 200 3001", true),
            ("06642003001", "+43 664 200 3001", true),
            ("+43 664 200 3001", "0664 2003001", true),
            ("+436642003001", "0664 2003001", true),
            ("0043 664 2003001", "0664 2003001", true),
            ("0043 664 2003001", "+43 664 200 3001", true),
            ("+33 6 12 34 56 78", "06 12 34 56 78", true),
            ("06 12 34 56 78", "+33 6 12 34 56 78", true),
            ("+1 (202) 555-0100", "202-555-0100", true),
            ("202 555 0100", "+1 202 555 0100", true),
            ("+44 20 7946 0958", "020 7946 0958", true),
            ("020 7946 0958", "+44 20 7946 0958", true),
            // Other numbers stay apart.
            ("0664 2003002", "+43 664 200 3001", false),
            ("+43 664 200 3002", "0664 2003001", false),
            ("+436642003002", "0664 2003001", false),
        ];
        for (query, stored, found) in table {
            assert_eq!(finds(query, stored), found, "{query:?} in {stored:?}");
        }
    }

    #[test]
    fn the_duplicate_key_is_the_same_for_every_form() {
        let key = phone_key("+43 664 200 3001");
        for form in [
            "0664 2003001",
            "0043 664 2003001",
            "+43 (0) 664 200 30 01",
            "436642003001",
        ] {
            assert_eq!(phone_key(form), key, "{form}");
        }
        assert_ne!(phone_key("0664 2003002"), key);
        assert_eq!(phone_key("12345"), "");
    }

    #[test]
    fn only_words_searched_as_typed_narrow_an_earlier_search() {
        assert!(searched_as_typed("664"));
        assert!(searched_as_typed("6-12-34"));
        assert!(!searched_as_typed("0664"));
        assert!(!searched_as_typed("+43"));
        assert!(!searched_as_typed("ada"));
        assert_eq!(search_forms("ada"), None);
        assert_eq!(search_forms("066"), Some(vec!["66".to_string()]));
        assert_eq!(search_forms("06"), Some(vec!["6".to_string()]));
        assert_eq!(
            search_forms("+43"),
            Some(vec!["43".to_string(), String::new()])
        );
    }
}
