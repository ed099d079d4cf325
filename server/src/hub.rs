//! Live connections by space and by device: wake-ups after commits, and immediate
//! disconnection of revoked devices.

use std::collections::HashMap;
use std::sync::Mutex;

use shared::sync::protocol::{Seq, SpaceId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Wake-ups a connection may have queued before older ones are dropped (they are hints;
/// the next page's head tells the device how far to pull anyway).
const WAKE_QUEUE: usize = 8;

/// Identifies one connection.
pub type ConnId = u64;

struct Conn {
    space: SpaceId,
    device: String,
    /// The device's account and the team of the space (`None`: the account's own book).
    member: Option<(String, String)>,
    wake: mpsc::Sender<Seq>,
    revoked: CancellationToken,
    access_changed: CancellationToken,
}

/// What a registered connection listens to.
pub struct Registration {
    /// This connection.
    pub id: ConnId,
    /// Heads committed by other connections of the space.
    pub wakes: mpsc::Receiver<Seq>,
    /// Cancelled when the device is revoked.
    pub revoked: CancellationToken,
    /// Cancelled when the account's role, territories or membership in the space's team
    /// changed: the device reconnects under the new rules.
    pub access_changed: CancellationToken,
}

/// The registry of live, authenticated connections.
#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    by_space: HashMap<SpaceId, Vec<ConnId>>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers an authenticated connection of `device` to `space`; `member` is the
    /// device's account and the space's team, for a team's space.
    pub fn register(
        &self,
        space: &SpaceId,
        device: &str,
        member: Option<(String, String)>,
    ) -> Registration {
        let (wake, wakes) = mpsc::channel(WAKE_QUEUE);
        let revoked = CancellationToken::new();
        let access_changed = CancellationToken::new();
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.conns.insert(
            id,
            Conn {
                space: space.clone(),
                device: device.to_string(),
                member,
                wake,
                revoked: revoked.clone(),
                access_changed: access_changed.clone(),
            },
        );
        inner.by_space.entry(space.clone()).or_default().push(id);
        Registration {
            id,
            wakes,
            revoked,
            access_changed,
        }
    }

    /// Forgets a connection.
    pub fn unregister(&self, id: ConnId) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.remove(&id) {
            if let Some(ids) = inner.by_space.get_mut(&conn.space) {
                ids.retain(|other| *other != id);
                if ids.is_empty() {
                    inner.by_space.remove(&conn.space);
                }
            }
        }
    }

    /// Tells every connection of `space` except `except` that the log reached `head`.
    pub fn wake(&self, space: &SpaceId, head: Seq, except: Option<ConnId>) {
        let inner = self.lock();
        for id in inner.by_space.get(space).into_iter().flatten() {
            if Some(*id) == except {
                continue;
            }
            if let Some(conn) = inner.conns.get(id) {
                // A full queue already holds a wake-up: this one is not needed.
                let _ = conn.wake.try_send(head);
            }
        }
    }

    /// Disconnects every connection of `device`.
    pub fn revoke(&self, device: &str) -> usize {
        let inner = self.lock();
        let mut count = 0;
        for conn in inner.conns.values().filter(|conn| conn.device == device) {
            conn.revoked.cancel();
            count += 1;
        }
        count
    }

    /// Closes every connection of `account` to a space of `team` (her role, territories or
    /// membership changed); returns how many.
    pub fn access_changed(&self, team: &str, account: &str) -> usize {
        let inner = self.lock();
        let mut count = 0;
        for conn in inner.conns.values() {
            if let Some((member, member_team)) = &conn.member {
                if member == account && member_team == team {
                    conn.access_changed.cancel();
                    count += 1;
                }
            }
        }
        count
    }

    /// Every space with a live connection here.
    pub fn spaces(&self) -> Vec<SpaceId> {
        self.lock().by_space.keys().cloned().collect()
    }

    /// Every device with a live connection here (each once).
    pub fn devices(&self) -> Vec<String> {
        let inner = self.lock();
        let mut devices: Vec<String> = inner.conns.values().map(|c| c.device.clone()).collect();
        devices.sort_unstable();
        devices.dedup();
        devices
    }

    /// Live connections (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().conns.len()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
