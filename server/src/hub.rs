//! Live sessions by space and by device: wake-ups after commits, sessions ended when an
//! account's team access changes, and immediate disconnection of revoked devices. A
//! connection of several spaces (channels) registers one session per space, all sharing
//! its [`Signals`] and its revocation token.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use shared::sync::protocol::{Seq, SpaceId};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Identifies one registration: a connection's session of one space.
pub type ConnId = u64;

/// Which of a connection's sessions a registration is: its channel (protocol version 5),
/// or `None` for a connection of one space.
pub type Tag = Option<u16>;

struct Conn {
    space: SpaceId,
    device: String,
    /// The device's account and the team of the space (`None`: the account's own book).
    member: Option<(String, String)>,
    tag: Tag,
    signals: Arc<Signals>,
    revoked: CancellationToken,
}

/// What the hub tells one connection, for all its sessions at once: the newest head of
/// each space committed by others (wake-ups are hints, so only the newest counts), and the
/// sessions whose team access changed. Bounded whatever the traffic: at most one entry per
/// session.
#[derive(Default)]
pub struct Signals {
    pending: Mutex<Pending>,
    notify: Notify,
}

#[derive(Default)]
struct Pending {
    heads: BTreeMap<Tag, Seq>,
    access_changed: BTreeSet<Tag>,
}

/// A batch of [`Signals`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Signal {
    /// Sessions to wake, with their space's head.
    pub heads: Vec<(Tag, Seq)>,
    /// Sessions to end: the account's access to the team changed.
    pub access_changed: Vec<Tag>,
}

impl Signals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wake(&self, tag: Tag, head: Seq) {
        let mut pending = self.lock();
        let entry = pending.heads.entry(tag).or_default();
        *entry = (*entry).max(head);
        drop(pending);
        self.notify.notify_one();
    }

    fn access_changed(&self, tag: Tag) {
        self.lock().access_changed.insert(tag);
        self.notify.notify_one();
    }

    /// What is pending, or nothing (without waiting).
    pub fn take(&self) -> Signal {
        let mut pending = self.lock();
        Signal {
            heads: std::mem::take(&mut pending.heads).into_iter().collect(),
            access_changed: std::mem::take(&mut pending.access_changed)
                .into_iter()
                .collect(),
        }
    }

    /// Waits for the next signals.
    pub async fn next(&self) -> Signal {
        loop {
            let signal = self.take();
            if !signal.heads.is_empty() || !signal.access_changed.is_empty() {
                return signal;
            }
            self.notify.notified().await;
        }
    }
}

/// The registry of live, authenticated sessions.
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

    /// Registers an authenticated session (`tag`) of a connection of `device` to `space`;
    /// `member` is the device's account and the space's team, for a team's space. The
    /// connection hears of it through `signals`, and `revoked` is cancelled when the
    /// device is revoked.
    pub fn register(
        &self,
        space: &SpaceId,
        device: &str,
        member: Option<(String, String)>,
        tag: Tag,
        signals: Arc<Signals>,
        revoked: CancellationToken,
    ) -> ConnId {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.conns.insert(
            id,
            Conn {
                space: space.clone(),
                device: device.to_string(),
                member,
                tag,
                signals,
                revoked,
            },
        );
        inner.by_space.entry(space.clone()).or_default().push(id);
        id
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
                conn.signals.wake(conn.tag, head);
            }
        }
    }

    /// Disconnects every connection of `device`; returns how many sessions it had.
    pub fn revoke(&self, device: &str) -> usize {
        let inner = self.lock();
        let mut count = 0;
        for conn in inner.conns.values().filter(|conn| conn.device == device) {
            conn.revoked.cancel();
            count += 1;
        }
        count
    }

    /// Ends every session of `account` in a space of `team` (her role, territories or
    /// membership changed); returns how many.
    pub fn access_changed(&self, team: &str, account: &str) -> usize {
        let inner = self.lock();
        let mut count = 0;
        for conn in inner.conns.values() {
            if let Some((member, member_team)) = &conn.member {
                if member == account && member_team == team {
                    conn.signals.access_changed(conn.tag);
                    count += 1;
                }
            }
        }
        count
    }

    /// Ends every team session here (after this relay missed notifications: a membership
    /// change it did not hear of must not leave a session under the old rules); the devices
    /// reconnect at once and are let in under the current ones. Returns how many.
    pub fn end_team_sessions(&self) -> usize {
        let inner = self.lock();
        let mut count = 0;
        for conn in inner.conns.values().filter(|conn| conn.member.is_some()) {
            conn.signals.access_changed(conn.tag);
            count += 1;
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
