//! Cross-relay wake-ups and revocations (PostgreSQL only): every append transaction and
//! every revocation NOTIFYs one channel; each relay LISTENs to it and passes what other
//! relays committed to its own [`Hub`].
//!
//! Notifications are hints, never the source of truth. A relay whose listener connection
//! dropped misses what was sent meanwhile, so after every (re)connection it resynchronises
//! from the tables: it wakes every space it has live connections for with the space's
//! current head (devices pull from their cursor; nothing is lost) and closes the sockets of
//! any of its devices revoked meanwhile.

use std::sync::Arc;
use std::time::Duration;

use shared::sync::protocol::{Seq, SpaceId};
use sqlx::postgres::{PgListener, PgPool};
use tokio_util::sync::CancellationToken;

use crate::hub::Hub;
use crate::store::LogStore;

/// The channel every relay of a deployment listens to.
pub const CHANNEL: &str = "fieldbook";

/// Longest wait between two attempts to reconnect the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Payload announcing that `relay` committed `space` up to `head`.
pub fn head_payload(relay: &str, space: &SpaceId, head: Seq) -> String {
    format!("head {relay} {} {}", space.0, head.0)
}

/// Payload announcing that `device` was revoked.
pub fn revoked_payload(device: &str) -> String {
    format!("revoked {device}")
}

/// Payload announcing that `relay` changed `account`'s access to `team` (role,
/// territories, removal). Ids are hex, without spaces.
pub fn member_payload(relay: &str, team: &str, account: &str) -> String {
    format!("member {relay} {team} {account}")
}

/// A notification, parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum Notice {
    /// A relay committed appends to a space.
    Head {
        /// The relay that committed.
        relay: String,
        /// The space.
        space: SpaceId,
        /// Its head after the commit.
        head: Seq,
    },
    /// A device was revoked.
    Revoked {
        /// The device.
        device: String,
    },
    /// A member's access to a team changed.
    Member {
        /// The relay that changed it (its own connections were told at once).
        relay: String,
        /// The team.
        team: String,
        /// Her account.
        account: String,
    },
}

/// Parses a payload; `None` for anything else (ignored, logged).
pub fn parse(payload: &str) -> Option<Notice> {
    let mut words = payload.split(' ');
    let notice = match words.next()? {
        "head" => Notice::Head {
            relay: words.next()?.to_string(),
            space: SpaceId(words.next()?.to_string()),
            head: Seq(words.next()?.parse().ok()?),
        },
        "revoked" => Notice::Revoked {
            device: words.next()?.to_string(),
        },
        "member" => {
            let named: Vec<&str> = words.by_ref().take(3).collect();
            match named[..] {
                [relay, team, account] => Notice::Member {
                    relay: relay.to_string(),
                    team: team.to_string(),
                    account: account.to_string(),
                },
                // From a relay of an earlier version, which named no relay: every relay,
                // this one too, ends her sessions (a missed change is worse than a second
                // reconnection).
                [team, account] => Notice::Member {
                    relay: String::new(),
                    team: team.to_string(),
                    account: account.to_string(),
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    words.next().is_none().then_some(notice)
}

/// Passes one notification to the hub; `relay` is this relay (its own commits already
/// woke its connections).
pub fn deliver(hub: &Hub, relay: &str, notice: Notice) {
    match notice {
        Notice::Head {
            relay: from,
            space,
            head,
        } => {
            if from != relay {
                hub.wake(&space, head, None);
            }
        }
        Notice::Revoked { device } => {
            hub.revoke(&device);
        }
        Notice::Member {
            relay: from,
            team,
            account,
        } => {
            // The relay that made the change told its own connections already: told twice,
            // a device that reconnected at once under the new rule would be closed again.
            if from != relay {
                hub.access_changed(&team, &account);
            }
        }
    }
}

/// Listens until `shutdown`, reconnecting (with backoff) whenever the connection drops and
/// resynchronising after every connection.
pub async fn listen(
    pool: PgPool,
    relay: String,
    hub: Arc<Hub>,
    store: LogStore,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            // Named, so an operator (or a test) can tell it from the pool's connections.
            sqlx::query("SET application_name = 'fieldbook-listener'")
                .execute(&mut listener)
                .await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            _ = shutdown.cancelled() => return,
            connected = connected => match connected {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(cause = %err, retry_in_ms = backoff.as_millis() as u64, "cannot listen for other relays' commits");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(100);
        // Listening from here on: whatever committed before is read from the tables.
        resync(&pool, &hub, &store).await;
        tracing::info!("listening for other relays' commits");
        loop {
            let received = tokio::select! {
                _ = shutdown.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification)) => match parse(notification.payload()) {
                    Some(notice) => deliver(&hub, &relay, notice),
                    None => {
                        tracing::warn!(payload = notification.payload(), "unknown notification")
                    }
                },
                Ok(None) => {
                    tracing::warn!("lost the listener connection; reconnecting");
                    break;
                }
                Err(err) => {
                    tracing::warn!(cause = %err, "listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

/// After a (re)connection: wakes every space with live connections here at its current
/// head, closes the sockets of devices revoked meanwhile, and ends every team session (a
/// role, territory or membership change may have been missed; the devices reconnect under
/// the current rules).
pub async fn resync(pool: &PgPool, hub: &Hub, store: &LogStore) {
    let ended = hub.end_team_sessions();
    if ended > 0 {
        tracing::info!(
            ended,
            "team sessions ended after missed notifications; devices reconnect"
        );
    }
    for space in hub.spaces() {
        match store.head(&space).await {
            Ok(head) => hub.wake(&space, head, None),
            Err(err) => tracing::warn!(cause = %err, space = %space.0, "cannot read head"),
        }
    }
    let devices = hub.devices();
    if devices.is_empty() {
        return;
    }
    let revoked: Result<Vec<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT id FROM devices WHERE id = ANY($1) AND revoked_at IS NOT NULL")
            .bind(&devices)
            .fetch_all(pool)
            .await;
    match revoked {
        Ok(revoked) => {
            for device in revoked {
                hub.revoke(&device);
            }
        }
        Err(err) => tracing::warn!(cause = %err, "cannot check revocations"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_anything_else_is_ignored() {
        let space = SpaceId("5f0c".into());
        assert_eq!(
            parse(&head_payload("r1", &space, Seq(42))),
            Some(Notice::Head {
                relay: "r1".into(),
                space,
                head: Seq(42)
            })
        );
        assert_eq!(
            parse(&revoked_payload("d9")),
            Some(Notice::Revoked {
                device: "d9".into()
            })
        );
        assert_eq!(
            parse(&member_payload("r1", "t7", "a3")),
            Some(Notice::Member {
                relay: "r1".into(),
                team: "t7".into(),
                account: "a3".into()
            })
        );
        assert_eq!(
            parse("member t7 a3"),
            Some(Notice::Member {
                relay: String::new(),
                team: "t7".into(),
                account: "a3".into()
            }),
            "a relay of an earlier version names none"
        );
        for bad in [
            "",
            "member t7",
            "member r1 t7 a3 extra",
            "head r1 s",
            "head r1 s x",
            "head r1 s 1 extra",
            "revoked",
            "wake s 1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn other_relays_heads_wake_every_connection_and_own_heads_none() {
        let hub = Hub::default();
        let space = SpaceId("s".into());
        let signals = std::sync::Arc::new(crate::hub::Signals::default());
        let revoked = tokio_util::sync::CancellationToken::new();
        hub.register(
            &space,
            "phone",
            None,
            None,
            signals.clone(),
            revoked.clone(),
        );
        deliver(
            &hub,
            "me",
            Notice::Head {
                relay: "me".into(),
                space: space.clone(),
                head: Seq(3),
            },
        );
        assert_eq!(
            signals.take(),
            crate::hub::Signal::default(),
            "own commit: already woken locally"
        );
        deliver(
            &hub,
            "me",
            Notice::Head {
                relay: "other".into(),
                space: space.clone(),
                head: Seq(4),
            },
        );
        assert_eq!(signals.take().heads, vec![(None, Seq(4))]);
        deliver(
            &hub,
            "me",
            Notice::Revoked {
                device: "phone".into(),
            },
        );
        assert!(revoked.is_cancelled());
    }

    #[tokio::test]
    async fn a_member_change_ends_her_team_sessions_once_on_the_relay_that_made_it() {
        let hub = Hub::default();
        let signals = std::sync::Arc::new(crate::hub::Signals::default());
        hub.register(
            &SpaceId("north".into()),
            "phone",
            Some(("rita".into(), "team".into())),
            Some(2),
            signals.clone(),
            tokio_util::sync::CancellationToken::new(),
        );
        let notice = |relay: &str| Notice::Member {
            relay: relay.into(),
            team: "team".into(),
            account: "rita".into(),
        };
        // The relay that changed her role told her sessions itself; its own notice, heard
        // back a moment later, must not end the session she opened again meanwhile.
        deliver(&hub, "me", notice("me"));
        assert!(signals.take().access_changed.is_empty());
        deliver(&hub, "me", notice("other"));
        assert_eq!(signals.take().access_changed, vec![Some(2)]);
    }
}
