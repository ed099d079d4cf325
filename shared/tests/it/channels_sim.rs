//! Deterministic simulation of several spaces over one connection per device (protocol
//! version 5: [`ClientChannels`] on devices, [`RelayChannels`] on the relay): a rep's own
//! book, her team's shared space and a territory, each with its own log, cursor, outbox
//! and documents on every device, over a network that drops (a broken connection),
//! duplicates, reorders and delays frames, with relay crashes between commit and
//! acknowledgement, failed storage, devices offline for days and restarting, the
//! account's role in the team flipping between writer and viewer while she works, and a
//! manager moving customers between the team's two territories while devices are offline
//! editing them (`shared::sync::handover`: the relay forwards their late changes).
//!
//! Invariants once the network is quiet and she may write again: in every space, every
//! device holds exactly the documents of the space with every change anyone made to them,
//! every acknowledged change is in that space's log and in no other — for a customer that
//! moved, in the log of the territory it is in now (no edit lost in a handover) —, no
//! device still holds a customer that moved out of a territory, no session admitted
//! read-only ever appended, and every outbox is empty. An idle reconnect of every space is
//! one frame each way.
//!
//! CI runs `SIM_SEEDS` (default 40) schedules; `FIELDBOOK_SIM_SEEDS=1500 cargo test -p
//! fieldbook-shared --test it channels_sim` runs more, `FIELDBOOK_SIM_SEED=<n>` replays one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

use automerge::{ActorId, ChangeHash};
use shared::seed::{self, SeedRng};
use shared::sync::channels::{server_frames, Channel};
use shared::sync::handover::decode_heads;
use shared::sync::protocol::{
    BlobKind, BootstrapPosition, DocumentId, ErrorCode, LogEntry, Seq, ServerMessage, SpaceId,
    Upload,
};
use shared::sync::team::SpaceAccess;
use shared::sync::{
    ChannelEffect, ChannelsEffect, ClientChannels, ClientConfig, ClientEffect, ClientEngine,
    Credentials, MemoryLog, OutboxItem, RelayChannels, RelayLimits, SessionEffect,
};
use shared::{CustomerDoc, Timestamp};

const SIM_SEEDS: u64 = 40;
const T0: i64 = 1_795_341_600_000;
const TOKEN: &str = "token-of-the-rep";
/// Her own book, the team's shared space, two territories.
const SPACES: usize = 4;
/// The territories, between which customers move.
const TERRITORIES: [usize; 2] = [2, 3];

type ConnId = u64;

#[derive(Debug, Clone)]
enum Event {
    Opened {
        device: usize,
        conn: ConnId,
    },
    ConnectFailed {
        device: usize,
        conn: ConnId,
    },
    Closed {
        device: usize,
        conn: ConnId,
    },
    ToRelay {
        conn: ConnId,
        frame: Vec<u8>,
    },
    ToDevice {
        device: usize,
        conn: ConnId,
        frame: Vec<u8>,
    },
    Stored {
        device: usize,
        channel: u16,
        incarnation: u64,
        entries: Vec<LogEntry>,
        cursor: Seq,
        bootstrap: Option<BootstrapPosition>,
        fails: bool,
    },
}

/// One space as a device stores it ("persisted": survives restarts).
#[derive(Default)]
struct Stored {
    docs: BTreeMap<String, CustomerDoc>,
    /// Customers moved away with changes of this device the move did not carry: kept (not
    /// listed), merged if the customer comes back (`repo/handover.rs`).
    dormant: BTreeMap<String, CustomerDoc>,
    cursor: Seq,
    bootstrap: Option<BootstrapPosition>,
    outbox: BTreeMap<u64, Upload>,
}

struct Device {
    actor: ActorId,
    conn: ClientChannels,
    socket: Option<ConnId>,
    online: bool,
    spaces: Vec<Stored>,
    next_outbox_id: u64,
    incarnation: u64,
}

struct Sim {
    seed: u64,
    rng: SeedRng,
    now: i64,
    queue: BinaryHeap<Reverse<(i64, u64, usize)>>,
    events: Vec<Option<Event>>,
    event_seq: u64,
    next_conn: ConnId,
    devices: Vec<Device>,
    log: MemoryLog,
    conns: BTreeMap<ConnId, (usize, RelayChannels)>,
    /// What each channel of each connection was admitted with.
    admitted: BTreeMap<(ConnId, Channel), SpaceAccess>,
    /// The account's access to each space (her own book is always hers to write).
    access: [SpaceAccess; SPACES],
    faults: bool,
    /// Every change made, by space.
    made: Vec<BTreeSet<ChangeHash>>,
    acked: Vec<BTreeSet<ChangeHash>>,
    customers: u64,
    frames: u64,
    read_only_refusals: u64,
    access_changes: u64,
    /// Where each customer of a territory is now.
    location: BTreeMap<String, usize>,
    /// Every change made to each customer of a territory, and those acknowledged.
    made_to: BTreeMap<String, BTreeSet<ChangeHash>>,
    acked_to: BTreeMap<String, BTreeSet<ChangeHash>>,
    moves: u64,
    forwarded: u64,
}

/// A device's actor in one space: each space is its own database, with its own actor.
fn space_actor(device: &ActorId, space: usize) -> ActorId {
    let mut bytes = device.to_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last = space as u8;
    }
    ActorId::from(bytes)
}

fn space_id(space: usize) -> SpaceId {
    SpaceId(format!("space-{space}"))
}

fn config() -> ClientConfig {
    ClientConfig {
        push_max_uploads: 3,
        page_entries: 4,
        ..ClientConfig::default()
    }
}

fn engines(device: &Device, rng: &mut SeedRng) -> ClientChannels {
    let engines = (0..SPACES)
        .map(|space| {
            let stored = &device.spaces[space];
            let outbox = (stored.outbox.iter())
                .map(|(id, upload)| OutboxItem {
                    id: *id,
                    upload: upload.clone(),
                    projection: None,
                })
                .collect();
            ClientEngine::new(
                config(),
                Some(Credentials {
                    space: space_id(space),
                    token: TOKEN.into(),
                }),
                stored.cursor,
                stored.bootstrap.clone(),
                outbox,
                rng.next_u64(),
            )
        })
        .collect();
    ClientChannels::new(engines)
}

fn upload_hashes(document: &DocumentId, kind: BlobKind, bytes: &[u8]) -> Vec<ChangeHash> {
    match kind {
        BlobKind::Change => vec![automerge::Change::try_from(bytes).unwrap().hash()],
        BlobKind::Snapshot { .. } => {
            let doc = automerge::Automerge::load(bytes).unwrap();
            let _ = document;
            doc.get_changes(&[]).iter().map(|c| c.hash()).collect()
        }
        BlobKind::Erased | BlobKind::Moved => Vec::new(),
    }
}

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim {
            seed,
            rng: SeedRng::new(seed),
            now: T0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            event_seq: 0,
            next_conn: 1,
            devices: Vec::new(),
            log: MemoryLog::new(),
            conns: BTreeMap::new(),
            admitted: BTreeMap::new(),
            access: [SpaceAccess::ReadWrite; SPACES],
            faults: true,
            made: vec![BTreeSet::new(); SPACES],
            acked: vec![BTreeSet::new(); SPACES],
            customers: 0,
            frames: 0,
            read_only_refusals: 0,
            access_changes: 0,
            location: BTreeMap::new(),
            made_to: BTreeMap::new(),
            acked_to: BTreeMap::new(),
            moves: 0,
            forwarded: 0,
        }
    }

    fn ts(&self) -> Timestamp {
        Timestamp(self.now)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.faults && self.rng.chance(percent)
    }

    fn schedule(&mut self, delay: i64, event: Event) {
        self.events.push(Some(event));
        self.event_seq += 1;
        self.queue.push(Reverse((
            self.now + delay,
            self.event_seq,
            self.events.len() - 1,
        )));
    }

    fn latency(&mut self) -> i64 {
        let base = 1 + self.rng.below(20) as i64;
        if self.chance(10) {
            base + self.rng.below(800) as i64
        } else {
            base
        }
    }

    fn add_device(&mut self) {
        let index = self.devices.len();
        let mut device = Device {
            actor: ActorId::from(vec![index as u8 + 1; 16]),
            conn: ClientChannels::new(Vec::new()),
            socket: None,
            online: false,
            spaces: (0..SPACES).map(|_| Stored::default()).collect(),
            next_outbox_id: 1,
            incarnation: 0,
        };
        device.conn = engines(&device, &mut self.rng);
        self.devices.push(device);
        self.set_online(index, true);
    }

    fn set_online(&mut self, device: usize, online: bool) {
        self.devices[device].online = online;
        if !online {
            self.cut(device);
        }
        let now = self.ts();
        let effects = self.devices[device]
            .conn
            .each(now, |engine| engine.set_online(online, now));
        self.device_effects(device, effects);
    }

    fn cut(&mut self, device: usize) {
        if let Some(conn) = self.devices[device].socket {
            self.conns.remove(&conn);
            let delay = self.latency();
            self.schedule(delay, Event::Closed { device, conn });
        }
    }

    fn restart_device(&mut self, device: usize) {
        if let Some(conn) = self.devices[device].socket.take() {
            self.conns.remove(&conn);
        }
        let conn = engines(&self.devices[device], &mut self.rng);
        let d = &mut self.devices[device];
        d.conn = conn;
        d.incarnation += 1;
        let online = d.online;
        d.online = false;
        if online {
            self.set_online(device, true);
        }
    }

    /// An admin elsewhere makes the account a viewer of the team's `space`, or a writer
    /// again: every relay ends her live sessions of that space at once.
    fn set_access(&mut self, space: usize, access: SpaceAccess) {
        if self.access[space] == access {
            return;
        }
        self.access[space] = access;
        self.access_changes += 1;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            let Some((_, relay)) = self.conns.get_mut(&conn) else {
                continue;
            };
            let effects = relay.with(Some(space as u16), |session| {
                session.refused(ErrorCode::AccessChanged, "access changed".into())
            });
            self.relay_effects(conn, effects);
        }
    }

    fn queue_upload(&mut self, device: usize, space: usize, upload: Upload) {
        let d = &mut self.devices[device];
        let id = d.next_outbox_id;
        d.next_outbox_id += 1;
        d.spaces[space].outbox.insert(id, upload.clone());
        let now = self.ts();
        let effects = self.devices[device].conn.with(space as u16, now, |engine| {
            engine.queued(
                vec![OutboxItem {
                    id,
                    upload,
                    projection: None,
                }],
                now,
            )
        });
        self.device_effects(device, effects);
    }

    fn create_customer(&mut self, device: usize, space: usize) {
        self.customers += 1;
        let customer = seed::customer(11, self.customers, self.ts());
        let id = customer.id.to_string();
        let d = &mut self.devices[device];
        let actor = space_actor(&d.actor, space);
        let mut doc = CustomerDoc::create(customer, actor, Timestamp(self.now)).unwrap();
        self.made[space].extend(doc.heads());
        if TERRITORIES.contains(&space) {
            self.location.insert(id.clone(), space);
            self.made_to
                .entry(id.clone())
                .or_default()
                .extend(doc.heads());
        }
        let upload = Upload {
            document: DocumentId(id.clone()),
            kind: BlobKind::Snapshot {
                covers: d.spaces[space].cursor,
            },
            bytes: doc.save(),
        };
        d.spaces[space].docs.insert(id, doc);
        self.queue_upload(device, space, upload);
    }

    fn edit_customer(&mut self, device: usize, space: usize) {
        let keys: Vec<String> = self.devices[device].spaces[space]
            .docs
            .keys()
            .cloned()
            .collect();
        if keys.is_empty() {
            return self.create_customer(device, space);
        }
        let id = self.rng.pick(&keys).clone();
        let word = format!("v{}", self.rng.below(1000));
        let what = self.rng.below(3);
        let now = Timestamp(self.now);
        let doc = self.devices[device].spaces[space]
            .docs
            .get_mut(&id)
            .unwrap();
        let changed = doc
            .update(now, |c| match what {
                0 => c.company = format!("Company {word}"),
                1 => {
                    c.tags.insert(&word);
                }
                _ => {
                    let text = c.notes.as_str().to_string();
                    c.notes.update(format!("{text} {word}"));
                }
            })
            .unwrap();
        if !changed {
            return;
        }
        let change = doc.last_local_change().unwrap();
        let hashes = upload_hashes(&DocumentId(id.clone()), BlobKind::Change, &change);
        if TERRITORIES.contains(&space) {
            self.made_to
                .entry(id.clone())
                .or_default()
                .extend(hashes.iter().copied());
        }
        self.made[space].extend(hashes);
        self.queue_upload(
            device,
            space,
            Upload {
                document: DocumentId(id),
                kind: BlobKind::Change,
                bytes: change,
            },
        );
    }

    fn device_effects(&mut self, device: usize, effects: Vec<ChannelsEffect>) {
        for effect in effects {
            match effect {
                ChannelsEffect::Connect => {
                    let conn = self.next_conn;
                    self.next_conn += 1;
                    self.devices[device].socket = Some(conn);
                    let delay = self.latency();
                    if self.chance(5) {
                        self.schedule(delay, Event::ConnectFailed { device, conn });
                    } else {
                        self.schedule(delay, Event::Opened { device, conn });
                    }
                }
                ChannelsEffect::Send(frame) => {
                    let Some(conn) = self.devices[device].socket else {
                        continue;
                    };
                    self.transmit(Event::ToRelay { conn, frame });
                }
                ChannelsEffect::Disconnect => {
                    if let Some(conn) = self.devices[device].socket.take() {
                        self.conns.remove(&conn);
                    }
                }
                ChannelsEffect::Space { channel, effect } => {
                    self.space_effect(device, channel, effect)
                }
            }
        }
    }

    /// Wakes every session of `space` (its log reached `head` without them).
    fn wake_space(&mut self, space: usize, head: Seq) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            let effects = self.session(conn, Some(space as u16), |session| {
                if session.space() == Some(&space_id(space)) {
                    session.woken(head)
                } else {
                    Vec::new()
                }
            });
            self.relay_effects(conn, effects);
        }
    }

    /// A manager moves a customer to the other territory (the relay's move).
    fn move_customer(&mut self) {
        let ids: Vec<String> = self.location.keys().cloned().collect();
        if ids.is_empty() {
            return;
        }
        let id = self.rng.pick(&ids).clone();
        let from = self.location[&id];
        let to = if from == TERRITORIES[0] {
            TERRITORIES[1]
        } else {
            TERRITORIES[0]
        };
        let moved =
            self.log
                .move_documents(&space_id(from), &space_id(to), &[DocumentId(id.clone())]);
        if moved.is_empty() {
            // Not in the log yet (still in an outbox): it stays.
            return;
        }
        self.moves += 1;
        self.location.insert(id, to);
        for space in [from, to] {
            let head = self.log.head(&space_id(space));
            self.wake_space(space, head);
        }
    }

    fn space_effect(&mut self, device: usize, channel: u16, effect: ClientEffect) {
        let space = usize::from(channel);
        match effect {
            ClientEffect::Apply {
                entries,
                cursor,
                bootstrap,
                ..
            } => {
                let delay = self.rng.below(40) as i64;
                let fails = self.chance(3);
                let incarnation = self.devices[device].incarnation;
                self.schedule(
                    delay,
                    Event::Stored {
                        device,
                        channel,
                        incarnation,
                        entries,
                        cursor,
                        bootstrap,
                        fails,
                    },
                );
            }
            ClientEffect::SaveCursor(cursor) => self.devices[device].spaces[space].cursor = cursor,
            ClientEffect::Acked(ids) => {
                for id in ids {
                    if let Some(upload) = self.devices[device].spaces[space].outbox.remove(&id) {
                        let hashes = upload_hashes(&upload.document, upload.kind, &upload.bytes);
                        if TERRITORIES.contains(&space) {
                            (self.acked_to.entry(upload.document.0.clone()).or_default())
                                .extend(hashes.iter().copied());
                        }
                        self.acked[space].extend(hashes);
                    }
                }
            }
            other => panic!("device {device} space {space}: unexpected {other:?}"),
        }
    }

    fn transmit(&mut self, event: Event) {
        self.frames += 1;
        if self.chance(2) {
            // A lost frame on a stream transport is a broken connection.
            let (Event::ToRelay { conn, .. } | Event::ToDevice { conn, .. }) = &event else {
                return;
            };
            let conn = *conn;
            if let Some(device) = self.devices.iter().position(|d| d.socket == Some(conn)) {
                self.cut(device);
            } else {
                self.conns.remove(&conn);
            }
            return;
        }
        let copies = if self.chance(2) { 2 } else { 1 };
        for _ in 0..copies {
            let delay = self.latency();
            self.schedule(delay, event.clone());
        }
    }

    fn crash_relay(&mut self) {
        let conns: Vec<(ConnId, usize)> = (self.conns.iter())
            .map(|(conn, (device, _))| (*conn, *device))
            .collect();
        self.conns.clear();
        for (conn, device) in conns {
            let delay = self.latency();
            self.schedule(delay, Event::Closed { device, conn });
        }
    }

    fn relay_effects(&mut self, conn: ConnId, effects: Vec<ChannelEffect>) {
        let mut queue: VecDeque<ChannelEffect> = effects.into();
        let mut sends = Vec::new();
        while let Some(ChannelEffect { channel, effect }) = queue.pop_front() {
            if let SessionEffect::WakeOthers { space, head } = &effect {
                let others: Vec<ConnId> = (self.conns.keys())
                    .copied()
                    .filter(|other| *other != conn)
                    .collect();
                for other in others {
                    // Channels follow the spaces' order on every device here.
                    let channel = space.0.trim_start_matches("space-").parse::<u16>().ok();
                    let effects = self.session(other, channel, |session| {
                        if session.space() == Some(space) {
                            session.woken(*head)
                        } else {
                            Vec::new()
                        }
                    });
                    self.relay_effects(other, effects);
                }
                continue;
            }
            let Some((device, _)) = self.conns.get(&conn) else {
                return;
            };
            let device = *device;
            let more = match effect {
                SessionEffect::Authenticate { space, token } => {
                    let index = space.0.trim_start_matches("space-").parse::<usize>();
                    match index {
                        Ok(index) if token == TOKEN && index < SPACES => {
                            let head = self.log.head(&space);
                            let access = self.access[index];
                            self.admitted.insert((conn, channel), access);
                            self.session(conn, channel, |s| s.authenticated(space, head, access))
                        }
                        _ => self.session(conn, channel, |s| {
                            s.refused(ErrorCode::Forbidden, "not yours".into())
                        }),
                    }
                }
                SessionEffect::Send(message) => {
                    if matches!(
                        message,
                        ServerMessage::Rejected {
                            code: ErrorCode::ReadOnly,
                            ..
                        }
                    ) {
                        self.read_only_refusals += 1;
                    }
                    sends.push((channel, message));
                    Vec::new()
                }
                SessionEffect::Append {
                    space,
                    request_id,
                    uploads,
                } => {
                    assert_eq!(
                        self.admitted.get(&(conn, channel)),
                        Some(&SpaceAccess::ReadWrite),
                        "a session admitted read-only appended"
                    );
                    let heads_before: Vec<Seq> = (0..SPACES)
                        .map(|other| self.log.head(&space_id(other)))
                        .collect();
                    let (results, head) = match self.log.append(&space, &uploads) {
                        Ok(appended) => appended,
                        Err(refused) => panic!("append refused: {}", refused.message),
                    };
                    // Changes to moved customers went to their territory: its sessions wake.
                    for (other, before) in heads_before.into_iter().enumerate() {
                        let after = self.log.head(&space_id(other));
                        if space_id(other) != space && after != before {
                            self.forwarded += after.0 - before.0;
                            self.wake_space(other, after);
                        }
                    }
                    if self.chance(3) {
                        // Committed durably, then the process died before acknowledging.
                        self.crash_relay();
                        return;
                    }
                    self.session(conn, channel, |s| s.committed(request_id, results, head))
                }
                SessionEffect::ReadEntries {
                    space,
                    request_id,
                    since,
                    max_entries,
                    max_bytes,
                } => {
                    let (entries, projections, head) =
                        self.log
                            .entries(&space, since, max_entries as usize, max_bytes);
                    self.session(conn, channel, |s| {
                        s.entries(request_id, entries, projections, head)
                    })
                }
                SessionEffect::ReadBootstrap {
                    space,
                    request_id,
                    position,
                    max_entries,
                    max_bytes,
                } => {
                    let page =
                        self.log
                            .bootstrap(&space, position, max_entries as usize, max_bytes);
                    self.session(conn, channel, |s| s.bootstrap_page(request_id, page))
                }
                SessionEffect::WakeOthers { .. } => unreachable!("handled above"),
                SessionEffect::Close { .. } => {
                    if channel.is_none() {
                        self.conns.remove(&conn);
                        let delay = self.latency();
                        self.schedule(delay, Event::Closed { device, conn });
                    }
                    Vec::new()
                }
            };
            queue.extend(more);
        }
        let Some((device, _)) = self.conns.get(&conn) else {
            return;
        };
        let device = *device;
        for frame in server_frames(sends) {
            self.transmit(Event::ToDevice {
                device,
                conn,
                frame,
            });
        }
    }

    /// Feeds a runtime answer to one session of `conn`.
    fn session(
        &mut self,
        conn: ConnId,
        channel: Channel,
        f: impl FnOnce(&mut shared::sync::RelaySession) -> Vec<SessionEffect>,
    ) -> Vec<ChannelEffect> {
        match self.conns.get_mut(&conn) {
            Some((_, relay)) => relay.with(channel, f),
            None => Vec::new(),
        }
    }

    fn deliver(&mut self, event: Event) {
        let now = self.ts();
        match event {
            Event::Opened { device, conn } => {
                if self.devices[device].socket != Some(conn) {
                    return;
                }
                self.conns.insert(
                    conn,
                    (device, RelayChannels::new(RelayLimits::default(), now)),
                );
                let effects = self.devices[device].conn.connected(now);
                self.device_effects(device, effects);
            }
            Event::ConnectFailed { device, conn } | Event::Closed { device, conn } => {
                if self.devices[device].socket != Some(conn) {
                    return;
                }
                self.devices[device].socket = None;
                self.conns.remove(&conn);
                let effects = self.devices[device].conn.disconnected(now);
                self.device_effects(device, effects);
            }
            Event::ToRelay { conn, frame } => {
                let Some((_, relay)) = self.conns.get_mut(&conn) else {
                    return;
                };
                let effects = relay.frame(&frame, now);
                self.relay_effects(conn, effects);
            }
            Event::ToDevice {
                device,
                conn,
                frame,
            } => {
                if self.devices[device].socket != Some(conn) {
                    return;
                }
                let effects = self.devices[device].conn.frame(&frame, now);
                self.device_effects(device, effects);
            }
            Event::Stored {
                device,
                channel,
                incarnation,
                entries,
                cursor,
                bootstrap,
                fails,
            } => {
                if self.devices[device].incarnation != incarnation {
                    return;
                }
                if fails {
                    let effects = self.devices[device].conn.with(channel, now, |engine| {
                        engine.apply_failed("storage full".into(), now)
                    });
                    return self.device_effects(device, effects);
                }
                let d = &mut self.devices[device];
                let actor = space_actor(&d.actor, usize::from(channel));
                let stored = &mut d.spaces[usize::from(channel)];
                for entry in entries {
                    let id = entry.document.0.clone();
                    if entry.kind == BlobKind::Moved {
                        // Moved to the other territory (its unsent changes stay queued, for
                        // the relay to forward); a bytes-less one is a forwarded change.
                        if !entry.bytes.is_empty() {
                            if let Some(mut doc) = stored.docs.remove(&id) {
                                let unsent = stored.outbox.values().any(|u| u.document.0 == id);
                                let heads = decode_heads(&entry.bytes).unwrap_or_default();
                                if unsent || doc.edits_after(&heads) > 0 {
                                    stored.dormant.insert(id, doc);
                                }
                            }
                        }
                        continue;
                    }
                    if let Some(doc) = stored.dormant.remove(&id) {
                        // Back from the other territory: into this device's copy.
                        stored.docs.insert(id.clone(), doc);
                    }
                    match stored.docs.get_mut(&id) {
                        Some(doc) => {
                            if let Err(err) = doc.apply_remote(&entry.bytes) {
                                let space = space_id(usize::from(channel));
                                let info: Vec<String> = (self.log.all(&space).iter())
                                    .filter(|e| e.document.0 == id)
                                    .map(|e| {
                                        match automerge::Change::try_from(e.bytes.as_slice()) {
                                            Ok(c) => format!(
                                                "{}:{:?} {}#{} deps {:?} {}",
                                                e.seq.0,
                                                e.kind,
                                                c.actor_id(),
                                                c.seq(),
                                                c.deps()
                                                    .iter()
                                                    .map(|d| d.to_string()[..6].to_string())
                                                    .collect::<Vec<_>>(),
                                                &c.hash().to_string()[..6]
                                            ),
                                            Err(_) => format!(
                                                "{}:{:?} {}b",
                                                e.seq.0,
                                                e.kind,
                                                e.bytes.len()
                                            ),
                                        }
                                    })
                                    .collect();
                                panic!(
                                    "seed {}: device {device} channel {channel} seq {}: {err} {info:#?} heads {:?}",
                                    self.seed, entry.seq.0, doc.heads().iter().map(|d| d.to_string()[..6].to_string()).collect::<Vec<_>>()
                                );
                            }
                        }
                        None => {
                            let doc = CustomerDoc::from_remote(&entry.bytes, actor.clone())
                                .unwrap_or_else(|err| {
                                    panic!("device {device} seq {}: {err}", entry.seq.0)
                                });
                            stored.docs.insert(id, doc);
                        }
                    }
                }
                stored.cursor = cursor;
                stored.bootstrap = bootstrap;
                let effects = self.devices[device]
                    .conn
                    .with(channel, now, |engine| engine.applied(now));
                self.device_effects(device, effects);
            }
        }
    }

    fn run_until(&mut self, until: i64) {
        loop {
            let next_event = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let next_timer = (self.devices.iter().enumerate())
                .filter_map(|(i, d)| d.conn.next_wakeup().map(|t| (t.0, i)))
                .min();
            let next = match (next_event, next_timer) {
                (Some(e), Some((t, _))) => e.min(t),
                (Some(e), None) => e,
                (None, Some((t, _))) => t,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            if next_event == Some(next) {
                let Reverse((_, _, index)) = self.queue.pop().unwrap();
                let event = self.events[index].take().unwrap();
                self.deliver(event);
            } else if let Some((_, device)) = next_timer {
                let now = self.ts();
                let effects = self.devices[device].conn.tick(now);
                self.device_effects(device, effects);
            }
        }
        self.now = self.now.max(until);
    }

    fn quiet(&self) -> bool {
        self.queue.is_empty()
            && (self.devices.iter()).all(|d| d.conn.engines().iter().all(ClientEngine::is_quiet))
    }
}

fn run_schedule(seed: u64) -> Sim {
    let mut sim = Sim::new(seed);
    let devices = 2 + sim.rng.below(2) as usize;
    for _ in 0..devices {
        sim.add_device();
    }
    let steps = 60 + sim.rng.below(60);
    for _ in 0..steps {
        let device = sim.rng.below(sim.devices.len() as u64) as usize;
        let space = sim.rng.below(SPACES as u64) as usize;
        match sim.rng.below(100) {
            0..=19 => sim.create_customer(device, space),
            20..=69 => sim.edit_customer(device, space),
            70..=77 => {
                let online = !sim.devices[device].online;
                sim.set_online(device, online);
            }
            78..=81 => sim.restart_device(device),
            82..=84 => sim.crash_relay(),
            90..=94 => sim.move_customer(),
            85..=89 if space > 0 => {
                let access = match sim.access[space] {
                    SpaceAccess::ReadWrite => SpaceAccess::ReadOnly,
                    SpaceAccess::ReadOnly => SpaceAccess::ReadWrite,
                };
                sim.set_access(space, access);
            }
            _ => {}
        }
        let pause = if sim.rng.chance(5) {
            3 * 86_400_000
        } else {
            sim.rng.below(400) as i64
        };
        let until = sim.now + pause;
        sim.run_until(until);
    }
    sim.faults = false;
    for space in 1..SPACES {
        sim.set_access(space, SpaceAccess::ReadWrite);
    }
    for device in 0..sim.devices.len() {
        if !sim.devices[device].online {
            sim.set_online(device, true);
        }
    }
    let mut rounds = 0;
    while !sim.quiet() {
        rounds += 1;
        assert!(rounds < 200, "seed {seed}: never quiet");
        let until = sim.now + 60_000;
        sim.run_until(until);
    }
    sim
}

fn check_converged(seed: u64, sim: &mut Sim) {
    for space in 0..SPACES {
        if TERRITORIES.contains(&space) {
            check_territory(seed, sim, space);
            continue;
        }
        let log = sim.log.all(&space_id(space));
        let in_log: BTreeSet<ChangeHash> = (log.iter())
            .flat_map(|entry| upload_hashes(&entry.document, entry.kind, &entry.bytes))
            .collect();
        for hash in &sim.acked[space] {
            assert!(
                in_log.contains(hash),
                "seed {seed}: acknowledged {hash} not in space {space}'s log"
            );
        }
        for hash in &sim.made[space] {
            assert!(
                in_log.contains(hash),
                "seed {seed}: {hash} made in space {space} never reached its log"
            );
        }
        for other in (0..SPACES).filter(|other| *other != space) {
            assert!(
                sim.made[other].is_disjoint(&in_log),
                "seed {seed}: space {other}'s changes in space {space}'s log"
            );
        }
        let documents: BTreeSet<&String> = (log.iter()).map(|entry| &entry.document.0).collect();
        for (index, device) in sim.devices.iter_mut().enumerate() {
            let stored = &mut device.spaces[space];
            assert!(
                stored.outbox.is_empty(),
                "seed {seed}: device {index} space {space} has unsent changes"
            );
            assert_eq!(
                stored.docs.keys().collect::<BTreeSet<_>>(),
                documents,
                "seed {seed}: device {index} holds other documents of space {space}"
            );
            for hash in &sim.made[space] {
                assert!(
                    stored.docs.values_mut().any(|doc| doc.has_change(hash)),
                    "seed {seed}: device {index} lacks {hash} in space {space}"
                );
            }
        }
    }
}

/// A territory, whose customers move: each customer's changes, wherever they were made,
/// are in the log of the territory it is in now, and only there do devices hold it.
fn check_territory(seed: u64, sim: &mut Sim, space: usize) {
    let log = sim.log.all(&space_id(space));
    let in_log: BTreeSet<ChangeHash> = (log.iter())
        .flat_map(|entry| upload_hashes(&entry.document, entry.kind, &entry.bytes))
        .collect();
    let here: BTreeSet<&String> = (sim.location.iter())
        .filter(|(_, at)| **at == space)
        .map(|(id, _)| id)
        .collect();
    for id in &here {
        for hash in sim.made_to.get(*id).into_iter().flatten() {
            assert!(
                in_log.contains(hash),
                "seed {seed}: {hash} made to {id} is not in territory {space}, where it is now"
            );
        }
        for hash in sim.acked_to.get(*id).into_iter().flatten() {
            assert!(
                in_log.contains(hash),
                "seed {seed}: acknowledged {hash} of {id} lost in a handover"
            );
        }
    }
    for (index, device) in sim.devices.iter_mut().enumerate() {
        let stored = &mut device.spaces[space];
        assert!(
            stored.outbox.is_empty(),
            "seed {seed}: device {index} territory {space} has unsent changes"
        );
        assert_eq!(
            stored.docs.keys().collect::<BTreeSet<_>>(),
            here,
            "seed {seed}: device {index} holds other customers than territory {space}'s"
        );
        for (id, doc) in stored.docs.iter_mut() {
            for hash in sim.made_to.get(id).into_iter().flatten() {
                assert!(
                    doc.has_change(hash),
                    "seed {seed}: device {index} lacks {hash} of {id} in territory {space}"
                );
            }
        }
    }
}

#[test]
fn devices_in_several_spaces_converge_space_by_space_under_faults() {
    let seeds: Vec<u64> = match std::env::var("FIELDBOOK_SIM_SEED") {
        Ok(one) => vec![one.parse().expect("FIELDBOOK_SIM_SEED is a number")],
        Err(_) => {
            let count = std::env::var("FIELDBOOK_SIM_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(SIM_SEEDS);
            (0..count).collect()
        }
    };
    let (mut refusals, mut changes, mut frames, mut moves, mut forwarded) = (0, 0, 0, 0, 0);
    let one = std::env::var("FIELDBOOK_SIM_SEED").is_ok();
    for seed in seeds {
        let mut sim = run_schedule(seed);
        check_converged(seed, &mut sim);
        refusals += sim.read_only_refusals;
        changes += sim.access_changes;
        frames += sim.frames;
        moves += sim.moves;
        forwarded += sim.forwarded;
    }
    eprintln!(
        "channels sim: {frames} frames, {changes} role changes, {refusals} pushes refused as \
         read-only, {moves} customers moved, {forwarded} changes forwarded after a move"
    );
    if !one {
        assert!(changes > 0 && refusals > 0, "the schedules exercise roles");
        assert!(
            moves > 0 && forwarded > 0,
            "the schedules exercise handovers"
        );
    }
}

#[test]
fn an_idle_reconnect_of_every_space_is_one_frame_each_way() {
    let mut sim = Sim::new(3);
    sim.faults = false;
    sim.add_device();
    for space in 0..SPACES {
        for _ in 0..5 {
            sim.create_customer(0, space);
        }
    }
    sim.run_until(T0 + 60_000);
    assert!(sim.quiet());
    sim.set_online(0, false);
    sim.run_until(sim.now + 1000);
    let before = sim.frames;
    sim.set_online(0, true);
    sim.run_until(sim.now + 60_000);
    assert!(sim.quiet());
    assert_eq!(
        sim.frames - before,
        2,
        "every space's Hello in one frame, every Welcome in one"
    );
}
