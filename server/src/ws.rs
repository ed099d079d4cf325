//! The WebSocket sync endpoint: one task per connection driving a
//! `shared::sync::RelayChannels` (one `RelaySession` per space the connection carries) and
//! carrying out its effects against the store, the auth tables and the hub.
//!
//! Effects run to completion before the next frame is read, so an append that started is
//! committed and acknowledged even when shutdown begins meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use shared::sync::channels::{server_frames, Channel};
use shared::sync::protocol::{ErrorCode, ServerMessage};
use shared::sync::{ChannelEffect, RelayChannels, SessionEffect};
use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::hub::{ConnId, Signals};
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
    conn: RelayChannels,
    /// The hub registration of each signed-in session.
    registrations: HashMap<Channel, ConnId>,
    signals: Arc<Signals>,
    revoked: CancellationToken,
    device: Option<String>,
    state: AppState,
}

async fn connection(socket: WebSocket, state: AppState) {
    let mut conn = Connection {
        socket,
        conn: RelayChannels::new(state.limits, shared::Timestamp(now_ms())),
        registrations: HashMap::new(),
        signals: Arc::new(Signals::default()),
        revoked: CancellationToken::new(),
        device: None,
        state,
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let shutdown = conn.state.shutdown.clone();
    let signals = conn.signals.clone();
    let revoked = conn.revoked.clone();
    loop {
        let effects = tokio::select! {
            _ = shutdown.cancelled() => {
                close(&mut conn.socket, close_code::AWAY, "the relay is restarting").await;
                break;
            }
            _ = revoked.cancelled() => conn.conn.refuse_all(
                ErrorCode::Revoked,
                "this device was signed out from another device".into(),
            ),
            signal = signals.next() => {
                let mut effects = Vec::new();
                for channel in signal.access_changed {
                    effects.extend(conn.conn.with(channel, |session| session.refused(
                        ErrorCode::AccessChanged,
                        "this account's access to the team changed; reconnecting".into(),
                    )));
                }
                for (channel, head) in signal.heads {
                    effects.extend(conn.conn.with(channel, |session| session.woken(head)));
                }
                effects
            }
            // The time to sign in (Hello) or the idle timeout ran out.
            () = tokio::time::sleep(until(conn.conn.idle_deadline())) => {
                conn.conn.tick(shared::Timestamp(now_ms()))
            }
            _ = ping.tick() => {
                let effects = conn.conn.tick(shared::Timestamp(now_ms()));
                // Only signed-in connections are kept alive.
                if effects.is_empty()
                    && conn.conn.is_signed_in()
                    && conn.socket.send(Message::Ping(Default::default())).await.is_err()
                {
                    break;
                }
                effects
            }
            message = conn.socket.recv() => match message {
                Some(Ok(Message::Binary(bytes))) => conn.conn.frame(&bytes, shared::Timestamp(now_ms())),
                Some(Ok(Message::Text(text))) => conn.conn.frame(text.as_bytes(), shared::Timestamp(now_ms())),
                Some(Ok(Message::Pong(_) | Message::Ping(_))) => {
                    conn.conn.keepalive(shared::Timestamp(now_ms()));
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
        if !run_effects(&mut conn, effects).await || conn.conn.is_closed() {
            break;
        }
    }
    for (_, id) in conn.registrations.drain() {
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
    Duration::from_millis(u64::try_from(deadline.0.saturating_sub(now_ms())).unwrap_or(0))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.chars().take(120).collect::<String>().into(),
        })))
        .await;
}

/// Sends what the sessions said: a connection of channels gets one frame for all of it.
async fn flush(conn: &mut Connection, sends: &mut Vec<(Channel, ServerMessage)>) -> bool {
    let mut alive = true;
    for frame in server_frames(std::mem::take(sends)) {
        if conn
            .socket
            .send(Message::Binary(frame.into()))
            .await
            .is_err()
        {
            alive = false;
            break;
        }
    }
    alive
}

/// Carries out effects (and the effects they lead to); `false` ends the connection.
async fn run_effects(conn: &mut Connection, effects: Vec<ChannelEffect>) -> bool {
    let mut queue: VecDeque<ChannelEffect> = effects.into();
    let mut sends: Vec<(Channel, ServerMessage)> = Vec::new();
    let state = conn.state.clone();
    let mut alive = true;
    while let Some(ChannelEffect { channel, effect }) = queue.pop_front() {
        if !alive && !matches!(effect, SessionEffect::WakeOthers { .. }) {
            // The socket is gone, but what was committed must still wake the other
            // devices (the sync simulation found this ordering).
            continue;
        }
        let more = match effect {
            SessionEffect::Authenticate { space, token } => {
                // A Hello again on a channel: its earlier session is over.
                if let Some(id) = conn.registrations.remove(&channel) {
                    state.hub.unregister(id);
                }
                match auth::authorize_space(&state.db, &token, &space).await {
                    Ok((device, access, team)) => match state.store.head(&space).await {
                        Ok(head) => {
                            if conn.device.as_ref().is_some_and(|d| *d != device.device_id) {
                                // One connection is one device: another device's token
                                // on it is refused.
                                conn.conn.with(channel, |session| {
                                    session.refused(
                                        ErrorCode::Unauthorized,
                                        "one connection carries one device's spaces".into(),
                                    )
                                })
                            } else {
                                let member = team.map(|team| (device.account_id.clone(), team));
                                let id = state.hub.register(
                                    &space,
                                    &device.device_id,
                                    member,
                                    channel,
                                    conn.signals.clone(),
                                    conn.revoked.clone(),
                                );
                                conn.registrations.insert(channel, id);
                                if conn.device.is_none() {
                                    if let Err(err) =
                                        auth::touch(&state.db, &device.device_id, now_ms()).await
                                    {
                                        tracing::warn!(cause = %err, "could not record last seen");
                                    }
                                }
                                tracing::info!(device = %device.device_id, space = %space.0, ?channel, head = head.0, "device connected");
                                conn.device = Some(device.device_id);
                                conn.conn.with(channel, |session| {
                                    session.authenticated(space, head, access)
                                })
                            }
                        }
                        Err(err) => conn
                            .conn
                            .with(channel, |session| session.read_failed(err.to_string())),
                    },
                    Err(err) => {
                        tracing::info!(cause = %err, space = %space.0, ?channel, "session refused");
                        conn.conn.with(channel, |session| {
                            session.refused(err.code(), err.to_string())
                        })
                    }
                }
            }
            SessionEffect::Send(message) => {
                // Every refusal is logged with its reason.
                match &message {
                    ServerMessage::Error { code, message } => {
                        tracing::info!(device = conn.device.as_deref().unwrap_or("-"), ?channel, ?code, reason = %message, "session refused");
                    }
                    ServerMessage::Rejected {
                        code,
                        message,
                        index,
                        ..
                    } => {
                        tracing::info!(device = conn.device.as_deref().unwrap_or("-"), ?channel, ?code, index, reason = %message, "push refused");
                    }
                    _ => {}
                }
                sends.push((channel, message));
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
                        conn.conn.with(channel, |session| {
                            session.committed(request_id, results, head)
                        })
                    }
                    Err(err) => conn.conn.with(channel, |session| {
                        session.push_refused(request_id, err.index, err.code, err.message)
                    }),
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
                Ok((entries, projections, head)) => conn.conn.with(channel, |session| {
                    session.entries(request_id, entries, projections, head)
                }),
                Err(err) => conn
                    .conn
                    .with(channel, |session| session.read_failed(err.to_string())),
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
                Ok(page) => conn
                    .conn
                    .with(channel, |session| session.bootstrap_page(request_id, page)),
                Err(err) => conn
                    .conn
                    .with(channel, |session| session.read_failed(err.to_string())),
            },
            SessionEffect::WakeOthers { space, head } => {
                state
                    .hub
                    .wake(&space, head, conn.registrations.get(&channel).copied());
                Vec::new()
            }
            SessionEffect::Close { reason } => {
                if channel.is_some() {
                    // One channel's session ended; the connection goes on (unless the
                    // connection's own `Close` follows).
                    if let Some(id) = conn.registrations.remove(&channel) {
                        state.hub.unregister(id);
                    }
                } else {
                    if flush(conn, &mut sends).await {
                        close(&mut conn.socket, close_code::POLICY, &reason).await;
                    }
                    alive = false;
                }
                Vec::new()
            }
        };
        queue.extend(more);
    }
    if alive && !sends.is_empty() {
        alive = flush(conn, &mut sends).await;
    }
    alive
}
