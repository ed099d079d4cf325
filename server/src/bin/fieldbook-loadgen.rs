//! The relay load generator: opens N simulated devices (real WebSockets speaking the sync
//! protocol, each signed in with its own token) against a running relay, makes them push
//! changes at a set total rate, and reports acknowledged changes per second, ack latency,
//! device-to-device propagation latency (p50/p99) and the relay's memory.
//!
//! Devices come in accounts of `--devices-per-account`: every change one device pushes is
//! pulled by the account's other devices after the relay's wake-up, which is the propagation
//! measured. Every device edits its own customer document; all changes are generated before
//! the clock starts so the generator's Automerge work does not compete with the relay
//! (or, with `--edit-while-pushing` for a long soak, made as they are pushed).
//!
//! ```text
//! fieldbook-loadgen --relay http://127.0.0.1:8080 --devices 1000 --rate 2000 --seconds 20 \
//!     --relay-pid 1234
//! ```
//!
//! With `--teams`, each group of `--devices-per-account` is a sales team instead: its first
//! member creates the team, the others each sign up with an account of their own and join
//! it with an invite code as reps of its territory, and every device syncs that territory
//! (a team space: each session's access is the member's role and territories).
//!
//! Output: human-readable lines, plus `BENCH-ROW` lines that `scripts/bench.sh` puts in
//! BENCHMARKS.md's table. The relay must allow the sign-ins (`--signin-attempts`).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use server::bench::{ms, percentile, row};
use shared::sync::protocol::{
    decode, encode, BlobKind, ClientMessage, DocumentId, Seq, ServerMessage, SpaceId, Upload,
    SUPPORTED_VERSIONS,
};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Debug, Clone)]
#[command(about = "Opens simulated devices against a Fieldbook relay and measures it")]
struct Args {
    /// The relay's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    relay: String,
    /// How many devices to connect.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Devices per account (they see each other's changes).
    #[arg(long, default_value_t = 10)]
    devices_per_account: usize,
    /// Device tokens per account (sign-ins: each costs an argon2 hash on the relay). With
    /// fewer tokens than devices, devices share them round-robin, like several tabs of one
    /// device: every connection is still its own socket, woken and pulling on its own.
    #[arg(long)]
    tokens_per_account: Option<usize>,
    /// Changes pushed per second, all devices together.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// How long to push, in seconds.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The relay's process id, to report its memory (Linux /proc).
    #[arg(long)]
    relay_pid: Option<u32>,
    /// Sign-ins and connections in flight at once during setup.
    #[arg(long, default_value_t = 64)]
    setup_concurrency: usize,
    /// Make each device's edits as it pushes them instead of all before the clock starts
    /// (for a long soak: an hour of 1,000 devices at 500/s is 1.8 million edits, over 13
    /// minutes to make up front; made while pushing they cost the generator ~0.2 of a core
    /// at that rate).
    #[arg(long)]
    edit_while_pushing: bool,
    /// Each group of `--devices-per-account` devices is a team of as many members (one
    /// account each), all in the team's territory.
    #[arg(long)]
    teams: bool,
}

#[derive(serde::Deserialize)]
struct Session {
    token: String,
    space_id: String,
}

/// Between connecting every device and the measured window: devices catch up, nobody
/// pushes.
const WARMUP: Duration = Duration::from_secs(3);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What every device task shares.
struct Shared {
    /// When each change was sent, by the hash of its bytes (to time its propagation).
    sent_at: Mutex<HashMap<u64, Instant>>,
    ack_latencies: Mutex<Vec<Duration>>,
    propagation: Mutex<Vec<Duration>>,
    acked: AtomicU64,
    rejected: AtomicU64,
    failures: AtomicU64,
    /// Set when the measured window ends: devices stop pushing.
    stop: AtomicBool,
}

fn key(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

fn tokens_per_account(args: &Args) -> usize {
    args.tokens_per_account
        .unwrap_or(args.devices_per_account)
        .clamp(1, args.devices_per_account)
}

/// The relay's resident memory and its peak, in MiB, from /proc.
fn relay_memory(pid: Option<u32>) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

async fn post(
    client: &reqwest::Client,
    url: String,
    body: serde_json::Value,
) -> anyhow::Result<Session> {
    post_as(client, url, None, body).await
}

async fn post_as<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: serde_json::Value,
) -> anyhow::Result<T> {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        bail!("{status}: {}", response.text().await.unwrap_or_default());
    }
    Ok(response.json().await?)
}

/// One team per group: its first member creates it, the others sign up and join its
/// territory as reps with one invite code; every device's session is that territory.
async fn team_sessions(args: &Args, run: &str) -> anyhow::Result<Vec<Session>> {
    let client = reqwest::Client::new();
    let teams = args.devices.div_ceil(args.devices_per_account);
    let limit = Arc::new(Semaphore::new(args.setup_concurrency));
    let mut tasks = Vec::new();
    for team in 0..teams {
        let (client, limit, base) = (client.clone(), limit.clone(), args.relay.clone());
        let members = args
            .devices_per_account
            .min(args.devices - team * args.devices_per_account);
        let run = run.to_string();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await?;
            let credentials = |member: usize| {
                serde_json::json!({
                    "email": format!("team-{run}-{team}-{member}@example.com"),
                    "password": "load test password", "device_name": "device",
                })
            };
            let admin = post(&client, format!("{base}/api/signup"), credentials(0)).await?;
            let info: serde_json::Value = post_as(
                &client,
                format!("{base}/api/teams"),
                Some(&admin.token),
                serde_json::json!({ "name": format!("Team {team}"), "territory": "Field" }),
            )
            .await?;
            let (Some(id), Some(territory)) = (
                info["id"].as_str(),
                info["territories"][0]["space"].as_str(),
            ) else {
                bail!("unexpected team: {info}");
            };
            let mut sessions = vec![Session {
                token: admin.token,
                space_id: territory.to_string(),
            }];
            if members > 1 {
                let invite: serde_json::Value = post_as(
                    &client,
                    format!("{base}/api/teams/{id}/invites"),
                    Some(&sessions[0].token),
                    serde_json::json!({
                        "role": "rep", "territories": [territory],
                        "max_uses": members - 1,
                    }),
                )
                .await?;
                let code = invite["code"].as_str().unwrap_or_default().to_string();
                for member in 1..members {
                    let joined =
                        post(&client, format!("{base}/api/signup"), credentials(member)).await?;
                    let _: serde_json::Value = post_as(
                        &client,
                        format!("{base}/api/invites/accept"),
                        Some(&joined.token),
                        serde_json::json!({ "code": code }),
                    )
                    .await?;
                    sessions.push(Session {
                        token: joined.token,
                        space_id: territory.to_string(),
                    });
                }
            }
            anyhow::Ok(sessions)
        }));
    }
    let mut all = Vec::with_capacity(args.devices);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

/// Signs up one account per group and signs in its other devices; one session per device
/// (tokens shared round-robin when there are fewer than devices).
async fn sessions(args: &Args, run: &str) -> anyhow::Result<Vec<Session>> {
    if args.teams {
        return team_sessions(args, run).await;
    }
    let tokens = tokens_per_account(args);
    let client = reqwest::Client::new();
    let accounts = args.devices.div_ceil(args.devices_per_account);
    let limit = Arc::new(Semaphore::new(args.setup_concurrency));
    let mut tasks = Vec::new();
    for account in 0..accounts {
        let (client, limit, base) = (client.clone(), limit.clone(), args.relay.clone());
        let devices = args
            .devices_per_account
            .min(args.devices - account * args.devices_per_account);
        let email = format!("load-{run}-{account}@example.com");
        tasks.push(tokio::spawn(async move {
            let credentials = |device: usize| {
                serde_json::json!({
                    "email": email, "password": "load test password",
                    "device_name": format!("device {device}"),
                })
            };
            let _permit = limit.acquire().await?;
            let mut sessions =
                vec![post(&client, format!("{base}/api/signup"), credentials(0)).await?];
            for device in 1..devices.min(tokens) {
                sessions
                    .push(post(&client, format!("{base}/api/signin"), credentials(device)).await?);
            }
            let per_device: Vec<Session> = (0..devices)
                .map(|device| {
                    let shared = &sessions[device % sessions.len()];
                    Session {
                        token: shared.token.clone(),
                        space_id: shared.space_id.clone(),
                    }
                })
                .collect();
            anyhow::Ok(per_device)
        }));
    }
    let mut all = Vec::with_capacity(args.devices);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

async fn connect(base: &str, session: &Session) -> anyhow::Result<(Socket, Seq)> {
    let url = format!("{}/sync", base.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let hello = ClientMessage::Hello {
        supported_versions: SUPPORTED_VERSIONS.to_vec(),
        space: SpaceId(session.space_id.clone()),
        token: session.token.clone(),
    };
    socket.send(Message::Binary(encode(&hello).into())).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Binary(bytes))) => match decode::<ServerMessage>(&bytes)? {
                ServerMessage::Welcome { head, .. } => return Ok((socket, head)),
                other => bail!("expected a welcome, got {other:?}"),
            },
            Some(Ok(_)) => continue,
            Some(Err(err)) => return Err(err.into()),
            None => bail!("the relay closed the connection during the handshake"),
        }
    }
}

/// One device's own document and its edits: made up front ([`Editor::prepare`]) or as
/// they are pushed.
struct Editor {
    id: DocumentId,
    doc: shared::CustomerDoc,
    made: usize,
    /// How many edits at most.
    limit: usize,
    prepared: std::vec::IntoIter<Upload>,
}

impl Editor {
    /// A new document for `device`, and its first snapshot (as an upload).
    fn new(device: usize, limit: usize) -> anyhow::Result<(Upload, Editor)> {
        let customer = shared::seed::customer(77, device as u64, EDIT_EPOCH);
        let id = DocumentId(customer.id.to_string());
        let mut actor = [0u8; 16];
        actor[..8].copy_from_slice(&(device as u64 + 1).to_le_bytes());
        let mut doc =
            shared::CustomerDoc::create(customer, automerge::ActorId::from(actor), EDIT_EPOCH)?;
        let snapshot = Upload {
            document: id.clone(),
            kind: BlobKind::Snapshot { covers: Seq(0) },
            bytes: doc.save(),
        };
        let editor = Editor {
            id,
            doc,
            made: 0,
            limit,
            prepared: Vec::new().into_iter(),
        };
        Ok((snapshot, editor))
    }

    /// Makes every edit now, so pushing them costs no Automerge work.
    fn prepare(&mut self) -> anyhow::Result<()> {
        let mut edits = Vec::with_capacity(self.limit - self.made);
        while self.made < self.limit {
            edits.push(self.edit()?);
        }
        self.prepared = edits.into_iter();
        Ok(())
    }

    fn edit(&mut self) -> anyhow::Result<Upload> {
        let i = self.made;
        self.doc
            .update(shared::Timestamp(EDIT_EPOCH.0 + i as i64 + 1), |c| {
                c.job_title = format!("Edit {i}")
            })?;
        self.made += 1;
        Ok(Upload {
            document: self.id.clone(),
            kind: BlobKind::Change,
            bytes: self
                .doc
                .last_local_change()
                .context("an edit makes a change")?,
        })
    }

    /// The next edit to push, if any is left.
    fn next(&mut self) -> Option<Upload> {
        if let Some(upload) = self.prepared.next() {
            return Some(upload);
        }
        (self.made < self.limit).then(|| self.edit().ok()).flatten()
    }
}

/// The time of the documents' first edit.
const EDIT_EPOCH: shared::Timestamp = shared::Timestamp(1_795_341_600_000);

/// Runs one device: pushes its edits every `interval` until told to stop, pulls on every
/// wake-up and times the arrival of other devices' changes.
async fn device(
    own: DocumentId,
    mut socket: Socket,
    mut cursor: Seq,
    mut edits: Editor,
    interval: Duration,
    phase: Duration,
    shared: Arc<Shared>,
) {
    let next_request = 1u64;
    let mut in_flight: HashMap<u64, Instant> = HashMap::new();
    // The catch-up pull below is in flight from the start.
    let mut pulling = true;
    let mut head = cursor;
    // Catch up first (the snapshots the account's other devices pushed during setup), then
    // push from the end of the warm-up on.
    let mut next_request = {
        let pull = ClientMessage::Pull {
            request_id: next_request,
            since: cursor,
            max_entries: 500,
        };
        if socket
            .send(Message::Binary(encode(&pull).into()))
            .await
            .is_err()
        {
            shared.failures.fetch_add(1, Ordering::Relaxed);
            return;
        }
        next_request + 1
    };
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + WARMUP + phase, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick(), if !shared.stop.load(Ordering::Relaxed) => {
                let Some(upload) = edits.next() else { continue };
                let request_id = next_request;
                next_request += 1;
                let now = Instant::now();
                if let Ok(mut sent) = shared.sent_at.lock() {
                    sent.insert(key(&upload.bytes), now);
                }
                in_flight.insert(request_id, now);
                let push = ClientMessage::Push { request_id, uploads: vec![upload] };
                if socket.send(Message::Binary(encode(&push).into())).await.is_err() {
                    shared.failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            frame = socket.next() => {
                let Some(Ok(frame)) = frame else {
                    if !shared.stop.load(Ordering::Relaxed) {
                        shared.failures.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                };
                let Message::Binary(bytes) = frame else { continue };
                let Ok(message) = decode::<ServerMessage>(&bytes) else {
                    shared.failures.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                match message {
                    ServerMessage::Acked { request_id, results, head: new_head } => {
                        if let Some(sent) = in_flight.remove(&request_id) {
                            if let Ok(mut latencies) = shared.ack_latencies.lock() {
                                latencies.push(sent.elapsed());
                            }
                            shared.acked.fetch_add(results.len() as u64, Ordering::Relaxed);
                        }
                        head = head.max(new_head);
                    }
                    ServerMessage::Rejected { request_id, .. } => {
                        in_flight.remove(&request_id);
                        shared.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                    ServerMessage::Wake { head: new_head } => head = head.max(new_head),
                    ServerMessage::Entries { entries, head: new_head, .. } => {
                        pulling = false;
                        head = head.max(new_head);
                        let arrived = Instant::now();
                        if let Ok(sent) = shared.sent_at.lock() {
                            let mut samples = Vec::new();
                            // Other devices' changes only (this device pulls its own too).
                            for entry in entries.iter().filter(|entry| entry.document != own) {
                                if let Some(at) = sent.get(&key(&entry.bytes)) {
                                    samples.push(arrived.duration_since(*at));
                                }
                            }
                            drop(sent);
                            if let Ok(mut propagation) = shared.propagation.lock() {
                                propagation.extend(samples);
                            }
                        }
                        if let Some(last) = entries.last() {
                            cursor = last.seq;
                        }
                    }
                    _ => {}
                }
                // Pull whatever is new, one pull at a time (as the app does).
                if !pulling && head > cursor {
                    let request_id = next_request;
                    next_request += 1;
                    let pull = ClientMessage::Pull { request_id, since: cursor, max_entries: 500 };
                    if socket.send(Message::Binary(encode(&pull).into())).await.is_err() {
                        return;
                    }
                    pulling = true;
                }
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.devices == 0 || args.devices_per_account == 0 || args.rate == 0 {
        bail!("--devices, --devices-per-account and --rate must be at least 1");
    }
    // Account emails unique to this run, so a relay can be loaded several times.
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos())
    );
    let per_device =
        (args.rate as f64 / args.devices as f64 * args.seconds as f64).ceil() as usize + 2;
    println!(
        "load: {} devices in accounts of {}, {} changes/s for {} s against {}",
        args.devices, args.devices_per_account, args.rate, args.seconds, args.relay
    );

    let started = Instant::now();
    let mut documents: Vec<(Upload, Editor)> = (0..args.devices)
        .map(|device| Editor::new(device, per_device))
        .collect::<anyhow::Result<_>>()?;
    if args.edit_while_pushing {
        println!(
            "made {} documents in {:.1} s; up to {per_device} edits each are made as they are pushed",
            args.devices,
            started.elapsed().as_secs_f64()
        );
    } else {
        for (_, editor) in &mut documents {
            editor.prepare()?;
        }
        println!(
            "generated {} documents with {per_device} edits each in {:.1} s",
            args.devices,
            started.elapsed().as_secs_f64()
        );
    }

    let started = Instant::now();
    let sessions = sessions(&args, &run)
        .await
        .context("signing the devices in")?;
    println!(
        "signed in {} devices in {:.1} s",
        sessions.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some((rss, _)) = relay_memory(args.relay_pid) {
        println!("relay memory after the sign-ins: {rss:.0} MiB");
    }

    // Connect every device, then give each its document's snapshot (so edits apply).
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(args.setup_concurrency));
    let mut connecting = Vec::new();
    for (session, (snapshot, _)) in sessions.iter().zip(&documents) {
        let (limit, base) = (limit.clone(), args.relay.clone());
        let (token, space_id) = (session.token.clone(), session.space_id.clone());
        let snapshot = snapshot.clone();
        connecting.push(tokio::spawn(async move {
            let _permit = limit.acquire().await?;
            let (mut socket, _) = connect(&base, &Session { token, space_id }).await?;
            let push = ClientMessage::Push {
                request_id: 0,
                uploads: vec![snapshot],
            };
            socket.send(Message::Binary(encode(&push).into())).await?;
            loop {
                match socket.next().await {
                    Some(Ok(Message::Binary(bytes))) => match decode::<ServerMessage>(&bytes)? {
                        ServerMessage::Acked { head, .. } => return anyhow::Ok((socket, head)),
                        ServerMessage::Wake { .. } => continue,
                        other => bail!("snapshot not acknowledged: {other:?}"),
                    },
                    Some(Ok(_)) => continue,
                    _ => bail!("connection lost during setup"),
                }
            }
        }));
    }
    let mut sockets = Vec::with_capacity(args.devices);
    for task in connecting {
        sockets.push(task.await??);
    }
    let connect_time = started.elapsed();
    println!(
        "connected {} devices in {:.1} s",
        sockets.len(),
        connect_time.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_memory = relay_memory(args.relay_pid);
    if let Some((rss, _)) = idle_memory {
        println!(
            "relay memory with {} idle connections: {rss:.0} MiB",
            args.devices
        );
    }

    // The measured window: every device pushes at its share of the rate, phases spread.
    let shared = Arc::new(Shared {
        sent_at: Mutex::new(HashMap::with_capacity(
            args.rate as usize * args.seconds as usize,
        )),
        ack_latencies: Mutex::new(Vec::new()),
        propagation: Mutex::new(Vec::new()),
        acked: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let interval = Duration::from_secs_f64(args.devices as f64 / args.rate as f64);
    let mut running = Vec::with_capacity(args.devices);
    for (n, ((socket, head), (snapshot, edits))) in sockets.into_iter().zip(documents).enumerate() {
        let phase = interval.mul_f64(n as f64 / args.devices as f64);
        let own = snapshot.document;
        running.push(tokio::spawn(device(
            own,
            socket,
            head,
            edits,
            interval,
            phase,
            shared.clone(),
        )));
    }
    let window = Duration::from_secs(args.seconds);
    tokio::time::sleep(WARMUP).await;
    let started = Instant::now();
    let mut peak_rss: f64 = idle_memory.map_or(0.0, |m| m.0);
    // Memory over time, for a soak: a sample at the start and every tenth of the window
    // (at most one a minute apart).
    let sample_every = (window / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut timeline: Vec<(f64, f64)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    while started.elapsed() < window {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some((rss, _)) = relay_memory(args.relay_pid) {
            peak_rss = peak_rss.max(rss);
            if started.elapsed() >= next_sample {
                timeline.push((started.elapsed().as_secs_f64(), rss));
                next_sample += sample_every;
            }
        }
    }
    if let Some((rss, _)) = relay_memory(args.relay_pid) {
        timeline.push((started.elapsed().as_secs_f64(), rss));
    }
    let acked_in_window = shared.acked.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    shared.stop.store(true, Ordering::Relaxed);
    // Let the last pulls arrive, then close.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for task in &running {
        task.abort();
    }

    let rate = acked_in_window as f64 / elapsed.as_secs_f64();
    let mut acks = shared
        .ack_latencies
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    acks.sort();
    let mut propagation = shared
        .propagation
        .lock()
        .map(|p| p.clone())
        .unwrap_or_default();
    propagation.sort();
    let failures = shared.failures.load(Ordering::Relaxed);
    let rejected = shared.rejected.load(Ordering::Relaxed);
    println!(
        "acknowledged {acked_in_window} changes in {:.1} s: {rate:.0}/s (asked {}/s); ack p50 {:.1} ms, p99 {:.1} ms; \
         propagation to {} other devices: {} samples, p50 {:.1} ms, p99 {:.1} ms; {rejected} rejected, {failures} connections failed",
        elapsed.as_secs_f64(),
        args.rate,
        ms(percentile(&acks, 0.5)),
        ms(percentile(&acks, 0.99)),
        args.devices_per_account - 1,
        propagation.len(),
        ms(percentile(&propagation, 0.5)),
        ms(percentile(&propagation, 0.99)),
    );
    let n = args.devices;
    if args.seconds >= 60 && timeline.len() >= 2 {
        let line: Vec<String> = timeline
            .iter()
            .map(|(at, rss)| format!("{:.0} s {rss:.0} MiB", at))
            .collect();
        println!("relay memory over time: {}", line.join(", "));
        let first = timeline[0].1;
        let last = timeline[timeline.len() - 1].1;
        // Flat: the end within a quarter (and 16 MiB) of the start of the window.
        let flat = last <= first * 1.25 + 16.0;
        row(
            &format!(
                "relay soak: {n} devices pushing {}/s for {:.0} min, relay memory over time",
                args.rate,
                args.seconds as f64 / 60.0
            ),
            format!(
                "{first:.0} MiB at the start, {last:.0} MiB at the end, {peak_rss:.0} MiB peak ({})",
                line.join(", ")
            ),
            "flat",
            Some(flat),
        );
    }
    row(
        &if args.teams {
            format!(
                "relay under load: {n} devices connected (WebSockets; teams of {} members, one account each, in the team's territory)",
                args.devices_per_account
            )
        } else {
            format!(
                "relay under load: {n} devices connected (WebSockets; accounts of {}, {} device tokens each)",
                args.devices_per_account,
                tokens_per_account(&args)
            )
        },
        format!(
            "{n} connected in {:.1} s; relay memory {}",
            connect_time.as_secs_f64(),
            idle_memory.map_or("not measured".to_string(), |(rss, _)| format!(
                "{rss:.0} MiB idle, {peak_rss:.0} MiB peak under load"
            )),
        ),
        if n >= 10_000 {
            "≥ 10,000 in ≤ 1 GiB"
        } else {
            "—"
        },
        (n >= 10_000).then_some(failures == 0 && peak_rss > 0.0 && peak_rss <= 1024.0),
    );
    row(
        &format!(
            "relay under load: acknowledged changes/s, {n} devices pushing {}/s (SQLite{})",
            args.rate,
            if args.teams { "; teams" } else { "" }
        ),
        format!(
            "{rate:.0}/s (ack p50 {:.1} ms, p99 {:.1} ms)",
            ms(percentile(&acks, 0.5)),
            ms(percentile(&acks, 0.99))
        ),
        "—",
        None,
    );
    row(
        &format!(
            "relay under load: propagation device to device, {n} devices{} ({} samples; p50 / p99)",
            if args.teams { " in teams" } else { "" },
            propagation.len()
        ),
        format!(
            "{:.1} ms / {:.1} ms",
            ms(percentile(&propagation, 0.5)),
            ms(percentile(&propagation, 0.99))
        ),
        "p50 ≤ 50 ms, p99 ≤ 250 ms",
        Some(
            ms(percentile(&propagation, 0.5)) <= 50.0
                && ms(percentile(&propagation, 0.99)) <= 250.0
                && !propagation.is_empty(),
        ),
    );
    if failures > 0 || rejected > 0 {
        bail!("{failures} connections failed and {rejected} pushes were rejected");
    }
    if acked_in_window == 0 || propagation.is_empty() {
        bail!("nothing was acknowledged or propagated");
    }
    Ok(())
}
