//! The list's first screen, stored beside the book's snapshot, so a start draws the list
//! before the whole book is read, decoded and built.
//!
//! A start reads the summaries' snapshot (2.1 MB at 10,000 customers), decodes it and builds
//! a [`Book`](super::book::Book) from it: ~170 ms of a start on this project's test machines,
//! most of it on the page's main thread. What a rep sees first is only the top of the list as
//! every start shows it (active customers, by name, no search, no filter) and the counts
//! above it. The writer stores exactly that ([`FirstScreen::of`], a few KB) in the same
//! transaction as every snapshot of the summaries (`client/common/src/store.rs`); a start
//! reads it before the snapshot, lays the log of summaries written since over it
//! ([`FirstScreen::with_newer`]) and draws the list's first rows from it. The whole book
//! replaces it once read; search, filters, other orders and scrolling past the first rows
//! wait for the whole book.
//!
//! **Invariant:** the rows of a first screen are exactly the first rows of the list as
//! [`Book::query`](super::book::Book::query) orders them for an empty [`ListQuery`](super::book::ListQuery)
//! over the same summaries: a prefix, never a guess. With the log laid over, the prefix
//! may be shorter (a customer of it renamed beyond its last row leaves a gap nothing here
//! can fill), and the counts are dropped (a changed customer's earlier stage is not known).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::book::{sort_name, Counts};
use crate::model::snapshot::fingerprint;
use crate::{CustomerId, CustomerSummary, LifecycleStage};

/// How many rows a first screen holds: a tablet's list shows ~16 rows (72 px each) and the
/// list draws 4 more above and below; the rest is room for the log's changes.
pub const FIRST_SCREEN_ROWS: usize = 48;

/// At most this many tags are kept with the counts (a book whose tags came from an import
/// can have thousands); with more, the tag filter waits for the whole book.
const MAX_TAGS: usize = 200;

/// A fingerprint of the source of everything a first screen depends on: its types (the
/// snapshot's) and the list's order (`book.rs`). A first screen another build wrote is not
/// read, and the list waits for the whole book.
pub const FIRST_SCREEN_FINGERPRINT: u64 = fingerprint(&[
    &crate::model::snapshot::SNAPSHOT_FINGERPRINT.to_le_bytes(),
    include_bytes!("book.rs"),
    include_bytes!("first_screen.rs"),
]);

/// The list's alphabetical order ([`Book::cmp_name`](super::book::Book)) of two summaries
/// with their [`sort_name`]s.
fn by_name(a: (&str, &CustomerSummary), b: (&str, &CustomerSummary)) -> std::cmp::Ordering {
    a.0.cmp(b.0).then_with(|| a.1.id.cmp(&b.1.id))
}

/// The top of the list as a start shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstScreen {
    /// The first active customers by name, in the list's order (at most
    /// [`FIRST_SCREEN_ROWS`]).
    pub rows: Vec<CustomerSummary>,
    /// `rows` holds every active customer (a small book).
    pub complete: bool,
    /// The counts the list shows beside them; `None` once the log changed anything.
    pub counts: Option<ListCounts>,
}

/// What the list shows of the whole book beside its rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListCounts {
    /// Active customers.
    pub active: usize,
    /// Archived customers.
    pub archived: usize,
    /// Active customers per stage, in funnel order ([`Book::stage_counts`](super::book::Book::stage_counts)).
    pub stages: [(LifecycleStage, usize); 6],
    /// Tags of active customers, most used first ([`Book::tags`](super::book::Book::tags));
    /// `None` with more than [`MAX_TAGS`].
    pub tags: Option<Vec<(String, usize)>>,
}

impl FirstScreen {
    /// The first screen of a book of `summaries` (one per customer, as a snapshot holds them).
    pub fn of(summaries: &[&CustomerSummary]) -> FirstScreen {
        let mut active: Vec<(String, &CustomerSummary)> = (summaries.iter())
            .filter(|summary| !summary.archived)
            .map(|summary| (sort_name(summary), *summary))
            .collect();
        let n_active = active.len();
        let complete = n_active <= FIRST_SCREEN_ROWS;
        let by_name = |a: &(String, &CustomerSummary), b: &(String, &CustomerSummary)| {
            by_name((&a.0, a.1), (&b.0, b.1))
        };
        if !complete {
            active.select_nth_unstable_by(FIRST_SCREEN_ROWS, by_name);
            active.truncate(FIRST_SCREEN_ROWS);
        }
        crate::order::sort_by(&mut active, by_name);
        let counts = Counts::of(summaries.iter().copied());
        FirstScreen {
            rows: active
                .into_iter()
                .map(|(_, summary)| summary.clone())
                .collect(),
            complete,
            counts: Some(ListCounts {
                active: n_active,
                archived: counts.n_archived(),
                stages: counts.stage_counts(),
                tags: (counts.n_tags() <= MAX_TAGS).then(|| counts.tags()),
            }),
        }
    }

    /// This first screen with `newer` (the log of summaries written after its snapshot, in
    /// order: a later one of a customer replaces an earlier one) laid over it: still an
    /// exact prefix of the list, as far as it can tell.
    ///
    /// Every customer of the list up to the old last row is known: those of the rows the log
    /// did not change, and those of the log that sort up to it. Anything else sorted after
    /// that row before the log and still does, or comes from the log and sorts after it.
    pub fn with_newer(self, newer: &[CustomerSummary]) -> FirstScreen {
        if newer.is_empty() {
            return self;
        }
        let mut latest: HashMap<&CustomerId, &CustomerSummary> = HashMap::new();
        for summary in newer {
            latest.insert(&summary.id, summary);
        }
        let bound = match self.complete {
            true => None,
            false => self.rows.last().map(|row| (sort_name(row), row.clone())),
        };
        let mut rows: Vec<(String, CustomerSummary)> = (self.rows.into_iter())
            .filter(|row| !latest.contains_key(&row.id))
            .map(|row| (sort_name(&row), row))
            .collect();
        for summary in latest.into_values().filter(|summary| !summary.archived) {
            let name = sort_name(summary);
            if (bound.as_ref())
                .is_none_or(|(last, row)| by_name((&name, summary), (last, row)).is_le())
            {
                rows.push((name, summary.clone()));
            }
        }
        crate::order::sort_by(&mut rows, |a, b| by_name((&a.0, &a.1), (&b.0, &b.1)));
        FirstScreen {
            rows: rows.into_iter().map(|(_, row)| row).collect(),
            complete: self.complete,
            counts: None,
        }
    }

    /// Its stored form: [`FIRST_SCREEN_FINGERPRINT`], then postcard.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_extend(self, FIRST_SCREEN_FINGERPRINT.to_le_bytes().to_vec())
            .expect("a first screen serializes: plain data")
    }

    /// Whether `bytes` (a stored first screen, or its first 8 bytes) were written by this
    /// build: when not, the engine writes a new one with its next snapshot.
    pub fn is_current(bytes: &[u8]) -> bool {
        bytes
            .first_chunk::<8>()
            .map(|fingerprint| u64::from_le_bytes(*fingerprint))
            == Some(FIRST_SCREEN_FINGERPRINT)
    }

    /// The first screen of [`FirstScreen::encode`]'s bytes; `None` when another build wrote
    /// them or they are damaged.
    pub fn decode(bytes: &[u8]) -> Option<FirstScreen> {
        if !FirstScreen::is_current(bytes) {
            return None;
        }
        match postcard::take_from_bytes::<FirstScreen>(&bytes[8..]) {
            Ok((first, [])) => Some(first),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::book::{Book, ListQuery};
    use crate::seed::SeedRng;
    use crate::Timestamp;

    fn below(rng: &mut SeedRng, n: usize) -> usize {
        rng.below(n as u64) as usize
    }

    /// A book whose names often share their first letters and folded forms, with archived
    /// customers and tags.
    fn summaries(n: usize, rng: &mut SeedRng) -> Vec<CustomerSummary> {
        (0..n).map(|idx| summary(idx, rng)).collect()
    }

    fn summary(idx: usize, rng: &mut SeedRng) -> CustomerSummary {
        const NAMES: [&str; 8] = ["Ana", "ana", "Anä", "Ben", "Zoë", "zoe", "", "Émile"];
        let mut summary = CustomerSummary::of(&crate::seed::customer(
            7,
            idx as u64,
            Timestamp(1_795_341_600_000),
        ));
        summary.name = format!("{} {}", NAMES[below(rng, 8)], below(rng, 30));
        if below(rng, 10) == 0 {
            summary.name.clear();
        }
        summary.archived = below(rng, 5) == 0;
        summary.stage = LifecycleStage::ALL[below(rng, 6)];
        summary.tags = (0..below(rng, 3))
            .map(|_| format!("t{}", below(rng, 4)))
            .collect();
        summary
    }

    /// What the list shows at start over `summaries`, with its counts.
    fn shown(summaries: &[CustomerSummary]) -> (Vec<CustomerSummary>, ListCounts) {
        let book = Book::from_summaries(summaries.to_vec());
        let rows = (book.query(&ListQuery::default()).into_iter())
            .map(|idx| book.entry(idx).cloned().expect("an entry of the book"))
            .collect();
        let (active, archived) = book.active_and_archived();
        let counts = ListCounts {
            active,
            archived,
            stages: book.stage_counts(),
            tags: Some(book.tags()),
        };
        (rows, counts)
    }

    #[test]
    fn holds_the_lists_first_rows_and_its_counts() {
        let mut rng = SeedRng::new(17);
        for n in [0, 1, FIRST_SCREEN_ROWS, FIRST_SCREEN_ROWS + 1, 500] {
            let book = summaries(n, &mut rng);
            let refs: Vec<&CustomerSummary> = book.iter().collect();
            let first = FirstScreen::of(&refs);
            let (rows, counts) = shown(&book);
            let expected = &rows[..rows.len().min(FIRST_SCREEN_ROWS)];
            assert_eq!(first.rows, expected, "{n} customers");
            assert_eq!(first.complete, rows.len() <= FIRST_SCREEN_ROWS);
            assert_eq!(first.counts, Some(counts));
            assert_eq!(FirstScreen::decode(&first.encode()), Some(first));
        }
    }

    #[test]
    fn with_the_log_laid_over_it_is_still_a_prefix_of_the_list() {
        let mut rng = SeedRng::new(5);
        let mut shortest = FIRST_SCREEN_ROWS;
        for round in 0..300 {
            let n = [10, 60, 400][round % 3];
            let mut book = summaries(n, &mut rng);
            let refs: Vec<&CustomerSummary> = book.iter().collect();
            let first = FirstScreen::of(&refs);
            // The log: some customers changed (renamed, archived, restored; some twice),
            // some new.
            let mut log = Vec::new();
            for _ in 0..below(&mut rng, 12) {
                let changed = match below(&mut rng, 4) {
                    0 => summary(n + log.len(), &mut rng),
                    _ => {
                        let mut changed = summary(0, &mut rng);
                        changed.id = book[below(&mut rng, n)].id.clone();
                        changed
                    }
                };
                log.push(changed);
            }
            for changed in &log {
                match book.iter_mut().find(|summary| summary.id == changed.id) {
                    Some(summary) => *summary = changed.clone(),
                    None => book.push(changed.clone()),
                }
            }
            let laid = first.with_newer(&log);
            let (rows, _) = shown(&book);
            assert!(laid.rows.len() <= rows.len());
            assert_eq!(laid.rows, rows[..laid.rows.len()], "round {round}");
            if laid.complete {
                assert_eq!(laid.rows, rows, "round {round}");
            }
            assert_eq!(laid.counts.is_none(), !log.is_empty());
            if !laid.complete {
                shortest = shortest.min(laid.rows.len());
            }
        }
        // Each change of the log takes at most one row off the first screen.
        assert!(shortest >= FIRST_SCREEN_ROWS - 12, "{shortest}");
    }

    #[test]
    fn another_builds_or_damaged_bytes_are_not_read() {
        let mut rng = SeedRng::new(3);
        let book = summaries(80, &mut rng);
        let refs: Vec<&CustomerSummary> = book.iter().collect();
        let bytes = FirstScreen::of(&refs).encode();
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert_eq!(FirstScreen::decode(&other), None);
        assert!(FirstScreen::is_current(&bytes[..8]) && !FirstScreen::is_current(&other));
        assert!(!FirstScreen::is_current(&bytes[..7]));
        assert_eq!(FirstScreen::decode(&bytes[..bytes.len() - 1]), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(FirstScreen::decode(&longer), None);
        // A snapshot of summaries is not a first screen.
        assert_eq!(
            FirstScreen::decode(&crate::model::snapshot::encode(&book)),
            None
        );
    }

    #[test]
    fn a_book_with_many_tags_keeps_its_counts_without_them() {
        let mut rng = SeedRng::new(9);
        let mut book = summaries(300, &mut rng);
        for (idx, summary) in book.iter_mut().enumerate() {
            summary.archived = false;
            summary.tags = vec![format!("tag {idx}")];
        }
        let refs: Vec<&CustomerSummary> = book.iter().collect();
        let counts = FirstScreen::of(&refs).counts.expect("counts");
        assert_eq!((counts.active, counts.tags), (300, None));
    }
}
