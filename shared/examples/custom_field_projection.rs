//! The size of a customer's projection (the summary the list, search and filters read) with
//! and without ten custom fields, and search over 10,000 such customers, natively:
//! `cargo run --release -p fieldbook-shared --example custom_field_projection`.
// Native only (never in a wasm): the standard sorts are fine here (see `shared::order`).
#![allow(clippy::disallowed_methods)]
use std::time::Instant;

use shared::search::book::CustomSearch;
use shared::{Book, CustomerSummary, ListQuery, QueryResult, Timestamp};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let n = 10_000u64;
    let plain: Vec<CustomerSummary> = (0..n)
        .map(|idx| CustomerSummary::of(&shared::seed::customer(7, idx, now)))
        .collect();
    let with_fields: Vec<CustomerSummary> = (0..n)
        .map(|idx| {
            let mut customer = shared::seed::customer(7, idx, now);
            shared::seed::add_custom_values(&mut customer, 7, idx);
            CustomerSummary::of(&customer)
        })
        .collect();
    for (what, summaries) in [
        ("without custom fields", &plain),
        ("with 10 custom fields", &with_fields),
    ] {
        let json: usize = summaries
            .iter()
            .map(|s| serde_json::to_vec(s).unwrap().len())
            .sum();
        let packed = shared::model::snapshot::encode(summaries).len();
        println!(
            "projection {what}: JSON {:.0} B per customer, snapshot (postcard) {:.0} B per customer",
            json as f64 / n as f64,
            packed as f64 / n as f64
        );
    }
    let mut book = Book::from_summaries(with_fields);
    book.set_custom_search(CustomSearch::of(&shared::seed::custom_fields()));
    let started = Instant::now();
    let mut from = 0;
    while from < book.len() {
        from = book.prepare_search(from, 2_000);
    }
    println!(
        "search texts of {} customers with custom fields prepared in {:.1} ms",
        book.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for text in [
        "lyon wines",
        "booth b12",
        "ac-00",
        "wholesale",
        "amelie novak",
    ] {
        let mut previous: Option<QueryResult> = None;
        for len in 1..=text.len() {
            let query = ListQuery {
                text: text[..len].to_string(),
                ..ListQuery::default()
            };
            let started = Instant::now();
            let result = book.query_from(&query, previous.as_ref());
            times.push(started.elapsed().as_secs_f64() * 1e3);
            previous = Some(result);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "search keystrokes over {} customers with custom fields: median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        book.len(),
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1]
    );
}
