//! Sync figures over real sockets on loopback (not run by default; release mode):
//! `cargo test --release -p fieldbook-server --test it measure -- --ignored --nocapture`.
//! Protocol level: the devices are scripted Rust clients, not browsers (the browser-level
//! figures — bootstrap into IndexedDB, propagation between two tabs — are in scripts/bench.sh).

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use shared::sync::protocol::{
    decode, encode, ClientMessage, Seq, ServerMessage, SpaceId, Upload, SUPPORTED_VERSIONS,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::Message;

use server::bench::{ms, percentile, row};

use crate::relay::{self, edit, new_customer, sign_in, sign_up, Account, Device};

/// A TCP stream that counts the bytes it carries each way (everything on the wire above TCP:
/// the HTTP upgrade, WebSocket framing and protocol messages).
struct Counting {
    inner: tokio::net::TcpStream,
    sent: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.received
            .fetch_add(buf.filled().len() - before, Ordering::Relaxed);
        poll
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &poll {
            self.sent.fetch_add(*n, Ordering::Relaxed);
        }
        poll
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A device that already holds everything reconnects: WebSocket upgrade, Hello, Welcome.
/// Returns (bytes sent, bytes received, protocol round trips, elapsed).
async fn idle_reconnect(base: &str, account: &Account, head: Seq) -> (usize, usize, u32, Duration) {
    let started = Instant::now();
    let addr = base.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let stream = Counting {
        inner: tcp,
        sent: sent.clone(),
        received: received.clone(),
    };
    let (mut socket, _) = tokio_tungstenite::client_async(format!("ws://{addr}/sync"), stream)
        .await
        .unwrap();
    let hello = ClientMessage::Hello {
        supported_versions: SUPPORTED_VERSIONS.to_vec(),
        space: SpaceId(account.space_id.clone()),
        token: account.token.clone(),
    };
    socket
        .send(Message::Binary(encode(&hello).into()))
        .await
        .unwrap();
    let mut round_trips = 1;
    loop {
        let Some(Ok(Message::Binary(bytes))) = socket.next().await else {
            panic!("the relay answers the hello")
        };
        match decode::<ServerMessage>(&bytes).unwrap() {
            // The device's cursor is the head: nothing to pull.
            ServerMessage::Welcome { head: now, .. } if now == head => break,
            ServerMessage::Welcome { .. } => round_trips += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    (
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
        round_trips,
        elapsed,
    )
}

/// Seeds `n` customers as snapshots in pushes of 500; returns the elapsed time.
async fn seed(device: &mut Device, first: u64, n: u64) -> Duration {
    let uploads: Vec<Upload> = (first..first + n).map(|i| new_customer(i).0).collect();
    let started = Instant::now();
    for chunk in uploads.chunks(500) {
        let answer = device.push(chunk.to_vec()).await;
        assert!(matches!(answer, ServerMessage::Acked { .. }), "{answer:?}");
    }
    started.elapsed()
}

/// A new device downloads the whole book; returns (entries, pages, bytes, elapsed).
async fn bootstrap(base: &str, email: &str) -> (usize, usize, usize, Duration) {
    let fresh = sign_in(base, email, "New tablet").await;
    bootstrap_as(base, &fresh).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release mode"]
async fn measure_sync_figures() {
    // The real relay binary, a separate process, as deployed.
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, base) = relay::spawn_relay(data_dir.path()).await;
    let pid = child.id();

    // Books of exactly 1,000 and 10,000 customers, each its own account.
    for n in [1_000u64, 10_000] {
        let email = format!("book-{n}@example.com");
        let account = sign_up(&base, &email, "Phone").await;
        let (mut phone, _) = Device::join(&base, &account).await;
        let seeded = seed(&mut phone, 0, n).await;
        println!(
            "seed {n} customers (snapshots) in pushes of 500: {:.2} s ({:.0} acked/s)",
            seeded.as_secs_f64(),
            n as f64 / seeded.as_secs_f64()
        );
        let (_, head) = Device::join(&base, &account).await;
        let mut reconnects = Vec::new();
        for _ in 0..20 {
            reconnects.push(idle_reconnect(&base, &account, head).await);
        }
        let (sent, received, round_trips, _) = reconnects[0];
        let mut times: Vec<Duration> = reconnects.iter().map(|r| r.3).collect();
        times.sort();
        println!(
            "idle reconnect, {n} documents: {round_trips} protocol round trip after the WebSocket upgrade, \
             {sent} bytes up + {received} bytes down on the wire ({} total), median {:.2} ms",
            sent + received,
            ms(percentile(&times, 0.5))
        );
        row(
            &format!("relay: reconnect with nothing new, {n} documents (bytes on the wire incl. WebSocket upgrade)"),
            format!("{round_trips} round trip after the upgrade, {} bytes", sent + received),
            "1 round trip, ≤ 1 KB",
            Some(round_trips == 1 && sent + received <= 1024),
        );
        let (entries, pages, bytes, elapsed) = bootstrap(&base, &email).await;
        println!(
            "bootstrap of {n} customers: {entries} entries in {pages} pages, {:.2} MB of messages, \
             {:.2} s (relay side, no apply)",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64()
        );
        if n == 10_000 {
            row(
                "relay: bootstrap of 10000 customers, protocol level (Rust client, no apply)",
                format!(
                    "{:.2} s, {:.2} MB",
                    elapsed.as_secs_f64(),
                    bytes as f64 / 1e6
                ),
                "≤ 5 s, ≤ 10 MB",
                Some(elapsed.as_secs_f64() <= 5.0 && bytes <= 10_000_000),
            );
        }
    }

    // Acknowledged changes per second: 8 devices pushing small changes concurrently.
    let email = "load@example.com";
    sign_up(&base, email, "Phone").await;
    let bases = [base.clone()];
    // FIELDBOOK_MEASURE_PERF=<file>: profile the relay process during this phase.
    let throughput = ack_throughput(&bases, email, Some(pid)).await;
    row(
        &format!("relay: acknowledged durable changes/s ({THROUGHPUT_DEVICES} devices, pushes of 50, SQLite synchronous=FULL)"),
        throughput.describe(),
        "≥ 20,000",
        Some(throughput.rate >= 20_000.0),
    );
    println!(
        "acknowledged changes/s ({THROUGHPUT_DEVICES} devices, pushes of 50, SQLite synchronous=FULL): {}",
        throughput.describe()
    );
    let samples = propagation(&base, &base, email).await;
    propagation_row(
        "relay: propagation A→B, protocol level (push, commit, wake, pull; p50 / p99)",
        &samples,
    );
    println!(
        "propagation A→B (push, commit, wake, pull): p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99))
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    println!(
        "relay peak RSS over the whole run: {}",
        peak.trim_start_matches("VmHWM:").trim()
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Devices pushing at once in the throughput phase.
const THROUGHPUT_DEVICES: u64 = 8;

/// Acknowledged changes per second and per-push ack latencies.
struct Throughput {
    rate: f64,
    latencies: Vec<Duration>,
}

impl Throughput {
    fn describe(&self) -> String {
        format!(
            "{:.0}/s (ack p50 {:.1} ms, p99 {:.1} ms)",
            self.rate,
            ms(percentile(&self.latencies, 0.5)),
            ms(percentile(&self.latencies, 0.99))
        )
    }
}

/// 8 devices of `email` (spread over `bases` in turn) push 2,000 edits each, in pushes of
/// 50, all at once; the edits are made and the devices connected before the clock starts.
async fn ack_throughput(bases: &[String], email: &str, perf_pid: Option<u32>) -> Throughput {
    let per_device = 2_000u64;
    let start = Arc::new(tokio::sync::Barrier::new(THROUGHPUT_DEVICES as usize + 1));
    let mut tasks = Vec::new();
    for d in 0..THROUGHPUT_DEVICES {
        let base = &bases[d as usize % bases.len()];
        let account = sign_in(base, email, &format!("Load {d}")).await;
        let (mut device, _) = Device::join(base, &account).await;
        let (_, mut doc) = new_customer(100_000 + d);
        let changes: Vec<Upload> = (0..per_device)
            .map(|i| edit(&mut doc, &format!("job {i}")))
            .collect();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let mut latencies = Vec::new();
            for chunk in changes.chunks(50) {
                let started = Instant::now();
                let answer = device.push(chunk.to_vec()).await;
                assert!(matches!(answer, ServerMessage::Acked { .. }), "{answer:?}");
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let perf = perf_pid
        .zip(std::env::var("FIELDBOOK_MEASURE_PERF").ok())
        .map(|(pid, out)| {
            std::process::Command::new("perf")
                .args([
                    "record",
                    "-F",
                    "999",
                    "-g",
                    "-o",
                    &out,
                    "-p",
                    &pid.to_string(),
                ])
                .spawn()
                .expect("perf runs")
        });
    start.wait().await;
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    if let Some(perf) = perf {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait_with_output();
    }
    latencies.sort();
    Throughput {
        rate: (THROUGHPUT_DEVICES * per_device) as f64 / elapsed.as_secs_f64(),
        latencies,
    }
}

/// A phone on `phone_base` pushes one edit at a time; a tablet on `tablet_base` is woken
/// and pulls it: 300 samples of push-to-pulled, sorted.
async fn propagation(phone_base: &str, tablet_base: &str, email: &str) -> Vec<Duration> {
    let (mut phone, _) = Device::join(phone_base, &sign_in(phone_base, email, "Phone").await).await;
    let mut docs: Vec<_> = (0..50).map(|i| new_customer(200_000 + i).1).collect();
    let tablet_account = sign_in(tablet_base, email, "Tablet").await;
    let (mut tablet, mut cursor) = Device::join(tablet_base, &tablet_account).await;
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
    samples
}

/// Throughput and propagation on PostgreSQL with one relay and with two relays sharing it,
/// next to the same figures on SQLite (not run by default; needs the PostgreSQL cluster of
/// `scripts/bench.sh` in `FIELDBOOK_TEST_PG_URL`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release mode"]
async fn measure_several_relays() {
    let data_dir = tempfile::tempdir().unwrap();
    let sqlite = relay::spawn_relay(data_dir.path()).await;
    let url = relay::fresh_pg_database().await;
    let pg_one = relay::spawn_relay_on(&url).await;
    let url_two = relay::fresh_pg_database().await;
    let pg_two = [
        relay::spawn_relay_on(&url_two).await,
        relay::spawn_relay_on(&url_two).await,
    ];
    let setups: [(&str, Vec<String>); 3] = [
        ("SQLite, 1 relay", vec![sqlite.1.clone()]),
        ("PostgreSQL, 1 relay", vec![pg_one.1.clone()]),
        (
            "PostgreSQL, 2 relays",
            vec![pg_two[0].1.clone(), pg_two[1].1.clone()],
        ),
    ];
    for (name, bases) in &setups {
        let email = "several@example.com";
        sign_up(&bases[0], email, "Owner").await;
        let throughput = ack_throughput(bases, email, None).await;
        println!(
            "several relays: {name}: acknowledged changes/s: {}",
            throughput.describe()
        );
        row(
            &format!(
                "relay: acknowledged durable changes/s, {name} ({THROUGHPUT_DEVICES} devices spread over the relays, pushes of 50)"
            ),
            throughput.describe(),
            "—",
            None,
        );
        // Phone on the first relay, tablet on the last (the other relay when there are two).
        let samples = propagation(&bases[0], &bases[bases.len() - 1], email).await;
        println!(
            "several relays: {name}: propagation p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99))
        );
        propagation_row(
            &format!(
                "relay: propagation A→B, {name} (A on the first relay, B on the last; p50 / p99)"
            ),
            &samples,
        );
    }
    let [a, b] = pg_two;
    for (mut child, _) in [sqlite, pg_one, a, b] {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The table row of a propagation measurement, against BRIEF.md's target.
fn propagation_row(figure: &str, samples: &[Duration]) {
    row(
        figure,
        format!(
            "{:.2} ms / {:.2} ms",
            ms(percentile(samples, 0.5)),
            ms(percentile(samples, 0.99))
        ),
        "p50 ≤ 50 ms, p99 ≤ 250 ms",
        Some(
            percentile(samples, 0.5) <= Duration::from_millis(50)
                && percentile(samples, 0.99) <= Duration::from_millis(250),
        ),
    );
}

/// POSTs `body` to the team API as `token`; the JSON answer.
async fn team_call(
    base: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// Teams (issue 21): a rep's device bootstrapping a territory of 10,000 customers, and a
/// manager moving 250 of them to another territory (the relay's whole move: every
/// customer's entries folded into a hand-over snapshot, in one transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release mode"]
async fn measure_team_figures() {
    let data_dir = tempfile::tempdir().unwrap();
    let (_child, base) = relay::spawn_relay(data_dir.path()).await;
    let admin = sign_up(&base, "team-admin@example.com", "Tablet").await;
    let team = team_call(
        &base,
        "/api/teams",
        &admin.token,
        serde_json::json!({ "name": "Measured", "territory": "North" }),
    )
    .await;
    let team_id = team["id"].as_str().unwrap().to_string();
    let north = team["territories"][0]["space"]
        .as_str()
        .unwrap()
        .to_string();
    let south = team_call(
        &base,
        &format!("/api/teams/{team_id}/territories"),
        &admin.token,
        serde_json::json!({ "name": "South" }),
    )
    .await["space"]
        .as_str()
        .unwrap()
        .to_string();
    let in_north = Account {
        space_id: north.clone(),
        ..admin.clone()
    };
    let (mut tablet, _) = Device::join(&base, &in_north).await;
    let n = 10_000u64;
    let seeded = seed(&mut tablet, 0, n).await;
    let invite = team_call(
        &base,
        &format!("/api/teams/{team_id}/invites"),
        &admin.token,
        serde_json::json!({ "role": "rep", "territories": [north] }),
    )
    .await;
    let rep = sign_up(&base, "team-rep@example.com", "Phone").await;
    team_call(
        &base,
        "/api/invites/accept",
        &rep.token,
        serde_json::json!({ "code": invite["code"] }),
    )
    .await;
    let rep_in_north = Account {
        space_id: north.clone(),
        ..rep.clone()
    };
    let (entries, pages, bytes, elapsed) = bootstrap_as(&base, &rep_in_north).await;
    assert_eq!(entries as u64, n);
    println!(
        "team: seeded {n} customers into a territory in {:.2} s; a rep's device bootstrapped it: {entries} entries in {pages} pages, {:.2} MB, {:.2} s (relay side, no apply)",
        seeded.as_secs_f64(),
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    row(
        "team: a rep's new device downloads her territory of 10,000 customers (relay side, protocol level)",
        format!(
            "{:.2} s, {pages} pages, {:.1} MB",
            elapsed.as_secs_f64(),
            bytes as f64 / 1e6
        ),
        "—",
        None,
    );
    let customers: Vec<String> = (0..250u64).map(|i| new_customer(i).0.document.0).collect();
    let started = Instant::now();
    let outcome = team_call(
        &base,
        &format!("/api/teams/{team_id}/moves"),
        &admin.token,
        serde_json::json!({ "from": north, "to": south, "customers": customers }),
    )
    .await;
    let moved = started.elapsed();
    assert_eq!(
        outcome["moved"].as_array().map(Vec::len),
        Some(250),
        "{outcome}"
    );
    println!(
        "team: moved 250 customers to another territory in {:.0} ms",
        ms(moved)
    );
    row(
        "team: a manager moves 250 customers to another territory (one request; the relay folds each into a hand-over snapshot)",
        format!("{:.0} ms", ms(moved)),
        "—",
        None,
    );
}

/// A new device of `account` downloads its space; (entries, pages, bytes, elapsed).
async fn bootstrap_as(base: &str, account: &Account) -> (usize, usize, usize, Duration) {
    let (mut device, _) = Device::join(base, account).await;
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
        // Version 2 relays send pages deflated, with projections (what a new device gets).
        let (entries, next) = match answer {
            ServerMessage::BootstrapPage { entries, next, .. } => (entries, next),
            ServerMessage::CompressedBootstrapPage { deflated, .. } => {
                let page = shared::sync::protocol::inflate_page(&deflated)
                    .unwrap_or_else(|err| panic!("a page that does not inflate: {err}"));
                (page.entries, page.next)
            }
            other => panic!("expected a page, got {other:?}"),
        };
        entries_n += entries.len();
        pages += 1;
        if next.is_none() {
            break;
        }
        position = next;
    }
    (entries_n, pages, bytes, started.elapsed())
}
