//! Several relay processes (the real binary) sharing one PostgreSQL database: a phone on
//! relay 1 and a tablet on relay 2 see each other's changes live and after being offline,
//! revocation reaches every relay, a listener that lost its connection catches up,
//! concurrent pushes through both relays never leave a gap a cursor could skip, and
//! killing one relay loses no acknowledged change while its devices resume on the other.

use std::collections::BTreeMap;
use std::time::Duration;

use shared::sync::protocol::{ErrorCode, Seq, ServerMessage, SpaceId};
use sqlx::Connection;

use crate::relay::{
    edit, fresh_pg_database, new_customer, post, sign_in, sign_up, spawn_relay_on, Acked, Device,
    Pushers, RelayProcess,
};

/// Two relays on one fresh database.
async fn two_relays() -> (String, [(RelayProcess, String); 2]) {
    let url = fresh_pg_database().await;
    // One after the other: the second finds the schema migrated (both would be safe: the
    // migrator holds an advisory lock).
    let first = spawn_relay_on(&url).await;
    let second = spawn_relay_on(&url).await;
    (url, [first, second])
}

fn stop(relays: [(RelayProcess, String); 2]) {
    for (mut child, _) in relays {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Every entry of the space from `since`, page by page, checking that pages continue
/// exactly where the cursor stands.
async fn pull_all(device: &mut Device, since: Seq) -> Vec<shared::sync::protocol::LogEntry> {
    let mut cursor = since;
    let mut all = Vec::new();
    loop {
        let ServerMessage::Entries { entries, head, .. } = device.pull(cursor, 500).await else {
            panic!("expected entries")
        };
        for entry in entries {
            assert_eq!(entry.seq.0, cursor.0 + 1, "a cursor would skip a row");
            cursor = entry.seq;
            all.push(entry);
        }
        if cursor >= head {
            return all;
        }
    }
}

/// The next wake-up, skipping nothing else (fails on any other message or after 10 s).
async fn next_wake(device: &mut Device) -> Seq {
    match device.recv().await {
        ServerMessage::Wake { head } => head,
        other => panic!("expected a wake-up, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_on_one_relay_and_a_tablet_on_another_see_each_others_edits() {
    let (_, relays) = two_relays().await;
    let (one, two) = (&relays[0].1, &relays[1].1);
    let phone_account = sign_up(one, "rep@example.com", "Phone").await;
    // Signed in through the other relay: accounts live in the shared database.
    let tablet_account = sign_in(two, "rep@example.com", "Tablet").await;
    assert_eq!(phone_account.space_id, tablet_account.space_id);
    let (mut phone, _) = Device::join(one, &phone_account).await;
    let (mut tablet, _) = Device::join(two, &tablet_account).await;

    // Live, both ways: a commit on one relay wakes the device on the other.
    let (upload, mut doc) = new_customer(1);
    phone.push(vec![upload.clone()]).await;
    assert_eq!(next_wake(&mut tablet).await, Seq(1));
    let entries = pull_all(&mut tablet, Seq(0)).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].bytes, upload.bytes);
    let reply = edit(&mut doc, "Buyer");
    tablet.push(vec![reply.clone()]).await;
    assert_eq!(next_wake(&mut phone).await, Seq(2));
    assert_eq!(pull_all(&mut phone, Seq(1)).await[0].bytes, reply.bytes);

    // Offline: the tablet goes away, the phone goes on; back on relay 2, it catches up.
    drop(tablet);
    let mut offline_edits = Vec::new();
    for i in 0..5 {
        let change = edit(&mut doc, &format!("Offline edit {i}"));
        phone.push(vec![change.clone()]).await;
        offline_edits.push(change.bytes);
    }
    let (mut tablet, head) = Device::join(two, &tablet_account).await;
    assert_eq!(head, Seq(7));
    let caught_up: Vec<Vec<u8>> = pull_all(&mut tablet, Seq(2))
        .await
        .into_iter()
        .map(|entry| entry.bytes)
        .collect();
    assert_eq!(caught_up, offline_edits);

    // Revoking the tablet through relay 1 closes its socket on relay 2 at once.
    let revoked = post(
        one,
        &format!("/api/devices/{}/revoke", tablet_account.device_id),
        serde_json::json!({}),
        Some(&phone_account.token),
    )
    .await;
    assert_eq!(revoked.status(), 204, "{:?}", revoked.text().await);
    let message = tablet.recv().await;
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                code: ErrorCode::Revoked,
                ..
            }
        ),
        "{message:?}"
    );
    assert_eq!(tablet.closed().await, Some(1008));
    stop(relays);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_whose_listener_reconnects_still_wakes_its_devices() {
    let (url, relays) = two_relays().await;
    let (one, two) = (&relays[0].1, &relays[1].1);
    let account = sign_up(one, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(one, &account).await;
    let (mut tablet, _) = Device::join(two, &sign_in(two, "rep@example.com", "Tablet").await).await;
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    for round in 1..=3u64 {
        // Both relays must be listening before the cut: the previous round's listeners
        // reconnect on their own schedule (backoff), so cutting at once could find one.
        listeners_up(&mut admin).await;
        // Cut every relay's listener connection, then commit at once on relay 1: whether
        // the notification reaches relay 2's new listener or is lost while it reconnects,
        // the tablet is woken (by the notification or by the resynchronisation).
        let cut: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'fieldbook-listener' AND datname = current_database()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(cut.len(), 2, "one listener per relay");
        phone.push(vec![new_customer(round).0]).await;
        let mut woken = next_wake(&mut tablet).await;
        while woken < Seq(round) {
            woken = next_wake(&mut tablet).await;
        }
        assert_eq!(woken, Seq(round));
        let entries = pull_all(&mut tablet, Seq(round - 1)).await;
        assert_eq!(entries.len(), 1);
    }
    // The listeners are back.
    listeners_up(&mut admin).await;
    stop(relays);
}

/// Waits (up to 20 s) until both relays have a listener connection, and fails otherwise.
async fn listeners_up(admin: &mut sqlx::PgConnection) {
    let mut listening = 0;
    for _ in 0..400 {
        listening = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE application_name = 'fieldbook-listener' AND datname = current_database()",
        )
        .fetch_one(&mut *admin)
        .await
        .unwrap();
        if listening == 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{listening} of 2 relays listening after 20 s");
}

#[tokio::test]
async fn resynchronising_wakes_every_live_space_at_its_head_closes_revoked_devices_and_ends_team_sessions(
) {
    // The mechanism a reconnected listener relies on, without the race: a hub with live
    // connections, a database that moved on meanwhile.
    let url = fresh_pg_database().await;
    let db = server::db::open(&server::db::DatabaseTarget::Postgres(url))
        .await
        .unwrap();
    let server::db::Database::Postgres(pool) = &db else {
        unreachable!()
    };
    for statement in [
        "INSERT INTO accounts (id, email, password_hash, created_at) VALUES ('a', 'a@example.com', 'x', 0)",
        "INSERT INTO spaces (id, owner, head, created_at) VALUES ('s', 'a', 41, 0)",
        "INSERT INTO spaces (id, owner, head, created_at) VALUES ('quiet', 'a', 0, 0)",
        "INSERT INTO devices (id, account, name, token_hash, created_at, last_seen_at, revoked_at) \
         VALUES ('lost-phone', 'a', 'Phone', '\\x01', 0, 0, 5), ('tablet', 'a', 'Tablet', '\\x02', 0, 0, NULL)",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    let (store, writer) = server::store::LogStore::start(
        db.clone(),
        "r".into(),
        std::sync::Arc::new(server::health::Health::default()),
        std::sync::Arc::new(server::metrics::Metrics::default()),
        server::store::DEFAULT_SPACE_QUOTA_BYTES,
        std::sync::Arc::new(server::hub::Hub::default()),
    );
    let hub = server::hub::Hub::default();
    let connection = || {
        (
            std::sync::Arc::new(server::hub::Signals::default()),
            tokio_util::sync::CancellationToken::new(),
        )
    };
    let (phone, phone_revoked) = connection();
    let (tablet, tablet_revoked) = connection();
    let space = SpaceId("s".into());
    hub.register(
        &space,
        "lost-phone",
        None,
        None,
        phone.clone(),
        phone_revoked.clone(),
    );
    hub.register(
        &space,
        "tablet",
        None,
        Some(3),
        tablet.clone(),
        tablet_revoked.clone(),
    );
    // The tablet's session of a team's space: a membership change may have been missed
    // while the relay heard nothing, so it ends and the device comes back under the
    // current rules.
    hub.register(
        &SpaceId("quiet".into()),
        "tablet",
        Some(("a".to_string(), "team".to_string())),
        Some(4),
        tablet.clone(),
        tablet_revoked.clone(),
    );
    server::fanout::resync(pool, &hub, &store).await;
    let tablet_signal = tablet.take();
    assert_eq!(tablet_signal.access_changed, vec![Some(4)]);
    assert_eq!(
        tablet_signal.heads,
        vec![(Some(3), Seq(41)), (Some(4), Seq(0))]
    );
    assert_eq!(phone.take().heads, vec![(None, Seq(41))]);
    assert!(
        phone_revoked.is_cancelled(),
        "revoked while unheard: closed now"
    );
    assert!(!tablet_revoked.is_cancelled());
    drop(store);
    writer.await.unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_through_two_relays_never_leave_a_cursor_gap() {
    let (_, relays) = two_relays().await;
    let bases = [relays[0].1.clone(), relays[1].1.clone()];
    let first = sign_up(&bases[0], "rep@example.com", "Device 0").await;
    let mut accounts = vec![first];
    for i in 1..8 {
        accounts.push(sign_in(&bases[i % 2], "rep@example.com", &format!("Device {i}")).await);
    }
    let reader_account = sign_in(&bases[1], "rep@example.com", "Reader").await;
    const PER_DEVICE: u64 = 60;
    let acked: Acked = Acked::default();
    let mut writers = Vec::new();
    for (d, account) in accounts.iter().enumerate() {
        let (mut device, _) = Device::join(&bases[d % 2], account).await;
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..PER_DEVICE {
                let upload = new_customer(d as u64 * 1_000 + i).0;
                let ServerMessage::Acked { results, .. } = device.push(vec![upload.clone()]).await
                else {
                    panic!("push refused")
                };
                assert!(!results[0].duplicate);
                let previous = acked.lock().unwrap().insert(results[0].seq.0, upload.bytes);
                assert!(previous.is_none(), "two changes acknowledged at one seq");
            }
        }));
    }
    // Meanwhile a reader follows the log the way a device does: pull from its cursor,
    // advance the cursor to the last entry received. Every page must start right after it.
    let (mut reader, _) = Device::join(&bases[1], &reader_account).await;
    let mut cursor = Seq(0);
    let mut seen = BTreeMap::new();
    let mut pulls = 0;
    while !writers.iter().all(|writer| writer.is_finished()) {
        let ServerMessage::Entries { entries, .. } = reader.pull(cursor, 7).await else {
            panic!("expected entries")
        };
        pulls += 1;
        for entry in entries {
            assert_eq!(
                entry.seq.0,
                cursor.0 + 1,
                "the reader's cursor skipped a row (pull {pulls})"
            );
            cursor = entry.seq;
            seen.insert(entry.seq.0, entry.bytes);
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    for entry in pull_all(&mut reader, cursor).await {
        seen.insert(entry.seq.0, entry.bytes);
    }
    let total = accounts.len() as u64 * PER_DEVICE;
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len() as u64, total);
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "gap-free from 1"
    );
    assert_eq!(seen, acked, "every acknowledged change at its position");
    assert!(
        pulls > 10,
        "the reader pulled while the writers pushed ({pulls} pulls)"
    );
    stop(relays);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_relay_loses_no_acknowledged_change_and_its_devices_resume_on_the_other() {
    let (_, relays) = two_relays().await;
    let [(mut doomed, one), (survivor, two)] = relays;
    let mut pushers = Pushers::start(&one).await;
    pushers.until_acked(150).await;
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let acked = pushers.finish().await;
    let (accounts, all_uploads) = (pushers.accounts, pushers.uploads);
    assert!(acked.len() >= 150 && acked.len() < 1600, "killed mid-way");

    // On the surviving relay: every acknowledged change, at its position, no gap.
    let (mut reader, _) = Device::join(&two, &accounts[0]).await;
    let log: BTreeMap<u64, Vec<u8>> = pull_all(&mut reader, Seq(0))
        .await
        .into_iter()
        .map(|entry| (entry.seq.0, entry.bytes))
        .collect();
    for (seq, bytes) in &acked {
        assert_eq!(
            log.get(seq),
            Some(bytes),
            "acknowledged change at {seq} lost"
        );
    }
    // The devices reconnect to relay 2 and push again what was not acknowledged (here:
    // everything; what is stored is recognised), and the reader hears of it live.
    for (d, account) in accounts.iter().enumerate() {
        let (mut device, _) = Device::join(&two, account).await;
        for chunk in all_uploads[d].chunks(500) {
            assert!(matches!(
                device.push(chunk.to_vec()).await,
                ServerMessage::Acked { .. }
            ));
        }
    }
    let mut woken = next_wake(&mut reader).await;
    while woken < Seq(1600) {
        woken = next_wake(&mut reader).await;
    }
    assert_eq!(woken, Seq(1600), "every customer stored exactly once");
    stop([(survivor, two), (doomed, one)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_team_member_through_one_relay_closes_her_session_on_the_other() {
    let (_, relays) = two_relays().await;
    let (one, two) = (&relays[0].1, &relays[1].1);
    let admin = sign_up(one, "ada@example.com", "Tablet").await;
    let rep = sign_up(two, "rita@example.com", "Phone").await;
    let client = reqwest::Client::new();
    let team: shared::sync::team::TeamInfo = client
        .post(format!("{one}/api/teams"))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({ "name": "Acme" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let territory = team.territories[0].space.clone();
    let invite: shared::sync::team::NewInvite = client
        .post(format!("{one}/api/teams/{}/invites", team.id))
        .bearer_auth(&admin.token)
        .json(&serde_json::json!({ "role": "rep", "territories": [territory] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Joined through the other relay.
    let joined = post(
        two,
        "/api/invites/accept",
        serde_json::json!({ "code": invite.code }),
        Some(&rep.token),
    )
    .await;
    assert_eq!(joined.status(), 200, "{:?}", joined.text().await);
    let on_territory = crate::relay::Account {
        space_id: territory.clone(),
        ..rep.clone()
    };
    let (mut phone, _) = Device::join(two, &on_territory).await;
    let removed = client
        .delete(format!(
            "{one}/api/teams/{}/members/{}",
            team.id, rep.account_id
        ))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let message = phone.recv().await;
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                code: ErrorCode::AccessChanged,
                ..
            }
        ),
        "{message:?}"
    );
    stop(relays);
}
