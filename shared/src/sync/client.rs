//! [`ClientEngine`]: a device's side of sync, as a state machine.
//!
//! The browser runtime (and the simulation) feeds it what happened — the network came
//! back, the socket opened, a frame arrived, a local change was committed to the outbox,
//! entries were applied to storage — together with the current time, and carries out the
//! [`ClientEffect`]s it returns. Between events the runtime calls [`ClientEngine::tick`]
//! at [`ClientEngine::next_wakeup`].
//!
//! # Invariants
//!
//! - An outbox item leaves the outbox only when the relay acknowledged it
//!   ([`ClientEffect::Acked`]), so "all changes backed up" ([`SyncPhase::UpToDate`] with
//!   nothing unsent) is true when shown.
//! - The cursor moves only after the runtime reports that the entries before it are stored
//!   ([`ClientEngine::applied`]), and the runtime stores the cursor in the same transaction
//!   as those entries.
//! - One push and one pull (or bootstrap page) are outstanding at a time; an answer that
//!   does not match the outstanding request id is ignored.
//! - An outbox restored from storage is held as [`StoredItem`]s (id and document, no
//!   bytes): the bytes of at most one push's worth of items are read back
//!   ([`ClientEffect::ReadOutbox`]) when they are next to go, so a device holding 10,000
//!   unsent snapshots does not keep them all in memory. Nothing is pushed without its bytes.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::seed::SeedRng;
use crate::sync::protocol::{
    decode, encode, inflate_page, BootstrapPage, BootstrapPhase, BootstrapPosition, ClientMessage,
    DocumentId, EntryProjection, ErrorCode, LogEntry, ProtocolVersion, Seq, ServerMessage, SpaceId,
    Upload, CHANGE_PROJECTIONS_VERSION, SUPPORTED_VERSIONS,
};
use crate::Timestamp;

/// How a device reaches its space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The space synced.
    pub space: SpaceId,
    /// The device's token.
    pub token: String,
}

/// Tunables of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// Most blobs per push.
    pub push_max_uploads: usize,
    /// Most blob bytes per push (a single larger blob is still sent alone).
    pub push_max_bytes: usize,
    /// Entries asked for per page.
    pub page_entries: u32,
    /// First reconnect delay; doubled per failed attempt.
    pub backoff_base_ms: i64,
    /// Longest reconnect delay.
    pub backoff_max_ms: i64,
    /// A request (or the handshake) unanswered for this long drops the connection.
    pub request_timeout_ms: i64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            push_max_uploads: 500,
            push_max_bytes: 1024 * 1024,
            page_entries: 1000,
            backoff_base_ms: 500,
            backoff_max_ms: 60_000,
            request_timeout_ms: 30_000,
        }
    }
}

/// A change waiting for the relay's acknowledgement, with its outbox key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The runtime's key for it (increasing in the order changes were made).
    pub id: u64,
    /// What to push.
    pub upload: Upload,
    /// For a change of a customer: the customer's summary and facts right after it, as this
    /// device computed them (sent to a relay of version 7 on, see
    /// [`ClientMessage::ProjectedPush`]); `None` once the change was stored and read back.
    pub projection: Option<EntryProjection>,
}

/// An outbox item restored without its bytes: they stay in the runtime's storage until the
/// item is about to be pushed ([`ClientEffect::ReadOutbox`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// The runtime's key for it.
    pub id: u64,
    /// The document it belongs to (an erasure forgets every unsent change of a document).
    pub document: DocumentId,
}

/// An outbox item as the engine holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Held {
    /// Ready to push.
    Loaded(Upload),
    /// Only in storage, see [`StoredItem`].
    Stored(DocumentId),
}

impl Held {
    fn document(&self) -> &DocumentId {
        match self {
            Held::Loaded(upload) => &upload.document,
            Held::Stored(document) => document,
        }
    }
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEffect {
    /// Open a connection to the relay; report [`ClientEngine::connected`] or
    /// [`ClientEngine::disconnected`].
    Connect,
    /// Send this frame on the open connection.
    Send(Vec<u8>),
    /// Close the connection (no [`ClientEngine::disconnected`] needed).
    Disconnect,
    /// Store these entries and the sync position in one transaction, then call
    /// [`ClientEngine::applied`] (or [`ClientEngine::apply_failed`]).
    Apply {
        /// Entries to merge into their documents, in log order.
        entries: Vec<LogEntry>,
        /// What the relay derived from each entry's snapshot, in the same order (empty:
        /// none): a document new to the device whose only entry is its snapshot is listed
        /// from it and stored without being loaded.
        projections: Vec<Option<EntryProjection>>,
        /// The cursor to store with them.
        cursor: Seq,
        /// The bootstrap position to store with them (`None`: no bootstrap under way).
        bootstrap: Option<BootstrapPosition>,
        /// Whether they are a catch-up on changes made elsewhere (a pull), not a page of a
        /// download of the whole book: a catch-up's changes are what "Recent changes" lists.
        catch_up: bool,
    },
    /// Store this cursor (the device's own pushes filled the log up to it).
    SaveCursor(Seq),
    /// Read these outbox items (restored as [`StoredItem`]s) from storage and hand them to
    /// [`ClientEngine::outbox_read`], leaving out any that storage no longer holds; or report
    /// [`ClientEngine::outbox_read_failed`].
    ReadOutbox(Vec<u64>),
    /// The relay durably stored these outbox items: delete them.
    Acked(Vec<u64>),
    /// The relay refused these outbox items for good; delete them and tell the rep.
    Refused {
        /// The items.
        ids: Vec<u64>,
        /// The relay's reason.
        message: String,
    },
    /// The relay refused a change because its document was erased on another device
    /// (nothing of the push was stored): forget the document and these outbox items —
    /// every unsent change of the document — setting them aside for the rep first.
    Erased {
        /// The erased document.
        document: DocumentId,
        /// Its outbox items (removed from the engine's outbox).
        ids: Vec<u64>,
    },
    /// The device was signed out (revoked from another device, or its token is unknown):
    /// forget the space.
    SignedOut {
        /// Whether another device revoked this one.
        revoked: bool,
        /// The relay's words.
        message: String,
    },
}

/// Where sync stands, for the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SyncPhase {
    /// Not signed in: changes stay on this device.
    LocalOnly,
    /// The browser is offline.
    Offline,
    /// Connecting or waiting to retry.
    Connecting,
    /// Exchanging changes.
    Syncing,
    /// Connected, nothing to send or fetch.
    UpToDate,
}

/// A snapshot of the engine's state for the UI (also sent from the writer tab to the others,
/// see [`crate::sync::tab_protocol`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncStatus {
    /// Where sync stands.
    pub phase: SyncPhase,
    /// Changes not yet acknowledged by the relay.
    pub unsent: usize,
    /// When the device last knew it was fully in sync.
    pub last_synced: Option<Timestamp>,
    /// Documents received and total while a new device downloads the book.
    pub bootstrap: Option<(u64, u64)>,
    /// The last problem worth telling the rep, if any.
    pub problem: Option<String>,
    /// When the next connection attempt happens, while waiting to retry.
    pub retry_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conn {
    Idle,
    Waiting { until: Timestamp },
    Connecting { since: Timestamp },
    Handshaking { since: Timestamp },
    Ready,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadKind {
    Pull { since: Seq },
    Bootstrap,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outstanding {
    request_id: u64,
    sent_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingApply {
    cursor: Seq,
    bootstrap: Option<BootstrapPosition>,
    documents: u64,
    catch_up: bool,
}

/// A device's sync state machine.
#[derive(Debug)]
pub struct ClientEngine {
    config: ClientConfig,
    credentials: Option<Credentials>,
    online: bool,
    conn: Conn,
    attempt: u32,
    rng: SeedRng,
    cursor: Seq,
    bootstrap: Option<BootstrapPosition>,
    bootstrap_done_documents: u64,
    remote_head: Seq,
    outbox: BTreeMap<u64, Held>,
    /// The stored items asked for by the outstanding [`ClientEffect::ReadOutbox`].
    reading: Option<Vec<u64>>,
    /// Projections of outbox items that have one ([`OutboxItem::projection`]).
    projections: BTreeMap<u64, EntryProjection>,
    /// The protocol version of the current (or last) session.
    version: ProtocolVersion,
    push: Option<(Outstanding, Vec<u64>)>,
    read: Option<(Outstanding, ReadKind)>,
    applying: Option<PendingApply>,
    /// The next page, fetched while the one before is being stored.
    prefetched: Option<(PendingApply, Vec<LogEntry>, Vec<Option<EntryProjection>>)>,
    next_request_id: u64,
    last_synced: Option<Timestamp>,
    problem: Option<String>,
    /// The relay said this connection may only read the space (a team's viewer, a rep in
    /// its shared space): nothing more is pushed until the next connection, when the role
    /// may have changed; the outbox keeps every change meanwhile.
    read_only: bool,
}

impl ClientEngine {
    /// An engine restored from storage: the stored cursor, an unfinished bootstrap and the
    /// outbox. `seed` drives the reconnect jitter.
    pub fn new(
        config: ClientConfig,
        credentials: Option<Credentials>,
        cursor: Seq,
        bootstrap: Option<BootstrapPosition>,
        outbox: Vec<OutboxItem>,
        seed: u64,
    ) -> ClientEngine {
        ClientEngine {
            config,
            credentials,
            online: false,
            conn: Conn::Idle,
            attempt: 0,
            rng: SeedRng::new(seed),
            cursor,
            bootstrap,
            bootstrap_done_documents: 0,
            remote_head: cursor,
            projections: (outbox.iter())
                .filter_map(|item| Some((item.id, item.projection.clone()?)))
                .collect(),
            outbox: outbox
                .into_iter()
                .map(|item| (item.id, Held::Loaded(item.upload)))
                .collect(),
            reading: None,
            version: 1,
            push: None,
            read: None,
            applying: None,
            prefetched: None,
            next_request_id: 1,
            last_synced: None,
            problem: None,
            read_only: false,
        }
    }

    /// Adds the outbox items restored without their bytes (they come after the loaded ones
    /// given to [`ClientEngine::new`] in id order, like any other).
    pub fn with_stored(mut self, items: Vec<StoredItem>) -> ClientEngine {
        for item in items {
            self.outbox
                .entry(item.id)
                .or_insert(Held::Stored(item.document));
        }
        self
    }

    /// The stored cursor: the device holds every log entry up to here.
    pub fn cursor(&self) -> Seq {
        self.cursor
    }

    /// Whether the device is signed in to a space.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The state for the indicator.
    pub fn status(&self) -> SyncStatus {
        let phase = if self.credentials.is_none() {
            SyncPhase::LocalOnly
        } else if !self.online {
            SyncPhase::Offline
        } else {
            match self.conn {
                Conn::Idle
                | Conn::Waiting { .. }
                | Conn::Connecting { .. }
                | Conn::Handshaking { .. } => SyncPhase::Connecting,
                Conn::Ready if self.is_quiet() => SyncPhase::UpToDate,
                Conn::Ready => SyncPhase::Syncing,
            }
        };
        let bootstrap = self.bootstrap.as_ref().map(|position| {
            let done = match position.phase {
                BootstrapPhase::Snapshots { .. } => self.bootstrap_done_documents,
                BootstrapPhase::Tail { .. } => position.total_documents,
            };
            (done.min(position.total_documents), position.total_documents)
        });
        SyncStatus {
            phase,
            unsent: self.outbox.len(),
            last_synced: self.last_synced,
            bootstrap,
            problem: self.problem.clone(),
            retry_at: match self.conn {
                Conn::Waiting { until } => Some(until),
                _ => None,
            },
        }
    }

    /// Connected, nothing outstanding, nothing to send, nothing to fetch.
    pub fn is_quiet(&self) -> bool {
        self.conn == Conn::Ready
            && self.outbox.is_empty()
            && self.push.is_none()
            && self.read.is_none()
            && self.applying.is_none()
            && self.prefetched.is_none()
            && self.bootstrap.is_none()
            && self.cursor >= self.remote_head
    }

    /// When [`ClientEngine::tick`] should next be called.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let timeout = |since: Timestamp| Timestamp(since.0 + self.config.request_timeout_ms);
        match self.conn {
            Conn::Waiting { until } => Some(until),
            Conn::Connecting { since } | Conn::Handshaking { since } => Some(timeout(since)),
            Conn::Ready => {
                let push = self.push.as_ref().map(|(o, _)| timeout(o.sent_at));
                let read = self.read.as_ref().map(|(o, _)| timeout(o.sent_at));
                push.into_iter().chain(read).min()
            }
            Conn::Idle => None,
        }
    }

    /// The runtime signed in (or out, with `None`).
    pub fn set_credentials(
        &mut self,
        credentials: Option<Credentials>,
        now: Timestamp,
    ) -> Vec<ClientEffect> {
        let mut effects = self.drop_connection(now, false);
        self.credentials = credentials;
        self.problem = None;
        effects.extend(self.connect_if_possible(now));
        effects
    }

    /// The browser went online or offline.
    pub fn set_online(&mut self, online: bool, now: Timestamp) -> Vec<ClientEffect> {
        if online == self.online {
            return Vec::new();
        }
        self.online = online;
        if online {
            self.attempt = 0;
            self.connect_if_possible(now)
        } else {
            self.drop_connection(now, false)
        }
    }

    /// Time passed: retry a connection, or give up on an unanswered request.
    pub fn tick(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        match self.conn {
            Conn::Waiting { until } if now >= until => {
                self.conn = Conn::Idle;
                self.connect_if_possible(now)
            }
            _ => match self.next_wakeup() {
                Some(deadline) if now >= deadline && self.conn != Conn::Idle => {
                    self.problem = Some("the relay stopped answering; reconnecting".into());
                    self.drop_connection(now, true)
                }
                _ => Vec::new(),
            },
        }
    }

    /// Another space's connection to the relay just opened (`sync::channels`): a space
    /// waiting to retry connects now, so every space is opened in one round trip.
    pub fn retry_now(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        if matches!(self.conn, Conn::Waiting { .. }) {
            self.conn = Conn::Idle;
            return self.connect_if_possible(now);
        }
        Vec::new()
    }

    /// The connection asked for by [`ClientEffect::Connect`] is open.
    pub fn connected(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        let (Conn::Connecting { .. }, Some(credentials)) = (self.conn, &self.credentials) else {
            return vec![ClientEffect::Disconnect];
        };
        self.conn = Conn::Handshaking { since: now };
        vec![ClientEffect::Send(encode(&ClientMessage::Hello {
            supported_versions: SUPPORTED_VERSIONS.to_vec(),
            space: credentials.space.clone(),
            token: credentials.token.clone(),
        }))]
    }

    /// The connection failed to open or closed.
    pub fn disconnected(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        if matches!(self.conn, Conn::Idle | Conn::Waiting { .. }) {
            return Vec::new();
        }
        let mut effects = self.drop_connection(now, true);
        // The socket is already gone.
        effects.retain(|effect| *effect != ClientEffect::Disconnect);
        effects
    }

    /// Local changes were committed to the outbox.
    pub fn queued(&mut self, items: Vec<OutboxItem>, now: Timestamp) -> Vec<ClientEffect> {
        for item in items {
            self.outbox.insert(item.id, Held::Loaded(item.upload));
            if let Some(projection) = item.projection {
                self.projections.insert(item.id, projection);
            }
        }
        self.progress(now)
    }

    /// These outbox items are no longer to be pushed (their document was erased on another
    /// device, and the runtime set them aside).
    pub fn forget(&mut self, ids: &[u64]) {
        for id in ids {
            self.outbox.remove(id);
            self.projections.remove(id);
        }
    }

    /// The items of the last [`ClientEffect::ReadOutbox`] were read back from storage; an item
    /// asked for and not among them is no longer stored, so no longer unsent.
    pub fn outbox_read(&mut self, items: Vec<(u64, Upload)>, now: Timestamp) -> Vec<ClientEffect> {
        let Some(asked) = self.reading.take() else {
            return Vec::new();
        };
        let mut read: BTreeMap<u64, Upload> = items.into_iter().collect();
        let mut gone = Vec::new();
        for id in asked {
            // Only an item still held without bytes takes them: one acknowledged or forgotten
            // meanwhile stays gone.
            if let Some(Held::Stored(_)) = self.outbox.get(&id) {
                match read.remove(&id) {
                    Some(upload) => {
                        self.outbox.insert(id, Held::Loaded(upload));
                    }
                    None => gone.push(id),
                }
            }
        }
        self.forget(&gone);
        self.progress(now)
    }

    /// Reading the last [`ClientEffect::ReadOutbox`] failed: everything stays unsent; try
    /// again after a reconnect.
    pub fn outbox_read_failed(&mut self, message: String, now: Timestamp) -> Vec<ClientEffect> {
        self.reading = None;
        self.problem = Some(message);
        self.drop_connection(now, true)
    }

    /// The entries of the last [`ClientEffect::Apply`] are stored.
    pub fn applied(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        let Some(applied) = self.applying.take() else {
            return Vec::new();
        };
        self.cursor = self.cursor.max(applied.cursor);
        self.bootstrap_done_documents += applied.documents;
        self.bootstrap = applied.bootstrap;
        if self.bootstrap.is_none() {
            self.bootstrap_done_documents = 0;
        }
        let mut effects = Vec::new();
        if let Some((pending, entries, projections)) = self.prefetched.take() {
            effects.extend(self.start_apply(pending, entries, projections, now));
        } else {
            effects.extend(self.progress(now));
        }
        effects
    }

    /// Storing the entries of the last [`ClientEffect::Apply`] failed (e.g. storage full):
    /// nothing moved; try again after a reconnect.
    pub fn apply_failed(&mut self, message: String, now: Timestamp) -> Vec<ClientEffect> {
        self.applying = None;
        self.prefetched = None;
        self.problem = Some(message);
        self.drop_connection(now, true)
    }

    /// A frame arrived from the relay.
    pub fn frame(&mut self, frame: &[u8], now: Timestamp) -> Vec<ClientEffect> {
        let message = match decode::<ServerMessage>(frame) {
            Ok(message) => message,
            Err(err) => {
                self.problem = Some(format!("the relay sent something unreadable: {err}"));
                return self.drop_connection(now, true);
            }
        };
        match message {
            ServerMessage::Welcome { head, version } => {
                if !matches!(self.conn, Conn::Handshaking { .. }) {
                    return Vec::new();
                }
                self.version = version;
                self.conn = Conn::Ready;
                self.attempt = 0;
                self.problem = None;
                self.read_only = false;
                // Never backwards: a wake-up may have overtaken this welcome.
                self.remote_head = self.remote_head.max(head);
                if head < self.cursor && self.bootstrap.is_none() {
                    self.problem = Some(format!(
                        "the relay's log ends at {} but this device has seen {}; \
                         the relay was restored from an older backup",
                        head.0, self.cursor.0
                    ));
                }
                self.progress(now)
            }
            ServerMessage::Error { code, message } => self.error(code, message, now),
            ServerMessage::Acked {
                request_id,
                results,
                head,
            } => {
                let Some((outstanding, ids)) =
                    self.push.take_if(|(o, _)| o.request_id == request_id)
                else {
                    return Vec::new();
                };
                let _ = outstanding;
                for id in &ids {
                    self.outbox.remove(id);
                    self.projections.remove(id);
                }
                self.remote_head = self.remote_head.max(head);
                let mut effects = vec![ClientEffect::Acked(ids)];
                // If the push filled the log right after our cursor, we already hold those
                // entries: move the cursor instead of pulling our own changes back.
                let mut fresh: Vec<Seq> = results
                    .iter()
                    .filter(|r| !r.duplicate)
                    .map(|r| r.seq)
                    .collect();
                crate::order::sort(&mut fresh);
                let contiguous = fresh
                    .iter()
                    .enumerate()
                    .all(|(i, seq)| seq.0 == self.cursor.0 + 1 + i as u64);
                if !fresh.is_empty()
                    && contiguous
                    && self.read.is_none()
                    && self.applying.is_none()
                    && self.prefetched.is_none()
                    && self.bootstrap.is_none()
                {
                    self.cursor = fresh[fresh.len() - 1];
                    effects.push(ClientEffect::SaveCursor(self.cursor));
                }
                effects.extend(self.progress(now));
                effects
            }
            ServerMessage::Rejected {
                request_id,
                index,
                code,
                message,
            } => {
                let Some((_, ids)) = self.push.take_if(|(o, _)| o.request_id == request_id) else {
                    return Vec::new();
                };
                if code == ErrorCode::Internal {
                    // Nothing was stored; the relay may recover. Keep everything and retry.
                    self.problem = Some(format!("the relay could not store changes: {message}"));
                    return self.drop_connection(now, true);
                }
                if code == ErrorCode::QuotaExceeded {
                    // Nothing was stored; space may be freed or the quota raised. Keep
                    // everything and retry later.
                    self.problem = Some(format!(
                        "the relay's storage for your account is full — your changes stay on this device ({message})"
                    ));
                    return self.drop_connection(now, true);
                }
                if code == ErrorCode::ReadOnly {
                    // Nothing was stored, and nothing will be on this connection: keep every
                    // change (never "backed up"), keep pulling what the team writes, try
                    // again on the next connection.
                    self.read_only = true;
                    self.problem = Some(format!(
                        "not accepted by the relay — {message} ({} changes kept on this device)",
                        self.outbox.len()
                    ));
                    return self.progress(now);
                }
                if code == ErrorCode::Erased {
                    // Every unsent change of that document would be refused alike.
                    let Some(document) = ids
                        .get(index as usize)
                        .and_then(|id| self.outbox.get(id))
                        .map(|held| held.document().clone())
                    else {
                        // Already forgotten (the erasure arrived by a pull meanwhile): push
                        // the rest again.
                        return self.progress(now);
                    };
                    let ids: Vec<u64> = (self.outbox.iter())
                        .filter(|(_, held)| *held.document() == document)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in &ids {
                        self.outbox.remove(id);
                        self.projections.remove(id);
                    }
                    let mut effects = vec![ClientEffect::Erased { document, ids }];
                    effects.extend(self.progress(now));
                    return effects;
                }
                let refused: Vec<u64> = ids.get(index as usize).copied().into_iter().collect();
                for id in &refused {
                    self.outbox.remove(id);
                    self.projections.remove(id);
                }
                self.problem = Some(format!("the relay refused a change: {message}"));
                let mut effects = vec![ClientEffect::Refused {
                    ids: refused,
                    message,
                }];
                effects.extend(self.progress(now));
                effects
            }
            ServerMessage::Entries {
                request_id,
                entries,
                head,
            } => self.entries(request_id, entries, Vec::new(), head, now),
            ServerMessage::ProjectedEntries {
                request_id,
                entries,
                projections,
                head,
            } => {
                if projections.len() != entries.len() {
                    self.problem =
                        Some("the relay sent a page with projections out of step".into());
                    return self.drop_connection(now, true);
                }
                self.entries(request_id, entries, projections, head, now)
            }
            ServerMessage::BootstrapPage {
                request_id,
                entries,
                next,
                through,
                total_documents,
            } => {
                let page = BootstrapPage {
                    entries,
                    projections: Vec::new(),
                    next,
                    through,
                    total_documents,
                };
                self.bootstrap_page(request_id, page, now)
            }
            ServerMessage::CompressedBootstrapPage {
                request_id,
                deflated,
            } => match inflate_page(&deflated) {
                Ok(page)
                    if page.projections.is_empty()
                        || page.projections.len() == page.entries.len() =>
                {
                    self.bootstrap_page(request_id, page, now)
                }
                Ok(_) => {
                    self.problem = Some("the relay sent a malformed bootstrap page".into());
                    self.drop_connection(now, true)
                }
                Err(err) => {
                    self.problem =
                        Some(format!("the relay sent a malformed bootstrap page: {err}"));
                    self.drop_connection(now, true)
                }
            },
            ServerMessage::Wake { head } => {
                self.remote_head = self.remote_head.max(head);
                self.progress(now)
            }
            ServerMessage::Channels(_) => {
                // Channels are unwrapped by `ClientChannels` before a session sees them.
                self.problem = Some("the relay sent another space's frames here".into());
                self.drop_connection(now, true)
            }
        }
    }

    /// A page of the bootstrap under way arrived.
    fn bootstrap_page(
        &mut self,
        request_id: u64,
        page: BootstrapPage,
        now: Timestamp,
    ) -> Vec<ClientEffect> {
        let BootstrapPage {
            entries,
            projections,
            next,
            through,
            total_documents,
        } = page;
        let Some((_, ReadKind::Bootstrap)) = self.read.take_if(|(o, _)| o.request_id == request_id)
        else {
            return Vec::new();
        };
        let (expected_cursor, expected_bootstrap) = self.position_after_apply();
        let in_snapshots = match &expected_bootstrap {
            Some(position) => matches!(position.phase, BootstrapPhase::Snapshots { .. }),
            None => true,
        };
        let documents = if in_snapshots {
            // Pages of the snapshot phase hold one snapshot per document.
            entries.len() as u64
        } else {
            0
        };
        let (cursor, bootstrap) = match next {
            Some(next) => (expected_cursor, Some(next)),
            None => (through, None),
        };
        if self.bootstrap.is_none() {
            // The first page: show progress from now on.
            self.bootstrap = Some(BootstrapPosition {
                through,
                total_documents,
                phase: BootstrapPhase::Snapshots { after: None },
            });
        }
        let pending = PendingApply {
            cursor,
            bootstrap,
            documents,
            catch_up: false,
        };
        self.start_apply(pending, entries, projections, now)
    }

    fn error(&mut self, code: ErrorCode, message: String, now: Timestamp) -> Vec<ClientEffect> {
        match code {
            ErrorCode::Unauthorized | ErrorCode::Revoked | ErrorCode::Forbidden => {
                let mut effects = self.drop_connection(now, false);
                self.credentials = None;
                self.conn = Conn::Idle;
                effects.push(ClientEffect::SignedOut {
                    revoked: code == ErrorCode::Revoked,
                    message,
                });
                effects
            }
            _ => {
                self.problem = Some(message);
                self.drop_connection(now, true)
            }
        }
    }

    /// Where this device's copy will be once the page being stored is stored: reads are
    /// asked from there, so the next page downloads while the current one is written.
    fn position_after_apply(&self) -> (Seq, Option<BootstrapPosition>) {
        match &self.applying {
            Some(pending) => (pending.cursor, pending.bootstrap.clone()),
            None => (self.cursor, self.bootstrap.clone()),
        }
    }

    /// Hands a page to storage, or keeps it until the page before is stored (pages are
    /// stored one at a time, in order).
    fn start_apply(
        &mut self,
        pending: PendingApply,
        entries: Vec<LogEntry>,
        projections: Vec<Option<EntryProjection>>,
        now: Timestamp,
    ) -> Vec<ClientEffect> {
        if self.applying.is_some() {
            self.prefetched = Some((pending, entries, projections));
            return Vec::new();
        }
        let mut effects = vec![ClientEffect::Apply {
            entries,
            projections,
            cursor: pending.cursor,
            bootstrap: pending.bootstrap.clone(),
            catch_up: pending.catch_up,
        }];
        self.applying = Some(pending);
        effects.extend(self.progress(now));
        effects
    }

    /// Pushes the outbox's first items, as many as one push takes, up to the first one held
    /// without its bytes (the next push starts from it once it is read).
    fn push_loaded(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        let projected = self.version >= CHANGE_PROJECTIONS_VERSION;
        let mut ids = Vec::new();
        let mut uploads = Vec::new();
        let mut projections = Vec::new();
        let mut bytes = 0;
        for (id, held) in &self.outbox {
            let Held::Loaded(upload) = held else {
                break;
            };
            let projection = self.projections.get(id).filter(|_| projected);
            let size = upload.bytes.len() + projection.map_or(0, |p| p.0.len());
            if ids.len() >= self.config.push_max_uploads
                || (!ids.is_empty() && bytes + size > self.config.push_max_bytes)
            {
                break;
            }
            bytes += size;
            ids.push(*id);
            uploads.push(upload.clone());
            projections.push(projection.cloned());
        }
        if ids.is_empty() {
            return Vec::new();
        }
        let request_id = self.request_id();
        self.push = Some((
            Outstanding {
                request_id,
                sent_at: now,
            },
            ids,
        ));
        let message = if projections.iter().any(Option::is_some) {
            ClientMessage::ProjectedPush {
                request_id,
                uploads,
                projections,
            }
        } else {
            ClientMessage::Push {
                request_id,
                uploads,
            }
        };
        vec![ClientEffect::Send(encode(&message))]
    }

    /// Starts whatever is due on a ready connection.
    fn progress(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        if self.conn != Conn::Ready {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if self.push.is_none() && !self.read_only {
            effects.extend(self.push_loaded(now));
        }
        if self.reading.is_none() && !self.read_only {
            // The next push's items that are only in storage are read meanwhile.
            // (A push takes a prefix of the outbox: what follows its last item.)
            let after = (self.push.as_ref())
                .and_then(|(_, ids)| ids.last())
                .map_or(Bound::Unbounded, |last| Bound::Excluded(*last));
            let stored: Vec<u64> = (self.outbox.range((after, Bound::Unbounded)))
                .take(self.config.push_max_uploads)
                .filter(|(_, held)| matches!(held, Held::Stored(_)))
                .map(|(id, _)| *id)
                .collect();
            if !stored.is_empty() {
                self.reading = Some(stored.clone());
                effects.push(ClientEffect::ReadOutbox(stored));
            }
        }
        // At most one page stored and one more fetched ahead.
        if self.read.is_none() && self.prefetched.is_none() {
            let (cursor, bootstrap) = self.position_after_apply();
            let bootstrapping =
                bootstrap.is_some() || (cursor == Seq(0) && self.remote_head > Seq(0));
            if bootstrapping {
                let request_id = self.request_id();
                self.read = Some((
                    Outstanding {
                        request_id,
                        sent_at: now,
                    },
                    ReadKind::Bootstrap,
                ));
                effects.push(ClientEffect::Send(encode(&ClientMessage::Bootstrap {
                    request_id,
                    position: bootstrap,
                    max_entries: self.config.page_entries,
                })));
            } else if cursor < self.remote_head {
                let request_id = self.request_id();
                let since = cursor;
                self.read = Some((
                    Outstanding {
                        request_id,
                        sent_at: now,
                    },
                    ReadKind::Pull { since },
                ));
                effects.push(ClientEffect::Send(encode(&ClientMessage::Pull {
                    request_id,
                    since,
                    max_entries: self.config.page_entries,
                })));
            }
        }
        if self.is_quiet() {
            self.last_synced = Some(now);
        }
        effects
    }

    /// A page of the log for a pull, with the changes' projections (or none).
    fn entries(
        &mut self,
        request_id: u64,
        entries: Vec<LogEntry>,
        projections: Vec<Option<EntryProjection>>,
        head: Seq,
        now: Timestamp,
    ) -> Vec<ClientEffect> {
        let Some((_, ReadKind::Pull { since })) =
            self.read.take_if(|(o, _)| o.request_id == request_id)
        else {
            return Vec::new();
        };
        self.remote_head = self.remote_head.max(head);
        let (expected, _) = self.position_after_apply();
        let gap_free = entries
            .iter()
            .enumerate()
            .all(|(i, entry)| entry.seq.0 == since.0 + 1 + i as u64);
        if since != expected || !gap_free {
            self.problem = Some("the relay sent entries out of order".into());
            return self.drop_connection(now, true);
        }
        if entries.is_empty() {
            if head > expected {
                // The relay promised more than it sent; ask again after a reconnect.
                return self.drop_connection(now, true);
            }
            return self.progress(now);
        }
        let cursor = entries[entries.len() - 1].seq;
        let pending = PendingApply {
            cursor,
            bootstrap: None,
            documents: 0,
            catch_up: true,
        };
        self.start_apply(pending, entries, projections, now)
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    fn connect_if_possible(&mut self, now: Timestamp) -> Vec<ClientEffect> {
        if self.credentials.is_none() || !self.online || self.conn != Conn::Idle {
            return Vec::new();
        }
        self.conn = Conn::Connecting { since: now };
        vec![ClientEffect::Connect]
    }

    /// Forgets the connection and its outstanding requests; with `retry`, schedules the
    /// next attempt with exponential backoff and jitter.
    fn drop_connection(&mut self, now: Timestamp, retry: bool) -> Vec<ClientEffect> {
        let had_connection = !matches!(self.conn, Conn::Idle | Conn::Waiting { .. });
        self.push = None;
        self.read = None;
        self.prefetched = None;
        self.conn = Conn::Idle;
        if retry && self.online && self.credentials.is_some() {
            let exponent = self.attempt.min(20);
            let ceiling = (self.config.backoff_base_ms << exponent).min(self.config.backoff_max_ms);
            let half = ceiling / 2;
            let delay = half + self.rng.below(half.max(1) as u64 + 1) as i64;
            self.attempt += 1;
            self.conn = Conn::Waiting {
                until: Timestamp(now.0 + delay),
            };
        }
        if had_connection {
            vec![ClientEffect::Disconnect]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::{deflate_page, BlobKind, DocumentId, ServerMessage};

    const T: Timestamp = Timestamp(1_000);

    fn sent(effects: &[ClientEffect]) -> Vec<ClientMessage> {
        effects
            .iter()
            .filter_map(|effect| match effect {
                ClientEffect::Send(frame) => decode(frame).ok(),
                _ => None,
            })
            .collect()
    }

    /// Whether each storage request of `effects` is a catch-up (not a download page).
    /// The request id of the push among `effects` (the outbox is pushed).
    fn pushed(effects: &[ClientEffect]) -> u64 {
        sent(effects)
            .iter()
            .find_map(|message| match message {
                ClientMessage::Push { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .expect("the outbox is pushed")
    }

    fn catch_ups(effects: &[ClientEffect]) -> Vec<bool> {
        effects
            .iter()
            .filter_map(|effect| match effect {
                ClientEffect::Apply { catch_up, .. } => Some(*catch_up),
                _ => None,
            })
            .collect()
    }

    fn applies(effects: &[ClientEffect]) -> Vec<(Seq, Option<BootstrapPosition>)> {
        effects
            .iter()
            .filter_map(|effect| match effect {
                ClientEffect::Apply {
                    cursor, bootstrap, ..
                } => Some((*cursor, bootstrap.clone())),
                _ => None,
            })
            .collect()
    }

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            seq: Seq(seq),
            document: DocumentId(format!("doc-{seq}")),
            kind: BlobKind::Snapshot { covers: Seq(0) },
            bytes: vec![seq as u8],
        }
    }

    fn position(after: u64) -> BootstrapPosition {
        BootstrapPosition {
            through: Seq(3),
            total_documents: 3,
            phase: BootstrapPhase::Snapshots {
                after: Some(DocumentId(format!("doc-{after}"))),
            },
        }
    }

    /// The relay's welcome: its log ends at 3.
    fn welcome() -> Vec<u8> {
        encode(&ServerMessage::Welcome {
            version: 1,
            head: Seq(3),
        })
    }

    /// A new device, connected, welcomed by a relay whose log ends at 3.
    fn welcomed() -> (ClientEngine, Vec<ClientEffect>) {
        welcomed_with(Seq(0), Vec::new())
    }

    /// A device at `cursor` holding `outbox`, connected, welcomed by a relay whose log
    /// ends at 3.
    fn welcomed_with(cursor: Seq, outbox: Vec<OutboxItem>) -> (ClientEngine, Vec<ClientEffect>) {
        let credentials = Credentials {
            space: SpaceId("space".into()),
            token: "token".into(),
        };
        let mut engine = ClientEngine::new(
            ClientConfig::default(),
            Some(credentials),
            cursor,
            None,
            outbox,
            1,
        );
        assert!(matches!(
            engine.set_online(true, T).as_slice(),
            [ClientEffect::Connect]
        ));
        engine.connected(T);
        let effects = engine.frame(&welcome(), T);
        (engine, effects)
    }

    fn page(request_id: u64, seqs: &[u64], next: Option<BootstrapPosition>) -> Vec<u8> {
        encode(&ServerMessage::BootstrapPage {
            request_id,
            entries: seqs.iter().map(|&seq| entry(seq)).collect(),
            next,
            through: Seq(3),
            total_documents: 3,
        })
    }

    fn bootstrap_request(message: &ClientMessage) -> (u64, Option<BootstrapPosition>) {
        match message {
            ClientMessage::Bootstrap {
                request_id,
                position,
                ..
            } => (*request_id, position.clone()),
            other => panic!("expected a bootstrap request, got {other:?}"),
        }
    }

    #[test]
    fn an_outbox_restored_without_bytes_is_read_back_one_push_at_a_time_and_never_pushed_empty() {
        let upload = |id: u64, document: &str| Upload {
            document: DocumentId(document.into()),
            kind: BlobKind::Change,
            bytes: vec![id as u8; 3],
        };
        let stored = |id: u64, document: &str| StoredItem {
            id,
            document: DocumentId(document.into()),
        };
        let config = ClientConfig {
            push_max_uploads: 2,
            ..ClientConfig::default()
        };
        let credentials = Credentials {
            space: SpaceId("space".into()),
            token: "token".into(),
        };
        let loaded = vec![OutboxItem {
            id: 1,
            upload: upload(1, "a"),
            projection: None,
        }];
        let mut engine = ClientEngine::new(config, Some(credentials), Seq(3), None, loaded, 1)
            .with_stored(vec![
                stored(2, "a"),
                stored(3, "b"),
                stored(4, "b"),
                stored(5, "c"),
            ]);
        assert_eq!(engine.status().unsent, 5);
        engine.set_online(true, T);
        engine.connected(T);
        let effects = engine.frame(&welcome(), T);
        // The loaded item goes; the next push's stored items are read meanwhile.
        let pushed_uploads = |effects: &[ClientEffect]| -> Vec<Upload> {
            sent(effects)
                .into_iter()
                .flat_map(|message| match message {
                    ClientMessage::Push { uploads, .. } => uploads,
                    _ => Vec::new(),
                })
                .collect()
        };
        assert_eq!(pushed_uploads(&effects), [upload(1, "a")]);
        assert!(effects.contains(&ClientEffect::ReadOutbox(vec![2, 3])));
        let request_id = pushed(&effects);
        let ack = |request_id: u64, seq: u64| {
            encode(&ServerMessage::Acked {
                request_id,
                results: vec![crate::sync::protocol::UploadResult {
                    seq: Seq(seq),
                    duplicate: false,
                }],
                head: Seq(seq),
            })
        };
        let effects = engine.frame(&ack(request_id, 4), T);
        assert_eq!(effects[0], ClientEffect::Acked(vec![1]));
        // Nothing without its bytes is pushed, and the read is not asked for twice.
        assert!(pushed_uploads(&effects).is_empty());
        assert!(!effects
            .iter()
            .any(|effect| matches!(effect, ClientEffect::ReadOutbox(_))));
        assert_eq!(engine.status().unsent, 4);
        // Item 3 is no longer in storage: no longer unsent.
        let effects = engine.outbox_read(vec![(2, upload(2, "a"))], T);
        assert_eq!(pushed_uploads(&effects), [upload(2, "a")]);
        assert!(effects.contains(&ClientEffect::ReadOutbox(vec![4, 5])));
        assert_eq!(engine.status().unsent, 3);
        // A failed read keeps everything and retries after a reconnect.
        let effects = engine.outbox_read_failed("storage is unavailable".into(), T);
        assert!(effects.contains(&ClientEffect::Disconnect));
        assert_eq!(engine.status().unsent, 3);
        assert_eq!(
            engine.status().problem.as_deref(),
            Some("storage is unavailable")
        );
        // A read answered after it was given up on changes nothing.
        assert!(engine.outbox_read(vec![(4, upload(4, "b"))], T).is_empty());
        assert_eq!(engine.status().unsent, 3);
    }

    #[test]
    fn a_change_refused_as_erased_forgets_every_unsent_change_of_that_document_only() {
        let item = |id: u64, document: &str| OutboxItem {
            id,
            upload: Upload {
                document: DocumentId(document.into()),
                kind: BlobKind::Change,
                bytes: vec![id as u8],
            },
            projection: None,
        };
        let outbox = vec![
            item(1, "kept"),
            item(2, "gone"),
            item(3, "gone"),
            item(4, "kept"),
        ];
        let (mut engine, effects) = welcomed_with(Seq(3), outbox);
        let request_id = pushed(&effects);
        let effects = engine.frame(
            &encode(&ServerMessage::Rejected {
                request_id,
                index: 1,
                code: ErrorCode::Erased,
                message: "gone was erased on another device".into(),
            }),
            T,
        );
        assert_eq!(
            effects[0],
            ClientEffect::Erased {
                document: DocumentId("gone".into()),
                ids: vec![2, 3],
            }
        );
        // The rest is pushed again, without the erased document's changes.
        let pushed: Vec<DocumentId> = sent(&effects)
            .into_iter()
            .flat_map(|message| match message {
                ClientMessage::Push { uploads, .. } => uploads,
                _ => Vec::new(),
            })
            .map(|upload| upload.document)
            .collect();
        assert_eq!(
            pushed,
            [DocumentId("kept".into()), DocumentId("kept".into())]
        );
        assert_eq!(engine.status().unsent, 2);
    }

    #[test]
    fn a_push_over_the_relays_quota_keeps_every_change_tells_the_rep_and_retries_later() {
        let item = OutboxItem {
            id: 7,
            upload: Upload {
                document: DocumentId("doc-9".into()),
                kind: BlobKind::Change,
                bytes: vec![1, 2, 3],
            },
            projection: None,
        };
        let (mut engine, effects) = welcomed_with(Seq(3), vec![item]);
        let request_id = pushed(&effects);
        let effects = engine.frame(
            &encode(&ServerMessage::Rejected {
                request_id,
                index: 0,
                code: ErrorCode::QuotaExceeded,
                message: "this space holds 1024.0 of its 1024.0 MiB".into(),
            }),
            T,
        );
        assert!(
            !effects
                .iter()
                .any(|effect| matches!(effect, ClientEffect::Refused { .. })),
            "nothing is dropped: {effects:?}"
        );
        let status = engine.status();
        assert_eq!(status.unsent, 1);
        assert!(
            status
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("storage for your account is full")),
            "{status:?}"
        );
        assert!(status.retry_at.is_some(), "tries again later: {status:?}");
    }

    #[test]
    fn a_push_to_a_read_only_space_keeps_every_change_keeps_pulling_and_tries_again_next_connection(
    ) {
        let item = OutboxItem {
            id: 7,
            upload: Upload {
                document: DocumentId("doc-9".into()),
                kind: BlobKind::Change,
                bytes: vec![1, 2, 3],
            },
            projection: None,
        };
        let (mut engine, effects) = welcomed_with(Seq(3), vec![item]);
        let request_id = pushed(&effects);
        let effects = engine.frame(
            &encode(&ServerMessage::Rejected {
                request_id,
                index: 0,
                code: ErrorCode::ReadOnly,
                message: "this account may read this space but not change it".into(),
            }),
            T,
        );
        assert!(
            !effects.iter().any(|effect| matches!(
                effect,
                ClientEffect::Refused { .. } | ClientEffect::Disconnect
            )),
            "nothing dropped, still connected: {effects:?}"
        );
        let status = engine.status();
        assert_eq!(status.unsent, 1);
        assert!(
            status
                .problem
                .as_deref()
                .is_some_and(|p| p.starts_with("not accepted by the relay")),
            "{status:?}"
        );
        // A wake-up is pulled; the refused change is not pushed again on this connection.
        let effects = engine.frame(&encode(&ServerMessage::Wake { head: Seq(4) }), T);
        let decoded: Vec<ClientMessage> = effects
            .iter()
            .filter_map(|effect| match effect {
                ClientEffect::Send(bytes) => decode(bytes).ok(),
                _ => None,
            })
            .collect();
        assert!(
            decoded
                .iter()
                .any(|m| matches!(m, ClientMessage::Pull { .. })),
            "{decoded:?}"
        );
        assert!(
            !decoded
                .iter()
                .any(|m| matches!(m, ClientMessage::Push { .. })),
            "{decoded:?}"
        );
    }

    #[test]
    fn the_next_page_downloads_while_the_current_one_is_stored_and_pages_are_stored_in_order() {
        let (mut engine, effects) = welcomed();
        let (first, position_asked) = bootstrap_request(&sent(&effects)[0]);
        assert_eq!(position_asked, None);

        // Page 1 goes to storage, and page 2 is asked for at once, from where page 1 ends.
        let effects = engine.frame(&page(first, &[1], Some(position(1))), T);
        assert_eq!(applies(&effects), vec![(Seq(0), Some(position(1)))]);
        let (second, position_asked) = bootstrap_request(&sent(&effects)[0]);
        assert_eq!(position_asked, Some(position(1)));

        // Page 2 arrives before page 1 is stored: it waits, nothing more is asked.
        let effects = engine.frame(&page(second, &[2, 3], None), T);
        assert!(effects.is_empty(), "{effects:?}");
        assert!(!engine.is_quiet());

        // Page 1 stored: page 2 goes to storage; the log is then fully read.
        let effects = engine.applied(T);
        assert_eq!(applies(&effects), vec![(Seq(3), None)]);
        // Even its last page is a download, not a catch-up ("Recent changes" leaves it out).
        assert_eq!(catch_ups(&effects), vec![false]);
        assert!(sent(&effects).is_empty());
        assert_eq!(engine.status().bootstrap, Some((1, 3)));
        let effects = engine.applied(T);
        assert!(effects.is_empty(), "{effects:?}");
        assert!(engine.is_quiet());
        assert_eq!(engine.status().bootstrap, None);
    }

    #[test]
    fn projections_reach_storage_with_their_entries_and_a_page_that_misaligns_them_is_refused() {
        let projected = |request_id, projections: Vec<Option<EntryProjection>>| {
            encode(&ServerMessage::CompressedBootstrapPage {
                request_id,
                deflated: deflate_page(&BootstrapPage {
                    entries: vec![entry(1), entry(2)],
                    projections,
                    next: None,
                    through: Seq(2),
                    total_documents: 2,
                }),
            })
        };
        let (mut engine, effects) = welcomed();
        let (first, _) = bootstrap_request(&sent(&effects)[0]);
        let wanted = vec![Some(EntryProjection(vec![9])), None];
        let effects = engine.frame(&projected(first, wanted.clone()), T);
        assert!(
            effects.iter().any(|effect| matches!(
                effect,
                ClientEffect::Apply { projections, .. } if *projections == wanted
            )),
            "{effects:?}"
        );

        let (mut engine, effects) = welcomed();
        let (first, _) = bootstrap_request(&sent(&effects)[0]);
        let effects = engine.frame(&projected(first, vec![None]), T);
        assert!(applies(&effects).is_empty());
        assert!(effects.contains(&ClientEffect::Disconnect), "{effects:?}");
    }

    #[test]
    fn a_failed_store_drops_the_page_fetched_ahead_and_resumes_from_what_was_stored() {
        let (mut engine, effects) = welcomed();
        let (first, _) = bootstrap_request(&sent(&effects)[0]);
        let effects = engine.frame(&page(first, &[1], Some(position(1))), T);
        let (second, _) = bootstrap_request(&sent(&effects)[0]);
        engine.frame(&page(second, &[2, 3], None), T);

        let effects = engine.apply_failed("storage full".into(), T);
        assert!(applies(&effects).is_empty());
        assert!(effects.contains(&ClientEffect::Disconnect), "{effects:?}");
        // A late "stored" for the failed page changes nothing.
        assert!(engine.applied(T).is_empty());

        // After reconnecting, the download starts again from the beginning (nothing was stored).
        let retry_at = engine.next_wakeup().expect("a retry is scheduled");
        assert!(matches!(
            engine.tick(retry_at).as_slice(),
            [ClientEffect::Connect]
        ));
        engine.connected(retry_at);
        let effects = engine.frame(&welcome(), retry_at);
        let (_, position_asked) = bootstrap_request(&sent(&effects)[0]);
        assert!(matches!(
            position_asked,
            None | Some(BootstrapPosition {
                phase: BootstrapPhase::Snapshots { after: None },
                ..
            })
        ));
    }

    /// A device welcomed at `version`, its outbox one change with a projection and one
    /// without.
    fn welcomed_at(version: u16) -> (ClientEngine, Vec<ClientEffect>) {
        let item = |id: u64, projection: Option<EntryProjection>| OutboxItem {
            id,
            upload: Upload {
                document: DocumentId(format!("doc-{id}")),
                kind: BlobKind::Change,
                bytes: vec![id as u8],
            },
            projection,
        };
        let mut engine = ClientEngine::new(
            ClientConfig::default(),
            Some(Credentials {
                space: SpaceId("space".into()),
                token: "token".into(),
            }),
            Seq(3),
            None,
            vec![item(1, Some(EntryProjection(vec![7, 7]))), item(2, None)],
            1,
        );
        engine.set_online(true, T);
        engine.connected(T);
        let effects = engine.frame(
            &encode(&ServerMessage::Welcome {
                version,
                head: Seq(3),
            }),
            T,
        );
        (engine, effects)
    }

    #[test]
    fn changes_carry_their_projection_only_to_a_relay_of_version_7() {
        let (_, effects) = welcomed_at(7);
        match sent(&effects).as_slice() {
            [ClientMessage::ProjectedPush {
                uploads,
                projections,
                ..
            }] => {
                assert_eq!(uploads.len(), 2);
                assert_eq!(projections, &vec![Some(EntryProjection(vec![7, 7])), None]);
            }
            other => panic!("expected a projected push, got {other:?}"),
        }
        let (_, effects) = welcomed_at(6);
        assert!(matches!(
            sent(&effects).as_slice(),
            [ClientMessage::Push { uploads, .. }] if uploads.len() == 2
        ));
    }

    #[test]
    fn a_pulled_page_hands_its_projections_to_storage_and_one_out_of_step_drops_the_session() {
        let entry = |seq: u64| LogEntry {
            seq: Seq(seq),
            document: DocumentId("doc".into()),
            kind: BlobKind::Change,
            bytes: vec![seq as u8],
        };
        let pull_request = |effects: &[ClientEffect]| {
            sent(effects)
                .into_iter()
                .find_map(|message| match message {
                    ClientMessage::Pull { request_id, .. } => Some(request_id),
                    _ => None,
                })
                .expect("a pull")
        };
        // Welcomed at 1 by a relay whose log ends at 3, it pulls; the page comes with
        // `projections`.
        let pulled = |projections: Vec<Option<EntryProjection>>| {
            let (mut engine, effects) = welcomed_with(Seq(1), Vec::new());
            let request_id = pull_request(&effects);
            engine.frame(
                &encode(&ServerMessage::ProjectedEntries {
                    request_id,
                    entries: vec![entry(2), entry(3)],
                    projections,
                    head: Seq(3),
                }),
                T,
            )
        };
        let effects = pulled(vec![None, Some(EntryProjection(vec![1]))]);
        assert!(
            effects.iter().any(|effect| matches!(
                effect,
                ClientEffect::Apply { projections, catch_up: true, .. }
                    if projections == &vec![None, Some(EntryProjection(vec![1]))]
            )),
            "{effects:?}"
        );
        // One projection for two entries: the relay is out of step.
        let effects = pulled(vec![None]);
        assert!(effects.contains(&ClientEffect::Disconnect), "{effects:?}");
        assert!(!effects
            .iter()
            .any(|effect| matches!(effect, ClientEffect::Apply { .. })));
    }
}
