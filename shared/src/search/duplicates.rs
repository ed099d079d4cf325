//! Likely duplicates of a lead being typed, from the whole local book: the same email
//! (case-insensitive), the same phone written differently (compared on its last nine
//! digits, so "+33 6 12 34 56 78" equals "06 12 34 56 78"), or a similar name (Jaro-Winkler
//! on accent-folded names, word order ignored), made likelier by a similar company.

use crate::search::book::{fold_into, initials_mask, MatchKeys};
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
/// Below this similarity two companies are different employers (a name match then does not
/// count).
const OTHER_COMPANY: f64 = 0.75;
/// The email as compared: trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The phone rule's key ([`crate::model::phone::phone_key`]): the same number in national
/// and international form has the same key.
pub use crate::model::phone::phone_key;

fn folded(text: &str) -> String {
    let mut out = String::new();
    fold_into(text.trim(), &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sorted_words(text: &str) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    crate::order::sort(&mut words);
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

/// A customer or lead prepared for comparison: normalised emails and phones, folded name and
/// company.
struct Prepared {
    emails: Vec<String>,
    phones: Vec<String>,
    name: String,
    name_sorted: String,
    company: String,
    use_name: bool,
    use_company: bool,
    initials: u32,
}

impl Prepared {
    fn new<'a>(
        name: &str,
        company: &str,
        emails: impl IntoIterator<Item = &'a str>,
        phones: impl IntoIterator<Item = &'a str>,
    ) -> Prepared {
        let name = folded(name);
        let company = folded(company);
        Prepared {
            emails: emails
                .into_iter()
                .map(normalize_email)
                .filter(|email| email.contains('@'))
                .collect(),
            phones: phones
                .into_iter()
                .map(phone_key)
                .filter(|key| !key.is_empty())
                .collect(),
            name_sorted: sorted_words(&name),
            use_name: name.chars().count() >= 3,
            use_company: company.chars().count() >= 3,
            // Word initials: a similar name shares at least one (a cheap filter that keeps
            // the scan of a 50,000-customer book within a frame).
            initials: initials_mask(&name),
            name,
            company,
        }
    }

    fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.phones.is_empty() && !self.use_name && !self.use_company
    }

    /// How likely the customer behind `keys` is this one, if at all.
    fn score(&self, keys: &MatchKeys<'_>) -> Option<Hint> {
        let (summary, other_name, other_company, other_phones) =
            (keys.summary, keys.name, keys.company, keys.phone_digits);
        let mut reasons = Vec::new();
        let mut score: f64 = 0.0;
        if !self.emails.is_empty()
            && summary.emails.iter().any(|e| {
                self.emails
                    .iter()
                    .any(|email| e.trim().eq_ignore_ascii_case(email))
            })
        {
            reasons.push(Reason::SameEmail);
            score = score.max(100.0);
        }
        if !self.phones.is_empty()
            && other_phones.split('\n').any(|digits| {
                digits.len() >= 6
                    && self.phones.iter().any(|phone| {
                        digits[digits.len().saturating_sub(crate::model::phone::KEY_DIGITS)..]
                            == *phone
                    })
            })
        {
            reasons.push(Reason::SamePhone);
            score = score.max(95.0);
        }
        let company_sim = || {
            if self.use_company && !other_company.is_empty() {
                strsim::jaro_winkler(&self.company, other_company)
            } else {
                0.0
            }
        };
        if self.use_name {
            // A similar name shares the initials of its words (as many as both have, up to
            // two): a cheap filter that spares most of the book the string comparison.
            let needed = self
                .initials
                .count_ones()
                .min(keys.name_initials.count_ones())
                .min(2);
            let shares_initial =
                needed > 0 && (keys.name_initials & self.initials).count_ones() >= needed;
            let sim = if shares_initial {
                name_similarity(&self.name, &self.name_sorted, other_name)
            } else {
                0.0
            };
            // The same name at two clearly different companies is two people.
            let other_employer =
                self.use_company && !other_company.is_empty() && company_sim() < OTHER_COMPANY;
            if sim >= NAME_THRESHOLD && !other_employer {
                reasons.push(Reason::SimilarName);
                let mut fuzzy = 60.0 + (sim - NAME_THRESHOLD) / (1.0 - NAME_THRESHOLD) * 25.0;
                if company_sim() >= COMPANY_THRESHOLD {
                    reasons.push(Reason::SimilarCompany);
                    fuzzy += 10.0;
                }
                score = score.max(fuzzy.min(94.0));
            }
        } else if other_name.is_empty() {
            // Only a company, and this customer is a company without a contact name.
            let sim = company_sim();
            if sim >= COMPANY_THRESHOLD {
                reasons.push(Reason::SimilarCompany);
                score = score.max(50.0 + (sim - COMPANY_THRESHOLD) * 100.0);
            }
        }
        let score = score.round() as u8;
        (score >= MIN_SCORE && !reasons.is_empty()).then(|| Hint {
            id: summary.id.clone(),
            score,
            reasons,
        })
    }
}

/// Likely duplicates of `lead` in `book`, best first, at most `limit`.
pub fn likely_duplicates(book: &Book, lead: &Lead, limit: usize) -> Vec<Hint> {
    let prepared = Prepared::new(
        &lead.name,
        &lead.company,
        [lead.email.as_str()],
        [lead.phone.as_str()],
    );
    if prepared.is_empty() {
        return Vec::new();
    }
    let mut hints: Vec<Hint> = book
        .match_keys()
        .filter_map(|keys| prepared.score(&keys))
        .collect();
    crate::order::sort_by(&mut hints, |a, b| {
        b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id))
    });
    hints.truncate(limit);
    hints
}

/// Two customers of the book that are likely the same.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicatePair {
    /// One of them (the smaller id).
    pub a: CustomerId,
    /// The other.
    pub b: CustomerId,
    /// 0-100, as for [`Hint::score`].
    pub score: u8,
    /// Why, strongest first.
    pub reasons: Vec<Reason>,
}

/// Every likely duplicate pair among the customers not archived, best first.
///
/// Candidates come from blocks, not from comparing every pair (which would take minutes at
/// 50,000 customers): customers sharing a normalised email, a phone key, or the first three
/// letters of two words of their name (word order ignored), or — for customers without a
/// contact name — the first four letters of their company. A typo within the first three
/// letters of both name words is therefore not found; the same email or phone still is.
pub fn scan_duplicates(book: &Book) -> Vec<DuplicatePair> {
    use std::collections::{HashMap, HashSet};
    let keys: Vec<MatchKeys<'_>> = book
        .match_keys()
        .filter(|keys| !keys.summary.archived)
        .collect();
    let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
    for (idx, keys) in keys.iter().enumerate() {
        let idx = idx as u32;
        let mut add = |key: String| blocks.entry(key).or_default().push(idx);
        for email in &keys.summary.emails {
            let email = normalize_email(email);
            if email.contains('@') {
                add(format!("e:{email}"));
            }
        }
        for phone in &keys.summary.phones {
            let key = phone_key(phone);
            if !key.is_empty() {
                add(format!("p:{key}"));
            }
        }
        let mut prefixes: Vec<String> = keys
            .name
            .split_whitespace()
            .map(|word| word.chars().take(3).collect())
            .collect();
        crate::order::sort(&mut prefixes);
        prefixes.dedup();
        for (i, first) in prefixes.iter().enumerate() {
            for second in &prefixes[i + 1..] {
                add(format!("n:{first} {second}"));
            }
        }
        if prefixes.len() == 1 {
            add(format!("n:{}", prefixes[0]));
        }
        if keys.name.is_empty() && keys.company.chars().count() >= 3 {
            add(format!(
                "c:{}",
                keys.company.chars().take(4).collect::<String>()
            ));
        }
    }
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut prepared: HashMap<u32, Prepared> = HashMap::new();
    let mut pairs = Vec::new();
    for members in blocks.values().filter(|members| members.len() > 1) {
        for (i, &first) in members.iter().enumerate() {
            for &second in &members[i + 1..] {
                let pair = (first.min(second), first.max(second));
                if pair.0 == pair.1 || !seen.insert(pair) {
                    continue;
                }
                let this = prepared.entry(pair.0).or_insert_with(|| {
                    let summary = keys[pair.0 as usize].summary;
                    Prepared::new(
                        &summary.name,
                        &summary.company,
                        summary.emails.iter().map(String::as_str),
                        summary.phones.iter().map(String::as_str),
                    )
                });
                if let Some(hint) = this.score(&keys[pair.1 as usize]) {
                    let (a, b) = (keys[pair.0 as usize].summary.id.clone(), hint.id);
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    pairs.push(DuplicatePair {
                        a,
                        b,
                        score: hint.score,
                        reasons: hint.reasons,
                    });
                }
            }
        }
    }
    crate::order::sort_by(&mut pairs, |x, y| {
        y.score
            .cmp(&x.score)
            .then_with(|| x.a.cmp(&y.a))
            .then_with(|| x.b.cmp(&y.b))
    });
    pairs
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

    #[test]
    fn the_book_scan_finds_pairs_by_email_phone_and_similar_name() {
        let mut book = Book::default();
        book.upsert(summary(1, "Amélie Novak", "Zenith Wines", "", ""));
        book.upsert(summary(2, "Amelie Novack", "Zenith Wine", "", ""));
        book.upsert(summary(3, "Jean Dupont", "", "jean@dupont.example", ""));
        book.upsert(summary(4, "J. Dupont", "", "JEAN@dupont.example", ""));
        book.upsert(summary(5, "Bob Martin", "", "", "+33 6 12 34 56 78"));
        book.upsert(summary(6, "Robert Martin", "", "", "06 12 34 56 78"));
        book.upsert(summary(7, "Zoë Lambert", "Acme", "", ""));
        let mut archived = summary(8, "Zoe Lambert", "Acme", "", "");
        archived.archived = true;
        book.upsert(archived);
        let pairs: Vec<String> = scan_duplicates(&book)
            .iter()
            .map(|p| {
                let name = |id: &CustomerId| book.get(id).unwrap().name.clone();
                let reasons: Vec<&str> = p.reasons.iter().map(|r| r.label()).collect();
                format!(
                    "{} = {} {} ({})",
                    name(&p.a),
                    name(&p.b),
                    p.score,
                    reasons.join(", ")
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                "Jean Dupont = J. Dupont 100 (same email, similar name)",
                "Bob Martin = Robert Martin 95 (same phone)",
                "Amélie Novak = Amelie Novack 92 (similar name, similar company)",
            ]
        );
    }

    #[test]
    fn the_book_scan_of_a_seeded_book_finds_planted_copies() {
        let customers: Vec<crate::Customer> = (0..2_000)
            .map(|idx| crate::seed::customer(7, idx, crate::Timestamp(0)))
            .collect();
        let mut book = Book::from_summaries(customers.iter().map(CustomerSummary::of));
        // Plant a copy of customer 10 with its name misspelt at the end.
        let mut copy = CustomerSummary::of(&customers[10]);
        copy.id = "copy-of-ten".parse().unwrap();
        copy.name.push('e');
        book.upsert(copy);
        let pairs = scan_duplicates(&book);
        assert!(pairs
            .iter()
            .any(|p| p.a.as_str() == "copy-of-ten" || p.b.as_str() == "copy-of-ten"));
    }

    #[test]
    fn the_same_name_at_another_company_is_another_person() {
        let mut book = Book::default();
        book.upsert(summary(1, "Maria Garcia", "Zenith Wines", "", ""));
        book.upsert(summary(2, "Maria Garcia", "Delta Pharma", "", ""));
        book.upsert(summary(3, "Maria Garcia", "Zenith Wine Co", "", ""));
        book.upsert(summary(4, "Maria Garcia", "", "", ""));
        let pairs: Vec<(String, String)> = scan_duplicates(&book)
            .iter()
            .map(|p| {
                (
                    book.get(&p.a).unwrap().company.clone(),
                    book.get(&p.b).unwrap().company.clone(),
                )
            })
            .collect();
        // Similar companies pair up; a missing company does not rule anyone out.
        assert!(pairs.contains(&("Zenith Wines".into(), "Zenith Wine Co".into())));
        assert!(pairs.iter().any(|(a, b)| a.is_empty() || b.is_empty()));
        assert!(!pairs.contains(&("Zenith Wines".into(), "Delta Pharma".into())));
        assert!(!pairs
            .iter()
            .any(|(a, b)| a == "Delta Pharma" && b.starts_with("Zenith")
                || b == "Delta Pharma" && a.starts_with("Zenith")));
    }
}
