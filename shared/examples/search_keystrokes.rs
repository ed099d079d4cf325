//! Times each keystroke of the client benchmark's searches (e2e/bench/client.bench.ts) over a
//! seeded book of 50,000 customers, natively: the search alone, without the list's rendering
//! and faster than the browser's wasm. `cargo run --release -p fieldbook-shared --example
//! search_keystrokes` prints the slowest keystrokes and the median.
// Native only (never in a wasm): the standard sorts are fine here (see `shared::order`).
#![allow(clippy::disallowed_methods)]
use std::time::Instant;

use shared::{Book, CustomerSummary, ListQuery, QueryResult, Timestamp};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let mut book = Book::from_summaries(
        (0..50_000).map(|idx| CustomerSummary::of(&shared::seed::customer(7, idx, now))),
    );
    let started = Instant::now();
    let mut from = 0;
    while from < book.len() {
        from = book.prepare_search(from, 2_000);
    }
    println!(
        "search texts of {} customers prepared in {:.1} ms",
        book.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for _ in 0..3 {
        for text in ["lyon wines", "amelie novak", "zenith", "+33 6 1", "vip"] {
            let mut previous: Option<QueryResult> = None;
            for len in 1..=text.len() {
                let query = ListQuery {
                    text: text[..len].to_string(),
                    ..ListQuery::default()
                };
                let started = Instant::now();
                let result = book.query_from(&query, previous.as_ref());
                times.push((
                    started.elapsed().as_secs_f64() * 1e3,
                    query.text.clone(),
                    result.entries.len(),
                ));
                previous = Some(result);
            }
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, text, n) in sorted.iter().take(12) {
        println!("{ms:7.2} ms  {text:?} -> {n}");
    }
    println!(
        "median {:.2} ms, p95 {:.2} ms, mean {:.2} ms",
        sorted[sorted.len() / 2].0,
        sorted[sorted.len() / 20].0,
        times.iter().map(|t| t.0).sum::<f64>() / times.len() as f64
    );
}
