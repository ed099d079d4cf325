//! The relay over real sockets, on SQLite and on PostgreSQL: accounts, push/ack/pull, idempotency, pages, wake-ups,
//! bootstrap, auth failures, revocation and every kind of bad input.

use shared::sync::protocol::{
    encode, BlobKind, BootstrapPhase, ClientMessage, DocumentId, EntryProjection, ErrorCode, Seq,
    ServerMessage, SpaceId, Upload,
};
use shared::sync::{blob, MemoryLog};

use crate::relay::{self, connect, edit, new_customer, post, sign_in, sign_up, Backend, Device};

crate::on_both_backends!(
    accounts_sign_up_sign_in_and_refuse_bad_input,
    sign_in_attempts_are_rate_limited,
    push_is_acked_durably_idempotent_and_pulled_in_pages,
    a_commit_wakes_the_other_devices_of_the_space_only,
    bootstrap_sends_latest_snapshots_then_the_uncovered_tail_like_the_reference,
    wrong_foreign_and_revoked_tokens_are_refused_and_revoking_closes_the_socket,
    bad_input_gets_a_clear_error_stores_nothing_and_spares_other_connections,
    an_idle_reconnect_is_one_small_round_trip_whatever_the_book_size,
    erasing_a_document_empties_its_entries_frees_its_quota_and_refuses_later_changes,
    a_change_pushed_with_its_projection_is_pulled_with_it_and_a_bootstrap_leaves_it_out,
);

async fn accounts_sign_up_sign_in_and_refuse_bad_input(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let phone = sign_up(base, "Rep@Example.com ", "Phone").await;
    let tablet = sign_in(base, "rep@example.com", "Tablet").await;
    assert_eq!(phone.account_id, tablet.account_id);
    assert_eq!(phone.space_id, tablet.space_id);
    assert_ne!(phone.token, tablet.token);
    assert!(phone.token.starts_with("fb1_") && phone.token.len() == 68);

    // The token is stored hashed, never in clear.
    if backend == Backend::Sqlite {
        let db = std::fs::read(relay.data_dir.path().join("fieldbook.sqlite")).unwrap();
        let needle = phone.token.as_bytes();
        assert!(!db.windows(needle.len()).any(|w| w == needle));
    }

    // Signing up again does not tell whether the email has an account: a wrong password is
    // "wrong email or password", the right one signs in.
    let again = post(
        base,
        "/api/signup",
        serde_json::json!({ "email": "rep@example.com", "password": "another one", "device_name": "X" }),
        None,
    )
    .await;
    assert_eq!(again.status(), 401);
    let body: serde_json::Value = again.json().await.unwrap();
    assert_eq!(body["error"], "wrong_credentials");
    let again = post(
        base,
        "/api/signup",
        serde_json::json!({ "email": "rep@example.com", "password": "correct horse", "device_name": "Laptop" }),
        None,
    )
    .await;
    assert_eq!(again.status(), 200);
    let laptop: relay::Account = again.json().await.unwrap();
    assert_eq!(laptop.space_id, phone.space_id);
    let invalid = post(
        base,
        "/api/signup",
        serde_json::json!({ "email": "not an email", "password": "short", "device_name": "" }),
        None,
    )
    .await;
    assert_eq!(invalid.status(), 400);
    let body: serde_json::Value = invalid.json().await.unwrap();
    for field in ["email", "password", "device_name"] {
        assert!(body["fields"][field].is_string(), "{body}");
    }
    // NUL and control characters are refused in emails and device names.
    let controls = post(
        base,
        "/api/signup",
        serde_json::json!({ "email": "ctl\u{0}x@example.com", "password": "correct horse", "device_name": "Phone\u{7}" }),
        None,
    )
    .await;
    assert_eq!(controls.status(), 400);
    let body: serde_json::Value = controls.json().await.unwrap();
    assert!(body["fields"]["email"].is_string(), "{body}");
    assert!(body["fields"]["device_name"].is_string(), "{body}");
    assert!(
        !body.to_string().contains("\\u0000"),
        "no control character echoed: {body}"
    );
    let garbage = reqwest::Client::new()
        .post(format!("{base}/api/signin"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let wrong = post(
        base,
        "/api/signin",
        serde_json::json!({ "email": "rep@example.com", "password": "wrong password", "device_name": "X" }),
        None,
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let unknown = post(
        base,
        "/api/signin",
        serde_json::json!({ "email": "nobody@example.com", "password": "whatever1", "device_name": "X" }),
        None,
    )
    .await;
    assert_eq!(unknown.status(), 401);
    relay.stop().await;
}

async fn sign_in_attempts_are_rate_limited(backend: Backend) {
    let relay = relay::start_on(backend, |config| {
        config.signin_attempts = 1;
        config.connections.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let base = &relay.base_url;
    sign_up(base, "rep@example.com", "Phone").await;
    let attempt = |email: String, password: &'static str, client: &'static str| {
        reqwest::Client::new()
            .post(format!("{base}/api/signin"))
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({ "email": email, "password": password, "device_name": "X" }))
            .send()
    };
    // One free failure for the account, then a wait that doubles: no lockout of the owner.
    let guess = || attempt("rep@example.com".into(), "guess guess", "198.51.100.1");
    assert_eq!(guess().await.unwrap().status(), 401);
    let limited = guess().await.unwrap();
    assert_eq!(limited.status(), 429);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 1, "the first delay is a second");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(guess().await.unwrap().status(), 401);
    let limited = guess().await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "2", "then two");
    // The owner with the right password waits seconds, not 15 minutes, and is let in;
    // her success forgets the account's failures.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let owner = attempt("rep@example.com".into(), "correct horse", "203.0.113.9")
        .await
        .unwrap();
    assert_eq!(owner.status(), 200);
    assert_eq!(
        guess().await.unwrap().status(),
        401,
        "failures were forgotten"
    );

    // Per address, counted for the client a trusted proxy names: ten free failures for
    // 192.0.2.7 (any accounts), then it waits; another client behind the same proxy does not.
    for i in 0..10 {
        let status = attempt(format!("nobody{i}@example.com"), "whatever1", "192.0.2.7")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let limited = attempt("nobody99@example.com".into(), "whatever1", "192.0.2.7")
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let other = attempt("nobody98@example.com".into(), "whatever1", "192.0.2.8")
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    relay.stop().await;
}

async fn push_is_acked_durably_idempotent_and_pulled_in_pages(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, head) = Device::join(base, &account).await;
    assert_eq!(head, Seq(0));

    let mut uploads = Vec::new();
    let mut docs = Vec::new();
    for i in 0..5 {
        let (upload, doc) = new_customer(i);
        uploads.push(upload);
        docs.push(doc);
    }
    let change = edit(&mut docs[0], "Buyer");
    uploads.push(change.clone());
    let ServerMessage::Acked { results, head, .. } = phone.push(uploads.clone()).await else {
        panic!("expected an ack")
    };
    assert_eq!(head, Seq(6));
    assert_eq!(
        results.iter().map(|r| r.seq.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert!(results.iter().all(|r| !r.duplicate));

    // The same push again stores nothing new.
    let ServerMessage::Acked { results, head, .. } =
        phone.push(vec![change.clone(), uploads[1].clone()]).await
    else {
        panic!("expected an ack")
    };
    assert_eq!(head, Seq(6));
    assert_eq!(
        results
            .iter()
            .map(|r| (r.seq.0, r.duplicate))
            .collect::<Vec<_>>(),
        [(6, true), (2, true)]
    );

    // Pages of two, gap-free, ending at the head.
    let (mut tablet, head) =
        Device::join(base, &sign_in(base, "rep@example.com", "Tablet").await).await;
    assert_eq!(head, Seq(6));
    let mut cursor = Seq(0);
    let mut pages = 0;
    while cursor < head {
        let ServerMessage::Entries {
            entries, head: h, ..
        } = tablet.pull(cursor, 2).await
        else {
            panic!("expected entries")
        };
        assert_eq!(h, Seq(6));
        assert_eq!(entries.len(), 2);
        for entry in &entries {
            assert_eq!(entry.seq.0, cursor.0 + 1);
            cursor = entry.seq;
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    let ServerMessage::Entries { entries, .. } = tablet.pull(Seq(5), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(entries[0].bytes, change.bytes);
    assert_eq!(entries[0].kind, BlobKind::Change);

    // New blobs around a stored one (a resend after a lost acknowledgement, with edits made
    // since): the new ones take the next numbers, without a gap for the stored one.
    let next = edit(&mut docs[1], "Owner");
    let last = edit(&mut docs[2], "Buyer");
    let ServerMessage::Acked { results, head, .. } = phone
        .push(vec![next.clone(), uploads[3].clone(), last.clone()])
        .await
    else {
        panic!("expected an ack")
    };
    assert_eq!(head, Seq(8));
    assert_eq!(
        results
            .iter()
            .map(|r| (r.seq.0, r.duplicate))
            .collect::<Vec<_>>(),
        [(7, false), (4, true), (8, false)]
    );
    let ServerMessage::Entries { entries, .. } = tablet.pull(Seq(6), 100).await else {
        panic!("expected entries")
    };
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, [7, 8]);
    assert_eq!(entries[1].bytes, last.bytes);
    relay.stop().await;
}

async fn a_commit_wakes_the_other_devices_of_the_space_only(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(base, &account).await;
    let (mut tablet, _) =
        Device::join(base, &sign_in(base, "rep@example.com", "Tablet").await).await;
    let other = sign_up(base, "other@example.com", "Laptop").await;
    let (mut stranger, _) = Device::join(base, &other).await;

    phone.push(vec![new_customer(1).0]).await;
    assert_eq!(tablet.recv().await, ServerMessage::Wake { head: Seq(1) });
    // The stranger's space did not move: its next message is the answer to its own pull.
    let ServerMessage::Entries { entries, head, .. } = stranger.pull(Seq(0), 10).await else {
        panic!("expected entries")
    };
    assert!(entries.is_empty());
    assert_eq!(head, Seq(0));
    relay.stop().await;
}

async fn bootstrap_sends_latest_snapshots_then_the_uncovered_tail_like_the_reference(
    backend: Backend,
) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(base, &account).await;
    let space = SpaceId(account.space_id.clone());
    let mut reference = MemoryLog::new();
    let mut docs = Vec::new();
    let mut pushes: Vec<Vec<Upload>> = Vec::new();
    for i in 0..6 {
        let (upload, doc) = new_customer(i);
        pushes.push(vec![upload]);
        docs.push(doc);
    }
    for round in 0..4 {
        for (i, doc) in docs.iter_mut().enumerate() {
            pushes.push(vec![edit(doc, &format!("job {round} {i}"))]);
        }
        // Snapshots of some documents, covering what was pushed so far.
        let covers = Seq(pushes.len() as u64);
        for doc in docs.iter_mut().step_by(2) {
            pushes.push(vec![Upload {
                document: DocumentId(doc.customer().id.to_string()),
                kind: BlobKind::Snapshot { covers },
                bytes: doc.save(),
            }]);
        }
    }
    for uploads in &pushes {
        let valid: Vec<_> = uploads
            .iter()
            .map(|u| blob::validate(u.clone(), 1 << 20).unwrap())
            .collect();
        reference.append(&space, &valid).unwrap();
        phone.push(uploads.clone()).await;
    }

    let (mut fresh, _) =
        Device::join(base, &sign_in(base, "rep@example.com", "New tablet").await).await;
    let mut position = None;
    let mut expected_position = None;
    let mut received = Vec::new();
    loop {
        let request_id = fresh.next_request;
        fresh.next_request += 1;
        fresh
            .send(&ClientMessage::Bootstrap {
                request_id,
                position: position.clone(),
                max_entries: 3,
            })
            .await;
        let ServerMessage::CompressedBootstrapPage { deflated, .. } =
            fresh.recv_answer(request_id).await
        else {
            panic!("expected a compressed bootstrap page (protocol version 2)")
        };
        let shared::sync::BootstrapPage {
            entries,
            projections,
            next,
            through,
            total_documents,
        } = shared::sync::protocol::inflate_page(&deflated).unwrap();
        let want = reference.bootstrap(&space, expected_position.clone(), 3, 2 << 20);
        assert_eq!(entries, want.entries, "page after {position:?}");
        // What the relay derived from each customer snapshot is what the document holds.
        assert_eq!(projections, want.projections, "page after {position:?}");
        for (entry, projection) in entries.iter().zip(&projections) {
            if matches!(entry.kind, BlobKind::Snapshot { .. }) {
                let mut doc =
                    shared::CustomerDoc::from_remote(&entry.bytes, automerge::ActorId::random())
                        .unwrap();
                let projection = projection
                    .as_ref()
                    .expect("a customer snapshot's projection");
                assert_eq!(
                    shared::model::snapshot::decode_projection(&projection.0),
                    Some((doc.summary(), doc.facts()))
                );
            } else {
                assert_eq!(projection, &None, "a change has no projection");
            }
        }
        assert_eq!(next, want.next);
        assert_eq!(
            (through, total_documents),
            (want.through, want.total_documents)
        );
        assert_eq!(total_documents, 6);
        received.extend(entries);
        if next.is_none() {
            break;
        }
        expected_position = next.clone();
        position = next;
    }
    // The snapshot phase came first, and the whole thing rebuilds every document exactly.
    assert!(matches!(received[0].kind, BlobKind::Snapshot { .. }));
    for doc in docs.iter_mut() {
        let id = doc.customer().id.to_string();
        let mut rebuilt: Option<shared::CustomerDoc> = None;
        for entry in received.iter().filter(|e| e.document.0 == id) {
            match &mut rebuilt {
                None => {
                    rebuilt = Some(
                        shared::CustomerDoc::from_remote(
                            &entry.bytes,
                            automerge::ActorId::random(),
                        )
                        .unwrap(),
                    )
                }
                Some(rebuilt) => {
                    rebuilt.apply_remote(&entry.bytes).unwrap();
                }
            }
        }
        let mut rebuilt = rebuilt.unwrap();
        let (mut a, mut b) = (rebuilt.heads(), doc.heads());
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }
    // Fewer bytes than the whole log.
    let all: usize = reference.all(&space).iter().map(|e| e.bytes.len()).sum();
    let sent: usize = received.iter().map(|e| e.bytes.len()).sum();
    assert!(sent < all, "bootstrap {sent} bytes vs log {all}");
    let _ = BootstrapPhase::Tail { after: Seq(0) };
    relay.stop().await;
}

async fn wrong_foreign_and_revoked_tokens_are_refused_and_revoking_closes_the_socket(
    backend: Backend,
) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let phone = sign_up(base, "rep@example.com", "Phone").await;
    let tablet = sign_in(base, "rep@example.com", "Tablet").await;
    let other = sign_up(base, "other@example.com", "Laptop").await;

    let refused = |account: relay::Account| async move {
        let mut device = Device {
            socket: connect(base).await,
            next_request: 1,
        };
        device
            .send(&ClientMessage::Hello {
                supported_versions: vec![1],
                space: SpaceId(account.space_id.clone()),
                token: account.token.clone(),
            })
            .await;
        let message = device.recv().await;
        let code = device.closed().await;
        (message, code)
    };
    let mut forged = phone.clone();
    forged.token = "fb1_".to_string() + &"0".repeat(64);
    let (message, code) = refused(forged).await;
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                code: ErrorCode::Unauthorized,
                ..
            }
        ),
        "{message:?}"
    );
    assert_eq!(code, Some(1008));
    let mut trespasser = other.clone();
    trespasser.space_id = phone.space_id.clone();
    let (message, _) = refused(trespasser).await;
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ),
        "{message:?}"
    );

    // The tablet is connected; the phone revokes it: its socket closes at once.
    let (mut live_tablet, _) = Device::join(base, &tablet).await;
    let devices: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!("{base}/api/devices"))
        .bearer_auth(&phone.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices
        .iter()
        .any(|d| d["id"] == phone.device_id.as_str() && d["current"] == true));
    let revoke = post(
        base,
        &format!("/api/devices/{}/revoke", tablet.device_id),
        serde_json::json!({}),
        Some(&phone.token),
    )
    .await;
    assert_eq!(revoke.status(), 204);
    let message = live_tablet.recv().await;
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
    assert_eq!(live_tablet.closed().await, Some(1008));
    // …and stays out, on the socket and over HTTP.
    let (message, _) = refused(tablet.clone()).await;
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
    let listed = reqwest::Client::new()
        .get(format!("{base}/api/devices"))
        .bearer_auth(&tablet.token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 401);
    // A device of another account cannot revoke this one.
    let foreign = post(
        base,
        &format!("/api/devices/{}/revoke", phone.device_id),
        serde_json::json!({}),
        Some(&other.token),
    )
    .await;
    assert_eq!(foreign.status(), 403);
    // Signing out revokes the calling device.
    assert_eq!(
        post(
            base,
            "/api/signout",
            serde_json::json!({}),
            Some(&phone.token)
        )
        .await
        .status(),
        204
    );
    let (message, _) = refused(phone).await;
    assert!(matches!(
        message,
        ServerMessage::Error {
            code: ErrorCode::Revoked,
            ..
        }
    ));
    relay.stop().await;
}

async fn bad_input_gets_a_clear_error_stores_nothing_and_spares_other_connections(
    backend: Backend,
) {
    let relay = relay::start_on(backend, |config| config.limits.max_frame_bytes = 64 * 1024).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut bystander, _) =
        Device::join(base, &sign_in(base, "rep@example.com", "Tablet").await).await;

    // Garbage instead of a message.
    let (mut device, _) = Device::join(base, &account).await;
    device.send_raw(vec![0xff, 0xfe, 0x00, 0x13]).await;
    assert!(matches!(
        device.recv().await,
        ServerMessage::Error {
            code: ErrorCode::Malformed,
            ..
        }
    ));
    assert_eq!(device.closed().await, Some(1008));

    // A frame over the limit: the socket closes with "message too big".
    let (mut device, _) = Device::join(base, &account).await;
    device.send_raw(vec![0u8; 100 * 1024]).await;
    assert_eq!(device.closed().await, Some(1009));

    // Blobs that are not Automerge, or too many, are rejected whole: nothing stored.
    let (mut device, _) = Device::join(base, &account).await;
    let (good, _) = new_customer(1);
    let bad = Upload {
        document: DocumentId("c1".into()),
        kind: BlobKind::Change,
        bytes: b"definitely not automerge".to_vec(),
    };
    let answer = device.push(vec![good.clone(), bad]).await;
    assert!(
        matches!(
            answer,
            ServerMessage::Rejected {
                code: ErrorCode::InvalidBlob,
                index: 1,
                ..
            }
        ),
        "{answer:?}"
    );
    let bad_snapshot = Upload {
        kind: BlobKind::Snapshot { covers: Seq(0) },
        ..good.clone()
    };
    let mut corrupt = bad_snapshot.clone();
    let middle = corrupt.bytes.len() / 2;
    corrupt.bytes[middle] ^= 0x55;
    let answer = device.push(vec![corrupt]).await;
    assert!(
        matches!(
            answer,
            ServerMessage::Rejected {
                code: ErrorCode::InvalidBlob,
                ..
            }
        ),
        "{answer:?}"
    );
    let ServerMessage::Entries { entries, head, .. } = device.pull(Seq(0), 10).await else {
        panic!("expected entries")
    };
    assert!(entries.is_empty() && head == Seq(0));
    // The session survives a rejected push.
    assert!(matches!(
        device.push(vec![good]).await,
        ServerMessage::Acked { .. }
    ));

    // Unknown protocol version; a message before hello.
    let mut device = Device {
        socket: connect(base).await,
        next_request: 1,
    };
    device
        .send(&ClientMessage::Hello {
            supported_versions: vec![99],
            space: SpaceId(account.space_id.clone()),
            token: account.token.clone(),
        })
        .await;
    assert!(matches!(
        device.recv().await,
        ServerMessage::Error {
            code: ErrorCode::UnsupportedVersion,
            ..
        }
    ));
    let mut device = Device {
        socket: connect(base).await,
        next_request: 1,
    };
    device
        .send(&ClientMessage::Pull {
            request_id: 1,
            since: Seq(0),
            max_entries: 1,
        })
        .await;
    assert!(matches!(
        device.recv().await,
        ServerMessage::Error {
            code: ErrorCode::UnexpectedMessage,
            ..
        }
    ));

    // The bystander saw only the one real commit.
    assert_eq!(bystander.recv().await, ServerMessage::Wake { head: Seq(1) });
    let ServerMessage::Entries { entries, .. } = bystander.pull(Seq(0), 10).await else {
        panic!("expected entries")
    };
    assert_eq!(entries.len(), 1);
    relay.stop().await;
}

async fn an_idle_reconnect_is_one_small_round_trip_whatever_the_book_size(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(base, &account).await;
    let mut sizes = Vec::new();
    for target in [100u64, 1000] {
        let have = sizes.len() as u64 * 100;
        let batch: Vec<Upload> = (have..target).map(|i| new_customer(i).0).collect();
        for chunk in batch.chunks(500) {
            assert!(matches!(
                phone.push(chunk.to_vec()).await,
                ServerMessage::Acked { .. }
            ));
        }
        let hello = encode(&ClientMessage::Hello {
            supported_versions: vec![1],
            space: SpaceId(account.space_id.clone()),
            token: account.token.clone(),
        });
        let (_, head) = Device::join(base, &account).await;
        let welcome = encode(&ServerMessage::Welcome { version: 1, head });
        assert_eq!(head, Seq(target));
        sizes.push(hello.len() + welcome.len());
    }
    // Same size with 100 and 1,000 documents (up to the head's varint), far below 1 KB.
    assert!(sizes.iter().all(|size| *size < 128), "{sizes:?}");
    assert!(sizes[1] - sizes[0] <= 1, "{sizes:?}");
    relay.stop().await;
}

/// The relay's files (SQLite: the database and its write-ahead log) hold `needle`.
fn stored_on_disk(relay: &relay::Relay, needle: &[u8]) -> bool {
    ["fieldbook.sqlite", "fieldbook.sqlite-wal"]
        .iter()
        .any(|name| {
            std::fs::read(relay.data_dir.path().join(name))
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
}

async fn erasing_a_document_empties_its_entries_frees_its_quota_and_refuses_later_changes(
    backend: Backend,
) {
    let secret = "Needle Street 4711";
    let (created, mut doc) = new_customer(1);
    let (other, mut other_doc) = new_customer(2);
    let mut tablet_copy =
        shared::CustomerDoc::from_remote(&created.bytes, automerge::ActorId::from(vec![7u8; 16]))
            .unwrap();
    let first_edit = edit(&mut doc, secret);
    let pushes = vec![
        vec![created, other],
        vec![first_edit.clone()],
        vec![Upload {
            document: first_edit.document.clone(),
            kind: BlobKind::Snapshot { covers: Seq(3) },
            bytes: doc.save(),
        }],
    ];
    // Another customer with a long history, which fits in the quota only once the
    // erasure freed what the first customer took.
    let (third, mut third_doc) = new_customer(3);
    let mut big = vec![third];
    for round in 0..30 {
        big.push(edit(&mut third_doc, &format!("{round} {}", "x".repeat(60))));
    }
    let bytes = |uploads: &[Upload]| uploads.iter().map(|u| u.bytes.len() as u64).sum::<u64>();
    let quota = pushes.iter().map(|p| bytes(p)).sum::<u64>() + bytes(&big) - 1;
    let relay = relay::start_on(backend, |config| config.space_quota_bytes = quota).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(base, &account).await;
    let (mut tablet, _) =
        Device::join(base, &sign_in(base, "rep@example.com", "Tablet").await).await;
    let space = SpaceId(account.space_id.clone());
    let mut reference = MemoryLog::new();
    let valid = |uploads: &[Upload]| -> Vec<_> {
        (uploads.iter())
            .map(|u| blob::validate(u.clone(), 1 << 20).unwrap())
            .collect()
    };
    for uploads in &pushes {
        reference.append(&space, &valid(uploads)).unwrap();
        assert!(matches!(
            phone.push(uploads.clone()).await,
            ServerMessage::Acked { .. }
        ));
    }
    if backend == Backend::Sqlite {
        assert!(
            stored_on_disk(&relay, secret.as_bytes()),
            "the test's needle"
        );
    }
    // The space is nearly full: the customer with a long history does not fit.
    assert!(matches!(
        phone.push(big.clone()).await,
        ServerMessage::Rejected {
            code: ErrorCode::QuotaExceeded,
            ..
        }
    ));

    let erasure = Upload {
        document: first_edit.document.clone(),
        kind: BlobKind::Erased,
        bytes: Vec::new(),
    };
    reference
        .append(&space, &valid(std::slice::from_ref(&erasure)))
        .unwrap();
    let ServerMessage::Acked { results, head, .. } = phone.push(vec![erasure.clone()]).await else {
        panic!("the erasure is acknowledged")
    };
    assert_eq!(
        (results[0].seq, results[0].duplicate, head),
        (Seq(5), false, Seq(5))
    );
    // Again: the same erasure, stored once.
    let ServerMessage::Acked { results, .. } = phone.push(vec![erasure.clone()]).await else {
        panic!("a repeated erasure is acknowledged")
    };
    assert!(results[0].duplicate);

    // Every entry of the document is an erasure without bytes, at its place; the other
    // customer is untouched: exactly the reference's log.
    let ServerMessage::Entries { entries, .. } = tablet.pull(Seq(0), 100).await else {
        panic!("entries")
    };
    assert_eq!(entries, reference.all(&space));
    for entry in entries.iter().filter(|e| e.document == erasure.document) {
        assert_eq!((entry.kind, entry.bytes.len()), (BlobKind::Erased, 0));
    }
    assert_eq!(entries.len(), 5);
    if backend == Backend::Sqlite {
        assert!(
            !stored_on_disk(&relay, secret.as_bytes()),
            "an erased value is still in the relay's files"
        );
    }

    // A change made elsewhere meanwhile is refused, with the push it came in; a change
    // stored before the erasure is a duplicate, not a refusal.
    let late = edit(&mut tablet_copy, "edited offline");
    let other_edit = edit(&mut other_doc, "fine");
    let ServerMessage::Rejected { index, code, .. } =
        tablet.push(vec![other_edit.clone(), late.clone()]).await
    else {
        panic!("a change to an erased document is refused")
    };
    assert_eq!((index, code), (1, ErrorCode::Erased));
    assert!(reference
        .append(&space, &valid(&[other_edit.clone(), late]))
        .is_err());
    let ServerMessage::Acked { results, head, .. } = tablet.push(vec![first_edit.clone()]).await
    else {
        panic!("a change stored before the erasure is a duplicate")
    };
    assert!(results[0].duplicate);
    assert_eq!(head, Seq(5), "nothing of the refused push was stored");

    // The erasure freed its bytes: the customer that did not fit now does.
    assert!(
        matches!(phone.push(big).await, ServerMessage::Acked { .. }),
        "the erased bytes left the quota"
    );

    // A new device downloads the book without the erased customer.
    let (mut fresh, _) =
        Device::join(base, &sign_in(base, "rep@example.com", "New tablet").await).await;
    fresh
        .send(&ClientMessage::Bootstrap {
            request_id: 99,
            position: None,
            max_entries: 1000,
        })
        .await;
    let ServerMessage::CompressedBootstrapPage { deflated, .. } = fresh.recv_answer(99).await
    else {
        panic!("a bootstrap page")
    };
    let page = shared::sync::protocol::inflate_page(&deflated).unwrap();
    assert!(page
        .entries
        .iter()
        .filter(|e| e.document == erasure.document)
        .all(|e| e.kind == BlobKind::Erased && e.bytes.is_empty()));
    assert_eq!(
        page.total_documents, 2,
        "the other customer and the new one"
    );

    // A device of protocol version 2 cannot read an erasure: it is told to update.
    let mut old = Device {
        socket: connect(base).await,
        next_request: 1,
    };
    old.send(&ClientMessage::Hello {
        supported_versions: vec![1, 2],
        space: space.clone(),
        token: sign_in(base, "rep@example.com", "Old app").await.token,
    })
    .await;
    assert!(matches!(
        old.recv().await,
        ServerMessage::Welcome { version: 2, .. }
    ));
    let message = old.pull(Seq(0), 100).await;
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                code: ErrorCode::UnsupportedVersion,
                ..
            }
        ),
        "{message:?}"
    );
    relay.stop().await;
}

async fn a_change_pushed_with_its_projection_is_pulled_with_it_and_a_bootstrap_leaves_it_out(
    backend: Backend,
) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let account = sign_up(base, "rep@example.com", "Phone").await;
    let (mut phone, _) = Device::join(base, &account).await;
    let (snapshot, mut doc) = new_customer(1);
    let change = edit(&mut doc, "Head buyer");
    let projection = shared::model::snapshot::encode_projection(&doc.summary(), &doc.facts());
    phone
        .send(&ClientMessage::ProjectedPush {
            request_id: 90,
            uploads: vec![snapshot, change.clone()],
            projections: vec![None, Some(EntryProjection(projection.clone()))],
        })
        .await;
    let ServerMessage::Acked { head, .. } = phone.recv_answer(90).await else {
        panic!("expected an ack")
    };
    assert_eq!(head, Seq(2));
    // A projection on a snapshot is refused whole: nothing stored.
    phone
        .send(&ClientMessage::ProjectedPush {
            request_id: 91,
            uploads: vec![new_customer(2).0],
            projections: vec![Some(EntryProjection(vec![1]))],
        })
        .await;
    assert!(matches!(
        phone.recv_answer(91).await,
        ServerMessage::Rejected {
            code: ErrorCode::Malformed,
            ..
        }
    ));

    // Another device pulls the change with its projection (the snapshot's own, derived by
    // the relay, is for bootstraps only).
    let (mut tablet, head) =
        Device::join(base, &sign_in(base, "rep@example.com", "Tablet").await).await;
    assert_eq!(head, Seq(2));
    let ServerMessage::ProjectedEntries {
        entries,
        projections,
        ..
    } = tablet.pull(Seq(0), 10).await
    else {
        panic!("expected entries with projections")
    };
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].bytes, change.bytes);
    assert_eq!(projections, vec![None, Some(EntryProjection(projection))]);
    // A bootstrap carries the snapshot's projection, never the change's.
    tablet
        .send(&ClientMessage::Bootstrap {
            request_id: 92,
            position: None,
            max_entries: 10,
        })
        .await;
    let mut seen_change = false;
    let mut answer = tablet.recv_answer(92).await;
    let mut request_id = 92;
    loop {
        let ServerMessage::CompressedBootstrapPage { deflated, .. } = answer else {
            panic!("expected a bootstrap page")
        };
        let page = shared::sync::protocol::inflate_page(&deflated).unwrap();
        for (entry, projection) in page.entries.iter().zip(&page.projections) {
            if entry.kind == BlobKind::Change {
                seen_change = true;
                assert_eq!(projection, &None);
            }
        }
        let Some(next) = page.next else { break };
        request_id += 1;
        tablet
            .send(&ClientMessage::Bootstrap {
                request_id,
                position: Some(next),
                max_entries: 10,
            })
            .await;
        answer = tablet.recv_answer(request_id).await;
    }
    assert!(
        seen_change,
        "the change after the snapshot is part of the bootstrap"
    );
}
