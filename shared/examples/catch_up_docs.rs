//! Times, natively, what a device does per document when it catches up on customers changed
//! elsewhere (e2e/bench/client.bench.ts, "catch-up after 100 customers changed"): load the
//! stored document, apply a stage move and a logged call made on another device, derive the
//! summary and facts, save the increment. `cargo run --release -p fieldbook-shared --example
//! catch_up_docs`.
use std::time::Instant;

use automerge::ActorId;
use shared::{
    model::records::{Activity, ActivityKind},
    CustomerDoc, LifecycleStage, Timestamp,
};

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let n = 100;
    // What the other device sends, and what this device has stored.
    let mut stored = Vec::new();
    let mut changes = Vec::new();
    for idx in 0..n {
        let customer = shared::seed::customer(11, idx, now);
        let id = customer.id.clone();
        let mut phone = CustomerDoc::create(customer, ActorId::random(), now).unwrap();
        let snapshot = phone.save();
        phone
            .update(Timestamp(now.0 + 1000), |c| {
                c.stage = LifecycleStage::Customer
            })
            .unwrap();
        let stage = phone.last_local_change().unwrap();
        phone
            .update(Timestamp(now.0 + 2000), |c| {
                c.activities.insert(
                    format!("a{idx}"),
                    Activity::new(ActivityKind::Call, now, "Phone"),
                );
            })
            .unwrap();
        let call = phone.last_local_change().unwrap();
        stored.push((id, snapshot));
        changes.push([stage, call]);
    }
    let actor = ActorId::random();
    let (mut load, mut apply, mut derive, mut save) = (0.0, 0.0, 0.0, 0.0);
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1e3;
    for ((id, bytes), [stage, call]) in stored.iter().zip(&changes) {
        let started = Instant::now();
        let mut doc = CustomerDoc::load(id, bytes, actor.clone()).unwrap();
        load += ms(started);
        let started = Instant::now();
        doc.apply_remote(stage).unwrap();
        doc.apply_remote(call).unwrap();
        apply += ms(started);
        let started = Instant::now();
        let summary = doc.summary();
        let facts = doc.facts();
        derive += ms(started);
        let started = Instant::now();
        let chunk = doc.save_incremental();
        save += ms(started);
        assert!(!chunk.is_empty() && summary.stage == LifecycleStage::Customer);
        drop(facts);
    }
    // The parts of applying: Automerge's incremental load, and hydrating the customer again.
    let (mut incremental, mut hydrate) = (0.0, 0.0);
    for ((_, bytes), [stage, call]) in stored.iter().zip(&changes) {
        let mut doc = automerge::AutoCommit::load(bytes).unwrap();
        let started = Instant::now();
        doc.load_incremental(stage).unwrap();
        doc.load_incremental(call).unwrap();
        incremental += ms(started);
        let started = Instant::now();
        let customer: shared::Customer = autosurgeon::hydrate(&doc).unwrap();
        hydrate += ms(started);
        assert_eq!(customer.stage, LifecycleStage::Customer);
    }
    // As the engine does it: loaded with its entries, hydrated once.
    let started = Instant::now();
    for ((id, bytes), [stage, call]) in stored.iter().zip(&changes) {
        let (doc, changed) =
            CustomerDoc::load_and_apply(id, bytes, [&stage[..], &call[..]], actor.clone()).unwrap();
        assert!(changed && doc.customer().stage == LifecycleStage::Customer);
    }
    println!("load and apply, hydrated once: {:.1} ms", ms(started));
    println!("of which: 2 incremental loads {incremental:.1} ms, one hydrate {hydrate:.1} ms");
    println!(
        "{n} documents: load {load:.1} ms, apply 2 changes {apply:.1} ms, summary and facts {derive:.1} ms, save increment {save:.1} ms"
    );
}
