//! Killing the relay process (SIGKILL) while devices push: every acknowledged change is
//! still there after a restart on the same data, the log has no gaps, and the devices
//! resume by pushing again what was not acknowledged.

use std::collections::BTreeMap;

use shared::sync::protocol::{Seq, ServerMessage};

use crate::relay::{spawn_relay, whole_log, Account, Device, Pushers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_pushes_loses_no_acknowledged_change() {
    let data_dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_relay(data_dir.path()).await;
    let mut pushers = Pushers::start(&base).await;
    // Let pushes flow, then kill the process without warning.
    pushers.until_acked(150).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let acked = pushers.finish().await;
    let (accounts, all_uploads) = (pushers.accounts, pushers.uploads);
    assert!(acked.len() >= 150);

    // Restart on the same file: every acknowledged change is there, at its position.
    let (mut child, base) = spawn_relay(data_dir.path()).await;
    assert_all_there(&base, &accounts[0], &acked).await;
    // The devices resume: pushing everything again stores each blob once.
    for (d, account) in accounts.iter().enumerate() {
        let (mut device, _) = Device::join(&base, account).await;
        for chunk in all_uploads[d].chunks(500) {
            assert!(matches!(
                device.push(chunk.to_vec()).await,
                ServerMessage::Acked { .. }
            ));
        }
    }
    let (_, head) = Device::join(&base, &accounts[0]).await;
    assert_eq!(head, Seq(1600), "every customer stored exactly once");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Reads the whole log of `account`'s space and checks that every blob of `acked` is at its
/// position and that there is no gap.
async fn assert_all_there(base: &str, account: &Account, acked: &BTreeMap<u64, Vec<u8>>) {
    let (mut reader, head) = Device::join(base, account).await;
    let log: BTreeMap<u64, Vec<u8>> = whole_log(&mut reader, head).await.into_iter().collect();
    for (seq, bytes) in acked {
        assert_eq!(
            log.get(seq),
            Some(bytes),
            "acknowledged change at {seq} lost"
        );
    }
}

/// `FIELDBOOK_KILL_ROUNDS` rounds (default 100) on one data file: start the relay, four
/// devices of a new account push, SIGKILL at a moment that differs each round; after every
/// restart each change acknowledged in the round before is at its position, and at the end
/// every change acknowledged in any round. Run by `scripts/reliability.sh` (RELIABILITY.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: scripts/reliability.sh"]
async fn sigkill_rounds_lose_no_acknowledged_change() {
    let rounds: usize = std::env::var("FIELDBOOK_KILL_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let data_dir = tempfile::tempdir().unwrap();
    let mut history: Vec<(Account, BTreeMap<u64, Vec<u8>>)> = Vec::new();
    let started = std::time::Instant::now();
    for round in 0..rounds {
        let (mut child, base) = spawn_relay(data_dir.path()).await;
        if let Some((account, acked)) = history.last() {
            assert_all_there(&base, account, acked).await;
        }
        let mut pushers = Pushers::start_as(&base, &format!("rep{round}@example.com")).await;
        pushers.until_acked(20 + (round * 37) % 300).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let acked = pushers.finish().await;
        history.push((pushers.accounts[0].clone(), acked));
    }
    let (mut child, base) = spawn_relay(data_dir.path()).await;
    let mut total = 0;
    for (account, acked) in &history {
        assert_all_there(&base, account, acked).await;
        total += acked.len();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    println!(
        "RELIABILITY-ROW kill -9 rounds: {rounds} rounds, {total} acknowledged changes checked, 0 lost, in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}
