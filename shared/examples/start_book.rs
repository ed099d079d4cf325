//! Times what a start does on the page's main thread between reading the stored list and
//! showing it (see `client/common/src/store.rs::read_early_book` and
//! `client/app/src/repo.rs::show_book`), natively: decoding the summaries' snapshot of a
//! seeded book of 10,000 customers (as the client benchmark's `/sample-data` seeds it) and
//! building the `Book` (orders, counts). Faster than the browser's wasm, but the parts are in
//! proportion. `cargo run --release -p fieldbook-shared --example start_book`.
// Native only (never in a wasm): the standard sorts are fine here (see `shared::order`).
#![allow(clippy::disallowed_methods)]
use std::time::Instant;

use shared::{Book, CustomerSummary, Timestamp};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let now = Timestamp(1_795_341_600_000);
    let summaries: Vec<CustomerSummary> = (0..n)
        .map(|idx| {
            let customer = shared::seed::customer(42, idx as u64, now);
            CustomerSummary::of(&customer)
        })
        .collect();
    let snapshot = shared::model::snapshot::encode(&summaries);
    println!("{n} summaries, snapshot {} bytes", snapshot.len());
    let (mut decode, mut build) = (Vec::new(), Vec::new());
    // Rounds (default 15); fewer for an instruction count (`valgrind --tool=callgrind`).
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    for _ in 0..rounds {
        let started = Instant::now();
        let decoded: Vec<CustomerSummary> =
            shared::model::snapshot::decode(&snapshot).expect("decodes");
        decode.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let book = Book::from_summaries(decoded);
        build.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(book.len(), n);
    }
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    println!(
        "decode {:.2} ms, book built {:.2} ms (medians of {rounds})",
        median(&mut decode),
        median(&mut build)
    );
}
