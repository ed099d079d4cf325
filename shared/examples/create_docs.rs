//! Times, natively, what an import of 10,000 rows does per customer after parsing
//! (`CustomerDoc::create_snapshot`): the Automerge document made from the customer, its
//! commit, its snapshot, its summary and facts — each step apart, to see where a row's time
//! goes. `cargo run --release -p fieldbook-shared --example create_docs`.
use std::time::{Duration, Instant};

use automerge::{transaction::CommitOptions, ActorId, AutoCommit};
use shared::documents::customer_doc::CustomerDoc;
use shared::model::facts::CustomerFacts;
use shared::{CustomerSummary, Timestamp};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let n = 10_000u64;
    let customers: Vec<_> = (0..n)
        .map(|idx| shared::seed::customer(7, idx, now))
        .collect();
    let actor = ActorId::random();
    for _ in 0..3 {
        let started = Instant::now();
        let mut bytes = 0;
        for customer in customers.iter().cloned() {
            let (snapshot, _, _) =
                CustomerDoc::create_snapshot(customer, actor.clone(), Some("Rep"), now)
                    .expect("creates");
            bytes += snapshot.len();
        }
        println!(
            "create_snapshot: {:.0} ms for {n} ({} KB of snapshots)",
            started.elapsed().as_secs_f64() * 1e3,
            bytes / 1024
        );
        let mut steps = [Duration::ZERO; 5];
        let mut plain = 0;
        for customer in customers.iter() {
            let t = Instant::now();
            let mut doc = AutoCommit::new().with_actor(actor.clone());
            autosurgeon::reconcile(&mut doc, customer).expect("reconciles");
            steps[0] += t.elapsed();
            let t = Instant::now();
            doc.commit_with(CommitOptions::default().with_time(now.0 / 1000));
            steps[1] += t.elapsed();
            let t = Instant::now();
            let saved = doc.save();
            steps[2] += t.elapsed();
            let t = Instant::now();
            plain += doc.save_nocompress().len();
            steps[3] += t.elapsed();
            let t = Instant::now();
            let _ = (CustomerSummary::of(customer), CustomerFacts::of(customer));
            steps[4] += t.elapsed();
            std::hint::black_box(saved);
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  reconcile {:.0} ms, commit {:.0} ms, save {:.0} ms, save_nocompress {:.0} ms ({} KB), summary and facts {:.0} ms",
            ms(steps[0]),
            ms(steps[1]),
            ms(steps[2]),
            ms(steps[3]),
            plain / 1024,
            ms(steps[4])
        );
    }
}
