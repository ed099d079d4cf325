//! [`Book`]: the in-memory set of customer summaries behind the list, search and counts.
//!
//! A rep's whole book (tens of thousands of customers) stays in memory as summaries. Each
//! entry keeps a pre-folded search text (lowercase, accents removed) and the digits of its
//! phone numbers, and the book keeps its entries in both sort orders, so a keystroke costs
//! no sorting. Beside the entries, a dense array holds each entry's stage, archive flag and
//! [`Signature`] (which letter pairs its search text holds, exactly for letters and digits):
//! a keystroke walks that array and runs substring tests only on the entries whose signature
//! holds every pair of the typed words; a word of one or two letters needs no substring test
//! at all. While the rep types forward, each keystroke only re-checks the previous results,
//! and only for the words it has not checked them for ([`Book::query_from`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use memchr::memmem::Finder;

use crate::{model::phone, CustomerId, CustomerSummary, LifecycleStage};

/// What the list shows: a search text, filters and an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Words typed in the search box; every word must match name, company, job title, email,
    /// phone, city or a tag.
    pub text: String,
    /// Only customers in this stage.
    pub stage: Option<LifecycleStage>,
    /// Only customers with this tag.
    pub tag: Option<String>,
    /// Show archived customers instead of active ones.
    pub archived: bool,
    /// The order of the results.
    pub sort: SortOrder,
    /// Only customers whose custom field meets this.
    pub custom: Option<crate::model::custom_fields::CustomCondition>,
    /// Order by this custom field instead of `sort` (customers without a value last).
    pub custom_sort: Option<CustomSort>,
    /// Only customers this member owns (a team member's email; case is ignored): "My
    /// customers".
    pub owner: Option<String>,
}

/// The list in the order of one custom field's values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomSort {
    /// The field's id.
    pub field: String,
    /// Its kind (numbers and amounts compare as numbers).
    pub kind: crate::model::custom_fields::FieldKind,
    /// Largest, latest or last first.
    pub descending: bool,
}

/// The order of the customer list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Alphabetical by display name.
    #[default]
    Name,
    /// Most recently changed first.
    RecentlyUpdated,
}

impl SortOrder {
    /// The stable identifier used in forms and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Name => "name",
            SortOrder::RecentlyUpdated => "updated",
        }
    }

    /// Parses [`SortOrder::as_str`] back.
    pub fn parse(text: &str) -> Option<SortOrder> {
        match text {
            "name" => Some(SortOrder::Name),
            "updated" => Some(SortOrder::RecentlyUpdated),
            _ => None,
        }
    }
}

/// Position of an entry in a [`Book`]; stable for the book's lifetime (entries are never
/// removed: archiving is a flag).
pub type EntryIdx = u32;

struct BookEntry {
    summary: CustomerSummary,
    /// Differs from the entry's previous version's (see [`Book::entry_version`]).
    version: u64,
    /// Folded display name, the alphabetical sort key.
    sort_name: String,
    /// What duplicate hints compare: made on first use, not when the book is built, so a
    /// start shows the list sooner.
    keys: OnceLock<SearchKeys>,
}

/// An entry's folded texts for duplicate hints.
struct SearchKeys {
    /// Digits of every phone number, separated by `\n`.
    phone_digits: String,
    /// Folded contact name and company.
    folded_name: String,
    folded_company: String,
    /// Bit per letter a-z that a word of the folded name starts with.
    name_initials: u32,
}

impl SearchKeys {
    fn of(summary: &CustomerSummary) -> SearchKeys {
        let mut folded_name = String::new();
        fold_into(summary.name.trim(), &mut folded_name);
        let mut folded_company = String::new();
        fold_into(summary.company.trim(), &mut folded_company);
        let name_initials = initials_mask(&folded_name);
        SearchKeys {
            phone_digits: phone_digits_of(summary),
            folded_name,
            folded_company,
            name_initials,
        }
    }
}

/// Digits of every phone number of `summary`, each followed by `\n`.
fn phone_digits_of(summary: &CustomerSummary) -> String {
    let mut phone_digits = String::new();
    for phone in &summary.phones {
        phone_digits.extend(phone.chars().filter(char::is_ascii_digit));
        phone_digits.push('\n');
    }
    phone_digits
}

/// The fields a search word may match, in the order the search text holds them.
fn searchable_fields(summary: &CustomerSummary) -> impl Iterator<Item = &String> {
    [
        &summary.name,
        &summary.company,
        &summary.job_title,
        &summary.city,
    ]
    .into_iter()
    .chain(&summary.emails)
    .chain(&summary.phones)
    .chain(&summary.tags)
}

/// Which custom field values search reads (see [`Book::set_custom_search`]): the book's
/// definitions, which summaries do not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomSearch {
    /// Fields whose values are searched as stored (text, long text, link, email, phone).
    pub text_fields: Vec<String>,
    /// Choice fields (one or several): each choice's label by choice id, by field id.
    pub choice_labels: Vec<(String, HashMap<String, String>)>,
}

impl CustomSearch {
    /// What search reads of the book's field definitions: text kinds as stored, choices by
    /// their labels; archived fields too (their values are still the customer's).
    pub fn of(
        fields: &std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition>,
    ) -> CustomSearch {
        let mut search = CustomSearch::default();
        for (id, field) in fields {
            if field.kind.is_searched() {
                search.text_fields.push(id.clone());
            } else if field.kind.has_choices() {
                let labels = (field.choices.iter())
                    .map(|(choice, def)| (choice.clone(), def.label.clone()))
                    .collect();
                search.choice_labels.push((id.clone(), labels));
            }
        }
        search
    }

    /// The texts of `summary` it searches.
    fn texts<'a>(&'a self, summary: &'a CustomerSummary) -> impl Iterator<Item = &'a String> {
        let text = (self.text_fields.iter()).filter_map(|id| summary.custom.get(id));
        let choices = self.choice_labels.iter().flat_map(move |(id, labels)| {
            let one = summary.custom.get(id).into_iter();
            let several = summary.custom_sets.get(id).into_iter().flatten();
            one.chain(several).filter_map(|choice| labels.get(choice))
        });
        text.chain(choices)
    }
}

/// What search compares of one entry: the folded text of every searchable field (and of
/// the custom values [`CustomSearch`] names), each followed by `\n`, then the digits of its
/// phone numbers (from `digits_at`).
struct SearchText {
    text: Box<[u8]>,
    digits_at: u32,
}

impl SearchText {
    fn of(summary: &CustomerSummary, custom: &CustomSearch) -> SearchText {
        let mut text = String::new();
        for field in searchable_fields(summary).chain(custom.texts(summary)) {
            fold_into(field, &mut text);
            text.push('\n');
        }
        let digits_at = text.len() as u32;
        text.push_str(&phone_digits_of(summary));
        SearchText {
            text: text.into_bytes().into_boxed_slice(),
            digits_at,
        }
    }

    fn fields(&self) -> &[u8] {
        &self.text[..self.digits_at as usize]
    }

    fn phone_digits(&self) -> &[u8] {
        &self.text[self.digits_at as usize..]
    }
}

/// The alphabetical order's key of `summary`: its folded display name (ties are broken by
/// id, [`Book::cmp_name`]).
pub(crate) fn sort_name(summary: &CustomerSummary) -> String {
    let mut sort_name = String::new();
    fold_into(summary.display_name(), &mut sort_name);
    sort_name
}

impl BookEntry {
    fn new(summary: CustomerSummary) -> BookEntry {
        BookEntry {
            sort_name: sort_name(&summary),
            summary,
            version: next_generation(),
            keys: OnceLock::new(),
        }
    }

    fn keys(&self) -> &SearchKeys {
        self.keys.get_or_init(|| SearchKeys::of(&self.summary))
    }
}

/// Which letter pairs (bigrams of folded bytes) a text holds. An entry can match a search
/// word only if its signature holds every bit of the word's ([`Needs`]): a keystroke rules
/// out most of a large book by testing a few words of each entry's signature instead of
/// searching its text.
/// - Pairs of letters and digits have a bit each (36 × 36), so a two-letter word is
///   answered by the signature alone, and a longer one is searched only in entries that
///   hold each of its pairs exactly ("ame" is not searched for in every "…@example.com").
/// - Pairs with any other byte share 128 bits by hash.
/// - Which bytes the text holds: exactly for letters, digits and common punctuation (one
///   bit each), so a one-letter word is answered without reading the entry.
/// - Apart, the pairs of the digits of its phone numbers (100 bits), for the digit forms of
///   a phone-like word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Signature([u64; SIGNATURE_WORDS]);

/// Letters a-z and digits 0-9: the bytes whose pairs have a bit each.
const ALNUM: usize = 36;
/// Where [`Signature`]'s parts start, in 64-bit words.
const HASHED_AT: usize = (ALNUM * ALNUM).div_ceil(64);
const BYTES_AT: usize = HASHED_AT + 2;
const DIGITS_AT: usize = BYTES_AT + 1;
const SIGNATURE_WORDS: usize = DIGITS_AT + 2;

/// The bit of [`Signature`]'s bytes for a byte; [`INEXACT_BYTE`] is shared by all others.
fn byte_bit(byte: u8) -> u32 {
    u32::from(BYTE_BITS[usize::from(byte)])
}

/// [`byte_bit_of`] for every byte, looked up once per byte of every search text.
const BYTE_BITS: [u8; 256] = {
    let mut bits = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        bits[byte] = byte_bit_of(byte as u8) as u8;
        byte += 1;
    }
    bits
};

const fn byte_bit_of(byte: u8) -> u32 {
    match byte {
        b'a'..=b'z' => (byte - b'a') as u32,
        b'0'..=b'9' => 26 + (byte - b'0') as u32,
        b'+' => 36,
        b'@' => 37,
        b'.' => 38,
        b'-' => 39,
        b'_' => 40,
        b'#' => 41,
        b'\'' => 42,
        b'&' => 43,
        b'/' => 44,
        b'(' => 45,
        b')' => 46,
        b',' => 47,
        _ => INEXACT_BYTE,
    }
}
const INEXACT_BYTE: u32 = 63;

/// A letter's or digit's place among the [`ALNUM`] bytes whose pairs are exact.
fn alnum(byte: u8) -> Option<usize> {
    let bit = byte_bit(byte) as usize;
    (bit < ALNUM).then_some(bit)
}

/// The bit, counted from the signature's first, of a pair of a search text's bytes.
fn pair_bit(first: u8, second: u8) -> usize {
    match (alnum(first), alnum(second)) {
        (Some(first), Some(second)) => first * ALNUM + second,
        _ => {
            let hashed = (u32::from(first) << 8 | u32::from(second)).wrapping_mul(0x9E37_79B1);
            HASHED_AT * 64 + (hashed >> 25) as usize
        }
    }
}

/// The bit of a pair of phone digits.
fn digit_pair_bit(first: u8, second: u8) -> Option<usize> {
    (first.is_ascii_digit() && second.is_ascii_digit())
        .then(|| DIGITS_AT * 64 + usize::from(first - b'0') * 10 + usize::from(second - b'0'))
}

/// The bits of a [`Signature`] that folded text sets: its bytes and its pairs. The same for
/// an entry's fields and a search word, so a word occurs only where its bits are all set.
fn text_bits(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let bytes = text
        .iter()
        .map(|&byte| BYTES_AT * 64 + byte_bit(byte) as usize);
    let pairs = text.windows(2).map(|pair| pair_bit(pair[0], pair[1]));
    bytes.chain(pairs)
}

/// The bits of a [`Signature`] that phone digits set: their pairs.
fn digit_bits(digits: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (digits.windows(2)).filter_map(|pair| digit_pair_bit(pair[0], pair[1]))
}

impl Signature {
    fn set(&mut self, bit: usize) {
        self.0[bit / 64] |= 1 << (bit % 64);
    }

    /// The signature of a search text: its fields' bytes and pairs, its phone digits' pairs.
    fn of(text: &SearchText) -> Signature {
        let mut signature = Signature([0; SIGNATURE_WORDS]);
        for bit in text_bits(text.fields()).chain(digit_bits(text.phone_digits())) {
            signature.set(bit);
        }
        signature
    }

    fn holds(&self, needs: &Needs) -> bool {
        (needs.0.iter()).all(|&(word, bits)| self.0[usize::from(word)] & bits == bits)
    }
}

/// The bits of a [`Signature`] that a word needs, by 64-bit word of the signature (only
/// those it needs any of: a word tests a few, not all of them).
#[derive(Debug, Default)]
struct Needs(Vec<(u8, u64)>);

impl Needs {
    fn need(&mut self, bit: usize) {
        let (word, mask) = ((bit / 64) as u8, 1 << (bit % 64));
        match self.0.iter_mut().find(|(at, _)| *at == word) {
            Some((_, bits)) => *bits |= mask,
            None => self.0.push((word, mask)),
        }
    }

    fn of(bits: impl Iterator<Item = usize>) -> Needs {
        let mut needs = Needs::default();
        for bit in bits {
            needs.need(bit);
        }
        needs
    }
}

/// Whether a word's [`Needs`] decide it: one byte with its own bit, or two letters or
/// digits with their pair's bit.
fn decided_by_signature(word: &[u8]) -> bool {
    match word {
        [byte] => byte_bit(*byte) != INEXACT_BYTE,
        [first, second] => alnum(*first).is_some() && alnum(*second).is_some(),
        _ => false,
    }
}

/// What a keystroke checks, for every entry, in one array in entry order: a search walks it
/// front to back, reading each entry's text right after the previous one's (they are made
/// in that order), instead of jumping through the book in the list's order.
struct Dense {
    stage: LifecycleStage,
    archived: bool,
    /// Made by [`Book::prepare_search`] in slices after the book is shown, or by the first
    /// search that needs it.
    search: OnceLock<Prepared>,
}

/// An entry's folded search text and its [`Signature`].
struct Prepared {
    signature: Signature,
    text: SearchText,
}

impl Dense {
    fn of(summary: &CustomerSummary) -> Dense {
        Dense {
            stage: summary.stage,
            archived: summary.archived,
            search: OnceLock::new(),
        }
    }

    fn search(&self, summary: &CustomerSummary, custom: &CustomSearch) -> &Prepared {
        self.search.get_or_init(|| {
            let text = SearchText::of(summary, custom);
            Prepared {
                signature: Signature::of(&text),
                text,
            }
        })
    }
}

/// A query's result, remembered so the next keystroke can refine it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryResult {
    /// The book generation the result was computed on.
    pub generation: u64,
    /// The query.
    pub query: ListQuery,
    /// The matching entries, in the query's order.
    pub entries: Vec<EntryIdx>,
}

/// Source of book generations: every change of any book gets a fresh number, so a result
/// is never mistaken for one computed on other contents.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Below this many customers, [`Book::upsert_all`] inserts each in place.
const UPSERT_ONE_BY_ONE_BELOW: usize = 32;

/// Every customer summary of a rep's book, with search and counts.
#[derive(Default)]
pub struct Book {
    /// Changes on every upsert (see [`QueryResult::generation`]).
    generation: u64,
    entries: Vec<BookEntry>,
    /// [`Dense`] of each entry, at the entry's index.
    dense: Vec<Dense>,
    /// Each customer's entry. (The standard SipHash: foldhash made a start's decode and build
    /// ~7% fewer instructions natively, ~1.4 ms in the browser, but cost 1.2 KB of the
    /// screens' first wasm, whose budget has none to spare.)
    positions: HashMap<CustomerId, EntryIdx>,
    /// Entry indices in alphabetical order.
    by_name: Vec<EntryIdx>,
    /// Entry indices, most recently updated first: made by the first list in that order (a
    /// start does not wait for a sort it may never need), then kept up to date.
    by_updated: OnceLock<Vec<EntryIdx>>,
    /// Kept up to date by every upsert, so counting never scans the book.
    counts: Counts,
    /// Which custom field values search reads.
    custom_search: CustomSearch,
}

#[derive(Default)]
pub(crate) struct Counts {
    /// Active customers per stage, in [`LifecycleStage::ALL`] order.
    n_per_stage: [usize; 6],
    /// Archived customers.
    n_archived: usize,
    /// Active customers per tag.
    n_per_tag: HashMap<String, usize>,
}

impl Counts {
    /// The counts of `summaries` (one per customer).
    pub(crate) fn of<'a>(summaries: impl IntoIterator<Item = &'a CustomerSummary>) -> Counts {
        let mut counts = Counts::default();
        for summary in summaries {
            counts.count(summary, true);
        }
        counts
    }

    /// Active customers per stage, in funnel order ([`Book::stage_counts`]).
    pub(crate) fn stage_counts(&self) -> [(LifecycleStage, usize); 6] {
        let mut stage_idx = 0;
        LifecycleStage::ALL.map(|stage| {
            let n = self.n_per_stage[stage_idx];
            stage_idx += 1;
            (stage, n)
        })
    }

    /// Archived customers.
    pub(crate) fn n_archived(&self) -> usize {
        self.n_archived
    }

    /// Every tag of active customers with its number of customers, most used first
    /// ([`Book::tags`]).
    pub(crate) fn tags(&self) -> Vec<(String, usize)> {
        let mut tags: Vec<(String, usize)> = (self.n_per_tag.iter())
            .map(|(tag, n)| (tag.clone(), *n))
            .collect();
        crate::order::sort_by(&mut tags, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        tags
    }

    /// How many different tags active customers hold.
    pub(crate) fn n_tags(&self) -> usize {
        self.n_per_tag.len()
    }

    /// Adds (`add`) or removes a summary's contribution.
    fn count(&mut self, summary: &CustomerSummary, add: bool) {
        let apply = |n: &mut usize| {
            if add {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
            }
        };
        if summary.archived {
            apply(&mut self.n_archived);
            return;
        }
        if let Some(stage_idx) = LifecycleStage::ALL
            .iter()
            .position(|stage| *stage == summary.stage)
        {
            apply(&mut self.n_per_stage[stage_idx]);
        }
        for tag in &summary.tags {
            // Found by reference: a tag's text is copied only for the first customer with it.
            let n = match self.n_per_tag.get_mut(tag) {
                Some(n) => n,
                None => self.n_per_tag.entry(tag.clone()).or_default(),
            };
            apply(n);
            if *n == 0 {
                self.n_per_tag.remove(tag);
            }
        }
    }
}

impl std::fmt::Debug for Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Book")
            .field("n_entries", &self.entries.len())
            .finish()
    }
}

impl Book {
    /// A book holding `summaries` (later duplicates of an id replace earlier ones).
    pub fn from_summaries(summaries: impl IntoIterator<Item = CustomerSummary>) -> Book {
        let summaries = summaries.into_iter();
        let n = summaries.size_hint().0;
        let mut book = Book {
            generation: next_generation(),
            entries: Vec::with_capacity(n),
            dense: Vec::with_capacity(n),
            positions: HashMap::with_capacity(n),
            ..Book::default()
        };
        for summary in summaries {
            book.put(summary);
        }
        book.counts = Counts::of(book.entries.iter().map(|entry| &entry.summary));
        book.by_name = (0..book.entries.len() as EntryIdx).collect();
        sort_entries(&mut book.by_name, &book.entries, &BY_NAME);
        book
    }

    /// Entry indices, most recently updated first (sorted on first use).
    fn by_updated(&self) -> &[EntryIdx] {
        self.by_updated.get_or_init(|| {
            let mut by_updated: Vec<EntryIdx> = (0..self.entries.len() as EntryIdx).collect();
            sort_entries(&mut by_updated, &self.entries, &BY_UPDATED);
            by_updated
        })
    }

    /// Stores `summary` in its entry (a new one for a new customer), leaving the orders and
    /// counts to the caller; returns the summary it replaced.
    fn put(&mut self, summary: CustomerSummary) -> Option<CustomerSummary> {
        let dense = Dense::of(&summary);
        match self.positions.get(&summary.id) {
            Some(&entry_idx) => {
                self.dense[entry_idx as usize] = dense;
                let replaced = std::mem::replace(
                    &mut self.entries[entry_idx as usize],
                    BookEntry::new(summary),
                );
                Some(replaced.summary)
            }
            None => {
                let entry_idx = self.entries.len() as EntryIdx;
                self.positions.insert(summary.id.clone(), entry_idx);
                self.entries.push(BookEntry::new(summary));
                self.dense.push(dense);
                None
            }
        }
    }

    fn cmp_name(entries: &[BookEntry], a: EntryIdx, b: EntryIdx) -> std::cmp::Ordering {
        let (ea, eb) = (&entries[a as usize], &entries[b as usize]);
        ea.sort_name
            .cmp(&eb.sort_name)
            .then_with(|| ea.summary.id.cmp(&eb.summary.id))
    }

    fn cmp_updated(entries: &[BookEntry], a: EntryIdx, b: EntryIdx) -> std::cmp::Ordering {
        let (ea, eb) = (&entries[a as usize], &entries[b as usize]);
        eb.summary
            .updated_at
            .cmp(&ea.summary.updated_at)
            .then_with(|| ea.summary.id.cmp(&eb.summary.id))
    }

    /// Removes customers (erased): the book is made again without them (rare, so simple).
    pub fn remove_all(&mut self, ids: &[CustomerId]) {
        if !ids.iter().any(|id| self.positions.contains_key(id)) {
            return;
        }
        let kept: Vec<CustomerSummary> = (self.summaries())
            .filter(|summary| !ids.contains(&summary.id))
            .cloned()
            .collect();
        let custom_search = std::mem::take(&mut self.custom_search);
        *self = Book::from_summaries(kept);
        self.custom_search = custom_search;
    }

    /// Which custom field values search reads.
    pub fn custom_search(&self) -> &CustomSearch {
        &self.custom_search
    }

    /// Sets which custom field values search reads (when the book's fields change): every
    /// entry's search text is made again on its next search.
    pub fn set_custom_search(&mut self, custom: CustomSearch) {
        if custom == self.custom_search {
            return;
        }
        self.custom_search = custom;
        for dense in &mut self.dense {
            dense.search = OnceLock::new();
        }
        self.generation = next_generation();
    }

    /// Adds or replaces many customers: one sort of each order instead of one insertion per
    /// customer when they are many (a download's page).
    pub fn upsert_all(&mut self, summaries: Vec<CustomerSummary>) {
        if summaries.len() < UPSERT_ONE_BY_ONE_BELOW {
            for summary in summaries {
                self.upsert(summary);
            }
            return;
        }
        self.generation = next_generation();
        let mut changed: Vec<EntryIdx> = Vec::with_capacity(summaries.len());
        let mut any_replaced = false;
        for summary in summaries {
            self.counts.count(&summary, true);
            let id = summary.id.clone();
            if let Some(replaced) = self.put(summary) {
                self.counts.count(&replaced, false);
                any_replaced = true;
            }
            changed.push(self.positions[&id]);
        }
        crate::order::sort(&mut changed);
        changed.dedup();
        if any_replaced {
            let mut is_changed = vec![false; self.entries.len()];
            for &idx in &changed {
                is_changed[idx as usize] = true;
            }
            self.by_name.retain(|&idx| !is_changed[idx as usize]);
            if let Some(by_updated) = self.by_updated.get_mut() {
                by_updated.retain(|&idx| !is_changed[idx as usize]);
            }
        }
        // Sorting only the changed entries and merging them in costs a comparison per entry
        // of the book, where sorting the whole book again cost ~14 per entry (10,000).
        let entries = &self.entries;
        let mut by_name = changed.clone();
        sort_entries(&mut by_name, entries, &BY_NAME);
        self.by_name = merge_sorted(&self.by_name, &by_name, |a, b| {
            Self::cmp_name(entries, a, b)
        });
        if let Some(kept) = self.by_updated.get_mut() {
            let mut by_updated = changed;
            sort_entries(&mut by_updated, entries, &BY_UPDATED);
            *kept = merge_sorted(kept, &by_updated, |a, b| Self::cmp_updated(entries, a, b));
        }
    }

    /// Adds a customer or replaces its summary.
    pub fn upsert(&mut self, summary: CustomerSummary) {
        self.generation = next_generation();
        self.counts.count(&summary, true);
        let id = summary.id.clone();
        if let Some(replaced) = self.put(summary) {
            self.counts.count(&replaced, false);
        }
        let entry_idx = self.positions[&id];
        self.by_name.retain(|&idx| idx != entry_idx);
        // One customer: its search text is made now, so it is found at once.
        self.dense[entry_idx as usize].search(
            &self.entries[entry_idx as usize].summary,
            &self.custom_search,
        );
        let entries = &self.entries;
        let at = self
            .by_name
            .partition_point(|&idx| Self::cmp_name(entries, idx, entry_idx).is_lt());
        self.by_name.insert(at, entry_idx);
        if let Some(by_updated) = self.by_updated.get_mut() {
            by_updated.retain(|&idx| idx != entry_idx);
            let at = by_updated
                .partition_point(|&idx| Self::cmp_updated(entries, idx, entry_idx).is_lt());
            by_updated.insert(at, entry_idx);
        }
    }

    /// Every customer with what duplicate hints compare, for [`crate::search::duplicates`].
    pub fn match_keys(&self) -> impl Iterator<Item = MatchKeys<'_>> {
        self.entries.iter().map(|entry| {
            let keys = entry.keys();
            MatchKeys {
                summary: &entry.summary,
                name: &keys.folded_name,
                company: &keys.folded_company,
                phone_digits: &keys.phone_digits,
                name_initials: keys.name_initials,
            }
        })
    }

    /// Prepares what search compares for up to `n` entries from `from` (see [`Dense`]); returns where the next call starts (`len()` when all are done).
    /// The page calls it in slices after the list is shown, so the first keystroke finds
    /// them ready.
    pub fn prepare_search(&mut self, from: usize, n: usize) -> usize {
        let end = from.saturating_add(n).min(self.entries.len());
        let from = from.min(end);
        for (entry, dense) in self.entries[from..end]
            .iter()
            .zip(&mut self.dense[from..end])
        {
            dense.search(&entry.summary, &self.custom_search);
        }
        end
    }

    /// Number of customers, archived ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the book holds no customer at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the book holds exactly `summaries` (in any order): a second read of the same
    /// storage need not rebuild it.
    pub fn holds_exactly(&self, summaries: &[CustomerSummary]) -> bool {
        summaries.len() == self.len()
            && summaries
                .iter()
                .all(|summary| self.get(&summary.id) == Some(summary))
    }

    /// The summary of a customer.
    pub fn get(&self, id: &CustomerId) -> Option<&CustomerSummary> {
        self.positions
            .get(id)
            .map(|&entry_idx| &self.entries[entry_idx as usize].summary)
    }

    /// Every summary, in no particular order.
    pub fn summaries(&self) -> impl Iterator<Item = &CustomerSummary> {
        self.entries.iter().map(|entry| &entry.summary)
    }

    /// The summary at an index returned by [`Book::query`].
    pub fn entry(&self, entry_idx: EntryIdx) -> Option<&CustomerSummary> {
        self.entries
            .get(entry_idx as usize)
            .map(|entry| &entry.summary)
    }

    /// A number that changes whenever the entry's summary is replaced: a row on screen keyed
    /// by it is drawn again when its customer changed, and kept otherwise.
    pub fn entry_version(&self, entry_idx: EntryIdx) -> Option<u64> {
        self.entries
            .get(entry_idx as usize)
            .map(|entry| entry.version)
    }

    /// The entries matching `query`, in its order.
    pub fn query(&self, query: &ListQuery) -> Vec<EntryIdx> {
        self.query_from(query, None).entries
    }

    /// The entries matching `query`. When `previous` was computed on this same book with the
    /// same filters and `query` only narrows its text (every earlier word is contained in a
    /// new one, as when typing forward), only the previous results are re-checked, and only
    /// against the words they were not already checked for: typing a space or a second word
    /// does not search the first one again.
    pub fn query_from(&self, query: &ListQuery, previous: Option<&QueryResult>) -> QueryResult {
        let mut folded = String::new();
        fold_into(&query.text, &mut folded);
        let words: Vec<&str> = folded.split_whitespace().collect();
        let refined = previous.filter(|previous| {
            previous.generation == self.generation && narrows(&previous.query, query)
        });
        // Words every previous result already matches (the same word was in that query).
        let mut previous_words = String::new();
        if let Some(previous) = refined {
            fold_into(&previous.query.text, &mut previous_words);
        }
        let terms: Vec<SearchTerm> = (words.iter())
            .filter(|word| !previous_words.split_whitespace().any(|old| old == **word))
            .map(|word| SearchTerm::new(word))
            .collect();
        let text_matches = |entry_idx: usize| {
            // No words: no search text needed (nor made: a download's new entries are
            // prepared in slices, not by the list's query on every page).
            terms.is_empty() || {
                let dense = &self.dense[entry_idx];
                let search = dense.search(&self.entries[entry_idx].summary, &self.custom_search);
                terms.iter().all(|term| term.matches(search))
            }
        };
        // Each entry is checked in entry order (see [`Dense`]) into a bitmap; the results are
        // then read off in the query's order.
        let keep = |entry_idx: usize| {
            let dense = &self.dense[entry_idx];
            if dense.archived != query.archived
                || query.stage.is_some_and(|stage| dense.stage != stage)
            {
                return false;
            }
            let summary = &self.entries[entry_idx].summary;
            text_matches(entry_idx)
                && (query.custom.as_ref()).is_none_or(|condition| {
                    condition.matches(&summary.custom, &summary.custom_sets)
                })
                && query.tag.as_ref().is_none_or(|tag| {
                    self.entries[entry_idx]
                        .summary
                        .tags
                        .iter()
                        .any(|t| t == tag)
                })
                && (query.owner.as_ref())
                    .is_none_or(|owner| summary.owner.eq_ignore_ascii_case(owner.trim()))
        };
        let mut matched = vec![0_u64; self.entries.len().div_ceil(64)];
        let is_set = |bits: &[u64], idx: EntryIdx| bits[idx as usize / 64] & (1 << (idx % 64)) != 0;
        let entries = match refined {
            // The same filters, and no word they were not checked for.
            Some(previous) if terms.is_empty() => previous.entries.clone(),
            // The filters are the same (see [`narrows`]): only the new words are checked.
            Some(previous) => {
                let mut candidates = vec![0_u64; matched.len()];
                for &idx in &previous.entries {
                    candidates[idx as usize / 64] |= 1 << (idx % 64);
                }
                for (word_idx, &word) in candidates.iter().enumerate() {
                    let mut rest = word;
                    while rest != 0 {
                        let bit = rest.trailing_zeros() as usize;
                        rest &= rest - 1;
                        if text_matches(word_idx * 64 + bit) {
                            matched[word_idx] |= 1 << bit;
                        }
                    }
                }
                previous
                    .entries
                    .iter()
                    .copied()
                    .filter(|&idx| is_set(&matched, idx))
                    .collect()
            }
            None => {
                for entry_idx in 0..self.entries.len() {
                    if keep(entry_idx) {
                        matched[entry_idx / 64] |= 1 << (entry_idx % 64);
                    }
                }
                let order = match query.sort {
                    SortOrder::Name => &self.by_name,
                    SortOrder::RecentlyUpdated => self.by_updated(),
                };
                let mut found: Vec<EntryIdx> = order
                    .iter()
                    .copied()
                    .filter(|&idx| is_set(&matched, idx))
                    .collect();
                if let Some(by) = &query.custom_sort {
                    // Stable: ties keep the order above.
                    let value =
                        |idx: EntryIdx| self.entries[idx as usize].summary.custom.get(&by.field);
                    crate::order::sort_by(&mut found, |&a, &b| match (value(a), value(b)) {
                        (Some(a), Some(b)) => {
                            let order = crate::model::custom_fields::compare(by.kind, a, b)
                                .unwrap_or_else(|| a.cmp(b));
                            if by.descending {
                                order.reverse()
                            } else {
                                order
                            }
                        }
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    });
                }
                found
            }
        };
        QueryResult {
            generation: self.generation,
            query: query.clone(),
            entries,
        }
    }

    /// Number of active (not archived) customers per stage, in funnel order.
    pub fn stage_counts(&self) -> [(LifecycleStage, usize); 6] {
        self.counts.stage_counts()
    }

    /// Number of active and of archived customers.
    pub fn active_and_archived(&self) -> (usize, usize) {
        (
            self.entries.len() - self.counts.n_archived,
            self.counts.n_archived,
        )
    }

    /// Every tag in use on active customers with its number of customers, most used first.
    pub fn tags(&self) -> Vec<(String, usize)> {
        self.counts.tags()
    }
}

/// One of the book's orders: the comparison (a total order: ties are broken by id) and a
/// key that agrees with it (`key(a) < key(b)` only when `a` sorts before `b`).
struct EntryOrder {
    cmp: fn(&[BookEntry], EntryIdx, EntryIdx) -> std::cmp::Ordering,
    key: fn(&BookEntry) -> u64,
}

/// Alphabetical: the first 8 bytes of the folded name, then the whole name and the id.
const BY_NAME: EntryOrder = EntryOrder {
    cmp: Book::cmp_name,
    key: |entry| {
        let mut prefix = [0u8; 8];
        let name = entry.sort_name.as_bytes();
        let n = name.len().min(8);
        prefix[..n].copy_from_slice(&name[..n]);
        u64::from_be_bytes(prefix)
    },
};

/// Most recently updated first, then by id.
const BY_UPDATED: EntryOrder = EntryOrder {
    cmp: Book::cmp_updated,
    // Newest first: the signed time mapped to unsigned order, then reversed.
    key: |entry| !((entry.summary.updated_at.0 as u64) ^ (1 << 63)),
};

/// Sorts entry indices by one of the book's orders. A hot path (every start sorts the whole
/// book by name), so the standard sort rather than [`crate::order`]'s, and on each entry's
/// key beside its index: most comparisons are of two integers, without following either
/// entry (the full comparison reads both entries' texts, scattered through memory).
fn sort_entries(idx: &mut [EntryIdx], entries: &[BookEntry], order: &EntryOrder) {
    let mut keyed: Vec<(u64, EntryIdx)> = (idx.iter())
        .map(|&at| ((order.key)(&entries[at as usize]), at))
        .collect();
    #[allow(clippy::disallowed_methods)]
    keyed.sort_unstable_by(|a, b| (a.0.cmp(&b.0)).then_with(|| (order.cmp)(entries, a.1, b.1)));
    for (slot, (_, at)) in idx.iter_mut().zip(keyed) {
        *slot = at;
    }
}

/// `a` and `b`, each sorted by `cmp`, as one sorted vector.
fn merge_sorted(
    a: &[EntryIdx],
    b: &[EntryIdx],
    cmp: impl Fn(EntryIdx, EntryIdx) -> std::cmp::Ordering,
) -> Vec<EntryIdx> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(b[j], a[i]).is_lt() {
            merged.push(b[j]);
            j += 1;
        } else {
            merged.push(a[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&a[i..]);
    merged.extend_from_slice(&b[j..]);
    merged
}

/// Whether every entry matching `next` also matches `previous`, so `next` can be answered by
/// filtering `previous`'s results.
fn narrows(previous: &ListQuery, next: &ListQuery) -> bool {
    if (
        previous.stage,
        &previous.tag,
        previous.archived,
        previous.sort,
        &previous.custom,
        &previous.custom_sort,
        &previous.owner,
    ) != (
        next.stage,
        &next.tag,
        next.archived,
        next.sort,
        &next.custom,
        &next.custom_sort,
        &next.owner,
    ) {
        return false;
    }
    let mut previous_text = String::new();
    fold_into(&previous.text, &mut previous_text);
    let mut next_text = String::new();
    fold_into(&next.text, &mut next_text);
    previous_text.split_whitespace().all(|old_word| {
        next_text.split_whitespace().any(|new_word| {
            // A new word that may match by phone digits only implies the old word matches if
            // the old word may match by digits too.
            // Words looked for with a prefix taken off or added (the phone rule) do not
            // narrow: "0664" finds numbers "066" does not. The same word again does ("+33"
            // then "+33 6").
            new_word == old_word
                || (new_word.contains(old_word)
                    && match (
                        phone::search_forms(old_word).is_some(),
                        phone::search_forms(new_word).is_some(),
                    ) {
                        (_, false) => true,
                        (false, true) => false,
                        (true, true) => {
                            phone::searched_as_typed(old_word) && phone::searched_as_typed(new_word)
                        }
                    })
        })
    })
}

/// One folded word of a search, with its substring searchers built once per query.
struct SearchTerm {
    text: Finder<'static>,
    /// What the word needs of an entry's [`Signature`] to occur in its fields.
    needs: Needs,
    /// Those needs decide (see [`decided_by_signature`]): no search.
    decided_by_signature: bool,
    /// The word's digit forms ([`phone::search_forms`]), so "6-12-34" finds "+33 6 12 34 …"
    /// whatever the spacing and "0664 2003001" finds "+43 664 200 3001", each with what it
    /// needs of the signature's phone digits. An empty form (a country code alone) is not
    /// among them: it sets `any_phone`.
    digits: Vec<(Needs, Finder<'static>)>,
    /// The word matches any entry with a phone (a country code alone): it needs no search.
    any_phone: bool,
}

impl SearchTerm {
    fn new(word: &str) -> SearchTerm {
        let forms = phone::search_forms(word).unwrap_or_default();
        SearchTerm {
            text: Finder::new(word.as_bytes()).into_owned(),
            needs: Needs::of(text_bits(word.as_bytes())),
            decided_by_signature: decided_by_signature(word.as_bytes()),
            digits: (forms.iter())
                .filter(|form| !form.is_empty())
                .map(|form| {
                    let needs = Needs::of(digit_bits(form.as_bytes()));
                    (needs, Finder::new(form.as_bytes()).into_owned())
                })
                .collect(),
            any_phone: forms.iter().any(String::is_empty),
        }
    }

    /// Whether the word occurs in an entry's folded fields or, for a phone-like word, one
    /// of its digit forms in the entry's phone digits. The signature rules out most entries
    /// before any search.
    fn matches(&self, entry: &Prepared) -> bool {
        let (signature, phone_digits) = (&entry.signature, entry.text.phone_digits());
        (signature.holds(&self.needs)
            && (self.decided_by_signature || self.text.find(entry.text.fields()).is_some()))
            || (self.any_phone && !phone_digits.is_empty())
            || (self.digits.iter()).any(|(needs, digits)| {
                signature.holds(needs) && digits.find(phone_digits).is_some()
            })
    }
}

/// What [`crate::search::duplicates`] compares of one customer, prepared when the book is built.
pub struct MatchKeys<'a> {
    /// The customer.
    pub summary: &'a CustomerSummary,
    /// Contact name, folded ([`fold_into`]).
    pub name: &'a str,
    /// Company, folded.
    pub company: &'a str,
    /// Digits of each phone number, `\n`-separated.
    pub phone_digits: &'a str,
    /// [`initials_mask`] of the folded name.
    pub name_initials: u32,
}

/// A bit for each letter a-z that a word of `folded` starts with (other initials share the
/// last bit).
pub fn initials_mask(folded: &str) -> u32 {
    folded
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .fold(0, |mask, c| {
            mask | match c {
                'a'..='z' => 1 << (c as u32 - 'a' as u32),
                _ => 1 << 26,
            }
        })
}

/// Appends `text` lowercased and with common Latin accents removed, so "zoe" finds "Zoë" and
/// "LYON" finds "Lyon".
pub fn fold_into(text: &str, out: &mut String) {
    // Runs of ASCII (most of a book) are copied and lowercased at once.
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..ascii]);
        if let Some(copied) = out.get_mut(start..) {
            copied.make_ascii_lowercase();
        }
        rest = &rest[ascii..];
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            fold_char(c, out);
        }
        rest = chars.as_str();
    }
}

/// [`fold_into`] for one character that is not ASCII.
fn fold_char(c: char, out: &mut String) {
    {
        let base = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'ā' | 'Ā' => {
                'a'
            }
            'ç' | 'Ç' | 'č' | 'Č' | 'ć' | 'Ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' | 'ē' | 'ę' | 'ě' | 'Ě' => {
                'e'
            }
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
            'ñ' | 'Ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'ő' => {
                'o'
            }
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' | 'Ý' => 'y',
            'š' | 'Š' | 'ś' | 'ş' => 's',
            'ž' | 'Ž' | 'ź' | 'ż' => 'z',
            'ł' | 'Ł' => 'l',
            'ř' | 'Ř' => 'r',
            'ß' => {
                out.push_str("ss");
                return;
            }
            _ => {
                out.extend(c.to_lowercase());
                return;
            }
        };
        out.push(base);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::Timestamp;

    fn summary(id: &str, name: &str, company: &str, updated: i64) -> CustomerSummary {
        let mut customer = crate::Customer::new(id.parse().unwrap(), Timestamp(updated));
        customer.name = name.into();
        customer.company = company.into();
        customer.stage = LifecycleStage::Lead;
        CustomerSummary::of(&customer)
    }

    #[test]
    fn the_orders_sorted_on_keys_agree_with_the_full_comparisons() {
        // Names sharing their first 8 folded bytes, shorter than 8, equal but for accents,
        // empty (company only); times equal, negative and far apart.
        let names = [
            "Amelie Novak",
            "Amelie Novakova",
            "Amélie Nováková",
            "amelie",
            "Amelie",
            "Al",
            "",
            "Zoë",
            "Zoe Adams",
            "Novak Amelie",
            "Amelie Novak",
        ];
        let times = [5, 5, -3, 1_800_000_000_000, 5, 0, -3, 7, 7, 5, 1];
        let summaries: Vec<CustomerSummary> = (names.iter().zip(times))
            .enumerate()
            .map(|(idx, (name, at))| summary(&format!("c{}", 20 - idx), name, "Acme", at))
            .collect();
        let book = Book::from_summaries(summaries.clone());
        let mut by_name: Vec<EntryIdx> = (0..book.entries.len() as EntryIdx).collect();
        let mut by_updated = by_name.clone();
        #[allow(clippy::disallowed_methods)]
        {
            by_name.sort_by(|&a, &b| Book::cmp_name(&book.entries, a, b));
            by_updated.sort_by(|&a, &b| Book::cmp_updated(&book.entries, a, b));
        }
        assert_eq!(book.by_name, by_name);
        assert_eq!(book.by_updated(), by_updated);
        // The same after upserts merged into both orders: the recency order made before
        // them (kept up to date), or after (made on first use).
        let mut grown = Book::from_summaries(summaries[..3].to_vec());
        assert_eq!(grown.by_updated().len(), 3);
        grown.upsert_all(summaries[3..].to_vec());
        let mut one_by_one = Book::from_summaries(summaries[..3].to_vec());
        assert_eq!(one_by_one.by_updated().len(), 3);
        for summary in &summaries[3..] {
            one_by_one.upsert(summary.clone());
        }
        let mut late = Book::from_summaries(summaries[..3].to_vec());
        late.upsert_all(summaries[3..].to_vec());
        let names_of = |book: &Book, order: &[EntryIdx]| -> Vec<CustomerId> {
            (order.iter())
                .map(|&idx| book.entries[idx as usize].summary.id.clone())
                .collect()
        };
        assert_eq!(
            names_of(&grown, &grown.by_name),
            names_of(&book, &book.by_name)
        );
        for other in [&grown, &one_by_one, &late] {
            assert_eq!(
                names_of(other, other.by_updated()),
                names_of(&book, book.by_updated())
            );
            assert_eq!(
                names_of(other, &other.by_name),
                names_of(&book, &book.by_name)
            );
        }
    }

    /// A download's page (many upserts at once, merged into the orders) keeps the recency
    /// order right whether it was made before the page or is made after.
    #[test]
    fn many_upserts_keep_the_recency_order_made_or_not() {
        let person = |idx: usize, at: i64| {
            summary(&format!("c{idx}"), &format!("Name {}", idx % 7), "Acme", at)
        };
        let first: Vec<CustomerSummary> = (0..10).map(|idx| person(idx, idx as i64)).collect();
        // Replaces five of them (newer times) and adds 40.
        let page: Vec<CustomerSummary> =
            (5..50).map(|idx| person(idx, 1_000 - idx as i64)).collect();
        let expected = Book::from_summaries(first[..5].iter().cloned().chain(page.clone()));
        let ids = |book: &Book, order: &[EntryIdx]| -> Vec<CustomerId> {
            (order.iter())
                .map(|&idx| book.entries[idx as usize].summary.id.clone())
                .collect()
        };
        for made_before in [true, false] {
            let mut book = Book::from_summaries(first.clone());
            if made_before {
                assert_eq!(book.by_updated().len(), 10);
            }
            book.upsert_all(page.clone());
            assert_eq!(book.len(), 50);
            assert_eq!(
                ids(&book, book.by_updated()),
                ids(&expected, expected.by_updated()),
                "made before: {made_before}"
            );
            assert_eq!(ids(&book, &book.by_name), ids(&expected, &expected.by_name));
        }
    }

    #[test]
    fn custom_values_are_searched_filtered_and_sorted_by() {
        use crate::model::custom_fields::{
            ConditionOp, CustomCondition, FieldChoice, FieldDefinition, FieldKind,
        };
        let mut fields = std::collections::BTreeMap::new();
        fields.insert(
            "f-booth".to_string(),
            FieldDefinition::new("Booth", FieldKind::Text, 1, Timestamp(0)),
        );
        fields.insert(
            "f-fleet".to_string(),
            FieldDefinition::new("Fleet", FieldKind::Number, 2, Timestamp(0)),
        );
        let mut industry = FieldDefinition::new("Industry", FieldKind::Choice, 3, Timestamp(0));
        industry.choices.insert(
            "c-retail".into(),
            FieldChoice {
                label: "Retail".into(),
                position: 1,
                archived: false,
            },
        );
        fields.insert("f-industry".to_string(), industry);
        let with = |id: &str, name: &str, values: &[(&str, &str)]| {
            let mut summary = summary(id, name, "", 1);
            for (field, value) in values {
                summary.custom.insert(field.to_string(), value.to_string());
            }
            summary
        };
        let mut book = Book::from_summaries([
            with("c1", "Ada", &[("f-booth", "Hall B12"), ("f-fleet", "9")]),
            with(
                "c2",
                "Bea",
                &[("f-fleet", "12"), ("f-industry", "c-retail")],
            ),
            with("c3", "Cem", &[]),
        ]);
        let names = |book: &Book, query: &ListQuery| -> Vec<String> {
            (book.query(query).into_iter())
                .map(|idx| book.entry(idx).unwrap().name.clone())
                .collect()
        };
        let text = |typed: &str| ListQuery {
            text: typed.into(),
            ..ListQuery::default()
        };
        // Before the book knows its fields, custom values are not searched.
        assert!(names(&book, &text("b12")).is_empty());
        book.set_custom_search(CustomSearch::of(&fields));
        assert_eq!(names(&book, &text("b12")), ["Ada"]);
        assert_eq!(
            names(&book, &text("retail")),
            ["Bea"],
            "a choice by its label"
        );
        assert!(names(&book, &text("c-retail")).is_empty(), "not by its id");
        // A filter on a number compares numbers.
        let over_10 = ListQuery {
            custom: Some(CustomCondition {
                field: "f-fleet".into(),
                kind: FieldKind::Number,
                op: ConditionOp::Greater,
                value: "10".into(),
            }),
            ..ListQuery::default()
        };
        assert_eq!(names(&book, &over_10), ["Bea"]);
        // Sorted by fleet, largest first; no value last.
        let by_fleet = ListQuery {
            custom_sort: Some(CustomSort {
                field: "f-fleet".into(),
                kind: FieldKind::Number,
                descending: true,
            }),
            ..ListQuery::default()
        };
        assert_eq!(names(&book, &by_fleet), ["Bea", "Ada", "Cem"]);
        // Erasing a customer keeps what search reads.
        book.remove_all(&["c3".parse().unwrap()]);
        assert_eq!(names(&book, &text("b12")), ["Ada"]);
    }

    #[test]
    fn a_number_is_found_in_its_national_and_international_forms() {
        let mut vienna = summary("c1", "Anna Wien", "", 1);
        vienna.phones = vec!["+43 664 200 3001".into()];
        let mut graz = summary("c2", "Franz Graz", "", 2);
        graz.phones = vec!["0316 555 0101".into()];
        let mut nobody = summary("c3", "No Phone", "", 3);
        nobody.phones = Vec::new();
        let book = Book::from_summaries([vienna, graz, nobody]);
        let found = |text: &str| -> Vec<String> {
            let query = ListQuery {
                text: text.into(),
                ..ListQuery::default()
            };
            let mut names: Vec<String> = book
                .query(&query)
                .iter()
                .filter_map(|&idx| book.entry(idx).map(|s| s.name.clone()))
                .collect();
            crate::order::sort(&mut names);
            names
        };
        assert_eq!(found("0664 2003001"), ["Anna Wien"]);
        assert_eq!(found("06642003001"), ["Anna Wien"]);
        assert_eq!(found("+43 316 5550101"), ["Franz Graz"]);
        assert_eq!(found("+433165550101"), ["Franz Graz"]);
        assert_eq!(found("0043 316 555 0101"), ["Franz Graz"]);
        // A country code alone cannot tell a national number's country: every phone.
        assert_eq!(found("+43"), ["Anna Wien", "Franz Graz"]);
        assert!(found("0664 2003002").is_empty());
    }

    #[test]
    fn removed_customers_leave_the_list_the_counts_and_the_search() {
        let summaries: Vec<CustomerSummary> = sample_book().summaries().cloned().collect();
        let mut book = Book::from_summaries(summaries.clone());
        let gone = (summaries.iter())
            .find(|summary| summary.name == "Zoë Dupont")
            .unwrap()
            .clone();
        book.remove_all(std::slice::from_ref(&gone.id));
        let rest: Vec<CustomerSummary> = (summaries.iter())
            .filter(|summary| summary.id != gone.id)
            .cloned()
            .collect();
        assert!(book.holds_exactly(&rest));
        assert_eq!(
            book.counts.n_per_tag.get("vip"),
            None,
            "her tag is no longer counted"
        );
        assert!(book.summaries().all(|summary| summary.id != gone.id));
        let fresh = Book::from_summaries(rest);
        assert_eq!(book.counts.n_per_stage, fresh.counts.n_per_stage);
        assert_eq!(book.counts.n_per_tag, fresh.counts.n_per_tag);
    }

    #[test]
    fn holds_exactly_the_same_summaries_in_any_order_and_nothing_else() {
        let a = summary("c1", "Ana", "", 1);
        let b = summary("c2", "Bo", "", 2);
        let book = Book::from_summaries([a.clone(), b.clone()]);
        assert!(book.holds_exactly(&[b.clone(), a.clone()]));
        assert!(!book.holds_exactly(std::slice::from_ref(&a)), "one missing");
        let mut renamed = b.clone();
        renamed.name = "Bob".into();
        assert!(!book.holds_exactly(&[a.clone(), renamed]), "one changed");
        assert!(
            !book.holds_exactly(&[a, b.clone(), summary("c3", "Cy", "", 3)]),
            "one more"
        );
    }

    fn sample_book() -> Book {
        let mut zoe = summary("c1", "Zoë Dupont", "Fromagerie Lyonnaise", 30);
        zoe.tags = vec!["salon-2026".into(), "vip".into()];
        zoe.phones = vec!["+33 6 12 34 56 78".into()];
        zoe.city = "Lyon".into();
        let mut bob = summary("c2", "Bob Martin", "Acme", 10);
        bob.emails = vec!["bob@acme.example".into()];
        bob.stage = LifecycleStage::Customer;
        let mut acme = summary("c3", "", "Acme Holding", 20);
        acme.archived = true;
        let ann = summary("c4", "anne Ângel", "", 40);
        Book::from_summaries([zoe, bob, acme, ann])
    }

    fn check(query: ListQuery, expect: Expect) {
        let book = sample_book();
        let names: Vec<&str> = book
            .query(&query)
            .into_iter()
            .map(|idx| book.entry(idx).unwrap().display_name())
            .collect();
        expect.assert_eq(&names.join(", "));
    }

    fn text(text: &str) -> ListQuery {
        ListQuery {
            text: text.into(),
            ..ListQuery::default()
        }
    }

    #[test]
    fn my_customers_are_those_i_own_whatever_the_case_and_typing_forward_keeps_the_filter() {
        let mut book = sample_book();
        let mut bob = book
            .summaries()
            .find(|s| s.name == "Bob Martin")
            .unwrap()
            .clone();
        bob.owner = "Rita@Example.com".into();
        book.upsert(bob);
        let mine = ListQuery {
            owner: Some("rita@example.com".into()),
            ..ListQuery::default()
        };
        let names = |indices: Vec<EntryIdx>| -> Vec<String> {
            (indices.into_iter())
                .map(|idx| book.entry(idx).unwrap().display_name().to_string())
                .collect()
        };
        assert_eq!(names(book.query(&mine)), vec!["Bob Martin".to_string()]);
        let everyone = book.query_from(&ListQuery::default(), None);
        assert!(
            !narrows(&everyone.query, &mine) && !narrows(&mine, &ListQuery::default()),
            "another owner filter is another question"
        );
    }

    #[test]
    fn empty_query_lists_active_customers_by_name() {
        check(
            ListQuery::default(),
            expect!["anne Ângel, Bob Martin, Zoë Dupont"],
        );
    }

    #[test]
    fn many_upserts_at_once_equal_one_at_a_time() {
        let now = Timestamp(1_795_341_600_000);
        let first: Vec<CustomerSummary> = (0..50)
            .map(|i| CustomerSummary::of(&crate::seed::customer(3, i, now)))
            .collect();
        // Half of them again, changed, and new ones.
        let second: Vec<CustomerSummary> = (25..100)
            .map(|i| {
                let mut customer = crate::seed::customer(3, i, now);
                customer.name = format!("{} {i}", customer.name);
                customer.updated_at = Timestamp(now.0 + i as i64);
                CustomerSummary::of(&customer)
            })
            .collect();
        let mut one_by_one = Book::default();
        let mut at_once = Book::default();
        for batch in [&first, &second] {
            for summary in batch.iter() {
                one_by_one.upsert(summary.clone());
            }
            at_once.upsert_all(batch.clone());
        }
        assert_eq!(at_once.len(), 100);
        for sort in [SortOrder::Name, SortOrder::RecentlyUpdated] {
            let query = ListQuery {
                sort,
                ..ListQuery::default()
            };
            let ids = |book: &Book| -> Vec<CustomerId> {
                (book.query(&query).iter())
                    .map(|&idx| book.entry(idx).unwrap().id.clone())
                    .collect()
            };
            assert_eq!(ids(&at_once), ids(&one_by_one), "{sort:?}");
        }
        assert_eq!(at_once.stage_counts(), one_by_one.stage_counts());
        assert_eq!(
            at_once.active_and_archived(),
            one_by_one.active_and_archived()
        );
        assert_eq!(at_once.tags(), one_by_one.tags());
    }

    #[test]
    fn sorts_by_recent_update() {
        check(
            ListQuery {
                sort: SortOrder::RecentlyUpdated,
                ..ListQuery::default()
            },
            expect!["anne Ângel, Zoë Dupont, Bob Martin"],
        );
    }

    #[test]
    fn search_ignores_case_and_accents() {
        check(text("ZOE"), expect!["Zoë Dupont"]);
        check(text("angel"), expect!["anne Ângel"]);
        check(text("lyon"), expect!["Zoë Dupont"]);
    }

    #[test]
    fn every_word_must_match() {
        check(text("acme bob"), expect!["Bob Martin"]);
        check(text("acme zoe"), expect![""]);
    }

    #[test]
    fn search_covers_email_phone_and_tags() {
        check(text("bob@acme"), expect!["Bob Martin"]);
        check(text("vip"), expect!["Zoë Dupont"]);
        check(text("612345"), expect!["Zoë Dupont"]);
        check(text("6-12-34"), expect!["Zoë Dupont"]);
    }

    #[test]
    fn filters_by_stage_tag_and_archive() {
        check(
            ListQuery {
                stage: Some(LifecycleStage::Customer),
                ..ListQuery::default()
            },
            expect!["Bob Martin"],
        );
        check(
            ListQuery {
                tag: Some("vip".into()),
                ..ListQuery::default()
            },
            expect!["Zoë Dupont"],
        );
        check(
            ListQuery {
                archived: true,
                ..ListQuery::default()
            },
            expect!["Acme Holding"],
        );
    }

    #[test]
    fn upsert_keeps_orders_consistent() {
        let mut book = sample_book();
        let mut bob = book.get(&"c2".parse().unwrap()).unwrap().clone();
        bob.name = "Aaron Martin".into();
        bob.updated_at = Timestamp(99);
        book.upsert(bob);
        book.upsert(summary("c5", "Yann", "", 5));
        let names = |sort| {
            book.query(&ListQuery {
                sort,
                ..ListQuery::default()
            })
            .into_iter()
            .map(|idx| book.entry(idx).unwrap().display_name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
        };
        assert_eq!(
            names(SortOrder::Name),
            "Aaron Martin, anne Ângel, Yann, Zoë Dupont"
        );
        assert_eq!(
            names(SortOrder::RecentlyUpdated),
            "Aaron Martin, anne Ângel, Zoë Dupont, Yann"
        );
        assert_eq!(book.len(), 5);
        assert_eq!(book.active_and_archived(), (4, 1));
    }

    #[test]
    fn refining_while_typing_equals_a_full_scan() {
        let now = crate::Timestamp(1_795_341_600_000);
        let book = Book::from_summaries(
            (0..600).map(|idx| CustomerSummary::of(&crate::seed::customer(5, idx, now))),
        );
        let typed = [
            "lyon wines",
            "+33 6 1",
            "ame nov",
            "zenith vip",
            "a a",
            "33 6",
            "lyon  lyon ly",
        ];
        let mut n_refined = 0;
        for stage in [None, Some(LifecycleStage::Lead)] {
            for text in typed {
                let mut previous: Option<QueryResult> = None;
                for len in 1..=text.len() {
                    let query = ListQuery {
                        text: text[..len].to_string(),
                        stage,
                        ..ListQuery::default()
                    };
                    let refined = book.query_from(&query, previous.as_ref());
                    assert_eq!(
                        refined.entries,
                        book.query(&query),
                        "query {:?}, stage {stage:?}",
                        query.text
                    );
                    if previous.is_some_and(|p| narrows(&p.query, &query)) {
                        n_refined += 1;
                    }
                    previous = Some(refined);
                }
            }
        }
        // (Country codes such as "+33" are looked for in several forms and do not narrow a
        // longer word; the same word again does.)
        assert!(n_refined > 70, "most keystrokes refine ({n_refined})");
        assert!(narrows(&text("+33"), &text("+33 6")));
        assert!(!narrows(&text("+3"), &text("+33")));
    }

    #[test]
    fn a_refined_query_searches_only_its_new_words() {
        let book = sample_book();
        // A result that the word "zzz" could never give: had the refinement searched "zzz"
        // again, it would be empty.
        let planted = QueryResult {
            generation: book.generation,
            query: text("zzz"),
            entries: vec![1, 3],
        };
        assert_eq!(
            book.query_from(&text("zzz "), Some(&planted)).entries,
            [1, 3]
        );
        assert_eq!(
            book.query_from(&text("zzz zzz"), Some(&planted)).entries,
            [1, 3]
        );
        // A new word is searched, over the previous results only.
        let anne = book.query(&text("anne"));
        assert_eq!(anne, [3]);
        assert_eq!(
            book.query_from(&text("zzz anne"), Some(&planted)).entries,
            [3]
        );
        assert!(book
            .query_from(&text("zzz zoe"), Some(&planted))
            .entries
            .is_empty());
    }

    #[test]
    fn signatures_rule_out_entries_without_changing_any_result() {
        let now = crate::Timestamp(1_795_341_600_000);
        let mut book = Book::from_summaries(
            (0..600).map(|idx| CustomerSummary::of(&crate::seed::customer(5, idx, now))),
        );
        let mut from = 0;
        while from < book.len() {
            from = book.prepare_search(from, 128);
        }
        assert!(book.dense.iter().all(|dense| dense.search.get().is_some()));
        // The same search written plainly: every word in the folded fields, or a phone-like
        // word's digits in a phone's digits.
        let plainly = |summary: &CustomerSummary, typed: &str| {
            let mut fields = String::new();
            for field in searchable_fields(summary) {
                fold_into(field, &mut fields);
                fields.push('|');
            }
            let mut folded = String::new();
            fold_into(typed, &mut folded);
            folded.split_whitespace().all(|word| {
                fields.contains(word)
                    || phone::search_forms(word).is_some_and(|forms| {
                        summary.phones.iter().any(|phone| {
                            let phone: String =
                                phone.chars().filter(char::is_ascii_digit).collect();
                            forms.iter().any(|form| phone.contains(form.as_str()))
                        })
                    })
            })
        };
        for text in [
            "lyon wines",
            "+33 6 1",
            "ame nov",
            "zenith vip",
            "33-6",
            "zoë",
            "qqq",
            "a",
            "am",
            "61 06 12",
            "e. @e ex",
            "0664",
            "+43 6",
            "straße",
        ] {
            for len in 1..=text.len() {
                let Some(typed) = text.get(..len) else {
                    continue;
                };
                for stage in [None, Some(LifecycleStage::Lead)] {
                    let all = ListQuery {
                        stage,
                        ..ListQuery::default()
                    };
                    let expected: Vec<EntryIdx> = book
                        .query(&all)
                        .into_iter()
                        .filter(|&idx| plainly(book.entry(idx).unwrap(), typed))
                        .collect();
                    let query = ListQuery {
                        text: typed.to_string(),
                        ..all
                    };
                    assert_eq!(book.query(&query), expected, "{typed:?}");
                }
            }
        }
        // How many entries a word is searched in (the others ruled out by their signature).
        let n_searched = |word: &str| {
            let term = SearchTerm::new(word);
            (book.dense.iter())
                .filter_map(|dense| dense.search.get())
                .filter(|search| search.signature.holds(&term.needs))
                .count()
        };
        // The point of it: a selective word is searched in a small part of the book.
        let zenith = n_searched("zenith");
        assert!(zenith < book.len() / 5, "{zenith} of {}", book.len());
        // Every seeded email is at example.com, so "am" is in nearly every entry; "ame" is
        // searched only where "am" and "me" both are.
        let ame = n_searched("ame");
        assert!(ame < book.len() / 2, "{ame} of {}", book.len());
    }

    #[test]
    fn an_entry_version_changes_with_its_summary_only() {
        let mut book = sample_book();
        let zoe = book.query(&text("zoe"))[0];
        let bob = book.query(&text("bob"))[0];
        let (zoe_before, bob_before) = (book.entry_version(zoe), book.entry_version(bob));
        let mut changed = book.entry(zoe).unwrap().clone();
        changed.company = "Fromagerie Lyonnaise et Fils".into();
        book.upsert(changed);
        assert_ne!(book.entry_version(zoe), zoe_before);
        assert_eq!(book.entry_version(bob), bob_before);
    }

    #[test]
    fn a_customer_added_after_preparing_is_found() {
        let mut book = sample_book();
        book.prepare_search(0, usize::MAX);
        let mut added = summary("c9", "Quentin Quaglia", "Quarry AG", 50);
        book.upsert(added.clone());
        assert_eq!(book.query(&text("quag")).len(), 1);
        added.name = "Quentin Xylo".into();
        book.upsert_all(vec![added; UPSERT_ONE_BY_ONE_BELOW]);
        assert_eq!(book.query(&text("xylo")).len(), 1);
        assert!(book.query(&text("quag")).is_empty());
    }

    #[test]
    fn a_changed_book_or_filter_is_never_refined() {
        let mut book = sample_book();
        let query = text("a");
        let previous = book.query_from(&query, None);
        book.upsert(summary("c9", "Aaron New", "", 50));
        let next = book.query_from(&text("aa"), Some(&previous));
        assert_eq!(next.entries, book.query(&text("aa")));
        assert!(!narrows(
            &text("a"),
            &ListQuery {
                archived: true,
                ..text("ab")
            }
        ));
        assert!(!narrows(&text("acme"), &text("acm")));
        assert!(narrows(&text("acm"), &text("acme b")));
    }

    #[test]
    fn counts_follow_upserts() {
        let mut book = sample_book();
        let mut zoe = book.get(&"c1".parse().unwrap()).unwrap().clone();
        zoe.archived = true;
        book.upsert(zoe.clone());
        assert_eq!(book.active_and_archived(), (2, 2));
        assert!(
            book.tags().is_empty(),
            "archived customers' tags are not offered"
        );
        zoe.archived = false;
        zoe.stage = LifecycleStage::Advocate;
        zoe.tags = vec!["vip".into()];
        book.upsert(zoe);
        assert_eq!(book.tags(), vec![("vip".to_string(), 1)]);
        assert_eq!(book.stage_counts()[4], (LifecycleStage::Advocate, 1));
        assert_eq!(book.stage_counts()[1], (LifecycleStage::Lead, 1));
        assert_eq!(book.active_and_archived(), (3, 1));
    }

    #[test]
    fn counts_stages_and_tags() {
        let book = sample_book();
        let counts: Vec<String> = book
            .stage_counts()
            .iter()
            .map(|(stage, n)| format!("{}={n}", stage.as_str()))
            .collect();
        assert_eq!(
            counts.join(" "),
            "prospect=0 lead=2 customer=1 loyal=0 advocate=0 churned=0"
        );
        assert_eq!(
            book.tags(),
            vec![("salon-2026".to_string(), 1), ("vip".to_string(), 1)]
        );
    }
}
