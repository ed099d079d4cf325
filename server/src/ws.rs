//! The WebSocket sync endpoint: one task per connection driving a
//! `shared::sync::RelaySession` and carrying out its effects against the store, the auth
//! tables and the hub.
//!
//! Effects run to completion before the next frame is read, so an append that started is
//! committed and acknowledged even when shutdown begins meanwhile.

use std::collections::VecDeque;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use shared::sync::protocol::{encode, ErrorCode, Seq, ServerMessage};
use shared::sync::{RelaySession, SessionEffect};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::hub::{ConnId, Registration};
use crate::{auth, now_ms};

/// How often the relay pings an idle connection (browsers answer automatically).
const PING_EVERY: Duration = Duration::from_secs(30);

/// Initial read and write buffer of a sync connection.
const CONNECTION_BUFFER_BYTES: usize = 8 * 1024;

/// `GET /sync`: upgrades to a WebSocket.
pub async fn handler(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let limit = state.limits.max_frame_bytes;
    // Buffers start small (tungstenite's default is 128 KiB each way, allocated for every
    // connection: 10,000 idle devices would hold 1.3 GiB) and grow for large messages.
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(CONNECTION_BUFFER_BYTES)
        .write_buffer_size(CONNECTION_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let tracker = state.tracker.clone();
            tracker.track_future(connection(socket, state))
        })
}

struct Connection {
    socket: WebSocket,
    session: RelaySession,
    registration: Option<ConnId>,
    wakes: Option<mpsc::Receiver<Seq>>,
    revoked: Option<CancellationToken>,
    access_changed: Option<CancellationToken>,
    device: Option<String>,
    state: AppState,
}

async fn connection(socket: WebSocket, state: AppState) {
    let mut conn = Connection {
        socket,
        session: RelaySession::new(state.limits, shared::Timestamp(now_ms())),
        registration: None,
        wakes: None,
        revoked: None,
        access_changed: None,
        device: None,
        state,
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let shutdown = conn.state.shutdown.clone();
    loop {
        let effects = tokio::select! {
            _ = shutdown.cancelled() => {
                close(&mut conn.socket, close_code::AWAY, "the relay is restarting").await;
                break;
            }
            _ = revoked(&conn.revoked) => conn.session.refused(
                ErrorCode::Revoked,
                "this device was signed out from another device".into(),
            ),
            _ = revoked(&conn.access_changed) => conn.session.refused(
                ErrorCode::AccessChanged,
                "this account's access to the team changed; reconnecting".into(),
            ),
            Some(head) = wake(&mut conn.wakes) => conn.session.woken(head),
            // The time to sign in (Hello) or the idle timeout ran out.
            () = tokio::time::sleep(until(conn.session.idle_deadline())) => {
                conn.session.tick(shared::Timestamp(now_ms()))
            }
            _ = ping.tick() => {
                let effects = conn.session.tick(shared::Timestamp(now_ms()));
                // Only signed-in connections are kept alive.
                if effects.is_empty()
                    && conn.session.space().is_some()
                    && conn.socket.send(Message::Ping(Default::default())).await.is_err()
                {
                    break;
                }
                effects
            }
            message = conn.socket.recv() => match message {
                Some(Ok(Message::Binary(bytes))) => conn.session.frame(&bytes, shared::Timestamp(now_ms())),
                Some(Ok(Message::Text(text))) => conn.session.frame(text.as_bytes(), shared::Timestamp(now_ms())),
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => {
                    conn.session.keepalive(shared::Timestamp(now_ms()));
                    Vec::new()
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(err)) => {
                    tracing::info!(cause = %err, "connection failed");
                    let message = err.to_string();
                    if message.contains("too long") || message.contains("Space limit") {
                        close(&mut conn.socket, close_code::SIZE, "frame too large").await;
                    }
                    break;
                }
            },
        };
        if !run_effects(&mut conn, effects).await {
            break;
        }
    }
    if let Some(id) = conn.registration.take() {
        conn.state.hub.unregister(id);
    }
    if let Some(device) = &conn.device {
        if let Err(err) = auth::touch(&conn.state.db, device, now_ms()).await {
            tracing::warn!(cause = %err, "could not record last seen");
        }
    }
}

/// How long until `deadline` (zero if past).
fn until(deadline: shared::Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(deadline.0 - now_ms()).unwrap_or(0))
}

async fn revoked(token: &Option<CancellationToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

async fn wake(wakes: &mut Option<mpsc::Receiver<Seq>>) -> Option<Seq> {
    match wakes {
        Some(wakes) => wakes.recv().await,
        None => std::future::pending().await,
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.chars().take(120).collect::<String>().into(),
        })))
        .await;
}

/// Carries out effects (and the effects they lead to); `false` ends the connection.
async fn run_effects(conn: &mut Connection, effects: Vec<SessionEffect>) -> bool {
    let mut queue: VecDeque<SessionEffect> = effects.into();
    let state = conn.state.clone();
    let mut alive = true;
    while let Some(effect) = queue.pop_front() {
        if !alive && !matches!(effect, SessionEffect::WakeOthers { .. }) {
            // The socket is gone, but what was committed must still wake the other
            // devices (the sync simulation found this ordering).
            continue;
        }
        let more = match effect {
            SessionEffect::Authenticate { space, token } => {
                match auth::authorize_space(&state.db, &token, &space).await {
                    Ok((device, access, team)) => match state.store.head(&space).await {
                        Ok(head) => {
                            let member = team.map(|team| (device.account_id.clone(), team));
                            let Registration {
                                id,
                                wakes,
                                revoked,
                                access_changed,
                            } = state.hub.register(&space, &device.device_id, member);
                            conn.registration = Some(id);
                            conn.wakes = Some(wakes);
                            conn.revoked = Some(revoked);
                            conn.access_changed = Some(access_changed);
                            if let Err(err) =
                                auth::touch(&state.db, &device.device_id, now_ms()).await
                            {
                                tracing::warn!(cause = %err, "could not record last seen");
                            }
                            tracing::info!(device = %device.device_id, space = %space.0, head = head.0, "device connected");
                            conn.device = Some(device.device_id);
                            conn.session.authenticated(space, head, access)
                        }
                        Err(err) => conn.session.read_failed(err.to_string()),
                    },
                    Err(err) => {
                        tracing::info!(cause = %err, space = %space.0, "session refused");
                        conn.session.refused(err.code(), err.to_string())
                    }
                }
            }
            SessionEffect::Send(message) => {
                // Every refusal is logged with its reason.
                match &message {
                    ServerMessage::Error { code, message } => {
                        tracing::info!(device = conn.device.as_deref().unwrap_or("-"), ?code, reason = %message, "session refused");
                    }
                    ServerMessage::Rejected {
                        code,
                        message,
                        index,
                        ..
                    } => {
                        tracing::info!(device = conn.device.as_deref().unwrap_or("-"), ?code, index, reason = %message, "push refused");
                    }
                    _ => {}
                }
                if conn
                    .socket
                    .send(Message::Binary(encode(&message).into()))
                    .await
                    .is_err()
                {
                    alive = false;
                }
                Vec::new()
            }
            SessionEffect::Append {
                space,
                request_id,
                uploads,
            } => {
                let device = conn.device.clone().unwrap_or_default();
                let count = uploads.len();
                match state.store.append(&space, &device, uploads, now_ms()).await {
                    Ok((results, head)) => {
                        tracing::debug!(space = %space.0, count, head = head.0, "committed");
                        conn.session.committed(request_id, results, head)
                    }
                    Err(err) => {
                        conn.session
                            .push_refused(request_id, err.index, err.code, err.message)
                    }
                }
            }
            SessionEffect::ReadEntries {
                space,
                request_id,
                since,
                max_entries,
                max_bytes,
            } => match state
                .store
                .entries(&space, since, max_entries, max_bytes)
                .await
            {
                Ok((entries, head)) => conn.session.entries(request_id, entries, head),
                Err(err) => conn.session.read_failed(err.to_string()),
            },
            SessionEffect::ReadBootstrap {
                space,
                request_id,
                position,
                max_entries,
                max_bytes,
            } => match state
                .store
                .bootstrap(&space, position, max_entries, max_bytes)
                .await
            {
                Ok(page) => conn.session.bootstrap_page(request_id, page),
                Err(err) => conn.session.read_failed(err.to_string()),
            },
            SessionEffect::WakeOthers { space, head } => {
                state.hub.wake(&space, head, conn.registration);
                Vec::new()
            }
            SessionEffect::Close { reason } => {
                close(&mut conn.socket, close_code::POLICY, &reason).await;
                alive = false;
                Vec::new()
            }
        };
        queue.extend(more);
    }
    alive
}
