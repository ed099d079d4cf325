//! Times, natively, reading a customer's history (`CustomerDoc::history`) for a document of
//! 500 changes of every kind: `cargo run --release -p fieldbook-shared --example
//! history_changes`. The browser figure is in BENCHMARKS.md (e2e/bench/client.bench.ts).
use std::time::Instant;

use automerge::ActorId;
use shared::{
    documents::book_doc::default_pipeline,
    model::records::{Activity, ActivityKind},
    CustomerDoc, LifecycleStage, Timestamp,
};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let customer = shared::seed::customer(11, 1, now);
    let mut doc =
        CustomerDoc::create_by(customer, ActorId::random(), Some("Phone".into()), now).unwrap();
    for step in 0..499i64 {
        let at = Timestamp(now.0 + step * 60_000);
        doc.update(at, |c| match step % 4 {
            0 => c.address.city = format!("City {step}"),
            1 => {
                c.activities.insert(
                    format!("a{step}"),
                    Activity::new(ActivityKind::Call, at, "Phone"),
                );
            }
            2 => c
                .notes
                .update(format!("Visit {step}: asked about the spring range.")),
            _ => {
                c.stage = if step % 8 == 3 {
                    LifecycleStage::Customer
                } else {
                    LifecycleStage::Lead
                }
            }
        })
        .unwrap();
    }
    let bytes = doc.save();
    let pipeline = default_pipeline();
    for run in 0..3 {
        let started = Instant::now();
        let mut loaded = CustomerDoc::load(&doc.customer().id, &bytes, ActorId::random()).unwrap();
        let loading = started.elapsed();
        let started = Instant::now();
        let history = loaded.history(&pipeline);
        let reading = started.elapsed();
        println!(
            "run {run}: {} changes, load {:.1} ms, history {:.1} ms ({} lines)",
            history.len(),
            loading.as_secs_f64() * 1e3,
            reading.as_secs_f64() * 1e3,
            history.iter().map(|entry| entry.lines.len()).sum::<usize>()
        );
    }
}
