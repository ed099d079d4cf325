//! Decoders of the stored book's snapshots, compiled at `opt-level = 3` (see the workspace
//! `Cargo.toml`) while the rest of the client is built for size.
//!
//! A snapshot decode is generic code (serde, postcard): it is compiled in the crate that names
//! its concrete type. Naming the types here, and nowhere else on a start's path, puts the
//! decode's machine code in this crate and under its optimisation level: the start's hottest
//! loop (10,000 summaries on the page and in the engine, 10,000 customers' facts for a
//! dashboard) without paying speed for the size of everything else.
use shared::model::facts::CustomerFacts;
use shared::CustomerSummary;

/// Every summary of a snapshot (`shared::model::snapshot::decode`).
pub fn summaries(bytes: &[u8]) -> Option<Vec<CustomerSummary>> {
    shared::model::snapshot::decode(bytes)
}

/// Every customer's facts of a snapshot (`shared::model::snapshot::decode`).
pub fn facts(bytes: &[u8]) -> Option<Vec<CustomerFacts>> {
    shared::model::snapshot::decode(bytes)
}

/// A customer's summary and facts as the relay sends them with a document's snapshot
/// (`shared::model::snapshot::decode_projection`).
pub fn projection(bytes: &[u8]) -> Option<(CustomerSummary, CustomerFacts)> {
    shared::model::snapshot::decode_value(bytes)
}

#[cfg(test)]
mod tests {
    use shared::model::snapshot::{encode, encode_projection};
    use shared::{CustomerSummary, Timestamp};

    use super::*;

    fn customers() -> Vec<shared::Customer> {
        let now = Timestamp(1_795_341_600_000);
        (0..20)
            .map(|idx| {
                let mut customer = shared::seed::customer(3, idx, now);
                shared::seed::add_records(&mut customer, 3, 8, now);
                customer
            })
            .collect()
    }

    #[test]
    fn decodes_what_a_snapshot_holds_and_nothing_else() {
        let customers = customers();
        let listed: Vec<CustomerSummary> = customers.iter().map(CustomerSummary::of).collect();
        let all_facts: Vec<CustomerFacts> = customers.iter().map(CustomerFacts::of).collect();
        assert_eq!(summaries(&encode(&listed)), Some(listed.clone()));
        assert_eq!(facts(&encode(&all_facts)), Some(all_facts.clone()));
        let one = encode_projection(&listed[4], &all_facts[4]);
        assert_eq!(
            projection(&one),
            Some((listed[4].clone(), all_facts[4].clone()))
        );
        // Another build's snapshot (its fingerprint), a cut one, one with bytes after it.
        let mut other = encode(&listed);
        other[0] ^= 1;
        assert_eq!(summaries(&other), None);
        let bytes = encode(&listed);
        assert_eq!(summaries(&bytes[..bytes.len() - 3]), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(summaries(&longer), None);
        // Facts are not summaries.
        assert_eq!(summaries(&encode(&all_facts)), None);
    }
}
