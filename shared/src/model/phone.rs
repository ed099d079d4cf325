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
