//! Storage faults against the real binary: a full disk (a small tmpfs in a private mount
//! namespace) and a damaged database file. The relay must refuse clearly, say it is
//! unhealthy, lose nothing it acknowledged, and recover by itself once the cause is gone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use shared::sync::protocol::{ErrorCode, Seq, ServerMessage};

use crate::relay::{
    fieldbook_binary, free_port, new_customer, sign_up, spawn_relay, whole_log, Device,
    RelayProcess,
};

/// The relay on a `size` tmpfs mounted over `dir` in its own user and mount namespace
/// (`unshare`: no privileges needed, nothing mounted on the host), with a `filler_bytes`
/// file beside the database to free later. Its log goes to `log`.
fn spawn_on_tmpfs(
    dir: &Path,
    size: &str,
    filler_bytes: u64,
    port: u16,
    log: &Path,
) -> RelayProcess {
    let script = r#"mount -t tmpfs -o size="$2" tmpfs "$1" && head -c "$3" /dev/zero > "$1/filler" && exec "$4" --listen "127.0.0.1:$5" --data-dir "$1" --static-dir /nonexistent --log server=info,fieldbook_server=info"#;
    let child = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(dir)
        .arg(size)
        .arg(filler_bytes.to_string())
        .arg(fieldbook_binary())
        .arg(port.to_string())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare (util-linux) runs the relay in its own mount namespace");
    RelayProcess(child)
}

async fn health(base: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{base}/healthz")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn wait_for_health(base: &str, wanted: u16, within: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await {
            if response.status().as_u16() == wanted {
                return response.json().await.unwrap_or_default();
            }
        }
        assert!(
            started.elapsed() < within,
            "/healthz did not answer {wanted} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_pushes_clearly_reports_unhealthy_and_recovers_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = tempfile::NamedTempFile::new().unwrap();
    let port = free_port();
    let mut child = spawn_on_tmpfs(dir.path(), "4m", 1 << 20, port, log_file.path());
    let base = format!("http://127.0.0.1:{port}");
    wait_for_health(&base, 200, Duration::from_secs(10)).await;
    let account = sign_up(&base, "full@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;

    // Push customers until the disk is full.
    let mut acked: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut next = 0u64;
    let refusal = loop {
        assert!(next < 20_000, "the 4 MiB disk never filled");
        let uploads: Vec<_> = (next..next + 20).map(|i| new_customer(i).0).collect();
        next += 20;
        match device.push(uploads.clone()).await {
            ServerMessage::Acked { results, .. } => {
                for (result, upload) in results.iter().zip(uploads) {
                    acked.push((result.seq.0, upload.bytes));
                }
            }
            ServerMessage::Rejected { code, message, .. } => break (code, message, uploads),
            other => panic!("unexpected answer {other:?}"),
        }
    };
    let (code, message, refused) = refusal;
    assert_eq!(
        code,
        ErrorCode::Internal,
        "retryable: the device keeps its outbox"
    );
    assert!(message.contains("full"), "the reason is named: {message}");
    assert!(!acked.is_empty());
    let (status, body) = health(&base).await;
    assert_eq!(
        status, 503,
        "a relay that cannot commit is not healthy: {body}"
    );
    assert!(
        body["database"]
            .as_str()
            .unwrap_or_default()
            .contains("commits are failing"),
        "{body}"
    );

    // Still full: still refused, still unhealthy (the probe fails too).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(matches!(
        device.push(refused.clone()).await,
        ServerMessage::Rejected { .. }
    ));
    assert_eq!(health(&base).await.0, 503);

    // Space freed (from outside: the tmpfs as the relay's namespace sees it): the relay
    // notices by itself, without a push, and stores again.
    let filler: PathBuf =
        format!("/proc/{}/root{}/filler", child.id(), dir.path().display()).into();
    std::fs::remove_file(&filler).unwrap();
    let body = wait_for_health(&base, 200, Duration::from_secs(10)).await;
    assert_eq!(body["status"], "ok");
    let ServerMessage::Acked { results, head, .. } = device.push(refused.clone()).await else {
        panic!("the relay did not store again after space was freed")
    };
    for (result, upload) in results.iter().zip(refused) {
        assert!(!result.duplicate, "nothing of the refused push was stored");
        acked.push((result.seq.0, upload.bytes));
    }

    // Nothing acknowledged was lost, the log has no gap, and a new device can join.
    let (mut reader, _) = Device::join(&base, &account).await;
    let log = whole_log(&mut reader, head).await;
    assert_eq!(log, acked);
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(log_file.path()).unwrap();
    assert!(log.contains("commits are failing"), "{log}");
    assert!(log.contains("commits succeed again"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_file_is_reported_unhealthy_and_logged_not_served_as_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay(dir.path()).await;
    let account = sign_up(&base, "damaged@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;
    for chunk in 0..10u64 {
        let uploads = (chunk * 50..chunk * 50 + 50)
            .map(|i| new_customer(i).0)
            .collect();
        assert!(matches!(
            device.push(uploads).await,
            ServerMessage::Acked { .. }
        ));
    }
    drop(device);
    // A clean stop (SIGTERM) checkpoints the WAL into the file.
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();

    // Overwrite pages in the middle of the file (where the log's rows live) with garbage.
    let file = dir.path().join("fieldbook.sqlite");
    let mut bytes = std::fs::read(&file).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(
        pages > 20,
        "the file holds the pushed customers: {pages} pages"
    );
    for p in pages / 2..pages / 2 + 4 {
        for (i, byte) in bytes[p * page..(p + 1) * page].iter_mut().enumerate() {
            *byte = (i * 7 + p) as u8;
        }
    }
    std::fs::write(&file, bytes).unwrap();

    let log_file = tempfile::NamedTempFile::new().unwrap();
    let port = free_port();
    let mut child = Command::new(fieldbook_binary())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--static-dir", "/nonexistent", "--log", "server=info"])
        .stdout(std::fs::File::create(log_file.path()).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .map(RelayProcess)
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let body = wait_for_health(&base, 503, Duration::from_secs(10)).await;
    assert!(
        body["database"]
            .as_str()
            .unwrap_or_default()
            .contains("damaged"),
        "{body}"
    );
    assert_eq!(body["integrity"], "failed", "{body}");
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(log_file.path()).unwrap();
    assert!(log.contains("THE DATABASE IS DAMAGED"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_relay_within_its_grace_period_despite_a_client_that_never_reads() {
    use crate::relay::{spawn_relay_with, SendWith};
    use shared::sync::protocol::ClientMessage;

    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay_with(&[
        "--data-dir".as_ref(),
        dir.path().as_os_str(),
        "--shutdown-grace-secs".as_ref(),
        "2".as_ref(),
    ])
    .await;
    let account = sign_up(&base, "hostile@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;
    for chunk in 0..4u64 {
        let uploads = (chunk * 100..chunk * 100 + 100)
            .map(|i| new_customer(i).0)
            .collect();
        assert!(matches!(
            device.push(uploads).await,
            ServerMessage::Acked { .. }
        ));
    }
    // A client that asks for the whole log again and again and never reads an answer: the
    // relay's sends block once the socket buffers are full.
    let (mut hostile, _) = Device::join(&base, &account).await;
    let mut sent = 0;
    for request_id in 0..400 {
        let pull = ClientMessage::Pull {
            request_id,
            since: Seq(0),
            max_entries: 1000,
        };
        match tokio::time::timeout(Duration::from_millis(500), hostile.socket.send_with(&pull))
            .await
        {
            Ok(true) => sent += 1,
            _ => break,
        }
    }
    assert!(sent > 0);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let elapsed = started.elapsed();
    assert!(
        status.is_some(),
        "the relay was still running 15 s after SIGTERM (grace period 2 s)"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "SIGTERM took {elapsed:?} with a grace period of 2 s"
    );
    println!(
        "RELIABILITY-ROW SIGTERM with a client that never reads ({sent} unread pulls of the whole log queued): exited after {:.2} s (grace period 2 s)",
        elapsed.as_secs_f64()
    );
    drop(hostile);
}

/// A TCP connection to `base` from the loopback address `from` (127.0.0.x).
async fn connect_from(from: &str, base: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let address = base.trim_start_matches("http://").parse().unwrap();
    socket.connect(address).await.unwrap()
}

/// Reads until the peer closes (or `within` passes); returns what arrived, `None` on timeout.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_and_sockets_that_never_sign_in_are_dropped_at_their_deadline() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = crate::relay::spawn_relay_with(&[
        "--data-dir".as_ref(),
        dir.path().as_os_str(),
        "--header-timeout-secs".as_ref(),
        "1".as_ref(),
    ])
    .await;
    // Half a request head: closed after the deadline, not held forever.
    let mut half = connect_from("127.0.0.1", &base).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        read_until_closed(&mut half, Duration::from_secs(5))
            .await
            .is_some(),
        "a half-sent request head was still open after 5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));

    // A WebSocket that answers pings but never says Hello: closed with a reason.
    let mut socket = crate::relay::connect(&base).await;
    let started = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        use futures_util::StreamExt;
        while let Some(message) = socket.next().await {
            match message {
                Ok(tokio_tungstenite::tungstenite::Message::Binary(bytes)) => {
                    if let Ok(ServerMessage::Error { message, .. }) =
                        shared::sync::protocol::decode::<ServerMessage>(&bytes)
                    {
                        assert!(message.contains("Hello"), "{message}");
                    }
                }
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a socket without Hello was still open after 5 s"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_sockets_from_one_address_under_a_1024_file_limit_locks_out_nobody_else() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_file = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(fieldbook_binary());
    command
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--static-dir", "/nonexistent", "--log", "server=info"])
        .args(["--header-timeout-secs", "3"])
        .stdout(std::fs::File::create(log_file.path()).unwrap())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; runs in the child before exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = RelayProcess(command.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    wait_for_health(&base, 200, Duration::from_secs(10)).await;

    // 1,000 sockets from one address that never send a byte.
    let mut flood = Vec::new();
    for _ in 0..1000 {
        flood.push(connect_from("127.0.0.2", &base).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Everyone else still gets in: health, sign-up, sync.
    let started = Instant::now();
    assert_eq!(health(&base).await.0, 200);
    let account = sign_up(&base, "crowded@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;
    assert!(matches!(
        device.push(vec![new_customer(1).0]).await,
        ServerMessage::Acked { .. }
    ));
    let answered_in = started.elapsed();
    assert!(answered_in < Duration::from_secs(5));
    // Past the cap the flood was answered 503 with the reason and closed at once.
    let mut refused = 0;
    for stream in flood.iter_mut().rev().take(100) {
        if let Some(answer) = read_until_closed(stream, Duration::from_millis(200)).await {
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            assert!(
                answer.contains("too many connections from this address"),
                "{answer}"
            );
            refused += 1;
        }
    }
    assert_eq!(refused, 100, "the newest sockets of the flood were refused");
    println!(
        "RELIABILITY-ROW 1,000 idle sockets from one address, open-file limit 1024: health, sign-up and a push of another client answered in {:.2} s; the flood's newest sockets refused with 503",
        answered_in.as_secs_f64()
    );
    // The admitted ones are dropped at the request-head deadline.
    let mut first = flood.swap_remove(0);
    assert!(read_until_closed(&mut first, Duration::from_secs(6))
        .await
        .is_some());
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(log_file.path()).unwrap();
    assert!(log.contains("open_file_limit=1024"), "{log}");
    assert!(log.contains("connection refused"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_past_its_quota_is_refused_clearly_others_are_not_and_a_raised_quota_lets_it_in() {
    use crate::relay::spawn_relay_with;
    let dir = tempfile::tempdir().unwrap();
    let flags = |quota: &'static str| {
        vec![
            "--data-dir".as_ref(),
            dir.path().as_os_str(),
            "--space-quota-mb".as_ref(),
            std::ffi::OsStr::new(quota),
        ]
    };
    let (mut child, base) = spawn_relay_with(&flags("1")).await;
    let greedy = sign_up(&base, "greedy@example.com", "Phone").await;
    let modest = sign_up(&base, "modest@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &greedy).await;
    let mut next = 0u64;
    let (code, message, refused) = loop {
        assert!(next < 20_000, "the quota never applied");
        let uploads: Vec<_> = (next..next + 50).map(|i| new_customer(i).0).collect();
        next += 50;
        match device.push(uploads.clone()).await {
            ServerMessage::Acked { .. } => {}
            ServerMessage::Rejected { code, message, .. } => break (code, message, uploads),
            other => panic!("unexpected answer {other:?}"),
        }
    };
    assert_eq!(code, ErrorCode::QuotaExceeded);
    assert!(message.contains("of its 1.0 MiB"), "{message}");
    // Nothing of the refused push was stored; another account is not affected.
    let (mut other, _) = Device::join(&base, &modest).await;
    assert!(matches!(
        other.push(vec![new_customer(1).0]).await,
        ServerMessage::Acked { .. }
    ));
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();

    // The operator raises the quota: the device's retry is stored, every blob once.
    let (mut child, base) = spawn_relay_with(&flags("3")).await;
    let (mut device, head_before) = Device::join(&base, &greedy).await;
    let ServerMessage::Acked { results, head, .. } = device.push(refused.clone()).await else {
        panic!("still refused under a raised quota")
    };
    assert!(results.iter().all(|r| !r.duplicate));
    assert_eq!(head.0, head_before.0 + refused.len() as u64);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_list_comes_in_bounded_pages_with_the_total_in_a_header() {
    use crate::relay::sign_in;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay(dir.path()).await;
    let phone = sign_up(&base, "many@example.com", "Phone").await;
    for i in 0..5 {
        sign_in(&base, "many@example.com", &format!("Tablet {i}")).await;
    }
    let get = |query: &str| {
        reqwest::Client::new()
            .get(format!("{base}/api/devices{query}"))
            .bearer_auth(&phone.token)
            .send()
    };
    let page = get("?limit=2").await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-total-count"], "6");
    let devices: Vec<serde_json::Value> = page.json().await.unwrap();
    assert_eq!(devices.len(), 2);
    let rest: Vec<serde_json::Value> = get("?limit=2&offset=4")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    assert!(rest.iter().all(|d| !devices.contains(d)));
    let all: Vec<serde_json::Value> = get("").await.unwrap().json().await.unwrap();
    assert_eq!(
        all.len(),
        6,
        "the default page holds a normal account's devices"
    );
    let huge: Vec<serde_json::Value> = get("?limit=100000").await.unwrap().json().await.unwrap();
    assert_eq!(huge.len(), 6);
    let bad = get("?limit=lots").await.unwrap();
    assert_eq!(bad.status(), 400);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_pushes_commits_and_refusals_for_allowed_addresses_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay(dir.path()).await;
    let account = sign_up(&base, "metrics@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;
    let uploads = (0..3).map(|i| new_customer(i).0).collect();
    assert!(matches!(
        device.push(uploads).await,
        ServerMessage::Acked { .. }
    ));
    let wrong = reqwest::Client::new()
        .post(format!("{base}/api/signin"))
        .json(&serde_json::json!({ "email": "metrics@example.com", "password": "nope nope", "device_name": "X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    for line in [
        "fieldbook_pushes_acked_total 1",
        "fieldbook_blobs_stored_total 3",
        "fieldbook_commit_seconds_count 1",
        "fieldbook_signin_refusals_total{reason=\"wrong_credentials\"} 1",
        "fieldbook_healthy 1",
        "fieldbook_build_info{version=",
    ] {
        assert!(text.contains(line), "{line} missing in:\n{text}");
    }
    let open: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("fieldbook_connections_open "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(open >= 1, "{text}");
    // Through a proxy that is not trusted (it forwards a public client): refused.
    let forwarded = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .header("x-forwarded-for", "203.0.113.50")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 403);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_past_every_position_is_after_everything_and_a_padded_change_is_refused() {
    use shared::sync::protocol::{BlobKind, DocumentId, Upload};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay(dir.path()).await;
    let account = sign_up(&base, "edges@example.com", "Phone").await;
    let (mut device, _) = Device::join(&base, &account).await;
    let (snapshot, mut doc) = new_customer(1);
    assert!(matches!(
        device.push(vec![snapshot]).await,
        ServerMessage::Acked { .. }
    ));
    // 2^63 and u64::MAX were read as "from the start" (a wrapped negative position).
    for since in [1u64 << 63, u64::MAX] {
        let ServerMessage::Entries { entries, head, .. } = device.pull(Seq(since), 100).await
        else {
            panic!("expected entries")
        };
        assert!(
            entries.is_empty(),
            "cursor {since} got {} entries",
            entries.len()
        );
        assert_eq!(head, Seq(1));
    }
    // A real change carrying ~64 KiB of trailing bytes (the format's room for anything).
    let change = crate::relay::edit(&mut doc, "Buyer").bytes;
    let mut expanded = automerge::Change::try_from(change.as_slice())
        .unwrap()
        .decode();
    expanded.extra_bytes = vec![0xAB; 64 * 1024];
    let padded = automerge::Change::from(expanded).raw_bytes().to_vec();
    let upload = Upload {
        document: DocumentId(doc.customer().id.to_string()),
        kind: BlobKind::Change,
        bytes: padded,
    };
    match device.push(vec![upload]).await {
        ServerMessage::Rejected { code, message, .. } => {
            assert_eq!(code, ErrorCode::InvalidBlob);
            assert!(message.contains("trailing"), "{message}");
        }
        other => panic!("a padded change was not refused: {other:?}"),
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_named_client_counts_and_missing_assets_are_404s() {
    let dir = tempfile::tempdir().unwrap();
    let static_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        static_dir.path().join("index.html"),
        "<!doctype html><title>Fieldbook</title><p>shell</p>",
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(fieldbook_binary())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--static-dir")
        .arg(static_dir.path())
        .args(["--trusted-proxy", "127.0.0.1/32", "--log", "warn"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(RelayProcess)
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_for_health(&base, 200, Duration::from_secs(10)).await;
    let client = reqwest::Client::new();

    // A hashed asset of another build (a rolling deploy): a 404 never cached, never the
    // app's HTML; an unknown API path: a JSON 404.
    for path in [
        "/fieldbook-client-fedcba9876543210_bg.wasm",
        "/fieldbook-engine_bg.wasm",
    ] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert!(!response.text().await.unwrap().contains("shell"), "{path}");
    }
    let shell = client
        .get(format!("{base}/customers/x"))
        .send()
        .await
        .unwrap();
    assert!(
        shell.text().await.unwrap().contains("shell"),
        "app routes get the shell"
    );
    let api = client
        .get(format!("{base}/api/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    // The proxy (loopback, trusted) names the client: a public client is not allowed the
    // metrics, a loopback one is (without --trusted-proxy the same header is refused
    // outright: metrics_count_pushes_commits_and_refusals_for_allowed_addresses_only).
    let through = |client_address: &'static str| {
        client
            .get(format!("{base}/metrics"))
            .header("x-forwarded-for", client_address)
            .send()
    };
    assert_eq!(through("203.0.113.50").await.unwrap().status(), 403);
    assert_eq!(through("127.0.0.1").await.unwrap().status(), 200);
    drop(child);
}
