//! Book snapshots: every customer's summary (or every customer's dashboard facts) as one
//! stored value, so a start reads one record instead of one per customer.
//!
//! The client keeps one record per customer as the source of truth (JSON summaries, encoded
//! facts), plus a snapshot of all of them and the records written since the snapshot (see
//! `client/common/src/store.rs`). A start reads the snapshot and lays the newer records over it
//! ([`overlay`]); the engine folds the newer records into a new snapshot when idle.
//!
//! A snapshot is [`SNAPSHOT_FINGERPRINT`] then postcard. Postcard carries no type information,
//! so a snapshot written by a build whose stored types differ does not decode ([`decode`]
//! says `None`) and the reader falls back to the per-customer records: never misread.

use std::collections::HashMap;

use serde::{de::DeserializeOwned, Serialize};

use crate::{model::facts::CustomerFacts, CustomerId, CustomerSummary};

/// A 64-bit hash of `sources` (the text of source files, by `include_bytes!`), at compile
/// time: a build's fingerprint for the types those files define.
///
/// FNV-1a's step over eight bytes at a time, each step's result folded (`>> 29`) so every
/// bit of a word reaches the next, then each file's length. A word a step keeps the const
/// evaluator's work within its patience (`long_running_const_eval`, denied by default,
/// fires in every crate that reads the constant) for the ~1 MB the wire's fingerprint hashes.
pub const fn fingerprint(sources: &[&[u8]]) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut file = 0;
    while file < sources.len() {
        let bytes = sources[file];
        let mut rest = bytes;
        while let Some((word, tail)) = rest.split_first_chunk::<8>() {
            hash ^= u64::from_le_bytes(*word);
            hash = hash.wrapping_mul(PRIME);
            hash ^= hash >> 29;
            rest = tail;
        }
        let mut at = 0;
        while at < rest.len() {
            hash ^= rest[at] as u64;
            hash = hash.wrapping_mul(PRIME);
            at += 1;
        }
        hash ^= bytes.len() as u64;
        hash = hash.wrapping_mul(PRIME);
        file += 1;
    }
    hash
}

/// A fingerprint of the source of every type a snapshot holds.
pub const SNAPSHOT_FINGERPRINT: u64 = fingerprint(&[
    include_bytes!("snapshot.rs"),
    include_bytes!("summary.rs"),
    include_bytes!("facts.rs"),
    include_bytes!("customer.rs"),
    include_bytes!("customer_id.rs"),
    include_bytes!("records.rs"),
    include_bytes!("timestamp.rs"),
]);

/// The snapshot of `items`.
pub fn encode<T: Serialize>(items: &[T]) -> Vec<u8> {
    postcard::to_extend(items, SNAPSHOT_FINGERPRINT.to_le_bytes().to_vec())
        .expect("snapshot items serialize: plain data")
}

/// The items of a snapshot from [`encode`]; `None` when another build wrote it or the bytes
/// are damaged.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<Vec<T>> {
    // As postcard decodes a `Vec` (its length, then each item), but into a vector of the
    // stated length at once: serde's `Vec` grows from at most 1 MiB of items, so 10,000
    // summaries were copied three times as it doubled (a start's main thread).
    let rest = without_fingerprint(bytes)?;
    let (len, mut rest) = postcard::take_from_bytes::<usize>(rest).ok()?;
    // Every item takes at least one byte: a damaged length cannot reserve more.
    let mut items = Vec::with_capacity(len.min(rest.len()));
    for _ in 0..len {
        let (item, after) = postcard::take_from_bytes::<T>(rest).ok()?;
        items.push(item);
        rest = after;
    }
    rest.is_empty().then_some(items)
}

/// Whether `bytes` ([`encode`], [`encode_projection`]) were written by a build whose stored
/// types are this one's: else no device of this build reads them.
pub fn of_this_build(bytes: &[u8]) -> bool {
    without_fingerprint(bytes).is_some()
}

/// The bytes after [`SNAPSHOT_FINGERPRINT`]; `None` when another build wrote them.
fn without_fingerprint(bytes: &[u8]) -> Option<&[u8]> {
    let (fingerprint, rest) = bytes.split_first_chunk::<8>()?;
    (u64::from_le_bytes(*fingerprint) == SNAPSHOT_FINGERPRINT).then_some(rest)
}

/// The value of bytes written by [`encode`] or [`encode_projection`] (any type: generic, so
/// that the caller's crate compiles the decoder, see `client/codec`); `None` when another
/// build wrote them or they are damaged.
pub fn decode_value<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    match postcard::take_from_bytes::<T>(without_fingerprint(bytes)?) {
        Ok((value, [])) => Some(value),
        _ => None,
    }
}

/// What the list and the dashboards need of one customer document: its summary and its
/// facts, as a relay derives them from a document snapshot it stores, so a new device can
/// list the customer without loading the document (protocol version 2, see
/// `crate::sync::protocol::EntryProjection`). [`SNAPSHOT_FINGERPRINT`] then postcard: a build
/// that stores other types does not read it and loads the document instead.
pub fn encode_projection(summary: &CustomerSummary, facts: &CustomerFacts) -> Vec<u8> {
    postcard::to_extend(
        &(summary, facts),
        SNAPSHOT_FINGERPRINT.to_le_bytes().to_vec(),
    )
    .expect("projections serialize: plain data")
}

/// The summary and facts of [`encode_projection`]; `None` when another build wrote them or
/// the bytes are damaged.
pub fn decode_projection(bytes: &[u8]) -> Option<(CustomerSummary, CustomerFacts)> {
    decode_value(bytes)
}

/// A listed customer and its owner (empty: none), as [`encode_owners`] keeps them: what a
/// team dashboard needs of a territory's list, without its summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ListedOwner {
    /// The customer.
    pub id: CustomerId,
    /// Its owner's email, or empty.
    pub owner: String,
}

/// Every customer of the summaries' snapshot `summaries` (its bytes, from [`encode`]) with
/// its owner, in its order, tagged with a hash of those bytes: a reader takes them only
/// beside the very snapshot they were made from ([`decode_owners`]), so a snapshot written
/// without them (another build) is never read through an older list of owners.
pub fn encode_owners(summaries: &[u8], items: &[&CustomerSummary]) -> Vec<u8> {
    let owners: Vec<(&CustomerId, &str)> = (items.iter())
        .map(|summary| (&summary.id, summary.owner.as_str()))
        .collect();
    postcard::to_extend(
        &(fingerprint(&[summaries]), owners),
        SNAPSHOT_FINGERPRINT.to_le_bytes().to_vec(),
    )
    .expect("owners serialize: plain data")
}

/// The owners of [`encode_owners`], when they were made from `summaries` (the snapshot
/// stored beside them); `None` when not, or another build wrote them, or they are damaged.
pub fn decode_owners(bytes: &[u8], summaries: &[u8]) -> Option<Vec<ListedOwner>> {
    let (hash, owners): (u64, Vec<ListedOwner>) = decode_value(bytes)?;
    (hash == fingerprint(&[summaries])).then_some(owners)
}

/// What a snapshot holds one of per customer.
pub trait PerCustomer {
    /// The customer it describes.
    fn customer_id(&self) -> &CustomerId;
}

/// Whether `a` and `b` describe the same customers in the same order, one record each: then
/// every customer of one has a record in the other, found without a lookup each. A book's
/// summaries and facts are written together, so their snapshots usually are (10,000 hashed
/// lookups were 5-6 ms of a dashboard's first open in the browser).
pub fn same_customers<A: PerCustomer, B: PerCustomer>(a: &[A], b: &[B]) -> bool {
    a.len() == b.len() && (a.iter().zip(b)).all(|(a, b)| a.customer_id() == b.customer_id())
}

impl PerCustomer for CustomerSummary {
    fn customer_id(&self) -> &CustomerId {
        &self.id
    }
}

impl PerCustomer for ListedOwner {
    fn customer_id(&self) -> &CustomerId {
        &self.id
    }
}

impl PerCustomer for CustomerFacts {
    fn customer_id(&self) -> &CustomerId {
        &self.id
    }
}

/// Records kept by customer, in the order first seen: the engine's summaries and the
/// dashboards' facts in memory.
#[derive(Debug, Clone)]
pub struct ByCustomer<T> {
    list: Vec<T>,
    positions: HashMap<CustomerId, usize>,
}

impl<T> Default for ByCustomer<T> {
    fn default() -> Self {
        ByCustomer {
            list: Vec::new(),
            positions: HashMap::new(),
        }
    }
}

impl<T: PerCustomer> ByCustomer<T> {
    /// The records of `items` (a later record of a customer replaces an earlier one).
    pub fn new(items: Vec<T>) -> Self {
        let mut index = ByCustomer {
            list: Vec::with_capacity(items.len()),
            positions: HashMap::with_capacity(items.len()),
        };
        for item in items {
            index.upsert(item);
        }
        index
    }

    /// Adds a customer's record, or replaces the one it had.
    pub fn upsert(&mut self, item: T) {
        match self.positions.get(item.customer_id()) {
            Some(&at) => self.list[at] = item,
            None => {
                self.positions
                    .insert(item.customer_id().clone(), self.list.len());
                self.list.push(item);
            }
        }
    }

    /// Removes the customer's record (an erased customer); the others keep their order.
    pub fn remove(&mut self, id: &CustomerId) -> Option<T> {
        let at = self.positions.remove(id)?;
        let removed = self.list.remove(at);
        for position in self.positions.values_mut() {
            if *position > at {
                *position -= 1;
            }
        }
        Some(removed)
    }

    /// The customer's record.
    pub fn get(&self, id: &CustomerId) -> Option<&T> {
        self.positions.get(id).map(|&at| &self.list[at])
    }

    /// Whether the customer has a record.
    pub fn contains(&self, id: &CustomerId) -> bool {
        self.positions.contains_key(id)
    }

    /// Every record.
    pub fn items(&self) -> &[T] {
        &self.list
    }

    /// How many customers have a record.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether no customer has a record.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// These records with `newer` laid over them, as [`overlay`] would make them, without
    /// copying any record: what a snapshot made from memory with a write's records encodes.
    pub fn with_newer<'a>(&'a self, newer: &'a [T]) -> Vec<&'a T> {
        let newer_by_id: HashMap<&CustomerId, &T> = newer
            .iter()
            .map(|item| (item.customer_id(), item))
            .collect();
        let mut items: Vec<&T> = self
            .list
            .iter()
            .map(|item| newer_by_id.get(item.customer_id()).copied().unwrap_or(item))
            .collect();
        let mut appended = std::collections::HashSet::new();
        for item in newer {
            if !self.contains(item.customer_id()) && appended.insert(item.customer_id()) {
                // The last record of a customer in `newer` wins, as in `overlay`.
                items.push(newer_by_id[item.customer_id()]);
            }
        }
        items
    }
}

/// `snapshot` with `newer` laid over it: a newer record replaces the snapshot's record of
/// the same customer in place; one of a customer the snapshot lacks is appended. The
/// snapshot's order is kept.
pub fn overlay<T: PerCustomer>(snapshot: Vec<T>, newer: Vec<T>) -> Vec<T> {
    if newer.is_empty() {
        return snapshot;
    }
    let mut index = ByCustomer::new(snapshot);
    for item in newer {
        index.upsert(item);
    }
    index.list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Customer, Timestamp};

    /// Any change of the sources changes the fingerprint: a byte anywhere (in a word or the
    /// tail of a file), or a byte moved from one file to the next.
    #[test]
    fn the_fingerprint_changes_with_any_byte_of_the_sources() {
        let text: Vec<u8> = (0..45u8).map(|at| b'a' + at % 26).collect();
        let before = fingerprint(&[&text, b"tail"]);
        for at in 0..text.len() {
            let mut changed = text.clone();
            changed[at] ^= 1;
            assert_ne!(fingerprint(&[&changed, b"tail"]), before, "byte {at}");
        }
        let mut longer = text.clone();
        longer.push(b't');
        assert_ne!(fingerprint(&[&longer, b"ail"]), before);
        assert_ne!(fingerprint(&[&text]), before);
        assert_eq!(fingerprint(&[&text, b"tail"]), before);
    }

    fn summary(id: &str, name: &str) -> CustomerSummary {
        let mut customer = Customer::new(id.parse().unwrap(), Timestamp(1_000));
        customer.name = name.into();
        CustomerSummary::of(&customer)
    }

    #[test]
    fn a_snapshot_round_trips() {
        let items = vec![summary("c1", "Ana"), summary("c2", "Bo")];
        assert_eq!(decode::<CustomerSummary>(&encode(&items)), Some(items));
    }

    #[test]
    fn another_build_or_damage_is_not_read() {
        let items = vec![summary("c1", "Ana")];
        let mut bytes = encode(&items);
        bytes[0] ^= 1;
        assert_eq!(decode::<CustomerSummary>(&bytes), None, "other fingerprint");
        let bytes = encode(&items);
        assert_eq!(
            decode::<CustomerSummary>(&bytes[..bytes.len() - 1]),
            None,
            "cut short"
        );
        let mut longer = encode(&items);
        longer.push(0);
        assert_eq!(decode::<CustomerSummary>(&longer), None, "trailing bytes");
        assert_eq!(
            decode::<CustomerSummary>(&[1, 2, 3]),
            None,
            "shorter than the header"
        );
        assert_eq!(
            decode::<CustomerFacts>(&encode(&items)),
            None,
            "another type"
        );
        // A damaged length claiming more items than bytes: refused, nothing huge reserved.
        let mut claims_more = SNAPSHOT_FINGERPRINT.to_le_bytes().to_vec();
        claims_more.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
        claims_more.extend(&encode(&items)[9..]);
        assert_eq!(
            decode::<CustomerSummary>(&claims_more),
            None,
            "length too large"
        );
    }

    #[test]
    fn a_snapshot_decodes_as_postcard_would_decode_the_vector() {
        let items: Vec<CustomerSummary> = (0..300)
            .map(|idx| summary(&format!("c{idx}"), &format!("Name {idx}")))
            .collect();
        let bytes = encode(&items);
        let as_vector: Vec<CustomerSummary> = decode_value(&bytes).expect("a vector");
        assert_eq!(decode::<CustomerSummary>(&bytes), Some(as_vector));
        assert_eq!(
            decode::<CustomerSummary>(&encode::<CustomerSummary>(&[])),
            Some(vec![])
        );
    }

    #[test]
    fn owners_are_read_only_beside_the_snapshot_they_were_made_from() {
        let mut ada = summary("c1", "Ada");
        ada.owner = "rita@example.com".into();
        let bob = summary("c2", "Bob");
        let snapshot = encode(&[&ada, &bob]);
        let owners = encode_owners(&snapshot, &[&ada, &bob]);
        assert_eq!(
            decode_owners(&owners, &snapshot),
            Some(vec![
                ListedOwner {
                    id: ada.id.clone(),
                    owner: "rita@example.com".into()
                },
                ListedOwner {
                    id: bob.id.clone(),
                    owner: String::new()
                },
            ])
        );
        // The snapshot written again without them (another build, a change of one letter
        // of a name): the owners beside it are not read.
        let mut renamed = bob.clone();
        renamed.name = "Bop".into();
        assert_eq!(decode_owners(&owners, &encode(&[&ada, &renamed])), None);
        assert_eq!(decode_owners(&owners, &encode(&[&ada])), None);
        // Damaged or of another build.
        assert_eq!(decode_owners(&owners[..owners.len() - 1], &snapshot), None);
        let mut other_build = owners.clone();
        other_build[0] ^= 1;
        assert_eq!(decode_owners(&other_build, &snapshot), None);
    }

    #[test]
    fn same_customers_means_the_same_ids_in_the_same_order() {
        let listed = vec![summary("c1", "Ana"), summary("c2", "Bo")];
        let facts = |ids: &[&str]| -> Vec<CustomerFacts> {
            (ids.iter())
                .map(|id| CustomerFacts::of(&Customer::new(id.parse().unwrap(), Timestamp(1))))
                .collect()
        };
        assert!(same_customers(&listed, &facts(&["c1", "c2"])));
        assert!(
            !same_customers(&listed, &facts(&["c2", "c1"])),
            "another order"
        );
        assert!(!same_customers(&listed, &facts(&["c1"])), "one missing");
        assert!(
            !same_customers(&listed, &facts(&["c1", "c2", "c3"])),
            "one more"
        );
        assert!(
            !same_customers(&listed, &facts(&["c1", "c3"])),
            "another one"
        );
        assert!(same_customers::<CustomerSummary, CustomerFacts>(&[], &[]));
    }

    #[test]
    fn records_with_newer_ones_are_the_overlay_of_them() {
        let index = ByCustomer::new(vec![summary("c1", "Ana"), summary("c2", "Bo")]);
        let newer = vec![
            summary("c3", "Cy"),
            summary("c1", "Anna"),
            summary("c3", "Cyd"),
        ];
        let laid: Vec<CustomerSummary> = index.with_newer(&newer).into_iter().cloned().collect();
        let expected = overlay(index.items().to_vec(), newer);
        assert_eq!(laid, expected);
        assert_eq!(
            decode::<CustomerSummary>(&encode(&index.with_newer(&[]))),
            Some(index.items().to_vec())
        );
        let names: Vec<&str> = expected.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Anna", "Bo", "Cyd"]);
        assert_eq!(index.len(), 2, "the index itself is unchanged");
    }

    #[test]
    fn a_removed_record_is_gone_and_the_others_keep_their_order_and_places() {
        let mut index = ByCustomer::new(vec![
            summary("c1", "Ana"),
            summary("c2", "Bo"),
            summary("c3", "Cy"),
        ]);
        let c2 = "c2".parse().unwrap();
        assert_eq!(index.remove(&c2).map(|s| s.name), Some("Bo".into()));
        assert_eq!(index.remove(&c2), None, "removed once");
        assert!(!index.contains(&c2));
        index.upsert(summary("c3", "Cyd"));
        let names: Vec<&str> = index.items().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Ana", "Cyd"]);
        assert_eq!(index.get(&"c3".parse().unwrap()).unwrap().name, "Cyd");
    }

    #[test]
    fn a_projection_round_trips_and_another_build_is_not_read() {
        let mut customer = Customer::new("c1".parse().unwrap(), Timestamp(1_000));
        customer.name = "Ana".into();
        let (summary, facts) = (CustomerSummary::of(&customer), CustomerFacts::of(&customer));
        let bytes = encode_projection(&summary, &facts);
        assert_eq!(decode_projection(&bytes), Some((summary, facts)));
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert_eq!(decode_projection(&other), None, "other fingerprint");
        assert_eq!(
            decode_projection(&bytes[..bytes.len() - 1]),
            None,
            "cut short"
        );
    }

    #[test]
    fn newer_records_replace_in_place_and_new_ones_are_appended() {
        let snapshot = vec![summary("c1", "Ana"), summary("c2", "Bo")];
        let merged = overlay(snapshot, vec![summary("c3", "Cy"), summary("c1", "Anna")]);
        let names: Vec<&str> = merged.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Anna", "Bo", "Cy"]);
    }
}
