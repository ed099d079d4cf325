//! Teams on both backends (issue 21): every role against every kind of team space (connect,
//! pull, push), invites by code and by link (used up, revoked, expired, unknown, guessed),
//! role changes and removals closing live connections, a team never left without an
//! admin, and one connection carrying a member's book and the team's spaces (channels).

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use shared::sync::handover::{decode_heads, MoveOutcome};
use shared::sync::protocol::{
    decode, encode, BlobKind, ChannelFrame, ClientMessage, ErrorCode, LogEntry, Seq, ServerMessage,
    SpaceId, CHANGE_PROJECTIONS_VERSION, SUPPORTED_VERSIONS,
};
use shared::sync::team::{NewInvite, Role, SpaceAccess, TeamInfo};
use tokio_tungstenite::tungstenite::Message;

use crate::on_both_backends;
use crate::relay::{self, edit, new_customer, sign_up, Account, Backend, Device};

async fn call(
    method: reqwest::Method,
    base: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn expect_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    status: u16,
) -> T {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The error code of a refused API call, checking its status.
async fn api_error(response: reqwest::Response, status: u16) -> String {
    let body: Value = expect_json(response, status).await;
    body["error"].as_str().unwrap_or_default().to_string()
}

async fn invite(base: &str, admin: &Account, team: &str, body: Value) -> NewInvite {
    let response = call(
        reqwest::Method::POST,
        base,
        &format!("/api/teams/{team}/invites"),
        &admin.token,
        Some(body),
    )
    .await;
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    expect_json(response, 201).await
}

async fn accept(base: &str, account: &Account, body: Value) -> reqwest::Response {
    call(
        reqwest::Method::POST,
        base,
        "/api/invites/accept",
        &account.token,
        Some(body),
    )
    .await
}

/// Connects `account`'s device to `space`: the welcome, or the refusal's code.
async fn open(base: &str, account: &Account, space: &str) -> Result<Device, ErrorCode> {
    let mut device = Device {
        socket: relay::connect(base).await,
        next_request: 1,
    };
    device
        .send(&ClientMessage::Hello {
            supported_versions: SUPPORTED_VERSIONS.to_vec(),
            space: SpaceId(space.to_string()),
            token: account.token.clone(),
        })
        .await;
    match device.recv().await {
        ServerMessage::Welcome { .. } => Ok(device),
        ServerMessage::Error { code, .. } => Err(code),
        other => panic!("expected welcome or error, got {other:?}"),
    }
}

/// What `account` can do with `space`: `None` if refused, else whether a push was stored.
async fn reach(base: &str, account: &Account, space: &str, index: u64) -> Option<SpaceAccess> {
    let mut device = match open(base, account, space).await {
        Ok(device) => device,
        Err(ErrorCode::Forbidden) => return None,
        Err(code) => panic!("refused with {code:?}"),
    };
    assert!(
        matches!(device.pull(Seq(0), 10).await, ServerMessage::Entries { .. }),
        "whoever may connect may pull"
    );
    let (upload, _) = new_customer(index);
    match device.push(vec![upload]).await {
        ServerMessage::Acked { .. } => Some(SpaceAccess::ReadWrite),
        ServerMessage::Rejected {
            code: ErrorCode::ReadOnly,
            ..
        } => Some(SpaceAccess::ReadOnly),
        other => panic!("unexpected answer to a push: {other:?}"),
    }
}

struct Team {
    info: TeamInfo,
    /// The first territory and a second one.
    north: String,
    south: String,
}

async fn team_of(base: &str, admin: &Account) -> Team {
    let info: TeamInfo = expect_json(
        call(
            reqwest::Method::POST,
            base,
            "/api/teams",
            &admin.token,
            Some(json!({ "name": "  Acme field sales ", "territory": "North" })),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(info.name, "Acme field sales");
    assert_eq!(info.role, Role::Admin);
    let north = info.territories[0].space.clone();
    let south: Value = expect_json(
        call(
            reqwest::Method::POST,
            base,
            &format!("/api/teams/{}/territories", info.id),
            &admin.token,
            Some(json!({ "name": "South" })),
        )
        .await,
        201,
    )
    .await;
    let south = south["space"].as_str().unwrap().to_string();
    Team { info, north, south }
}

/// Invites `account` to `team` as `role` in `territories` and has her join by the code.
async fn join_as(
    base: &str,
    admin: &Account,
    team: &str,
    account: &Account,
    role: &str,
    territories: &[&str],
) -> TeamInfo {
    let new = invite(
        base,
        admin,
        team,
        json!({ "role": role, "territories": territories }),
    )
    .await;
    joined(base, account, json!({ "code": new.code })).await
}

async fn joined(base: &str, account: &Account, body: Value) -> TeamInfo {
    expect_json(accept(base, account, body).await, 200).await
}

async fn every_role_reaches_exactly_the_spaces_it_should(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let manager = sign_up(base, "max@example.com", "phone").await;
    let rep = sign_up(base, "rita@example.com", "phone").await;
    let viewer = sign_up(base, "vic@example.com", "phone").await;
    let outsider = sign_up(base, "olga@example.com", "phone").await;
    // By code (read aloud: any case, spaces), and by the link's secret.
    let to_manager = invite(base, &admin, team_id, json!({ "role": "manager" })).await;
    let spoken = to_manager.code.to_lowercase().replace('-', " ");
    let joined_manager = joined(base, &manager, json!({ "code": spoken })).await;
    assert_eq!(joined_manager.role, Role::Manager);
    assert_eq!(
        joined_manager.territories.len(),
        2,
        "managers see every territory"
    );
    let to_rep = invite(
        base,
        &admin,
        team_id,
        json!({ "role": "rep", "territories": [team.north] }),
    )
    .await;
    let joined_rep = joined(base, &rep, json!({ "secret": to_rep.secret })).await;
    assert_eq!(
        joined_rep
            .territories
            .iter()
            .map(|t| (t.name.as_str(), t.access))
            .collect::<Vec<_>>(),
        vec![("North", SpaceAccess::ReadWrite)],
        "a rep is sent only her territory"
    );
    assert_eq!(joined_rep.shared_access, SpaceAccess::ReadOnly);
    let to_viewer = invite(
        base,
        &admin,
        team_id,
        json!({ "role": "viewer", "territories": [team.north] }),
    )
    .await;
    joined(base, &viewer, json!({ "code": to_viewer.code })).await;

    use SpaceAccess::{ReadOnly, ReadWrite};
    let shared = team.info.shared_space.clone();
    let own_space = admin.space_id.clone();
    let expected = [
        (&admin, &shared, Some(ReadWrite)),
        (&admin, &team.north, Some(ReadWrite)),
        (&admin, &team.south, Some(ReadWrite)),
        (&manager, &shared, Some(ReadWrite)),
        (&manager, &team.south, Some(ReadWrite)),
        (&rep, &shared, Some(ReadOnly)),
        (&rep, &team.north, Some(ReadWrite)),
        (&rep, &team.south, None),
        (&viewer, &shared, Some(ReadOnly)),
        (&viewer, &team.north, Some(ReadOnly)),
        (&viewer, &team.south, None),
        (&outsider, &shared, None),
        (&outsider, &team.north, None),
        // A member's valid token does not open another member's own book.
        (&rep, &own_space, None),
    ];
    for (index, (account, space, access)) in expected.into_iter().enumerate() {
        assert_eq!(
            reach(base, account, space, 100 + index as u64).await,
            access,
            "{} on {space}",
            account.email
        );
    }
    // Members and roles are visible to members, and to no one else.
    let members: Vec<Value> = expect_json(
        call(
            reqwest::Method::GET,
            base,
            &format!("/api/teams/{team_id}/members"),
            &rep.token,
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(members.len(), 4);
    let outsider_asks = call(
        reqwest::Method::GET,
        base,
        &format!("/api/teams/{team_id}/members"),
        &outsider.token,
        None,
    )
    .await;
    assert_eq!(api_error(outsider_asks, 403).await, "forbidden");
    // Only admins invite, add territories and change members.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            format!("/api/teams/{team_id}/invites"),
            Some(json!({ "role": "admin" })),
        ),
        (
            reqwest::Method::POST,
            format!("/api/teams/{team_id}/territories"),
            Some(json!({ "name": "East" })),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/teams/{team_id}/members/{}", rep.account_id),
            Some(json!({ "role": "admin" })),
        ),
    ] {
        for account in [&manager, &rep, &viewer, &outsider] {
            let response = call(method.clone(), base, &path, &account.token, body.clone()).await;
            assert_eq!(
                api_error(response, 403).await,
                "forbidden",
                "{} {path}",
                account.email
            );
        }
    }
    relay.stop().await;
}

async fn invites_are_used_up_revoked_expired_or_unknown_and_never_reveal_a_team(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let first = sign_up(base, "first@example.com", "phone").await;
    let second = sign_up(base, "second@example.com", "phone").await;
    let once = invite(
        base,
        &admin,
        team_id,
        json!({ "role": "rep", "territories": [team.south] }),
    )
    .await;
    joined(base, &first, json!({ "code": once.code })).await;
    // Using it again as a member changes nothing; as someone else, it is used up.
    joined(base, &first, json!({ "code": once.code })).await;
    assert_eq!(
        api_error(
            accept(base, &second, json!({ "code": once.code })).await,
            410
        )
        .await,
        "invite_used_up"
    );
    let withdrawn = invite(
        base,
        &admin,
        team_id,
        json!({ "role": "rep", "max_uses": 5 }),
    )
    .await;
    let revoked = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/teams/{team_id}/invites/{}", withdrawn.invite.id),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        api_error(
            accept(base, &second, json!({ "secret": withdrawn.secret })).await,
            410
        )
        .await,
        "invite_revoked"
    );
    // Unknown or malformed codes and secrets.
    assert_eq!(
        api_error(
            accept(base, &second, json!({ "code": "00000-00000" })).await,
            404
        )
        .await,
        "invite_unknown"
    );
    assert_eq!(
        api_error(
            accept(base, &second, json!({ "secret": "f".repeat(64) })).await,
            404
        )
        .await,
        "invite_unknown"
    );
    assert_eq!(
        api_error(
            accept(base, &second, json!({ "code": "not a code" })).await,
            400
        )
        .await,
        "invalid"
    );
    assert_eq!(
        api_error(accept(base, &second, json!({})).await, 400).await,
        "invalid"
    );
    // Bad invite requests.
    for body in [
        json!({ "role": "rep", "expires_in_hours": 0 }),
        json!({ "role": "rep", "expires_in_hours": 24 * 31 }),
        json!({ "role": "rep", "max_uses": 0 }),
        json!({ "role": "owner" }),
        json!({ "role": "rep", "territories": [admin.space_id] }),
    ] {
        let response = call(
            reqwest::Method::POST,
            base,
            &format!("/api/teams/{team_id}/invites"),
            &admin.token,
            Some(body.clone()),
        )
        .await;
        assert_eq!(response.status(), 400, "{body}");
    }
    // The admin's list shows where each stands, without secrets.
    let listed: Vec<Value> = expect_json(
        call(
            reqwest::Method::GET,
            base,
            &format!("/api/teams/{team_id}/invites"),
            &admin.token,
            None,
        )
        .await,
        200,
    )
    .await;
    let statuses: Vec<&str> = listed.iter().filter_map(|i| i["status"].as_str()).collect();
    assert_eq!(statuses, vec!["revoked", "used_up"]);
    assert!(listed
        .iter()
        .all(|i| i.get("secret").is_none() && i.get("code").is_none()));
    relay.stop().await;
}

async fn a_role_change_or_removal_closes_her_connections_and_the_new_rules_apply(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let rep = sign_up(base, "rita@example.com", "phone").await;
    join_as(base, &admin, team_id, &rep, "rep", &[&team.north]).await;
    let mut live = open(base, &rep, &team.north)
        .await
        .expect("a rep reaches her territory");
    // Her own book's connection is not the team's business.
    let mut own = open(base, &rep, &rep.space_id).await.expect("her own book");
    let rep_path = format!("/api/teams/{team_id}/members/{}", rep.account_id);
    let change = |body: Value| {
        call(
            reqwest::Method::PATCH,
            base,
            &rep_path,
            &admin.token,
            Some(body),
        )
    };
    assert_eq!(change(json!({ "role": "viewer" })).await.status(), 204);
    match live.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::AccessChanged),
        other => panic!("expected the session to end, got {other:?}"),
    }
    assert_eq!(
        reach(base, &rep, &team.north, 1).await,
        Some(SpaceAccess::ReadOnly)
    );
    // Moved to another territory: the old one is closed to her, the new one open.
    assert_eq!(
        change(json!({ "role": "rep", "territories": [team.south] }))
            .await
            .status(),
        204
    );
    assert_eq!(reach(base, &rep, &team.north, 2).await, None);
    assert_eq!(
        reach(base, &rep, &team.south, 3).await,
        Some(SpaceAccess::ReadWrite)
    );
    let mut live = open(base, &rep, &team.south)
        .await
        .expect("her new territory");
    let removed = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/teams/{team_id}/members/{}", rep.account_id),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(removed.status(), 204);
    match live.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::AccessChanged),
        other => panic!("expected the session to end, got {other:?}"),
    }
    assert_eq!(
        open(base, &rep, &team.south).await.err(),
        Some(ErrorCode::Forbidden)
    );
    assert_eq!(
        open(base, &rep, &team.info.shared_space).await.err(),
        Some(ErrorCode::Forbidden)
    );
    assert!(
        matches!(own.pull(Seq(0), 10).await, ServerMessage::Entries { .. }),
        "her own book's connection stays"
    );
    // A team keeps an admin: she can neither step down nor leave while the only one.
    let step_down = call(
        reqwest::Method::PATCH,
        base,
        &format!("/api/teams/{team_id}/members/{}", admin.account_id),
        &admin.token,
        Some(json!({ "role": "manager" })),
    )
    .await;
    assert_eq!(api_error(step_down, 409).await, "last_admin");
    let leave = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/teams/{team_id}/members/{}", admin.account_id),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(api_error(leave, 409).await, "last_admin");
    // Someone no longer a member is not found.
    assert_eq!(
        api_error(change(json!({ "role": "rep" })).await, 404).await,
        "not_found"
    );
    relay.stop().await;
}

/// Sends one `Channels` message; returns its size.
async fn send_channels(device: &mut Device, frames: Vec<(u16, ClientMessage)>) -> usize {
    let frame = encode(&ClientMessage::Channels(
        frames
            .into_iter()
            .map(|(channel, message)| ChannelFrame {
                channel,
                frame: encode(&message),
            })
            .collect(),
    ));
    let size = frame.len();
    device.send_raw(frame).await;
    size
}

/// The next `Channels` message's frames (skipping pings), and its size.
async fn recv_channels(device: &mut Device) -> (Vec<(u16, ServerMessage)>, usize) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), device.socket.next())
            .await
            .expect("the relay answers within 10 s")
            .expect("the socket is open")
            .expect("the socket works");
        let Message::Binary(bytes) = message else {
            continue;
        };
        let size = bytes.len();
        match decode::<ServerMessage>(&bytes).expect("a server message") {
            ServerMessage::Channels(frames) => {
                let frames = frames
                    .into_iter()
                    .map(|f| (f.channel, decode(&f.frame).expect("a channel's message")))
                    .collect();
                return (frames, size);
            }
            other => panic!("expected channels, got {other:?}"),
        }
    }
}

/// The next answer on `channel`, skipping wake-ups and other channels' frames.
async fn answer_on(device: &mut Device, channel: u16) -> ServerMessage {
    loop {
        let (frames, _) = recv_channels(device).await;
        for (on, message) in frames {
            if on == channel && !matches!(message, ServerMessage::Wake { .. }) {
                return message;
            }
        }
    }
}

fn hello(account: &Account, space: &str) -> ClientMessage {
    ClientMessage::Hello {
        supported_versions: SUPPORTED_VERSIONS.to_vec(),
        space: SpaceId(space.to_string()),
        token: account.token.clone(),
    }
}

async fn one_connection_carries_her_book_and_the_teams_spaces_each_under_its_own_rule(
    backend: Backend,
) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let east: Value = expect_json(
        call(
            reqwest::Method::POST,
            base,
            &format!("/api/teams/{team_id}/territories"),
            &admin.token,
            Some(json!({ "name": "Key accounts" })),
        )
        .await,
        201,
    )
    .await;
    let east = east["space"].as_str().unwrap().to_string();
    let rep = sign_up(base, "rita@example.com", "phone").await;
    join_as(base, &admin, team_id, &rep, "rep", &[&team.north, &east]).await;
    // Her book, the team's shared space, two territories of hers and one that is not.
    let spaces = [
        rep.space_id.clone(),
        team.info.shared_space.clone(),
        team.north.clone(),
        east.clone(),
        team.south.clone(),
    ];
    let mut device = Device {
        socket: relay::connect(base).await,
        next_request: 1,
    };
    let up = send_channels(
        &mut device,
        (0u16..)
            .zip(spaces.iter().map(|space| hello(&rep, space)))
            .collect(),
    )
    .await;
    let (welcome, down) = recv_channels(&mut device).await;
    assert!(
        matches!(
            &welcome[..],
            [
                (
                    0,
                    ServerMessage::Welcome {
                        version: CHANGE_PROJECTIONS_VERSION,
                        ..
                    }
                ),
                (1, ServerMessage::Welcome { .. }),
                (2, ServerMessage::Welcome { .. }),
                (3, ServerMessage::Welcome { .. }),
                (
                    4,
                    ServerMessage::Error {
                        code: ErrorCode::Forbidden,
                        ..
                    }
                ),
            ]
        ),
        "{welcome:?}"
    );
    println!("one connection for 5 spaces, nothing new: {up} bytes up, {down} down, 1 round trip");
    assert!(up + down <= 1024, "{up} + {down} bytes");
    // Each space by its own rule: her territory takes a push, the shared space refuses it
    // (read-only for a rep), her book pulls.
    let (north_customer, _) = new_customer(1);
    send_channels(
        &mut device,
        vec![
            (
                2,
                ClientMessage::Push {
                    request_id: 1,
                    uploads: vec![north_customer],
                },
            ),
            (
                1,
                ClientMessage::Push {
                    request_id: 2,
                    uploads: vec![new_customer(2).0],
                },
            ),
            (
                0,
                ClientMessage::Pull {
                    request_id: 3,
                    since: Seq(0),
                    max_entries: 10,
                },
            ),
        ],
    )
    .await;
    let mut answers = Vec::new();
    while answers.len() < 3 {
        let (frames, _) = recv_channels(&mut device).await;
        answers.extend(
            frames
                .into_iter()
                .filter(|(_, m)| !matches!(m, ServerMessage::Wake { .. })),
        );
    }
    answers.sort_by_key(|(channel, _)| *channel);
    assert!(
        matches!(
            &answers[..],
            [
                (0, ServerMessage::Entries { request_id: 3, .. }),
                (
                    1,
                    ServerMessage::Rejected {
                        request_id: 2,
                        code: ErrorCode::ReadOnly,
                        ..
                    }
                ),
                (2, ServerMessage::Acked { request_id: 1, .. }),
            ]
        ),
        "{answers:?}"
    );
    // The admin's tablet, on North alone (a plain Hello, as before version 5), is woken by
    // her push, and hers by the admin's.
    let mut tablet = open(base, &admin, &team.north).await.expect("the admin");
    let (admin_customer, _) = new_customer(3);
    assert!(matches!(
        tablet.push(vec![admin_customer]).await,
        ServerMessage::Acked { .. }
    ));
    assert!(matches!(
        answer_on_or_wake(&mut device, 2).await,
        ServerMessage::Wake { head: Seq(2) }
    ));
    // She becomes a viewer: the team's channels end, her book's channel goes on.
    let rep_path = format!("/api/teams/{team_id}/members/{}", rep.account_id);
    let changed = call(
        reqwest::Method::PATCH,
        base,
        &rep_path,
        &admin.token,
        Some(json!({ "role": "viewer" })),
    )
    .await;
    assert_eq!(changed.status(), 204);
    let mut ended = Vec::new();
    while ended.len() < 3 {
        let (frames, _) = recv_channels(&mut device).await;
        for (channel, message) in frames {
            match message {
                ServerMessage::Error {
                    code: ErrorCode::AccessChanged,
                    ..
                } => ended.push(channel),
                ServerMessage::Wake { .. } => {}
                other => panic!("unexpected {other:?} on {channel}"),
            }
        }
    }
    ended.sort();
    assert_eq!(ended, vec![1, 2, 3]);
    send_channels(
        &mut device,
        vec![(
            0,
            ClientMessage::Pull {
                request_id: 4,
                since: Seq(0),
                max_entries: 10,
            },
        )],
    )
    .await;
    assert!(matches!(
        answer_on(&mut device, 0).await,
        ServerMessage::Entries { request_id: 4, .. }
    ));
    // A Hello opens North again on the same connection, under the new rule.
    send_channels(&mut device, vec![(2, hello(&rep, &team.north))]).await;
    assert!(matches!(
        answer_on(&mut device, 2).await,
        ServerMessage::Welcome { head: Seq(2), .. }
    ));
    send_channels(
        &mut device,
        vec![(
            2,
            ClientMessage::Push {
                request_id: 5,
                uploads: vec![new_customer(4).0],
            },
        )],
    )
    .await;
    assert!(matches!(
        answer_on(&mut device, 2).await,
        ServerMessage::Rejected {
            request_id: 5,
            code: ErrorCode::ReadOnly,
            ..
        }
    ));
    // Another device's token on her connection is refused on its channel alone.
    send_channels(&mut device, vec![(5, hello(&admin, &team.south))]).await;
    assert!(matches!(
        answer_on(&mut device, 5).await,
        ServerMessage::Error {
            code: ErrorCode::Unauthorized,
            ..
        }
    ));
    // Revoked from another device: every open channel is told, then the socket closes.
    let revoked = relay::post(
        base,
        &format!("/api/devices/{}/revoke", rep.device_id),
        json!({}),
        Some(&rep.token),
    )
    .await;
    assert_eq!(revoked.status(), 204);
    let (frames, _) = recv_channels(&mut device).await;
    let mut told: Vec<u16> = frames
        .iter()
        .filter(|(_, m)| {
            matches!(
                m,
                ServerMessage::Error {
                    code: ErrorCode::Revoked,
                    ..
                }
            )
        })
        .map(|(channel, _)| *channel)
        .collect();
    told.sort();
    assert_eq!(told, vec![0, 2]);
    assert!(device.closed().await.is_some());
    relay.stop().await;
}

/// The next message on `channel`, wake-ups included.
async fn answer_on_or_wake(device: &mut Device, channel: u16) -> ServerMessage {
    loop {
        let (frames, _) = recv_channels(device).await;
        if let Some((_, message)) = frames.into_iter().find(|(on, _)| *on == channel) {
            return message;
        }
    }
}

/// Every page of a bootstrap of `space`: the entries in order, each with its projection.
async fn bootstrap_all(
    base: &str,
    account: &Account,
    space: &str,
) -> Vec<(LogEntry, Option<shared::sync::protocol::EntryProjection>)> {
    let mut device = open(base, account, space).await.unwrap();
    let mut position = None;
    let mut all = Vec::new();
    loop {
        let request_id = device.next_request;
        device.next_request += 1;
        device
            .send(&ClientMessage::Bootstrap {
                request_id,
                position: position.clone(),
                max_entries: 2,
            })
            .await;
        let ServerMessage::CompressedBootstrapPage { deflated, .. } =
            device.recv_answer(request_id).await
        else {
            panic!("expected a bootstrap page")
        };
        let page = shared::sync::protocol::inflate_page(&deflated).unwrap();
        all.extend(page.entries.into_iter().zip(page.projections));
        match page.next {
            Some(next) => position = Some(next),
            None => return all,
        }
    }
}

async fn a_moved_customer_takes_late_offline_edits_along(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let manager = sign_up(base, "max@example.com", "phone").await;
    let rep = sign_up(base, "rita@example.com", "phone").await;
    let viewer = sign_up(base, "vic@example.com", "phone").await;
    let outsider = sign_up(base, "olga@example.com", "phone").await;
    for (account, role) in [(&manager, "manager"), (&rep, "rep"), (&viewer, "viewer")] {
        join_as(base, &admin, team_id, account, role, &[&team.north]).await;
    }
    // Rita adds two customers in North and edits one.
    let mut rita = open(base, &rep, &team.north).await.unwrap();
    let (moving, mut doc) = new_customer(1);
    let (staying, _) = new_customer(2);
    let first_edit = edit(&mut doc, "Buyer");
    let id = moving.document.0.clone();
    assert!(matches!(
        rita.push(vec![moving, staying, first_edit]).await,
        ServerMessage::Acked { .. }
    ));
    let heads_at_move = doc.heads();
    // Offline, she edits it again.
    let late = edit(&mut doc, "Head buyer");

    let moves = format!("/api/teams/{team_id}/moves");
    let body =
        json!({ "from": team.north, "to": team.south, "customers": [id, "no-such-customer"] });
    for account in [&rep, &viewer, &outsider] {
        let response = call(
            reqwest::Method::POST,
            base,
            &moves,
            &account.token,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            api_error(response, 403).await,
            "forbidden",
            "{}",
            account.email
        );
    }
    let not_the_teams = json!({ "from": team.north, "to": admin.space_id, "customers": [id] });
    let response = call(
        reqwest::Method::POST,
        base,
        &moves,
        &manager.token,
        Some(not_the_teams),
    )
    .await;
    assert_eq!(api_error(response, 404).await, "not_found");
    let nowhere = json!({ "from": team.north, "to": team.north, "customers": [id] });
    let response = call(
        reqwest::Method::POST,
        base,
        &moves,
        &manager.token,
        Some(nowhere),
    )
    .await;
    assert_eq!(api_error(response, 400).await, "invalid");
    let outcome: MoveOutcome = expect_json(
        call(
            reqwest::Method::POST,
            base,
            &moves,
            &manager.token,
            Some(body.clone()),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(outcome.moved, vec![id.clone()]);
    assert_eq!(outcome.skipped.len(), 1, "{outcome:?}");
    assert_eq!(outcome.skipped[0].customer, "no-such-customer");
    let again: MoveOutcome = expect_json(
        call(
            reqwest::Method::POST,
            base,
            &moves,
            &manager.token,
            Some(body),
        )
        .await,
        200,
    )
    .await;
    assert!(again.moved.is_empty(), "{again:?}");

    // Rita reconnects: her late edit is acknowledged in North, where it stands as a move.
    let ServerMessage::Acked { results, .. } = rita.push(vec![late.clone()]).await else {
        panic!("a late edit of a moved customer is acknowledged")
    };
    assert!(!results[0].duplicate);
    let late_seq = results[0].seq;
    let ServerMessage::Entries { entries, .. } = rita.pull(Seq(3), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        entries.iter().map(|e| (e.seq, e.kind)).collect::<Vec<_>>(),
        vec![(Seq(4), BlobKind::Moved), (late_seq, BlobKind::Moved)]
    );
    assert_eq!(decode_heads(&entries[0].bytes), Some(heads_at_move));
    assert!(
        entries[1].bytes.is_empty(),
        "North keeps no bytes of the late edit"
    );
    // Sent again after a lost acknowledgement: a duplicate, stored once.
    let ServerMessage::Acked { results, .. } = rita.push(vec![late.clone()]).await else {
        panic!("a resent edit is acknowledged")
    };
    assert_eq!((results[0].seq, results[0].duplicate), (late_seq, true));

    // South has the customer whole, with her late edit.
    let mut max = open(base, &manager, &team.south).await.unwrap();
    let ServerMessage::Entries { entries: south, .. } = max.pull(Seq(0), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        south.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BlobKind::Snapshot { covers: Seq(0) }, BlobKind::Change]
    );
    assert_eq!(south[1].bytes, late.bytes);
    let mut moved =
        shared::CustomerDoc::from_remote(&south[0].bytes, automerge::ActorId::random()).unwrap();
    assert_eq!(moved.customer().job_title, "Buyer");
    moved.apply_remote(&south[1].bytes).unwrap();
    assert_eq!(moved.customer().job_title, "Head buyer");
    // A device bootstrapping either territory ends up with exactly what it holds.
    let north_boot = bootstrap_all(base, &admin, &team.north).await;
    let (last_of_moved, _) = (north_boot.iter().rev())
        .find(|(e, _)| e.document.0 == id)
        .unwrap();
    assert_eq!(last_of_moved.kind, BlobKind::Moved);
    let south_boot = bootstrap_all(base, &admin, &team.south).await;
    assert_eq!(south_boot.len(), 2, "the hand-over and the forwarded edit");
    // The hand-over carries the list's projection of the customer, for a new device.
    let (handed, projection) = &south_boot[0];
    let mut handed =
        shared::CustomerDoc::from_remote(&handed.bytes, automerge::ActorId::random()).unwrap();
    assert_eq!(
        (projection.as_ref()).and_then(|p| shared::model::snapshot::decode_projection(&p.0)),
        Some((handed.summary(), handed.facts()))
    );

    // Back to North: her next edit is stored there again, and South forgets it.
    let back: MoveOutcome = expect_json(
        call(
            reqwest::Method::POST,
            base,
            &moves,
            &manager.token,
            Some(json!({ "from": team.south, "to": team.north, "customers": [id] })),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(back.moved, vec![id.clone()]);
    let ServerMessage::Entries { entries, .. } = rita.pull(late_seq, 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        entries.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BlobKind::Snapshot { covers: late_seq }],
        "the hand-over covers all North had of it"
    );
    let home = edit(&mut doc, "Director");
    assert!(matches!(
        rita.push(vec![home.clone()]).await,
        ServerMessage::Acked { .. }
    ));
    let ServerMessage::Entries { entries, .. } = rita.pull(Seq(late_seq.0 + 1), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        entries.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BlobKind::Change]
    );
    let ServerMessage::Entries { entries, .. } = max.pull(Seq(2), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        entries.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BlobKind::Moved]
    );
    relay.stop().await;
}

/// A rep brings her own book into her territory (issue 21: "creates a team from her
/// book"): only from her own book, only into a territory of the team she may write; her
/// book's devices get `Moved` entries, and an edit her other device made offline follows
/// the customer into the territory.
async fn a_rep_brings_her_own_book_into_her_territory(backend: Backend) {
    let relay = relay::start_on(backend, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let team_id = &team.info.id;
    let rep = sign_up(base, "rita@example.com", "phone").await;
    let viewer = sign_up(base, "vic@example.com", "phone").await;
    for (account, role) in [(&rep, "rep"), (&viewer, "viewer")] {
        join_as(base, &admin, team_id, account, role, &[&team.north]).await;
    }
    // Two customers in Rita's own book; her tablet edits one offline later.
    let mut own = open(base, &rep, &rep.space_id).await.unwrap();
    let (first, mut doc) = new_customer(1);
    let (second, _) = new_customer(2);
    let ids = vec![first.document.0.clone(), second.document.0.clone()];
    assert!(matches!(
        own.push(vec![first, second]).await,
        ServerMessage::Acked { .. }
    ));
    let late = edit(&mut doc, "Buyer (tablet, offline)");

    let moves = format!("/api/teams/{team_id}/moves");
    let post = |token: &str, body: Value| {
        let token = token.to_string();
        let moves = moves.clone();
        async move { call(reqwest::Method::POST, base, &moves, &token, Some(body)).await }
    };
    // Not a territory she belongs to; a viewer of North; another member's book; the team's
    // shared space; another team's territory: refused.
    let to_south = json!({ "from": rep.space_id, "to": team.south, "customers": ids });
    assert_eq!(
        api_error(post(&rep.token, to_south).await, 403).await,
        "forbidden"
    );
    let (viewers_first, _) = new_customer(3);
    let mut viewers_book = open(base, &viewer, &viewer.space_id).await.unwrap();
    assert!(matches!(
        viewers_book.push(vec![viewers_first.clone()]).await,
        ServerMessage::Acked { .. }
    ));
    let viewer_in = json!({ "from": viewer.space_id, "to": team.north, "customers": [viewers_first.document.0] });
    assert_eq!(
        api_error(post(&viewer.token, viewer_in).await, 403).await,
        "forbidden"
    );
    let not_hers = json!({ "from": rep.space_id, "to": team.north, "customers": ids });
    assert_eq!(
        api_error(post(&admin.token, not_hers).await, 404).await,
        "not_found"
    );
    let shared_space =
        json!({ "from": rep.space_id, "to": team.info.shared_space, "customers": ids });
    assert_eq!(
        api_error(post(&rep.token, shared_space).await, 404).await,
        "not_found"
    );
    let other_team = team_of(base, &admin).await;
    let elsewhere = json!({ "from": rep.space_id, "to": other_team.north, "customers": ids });
    assert_eq!(
        api_error(post(&rep.token, elsewhere).await, 404).await,
        "not_found"
    );

    // Into North: both move; her book's log says so.
    let body = json!({ "from": rep.space_id, "to": team.north, "customers": ids });
    let outcome: MoveOutcome = expect_json(post(&rep.token, body).await, 200).await;
    assert_eq!(outcome.moved, ids);
    let ServerMessage::Entries { entries, .. } = own.pull(Seq(2), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        entries.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BlobKind::Moved, BlobKind::Moved]
    );
    // The tablet's offline edit, pushed to her own book, is acknowledged there and stored
    // in North, where the admin reads it.
    let ServerMessage::Acked { results, .. } = own.push(vec![late.clone()]).await else {
        panic!("a late edit of a customer brought into the team is acknowledged")
    };
    assert!(!results[0].duplicate);
    let mut ada = open(base, &admin, &team.north).await.unwrap();
    let ServerMessage::Entries { entries: north, .. } = ada.pull(Seq(0), 100).await else {
        panic!("expected entries")
    };
    assert_eq!(
        north.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![
            BlobKind::Snapshot { covers: Seq(0) },
            BlobKind::Snapshot { covers: Seq(1) },
            BlobKind::Change
        ]
    );
    assert_eq!(north[2].bytes, late.bytes);
    relay.stop().await;
}

on_both_backends!(
    a_rep_brings_her_own_book_into_her_territory,
    a_moved_customer_takes_late_offline_edits_along,
    every_role_reaches_exactly_the_spaces_it_should,
    invites_are_used_up_revoked_expired_or_unknown_and_never_reveal_a_team,
    a_role_change_or_removal_closes_her_connections_and_the_new_rules_apply,
    one_connection_carries_her_book_and_the_teams_spaces_each_under_its_own_rule,
);

/// Many members at once on the team API (SQLite): each transaction takes the write lock up
/// front, so none fails with "database is locked" (the load generator's team mode found
/// that deferred transactions did, as 500s).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn team_calls_at_once_all_succeed() {
    let relay = relay::start_on(Backend::Sqlite, |_| {}).await;
    let base = relay.base_url.clone();
    let mut admins = Vec::new();
    for index in 0..12 {
        admins.push(sign_up(&base, &format!("admin{index}@example.com"), "tablet").await);
    }
    let joiners: Vec<Account> = {
        let mut joiners = Vec::new();
        for index in 0..12 {
            joiners.push(sign_up(&base, &format!("joiner{index}@example.com"), "phone").await);
        }
        joiners
    };
    let mut tasks = Vec::new();
    for (admin, joiner) in admins.into_iter().zip(joiners) {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let team = team_of(&base, &admin).await;
            let new = invite(
                &base,
                &admin,
                &team.info.id,
                json!({ "role": "rep", "territories": [team.north] }),
            )
            .await;
            joined(&base, &joiner, json!({ "code": new.code })).await;
        }));
    }
    for task in tasks {
        task.await.expect("every team call succeeded");
    }
    relay.stop().await;
}

#[tokio::test]
async fn an_expired_invite_is_refused() {
    let relay = relay::start_on(Backend::Sqlite, |_| {}).await;
    let base = &relay.base_url;
    let admin = sign_up(base, "ada@example.com", "tablet").await;
    let team = team_of(base, &admin).await;
    let late = sign_up(base, "late@example.com", "phone").await;
    let new = invite(
        base,
        &admin,
        &team.info.id,
        json!({ "role": "rep", "expires_in_hours": 1 }),
    )
    .await;
    // An hour later, as the relay's clock sees it.
    let file = relay.data_dir.path().join(server::db::DB_FILE_NAME);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE team_invites SET expires_at = expires_at - 3600001")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(
        api_error(accept(base, &late, json!({ "code": new.code })).await, 410).await,
        "invite_expired"
    );
    relay.stop().await;
}
