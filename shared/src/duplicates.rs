//! Likely duplicates of a lead being typed, from the whole local book: the same email
//! (case-insensitive), the same phone written differently (compared on its last nine
//! digits, so "+33 6 12 34 56 78" equals "06 12 34 56 78"), or a similar name (Jaro-Winkler
//! on accent-folded names, word order ignored), made likelier by a similar company.

use crate::book::{fold_into, initials_mask};
use crate::{Book, CustomerId};

/// What the rep has typed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lead {
    /// Contact name.
    pub name: String,
    /// Company.
    pub company: String,
    /// Email address.
    pub email: String,
    /// Phone number, as typed.
    pub phone: String,
}

/// Why a customer looks like the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// An email address equal but for case and spaces.
    SameEmail,
    /// A phone number with the same last nine digits.
    SamePhone,
    /// A similar contact name.
    SimilarName,
    /// A similar company.
    SimilarCompany,
}

impl Reason {
    /// For the rep: "same email".
    pub fn label(self) -> &'static str {
        match self {
            Reason::SameEmail => "same email",
            Reason::SamePhone => "same phone",
            Reason::SimilarName => "similar name",
            Reason::SimilarCompany => "similar company",
        }
    }
}

/// A customer that may be the lead, with a score from 0 to 100.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// The existing customer.
    pub id: CustomerId,
    /// How likely it is the same person: 100 for the same email.
    pub score: u8,
    /// Why, strongest first.
    pub reasons: Vec<Reason>,
}

/// Hints below this score are not shown.
pub const MIN_SCORE: u8 = 50;
const NAME_THRESHOLD: f64 = 0.86;
const COMPANY_THRESHOLD: f64 = 0.88;
/// Digits compared at the end of phone numbers (the national number without prefixes).
const PHONE_TAIL: usize = 9;

/// The email as compared: trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The digits of a phone number that identify it: its last nine digits (fewer if it is
/// shorter; empty below six digits, too short to mean anything).
pub fn phone_key(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return String::new();
    }
    digits[digits.len().saturating_sub(PHONE_TAIL)..]
        .iter()
        .collect()
}

fn folded(text: &str) -> String {
    let mut out = String::new();
    fold_into(text.trim(), &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sorted_words(text: &str) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    words.sort_unstable();
    words.join(" ")
}

/// Similarity of two folded names, ignoring word order ("dupont jean" = "jean dupont").
fn name_similarity(typed: &str, typed_sorted: &str, other: &str) -> f64 {
    if other.is_empty() {
        return 0.0;
    }
    // Cheap rejection: very different lengths cannot be similar enough.
    let (a, b) = (typed.len() as f64, other.len() as f64);
    if a.min(b) / a.max(b) < 0.6 {
        return 0.0;
    }
    let direct = strsim::jaro_winkler(typed, other);
    if direct >= NAME_THRESHOLD || !other.contains(' ') {
        return direct;
    }
    direct.max(strsim::jaro_winkler(typed_sorted, &sorted_words(other)))
}

/// Likely duplicates of `lead` in `book`, best first, at most `limit`.
pub fn likely_duplicates(book: &Book, lead: &Lead, limit: usize) -> Vec<Hint> {
    let email = normalize_email(&lead.email);
    let email = if email.contains('@') {
        email
    } else {
        String::new()
    };
    let phone = phone_key(&lead.phone);
    let name = folded(&lead.name);
    let name_sorted = sorted_words(&name);
    let company = folded(&lead.company);
    let use_name = name.chars().count() >= 3;
    let use_company = company.chars().count() >= 3;
    if email.is_empty() && phone.is_empty() && !use_name && !use_company {
        return Vec::new();
    }
    // Word initials of the typed name: a similar name shares at least one (a cheap filter
    // that keeps the scan of a 50,000-customer book within a frame).
    let initials = initials_mask(&name);
    let mut hints = Vec::new();
    for keys in book.match_keys() {
        let (summary, other_name, other_company, other_phones) =
            (keys.summary, keys.name, keys.company, keys.phone_digits);
        let mut reasons = Vec::new();
        let mut score: f64 = 0.0;
        if !email.is_empty()
            && summary
                .emails
                .iter()
                .any(|e| e.trim().eq_ignore_ascii_case(&email))
        {
            reasons.push(Reason::SameEmail);
            score = score.max(100.0);
        }
        if !phone.is_empty()
            && other_phones.split('\n').any(|digits| {
                digits.len() >= 6 && digits[digits.len().saturating_sub(PHONE_TAIL)..] == phone
            })
        {
            reasons.push(Reason::SamePhone);
            score = score.max(95.0);
        }
        let company_sim = || {
            if use_company && !other_company.is_empty() {
                strsim::jaro_winkler(&company, other_company)
            } else {
                0.0
            }
        };
        if use_name {
            // A similar name shares the initials of its words (as many as both have, up to
            // two): a cheap filter that spares most of the book the string comparison.
            let needed = initials
                .count_ones()
                .min(keys.name_initials.count_ones())
                .min(2);
            let shares_initial =
                needed > 0 && (keys.name_initials & initials).count_ones() >= needed;
            let sim = if shares_initial {
                name_similarity(&name, &name_sorted, other_name)
            } else {
                0.0
            };
            if sim >= NAME_THRESHOLD {
                reasons.push(Reason::SimilarName);
                let mut fuzzy = 60.0 + (sim - NAME_THRESHOLD) / (1.0 - NAME_THRESHOLD) * 25.0;
                if company_sim() >= COMPANY_THRESHOLD {
                    reasons.push(Reason::SimilarCompany);
                    fuzzy += 10.0;
                }
                score = score.max(fuzzy.min(94.0));
            }
        } else if other_name.is_empty() {
            // Only a company typed, and this customer is a company without a contact name.
            let sim = company_sim();
            if sim >= COMPANY_THRESHOLD {
                reasons.push(Reason::SimilarCompany);
                score = score.max(50.0 + (sim - COMPANY_THRESHOLD) * 100.0);
            }
        }
        let score = score.round() as u8;
        if score >= MIN_SCORE && !reasons.is_empty() {
            hints.push(Hint {
                id: summary.id.clone(),
                score,
                reasons,
            });
        }
    }
    hints.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hints.truncate(limit);
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomerSummary, LifecycleStage, Timestamp};

    fn summary(n: u8, name: &str, company: &str, email: &str, phone: &str) -> CustomerSummary {
        let id = format!("00000000-0000-4000-8000-0000000000{n:02}");
        let mut customer = crate::Customer::new(id.parse().unwrap(), Timestamp(0));
        customer.name = name.into();
        customer.company = company.into();
        customer.stage = LifecycleStage::Lead;
        let mut summary = CustomerSummary::of(&customer);
        summary.emails = [email]
            .into_iter()
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect();
        summary.phones = [phone]
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        summary
    }

    fn book() -> Book {
        let mut book = Book::default();
        book.upsert(summary(
            1,
            "Amélie Novak",
            "Zenith Wines",
            "amelie@zenith.fr",
            "+33 6 12 34 56 78",
        ));
        book.upsert(summary(
            2,
            "Jean Dupont",
            "Boulangerie Dupont",
            "",
            "04 78 00 11 22",
        ));
        book.upsert(summary(3, "Marco Rossi", "Rossi Srl", "marco@rossi.it", ""));
        book.upsert(summary(4, "", "Atelier Lumière", "", ""));
        book
    }

    fn lead(name: &str, company: &str, email: &str, phone: &str) -> Lead {
        Lead {
            name: name.into(),
            company: company.into(),
            email: email.into(),
            phone: phone.into(),
        }
    }

    fn ids(hints: &[Hint]) -> Vec<u8> {
        hints
            .iter()
            .map(|h| h.id.as_str()[34..].parse().unwrap())
            .collect()
    }

    #[test]
    fn the_same_phone_written_differently_is_found() {
        let hints = likely_duplicates(&book(), &lead("", "", "", "06.12.34.56.78"), 5);
        assert_eq!(ids(&hints), vec![1]);
        assert_eq!(hints[0].reasons, vec![Reason::SamePhone]);
        let hints = likely_duplicates(&book(), &lead("", "", "", "+33 4 78 00 11 22"), 5);
        assert_eq!(ids(&hints), vec![2]);
        // Too few digits mean nothing yet.
        assert!(likely_duplicates(&book(), &lead("", "", "", "06 12"), 5).is_empty());
    }

    #[test]
    fn the_same_email_in_other_case_is_found() {
        let hints = likely_duplicates(&book(), &lead("", "", " Marco@Rossi.IT ", ""), 5);
        assert_eq!(ids(&hints), vec![3]);
        assert_eq!(hints[0].score, 100);
    }

    #[test]
    fn near_duplicate_names_are_found_despite_accents_typos_and_word_order() {
        for typed in ["Amelie Novak", "amélie novack", "Novak Amelie"] {
            let hints = likely_duplicates(&book(), &lead(typed, "", "", ""), 5);
            assert_eq!(ids(&hints), vec![1], "{typed}");
            assert!(hints[0].reasons.contains(&Reason::SimilarName));
        }
        // A similar company makes it likelier.
        let alone = likely_duplicates(&book(), &lead("Jean Dupond", "", "", ""), 5);
        let with_company = likely_duplicates(
            &book(),
            &lead("Jean Dupond", "Boulangerie Dupont", "", ""),
            5,
        );
        assert_eq!(ids(&alone), vec![2]);
        assert!(with_company[0].score > alone[0].score);
        assert!(with_company[0].reasons.contains(&Reason::SimilarCompany));
    }

    #[test]
    fn different_people_and_short_input_give_no_hint() {
        assert!(
            likely_duplicates(&book(), &lead("Sophie Martin", "Zenith Wines", "", ""), 5)
                .is_empty()
        );
        assert!(likely_duplicates(&book(), &lead("Am", "", "", ""), 5).is_empty());
        assert!(likely_duplicates(&book(), &lead("", "", "amelie@", ""), 5).is_empty());
    }

    #[test]
    fn a_company_alone_matches_a_company_without_contact() {
        let hints = likely_duplicates(&book(), &lead("", "Atelier Lumiere", "", ""), 5);
        assert_eq!(ids(&hints), vec![4]);
    }

    #[test]
    fn hints_are_ranked_best_first_and_limited() {
        let mut book = book();
        book.upsert(summary(5, "Amelie Novak", "Other", "", "+33 6 12 34 56 78"));
        let hints = likely_duplicates(&book, &lead("Amelie Novak", "", "", "0612345678"), 1);
        assert_eq!(hints.len(), 1);
        assert!(hints[0].reasons.contains(&Reason::SamePhone));
    }
}
