//! Sync figures over real sockets on loopback (not run by default; release mode):
//! `cargo test --release -p fieldbook-server --test it measure -- --ignored --nocapture`.
//! Protocol level: the devices are scripted Rust clients, not browsers (the browser-level
//! benchmark is scripts/bench.sh).

use std::time::{Duration, Instant};

use shared::protocol::{encode, ClientMessage, Seq, ServerMessage, SpaceId, Upload};

use crate::relay::{self, edit, new_customer, sign_in, sign_up, Device};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release mode"]
async fn measure_sync_figures() {
    let relay = relay::start().await;
    let base = relay.base_url.clone();
    let account = sign_up(&base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(&base, &account).await;

    // Seed 10,000 customers (snapshots), as devices upload them.
    let mut docs = Vec::new();
    let mut uploads: Vec<Upload> = Vec::new();
    for i in 0..10_000 {
        let (upload, doc) = new_customer(i);
        uploads.push(upload);
        if i < 200 {
            docs.push(doc);
        }
    }
    let started = Instant::now();
    for chunk in uploads.chunks(500) {
        assert!(matches!(
            phone.push(chunk.to_vec()).await,
            ServerMessage::Acked { .. }
        ));
    }
    let seeded = started.elapsed();
    println!(
        "seed 10,000 snapshots in pushes of 500: {:.2} s ({:.0} acked/s)",
        seeded.as_secs_f64(),
        10_000.0 / seeded.as_secs_f64()
    );

    // Acknowledged changes per second: 8 devices pushing small changes concurrently.
    let mut tasks = Vec::new();
    let per_device = 2_000u64;
    for d in 0..8u64 {
        let account = sign_in(&base, "rep@example.com", &format!("Load {d}")).await;
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let (mut device, _) = Device::join(&base, &account).await;
            let (_, mut doc) = new_customer(100_000 + d);
            let changes: Vec<Upload> = (0..per_device)
                .map(|i| edit(&mut doc, &format!("job {i}")))
                .collect();
            let started = Instant::now();
            for chunk in changes.chunks(50) {
                let answer = device.push(chunk.to_vec()).await;
                assert!(matches!(answer, ServerMessage::Acked { .. }), "{answer:?}");
            }
            started.elapsed()
        }));
    }
    let started = Instant::now();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "acknowledged changes/s (8 devices, pushes of 50, SQLite synchronous=FULL): {:.0}",
        (8 * per_device) as f64 / elapsed.as_secs_f64()
    );

    // Live propagation: phone pushes one edit, tablet is woken, pulls, has it.
    let tablet_account = sign_in(&base, "rep@example.com", "Tablet").await;
    let (mut tablet, mut cursor) = Device::join(&base, &tablet_account).await;
    let (_, head) = Device::join(&base, &account).await;
    cursor = cursor.max(head);
    let mut samples = Vec::new();
    for i in 0..300 {
        let n_docs = docs.len();
        let change = edit(&mut docs[i % n_docs], &format!("live {i}"));
        let started = Instant::now();
        let request_id = phone.next_request;
        phone.next_request += 1;
        phone
            .send(&ClientMessage::Push {
                request_id,
                uploads: vec![change],
            })
            .await;
        let ServerMessage::Wake { head } = tablet.recv().await else {
            panic!("expected a wake")
        };
        let ServerMessage::Entries { entries, .. } = tablet.pull(cursor, 1000).await else {
            panic!("expected entries")
        };
        assert_eq!(entries.last().map(|e| e.seq), Some(head));
        cursor = head;
        samples.push(started.elapsed());
        phone.recv_answer(request_id).await;
    }
    samples.sort();
    println!(
        "propagation A→B (push, commit, wake, pull): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1000.0,
        percentile(&samples, 0.99).as_secs_f64() * 1000.0
    );

    // Idle reconnect: Hello + Welcome, whatever the number of documents.
    let hello = encode(&ClientMessage::Hello {
        supported_versions: vec![1],
        space: SpaceId(account.space_id.clone()),
        token: account.token.clone(),
    });
    let (_, head) = Device::join(&base, &account).await;
    let welcome = encode(&ServerMessage::Welcome { version: 1, head });
    println!(
        "idle reconnect with {} log entries / 10,200 documents: 1 round trip, {} + {} bytes of messages (+ WebSocket upgrade ~250 bytes each way)",
        head.0,
        hello.len(),
        welcome.len()
    );

    // Bootstrap of a new device.
    let fresh = sign_in(&base, "rep@example.com", "New tablet").await;
    let (mut device, _) = Device::join(&base, &fresh).await;
    let started = Instant::now();
    let mut position = None;
    let (mut bytes, mut entries_n, mut pages) = (0usize, 0usize, 0);
    loop {
        let request_id = device.next_request;
        device.next_request += 1;
        let request = ClientMessage::Bootstrap {
            request_id,
            position: position.clone(),
            max_entries: 1000,
        };
        bytes += encode(&request).len();
        device.send(&request).await;
        let answer = device.recv_answer(request_id).await;
        bytes += encode(&answer).len();
        let ServerMessage::BootstrapPage { entries, next, .. } = answer else {
            panic!("expected a page")
        };
        entries_n += entries.len();
        pages += 1;
        if next.is_none() {
            break;
        }
        position = next;
    }
    println!(
        "bootstrap of 10,000 customers (+200 edited): {} entries in {pages} pages, {:.2} MB, {:.2} s (relay side, no browser apply)",
        entries_n,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let _ = Seq(0);
    relay.stop().await;
}
