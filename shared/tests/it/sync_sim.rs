//! Deterministic simulation of sync: several devices and a relay, the real engines
//! ([`ClientEngine`], [`RelaySession`], [`MemoryLog`]) and real customer documents, over a
//! simulated network that drops, duplicates, reorders and delays messages, with relay
//! crashes between commit and acknowledgement, devices offline for long stretches, device
//! restarts and new devices bootstrapping from snapshots.
//!
//! Invariant checked after every schedule: once the network is quiet, every device holds
//! identical documents, every change ever made on any device is on every device and in the
//! relay's log, and every outbox is empty. Customers erased on one device are on no device
//! and have no bytes left in the log, and every change ever made to them was stored before
//! the erasure, unsent on the erasing device, or set aside for the rep on its device.
//!
//! CI runs `SIM_SEEDS` (default 60) schedules; `FIELDBOOK_SIM_SEEDS=5000 cargo test -p
//! fieldbook-shared --test it sync_sim` runs more, and `FIELDBOOK_SIM_SEED=<n>` replays one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use automerge::{ActorId, ChangeHash};
use shared::model::snapshot::decode_projection;
use shared::seed::{self, SeedRng};
use shared::sync::protocol::{BlobKind, ErrorCode, Seq, ServerMessage, SpaceId, Upload};
use shared::sync::team::SpaceAccess;
use shared::sync::{
    blob, ClientConfig, ClientEffect, ClientEngine, Credentials, MemoryLog, OutboxItem,
    RelayLimits, RelaySession, SessionEffect, StoredItem,
};
use shared::{sync::protocol::DocumentId, CustomerDoc, CustomerId, LifecycleStage, Timestamp};

const SIM_SEEDS: u64 = 60;
const T0: i64 = 1_795_341_600_000;
const TOKEN: &str = "token-of-the-rep";

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
    /// A page handed to storage commits (like an IndexedDB transaction), or fails.
    Stored {
        device: usize,
        incarnation: u64,
        entries: Vec<shared::sync::protocol::LogEntry>,
        projections: Vec<Option<shared::sync::protocol::EntryProjection>>,
        cursor: Seq,
        bootstrap: Option<shared::sync::protocol::BootstrapPosition>,
        fails: bool,
    },
    /// Outbox items asked for by a [`ClientEffect::ReadOutbox`] are read back (or fail).
    OutboxRead {
        device: usize,
        incarnation: u64,
        ids: Vec<u64>,
        fails: bool,
    },
}

struct Device {
    actor: ActorId,
    engine: ClientEngine,
    conn: Option<ConnId>,
    online: bool,
    // "Persisted" state: survives restarts, written atomically like an IndexedDB transaction.
    docs: BTreeMap<String, CustomerDoc>,
    cursor: Seq,
    bootstrap: Option<shared::sync::protocol::BootstrapPosition>,
    outbox: BTreeMap<u64, Upload>,
    next_outbox_id: u64,
    /// Bumped by a restart: a store still pending then never commits.
    incarnation: u64,
    /// Documents erased (here or elsewhere): forgotten, never made again.
    erased: BTreeSet<String>,
    /// Unsent changes to documents erased on another device, kept for the rep (the app
    /// offers them as a download).
    set_aside: Vec<Upload>,
    /// What the device's account may do with the space (a team member's role: a viewer
    /// reads only), as the relay decides it at each Hello.
    access: SpaceAccess,
}

#[derive(Clone, Copy)]
struct Faults {
    drop_percent: u64,
    duplicate_percent: u64,
    reorder_percent: u64,
    connect_fail_percent: u64,
    crash_after_commit_percent: u64,
    store_fail_percent: u64,
}

const CALM: Faults = Faults {
    drop_percent: 0,
    duplicate_percent: 0,
    reorder_percent: 0,
    connect_fail_percent: 0,
    crash_after_commit_percent: 0,
    store_fail_percent: 0,
};

struct Sim {
    rng: SeedRng,
    now: i64,
    queue: BinaryHeap<Reverse<(i64, u64, usize)>>,
    events: Vec<Option<Event>>,
    event_seq: u64,
    next_conn: ConnId,
    devices: Vec<Device>,
    log: MemoryLog,
    sessions: BTreeMap<ConnId, (usize, RelaySession)>,
    /// The access each session was admitted with.
    admitted: BTreeMap<ConnId, SpaceAccess>,
    space: SpaceId,
    faults: Faults,
    /// Every change hash any device ever made, by document.
    made: BTreeMap<String, BTreeSet<ChangeHash>>,
    /// Change hashes the relay acknowledged.
    acked: BTreeSet<ChangeHash>,
    customers: u64,
    stats: Stats,
    /// Documents some device erased, and the changes of them the eraser still had unsent
    /// (dropped on purpose: the rep erased them).
    erased: BTreeSet<String>,
    dropped_by_eraser: BTreeSet<ChangeHash>,
}

#[derive(Default, Debug)]
struct Stats {
    crashes: u64,
    drops: u64,
    duplicates: u64,
    bootstraps: u64,
    /// Documents a bootstrapping device could list from the relay's projection.
    projected: u64,
    /// Customers erased, and unsent changes a device set aside because another erased
    /// their customer.
    erasures: u64,
    set_aside: u64,
    /// Role changes, and pushes refused because the session could only read.
    access_changes: u64,
    read_only_refusals: u64,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim {
            rng: SeedRng::new(seed),
            now: T0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
            event_seq: 0,
            next_conn: 1,
            devices: Vec::new(),
            log: MemoryLog::new(),
            sessions: BTreeMap::new(),
            admitted: BTreeMap::new(),
            space: SpaceId("space-1".into()),
            faults: Faults {
                drop_percent: 3,
                duplicate_percent: 3,
                reorder_percent: 5,
                connect_fail_percent: 10,
                crash_after_commit_percent: 4,
                store_fail_percent: 2,
            },
            made: BTreeMap::new(),
            acked: BTreeSet::new(),
            customers: 0,
            stats: Stats::default(),
            erased: BTreeSet::new(),
            dropped_by_eraser: BTreeSet::new(),
        }
    }

    fn ts(&self) -> Timestamp {
        Timestamp(self.now)
    }

    fn add_device(&mut self) -> usize {
        let index = self.devices.len();
        let engine = ClientEngine::new(
            small_config(),
            Some(credentials()),
            Seq(0),
            None,
            Vec::new(),
            self.rng.next_u64(),
        );
        self.devices.push(Device {
            actor: ActorId::from(vec![index as u8 + 1; 16]),
            engine,
            conn: None,
            online: false,
            docs: BTreeMap::new(),
            cursor: Seq(0),
            bootstrap: None,
            outbox: BTreeMap::new(),
            next_outbox_id: 1,
            incarnation: 0,
            erased: BTreeSet::new(),
            set_aside: Vec::new(),
            access: SpaceAccess::ReadWrite,
        });
        self.set_online(index, true);
        index
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
        if self.rng.chance(self.faults.reorder_percent) {
            base + self.rng.below(800) as i64
        } else {
            base
        }
    }

    // ---- devices -------------------------------------------------------------------

    fn set_online(&mut self, device: usize, online: bool) {
        self.devices[device].online = online;
        if !online {
            self.cut(device);
        }
        let now = self.ts();
        let effects = self.devices[device].engine.set_online(online, now);
        self.device_effects(device, effects);
    }

    /// The device's connection ends (both sides notice).
    fn cut(&mut self, device: usize) {
        if let Some(conn) = self.devices[device].conn {
            self.sessions.remove(&conn);
            let delay = self.latency();
            self.schedule(delay, Event::Closed { device, conn });
        }
    }

    /// The device's account gets another role (writer ↔ reader) from an admin elsewhere:
    /// the relay ends its live session at once, as every relay does on a membership
    /// change; the device reconnects under the new rule.
    fn set_access(&mut self, device: usize, access: SpaceAccess) {
        if self.devices[device].access == access {
            return;
        }
        self.devices[device].access = access;
        self.stats.access_changes += 1;
        let live: Vec<ConnId> = (self.sessions.iter())
            .filter(|(_, (owner, _))| *owner == device)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in live {
            let effects = session(&mut self.sessions, conn).refused(
                ErrorCode::AccessChanged,
                "this account's access to the team changed".into(),
            );
            self.relay_effects(conn, effects);
        }
    }

    fn restart_device(&mut self, device: usize) {
        if let Some(conn) = self.devices[device].conn.take() {
            self.sessions.remove(&conn);
        }
        // Half the restarts hand the engine only the outbox's keys and documents, the way
        // the browser does: the bytes are read back when they are next to go.
        let paged = self.rng.chance(50);
        let d = &self.devices[device];
        let (outbox, stored) = if paged {
            let stored = (d.outbox.iter())
                .map(|(id, upload)| StoredItem {
                    id: *id,
                    document: upload.document.clone(),
                })
                .collect();
            (Vec::new(), stored)
        } else {
            let outbox = (d.outbox.iter())
                .map(|(id, upload)| OutboxItem {
                    id: *id,
                    upload: upload.clone(),
                    projection: None,
                })
                .collect();
            (outbox, Vec::new())
        };
        let engine = ClientEngine::new(
            small_config(),
            Some(credentials()),
            d.cursor,
            d.bootstrap.clone(),
            outbox,
            self.rng.next_u64(),
        )
        .with_stored(stored);
        let online = d.online;
        self.devices[device].engine = engine;
        self.devices[device].incarnation += 1;
        self.devices[device].online = false;
        if online {
            self.set_online(device, true);
        }
    }

    fn queue_upload(&mut self, device: usize, upload: Upload) {
        let d = &mut self.devices[device];
        let id = d.next_outbox_id;
        d.next_outbox_id += 1;
        d.outbox.insert(id, upload.clone());
        let now = self.ts();
        let effects = self.devices[device].engine.queued(
            vec![OutboxItem {
                id,
                upload,
                projection: None,
            }],
            now,
        );
        self.device_effects(device, effects);
    }

    fn create_customer(&mut self, device: usize) {
        self.customers += 1;
        let customer = seed::customer(7, self.customers, self.ts());
        let id = customer.id.to_string();
        // One customer in three as a build before custom fields made it (no `custom` or
        // `custom_sets` map): two devices giving it its first values offline each make
        // one, and every value must still be read on every device.
        let older = self.rng.below(3) == 0;
        let d = &mut self.devices[device];
        let mut doc = if older {
            let mut raw = automerge::AutoCommit::new().with_actor(d.actor.clone());
            autosurgeon::reconcile(&mut raw, &customer).unwrap();
            for key in ["custom", "custom_sets"] {
                automerge::transaction::Transactable::delete(&mut raw, automerge::ROOT, key)
                    .unwrap();
            }
            raw.commit();
            CustomerDoc::load(&customer.id, &raw.save(), d.actor.clone()).unwrap()
        } else {
            CustomerDoc::create(customer, d.actor.clone(), Timestamp(self.now)).unwrap()
        };
        doc.set_author(Some(format!("device {device}")));
        let hashes = doc.heads();
        self.made.entry(id.clone()).or_default().extend(hashes);
        let upload = Upload {
            document: DocumentId(id.clone()),
            kind: BlobKind::Snapshot { covers: d.cursor },
            bytes: doc.save(),
        };
        d.docs.insert(id, doc);
        self.queue_upload(device, upload);
    }

    fn edit_customer(&mut self, device: usize) {
        let keys: Vec<String> = self.devices[device].docs.keys().cloned().collect();
        if keys.is_empty() {
            return self.create_customer(device);
        }
        let id = self.rng.pick(&keys).clone();
        let what = self.rng.below(7);
        let field = format!("f{}", self.rng.below(3));
        let word = format!("v{}", self.rng.below(1000));
        let now = Timestamp(self.now);
        let doc = self.devices[device].docs.get_mut(&id).unwrap();
        let changed = doc
            .update(now, |c| match what {
                0 => c.name = format!("Name {word}"),
                1 => c.company = format!("Company {word}"),
                2 => {
                    c.tags.insert(&word);
                }
                3 => {
                    let text = c.notes.as_str().to_string();
                    c.notes.update(format!("{text} {word}"));
                }
                5 => {
                    c.custom.insert(field, word.clone());
                }
                6 => {
                    let set = c.custom_sets.entry(field).or_default();
                    if !set.remove(&word[..2]) {
                        set.insert(&word[..2]);
                    }
                }
                _ => {
                    c.stage = if c.stage == LifecycleStage::Lead {
                        LifecycleStage::Customer
                    } else {
                        LifecycleStage::Lead
                    }
                }
            })
            .unwrap();
        if !changed {
            return;
        }
        let change = doc.last_local_change().unwrap();
        let hash = automerge::Change::try_from(change.as_slice())
            .unwrap()
            .hash();
        self.made.entry(id.clone()).or_default().insert(hash);
        self.queue_upload(
            device,
            Upload {
                document: DocumentId(id.clone()),
                kind: BlobKind::Change,
                bytes: change,
            },
        );
        // Now and then the device compacts and uploads a snapshot, as the client does.
        if self.rng.chance(15) {
            let d = &mut self.devices[device];
            let covers = d.cursor;
            let bytes = d.docs.get_mut(&id).unwrap().save();
            self.queue_upload(
                device,
                Upload {
                    document: DocumentId(id),
                    kind: BlobKind::Snapshot { covers },
                    bytes,
                },
            );
        }
    }

    /// The rep erases a customer on `device`: it is forgotten here at once (with this
    /// device's unsent changes of it: she erased them) and the erasure is queued.
    fn erase_customer(&mut self, device: usize) {
        let keys: Vec<String> = self.devices[device].docs.keys().cloned().collect();
        if keys.is_empty() {
            return;
        }
        let id = self.rng.pick(&keys).clone();
        let unsent = self.forget_document(device, &id);
        for upload in unsent {
            self.dropped_by_eraser.extend(upload_hashes(&upload));
        }
        self.erased.insert(id.clone());
        self.stats.erasures += 1;
        self.queue_upload(
            device,
            Upload {
                document: DocumentId(id),
                kind: BlobKind::Erased,
                bytes: Vec::new(),
            },
        );
    }

    /// Forgets document `id` on `device` (its copy and its unsent changes, which the
    /// engine stops pushing); returns those changes.
    fn forget_document(&mut self, device: usize, id: &str) -> Vec<Upload> {
        let d = &mut self.devices[device];
        d.docs.remove(id);
        d.erased.insert(id.to_string());
        let ids: Vec<u64> = (d.outbox.iter())
            .filter(|(_, upload)| upload.document.0 == id && upload.kind != BlobKind::Erased)
            .map(|(key, _)| *key)
            .collect();
        d.engine.forget(&ids);
        ids.iter().filter_map(|key| d.outbox.remove(key)).collect()
    }

    /// Another device erased `id`: this device forgets it and sets aside what it had not
    /// sent of it.
    fn erased_elsewhere(&mut self, device: usize, id: &str) {
        let unsent = self.forget_document(device, id);
        self.stats.set_aside += unsent.len() as u64;
        self.devices[device].set_aside.extend(unsent);
    }

    fn device_effects(&mut self, device: usize, effects: Vec<ClientEffect>) {
        for effect in effects {
            match effect {
                ClientEffect::Connect => {
                    let conn = self.next_conn;
                    self.next_conn += 1;
                    self.devices[device].conn = Some(conn);
                    let delay = self.latency();
                    if self.rng.chance(self.faults.connect_fail_percent) {
                        self.schedule(delay, Event::ConnectFailed { device, conn });
                    } else {
                        self.schedule(delay, Event::Opened { device, conn });
                    }
                }
                ClientEffect::Send(frame) => {
                    let Some(conn) = self.devices[device].conn else {
                        continue;
                    };
                    self.transmit(Event::ToRelay { conn, frame });
                }
                ClientEffect::Disconnect => {
                    if let Some(conn) = self.devices[device].conn.take() {
                        self.sessions.remove(&conn);
                    }
                }
                ClientEffect::Apply {
                    entries,
                    projections,
                    cursor,
                    bootstrap,
                    ..
                } => {
                    // Storage takes a while (the next page is fetched meanwhile) and
                    // sometimes fails (a full disk).
                    let delay = self.rng.below(40) as i64;
                    let fails = self.rng.chance(self.faults.store_fail_percent);
                    let incarnation = self.devices[device].incarnation;
                    self.schedule(
                        delay,
                        Event::Stored {
                            device,
                            incarnation,
                            entries,
                            projections,
                            cursor,
                            bootstrap,
                            fails,
                        },
                    );
                }
                ClientEffect::SaveCursor(cursor) => self.devices[device].cursor = cursor,
                ClientEffect::ReadOutbox(ids) => {
                    let delay = self.rng.below(20) as i64;
                    let fails = self.rng.chance(self.faults.store_fail_percent);
                    let incarnation = self.devices[device].incarnation;
                    self.schedule(
                        delay,
                        Event::OutboxRead {
                            device,
                            incarnation,
                            ids,
                            fails,
                        },
                    );
                }
                ClientEffect::Acked(ids) => {
                    for id in ids {
                        if let Some(upload) = self.devices[device].outbox.remove(&id) {
                            self.acked.extend(upload_hashes(&upload));
                        }
                    }
                }
                ClientEffect::Refused { message, .. } => {
                    panic!("relay refused a valid change: {message}")
                }
                ClientEffect::Erased { document, ids } => {
                    // The engine dropped these already; the device sets them aside.
                    let d = &mut self.devices[device];
                    let unsent: Vec<Upload> =
                        ids.iter().filter_map(|key| d.outbox.remove(key)).collect();
                    self.stats.set_aside += unsent.len() as u64;
                    d.set_aside.extend(unsent);
                    self.erased_elsewhere(device, &document.0);
                }
                ClientEffect::SignedOut { message, .. } => panic!("device signed out: {message}"),
            }
        }
    }

    fn transmit(&mut self, event: Event) {
        if self.rng.chance(self.faults.drop_percent) {
            // A lost message on a stream transport is a broken connection.
            self.stats.drops += 1;
            let (Event::ToRelay { conn, .. } | Event::ToDevice { conn, .. }) = &event else {
                return;
            };
            let conn = *conn;
            if let Some(device) = self.devices.iter().position(|d| d.conn == Some(conn)) {
                self.cut(device);
            } else {
                self.sessions.remove(&conn);
            }
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate_percent) {
            self.stats.duplicates += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.latency();
            self.schedule(delay, event.clone());
        }
    }

    // ---- relay ---------------------------------------------------------------------

    fn crash_relay(&mut self) {
        self.stats.crashes += 1;
        let conns: Vec<(ConnId, usize)> = self
            .sessions
            .iter()
            .map(|(conn, (device, _))| (*conn, *device))
            .collect();
        self.sessions.clear();
        for (conn, device) in conns {
            let delay = self.latency();
            self.schedule(delay, Event::Closed { device, conn });
        }
    }

    fn relay_effects(&mut self, conn: ConnId, effects: Vec<SessionEffect>) {
        for effect in effects {
            if let SessionEffect::WakeOthers { space, head } = &effect {
                // Committed entries wake the other devices even if this connection just
                // died: a lost wake-up costs latency, and here it would cost it forever.
                let others: Vec<ConnId> = self
                    .sessions
                    .iter()
                    .filter(|(other, (_, s))| **other != conn && s.space() == Some(space))
                    .map(|(other, _)| *other)
                    .collect();
                for other in others {
                    if let Some((_, session)) = self.sessions.get_mut(&other) {
                        let effects = session.woken(*head);
                        self.relay_effects(other, effects);
                    }
                }
                continue;
            }
            let Some((device, _)) = self.sessions.get(&conn) else {
                return;
            };
            let device = *device;
            match effect {
                SessionEffect::Authenticate { space, token } => {
                    let effects = if token != TOKEN {
                        session(&mut self.sessions, conn)
                            .refused(ErrorCode::Unauthorized, "unknown token".into())
                    } else if space != self.space {
                        session(&mut self.sessions, conn)
                            .refused(ErrorCode::Forbidden, "not your space".into())
                    } else {
                        let head = self.log.head(&space);
                        let access = self.devices[device].access;
                        self.admitted.insert(conn, access);
                        session(&mut self.sessions, conn).authenticated(space, head, access)
                    };
                    self.relay_effects(conn, effects);
                }
                SessionEffect::Send(message) => {
                    if matches!(
                        message,
                        ServerMessage::Rejected {
                            code: ErrorCode::ReadOnly,
                            ..
                        }
                    ) {
                        self.stats.read_only_refusals += 1;
                    }
                    let frame = shared::sync::protocol::encode(&message);
                    self.transmit(Event::ToDevice {
                        device,
                        conn,
                        frame,
                    });
                }
                SessionEffect::Append {
                    space,
                    request_id,
                    uploads,
                } => {
                    assert_eq!(
                        self.admitted.get(&conn),
                        Some(&SpaceAccess::ReadWrite),
                        "a session that may only read appended to the log"
                    );
                    let (results, head) = match self.log.append(&space, &uploads) {
                        Ok(appended) => appended,
                        Err(refused) => {
                            let effects = session(&mut self.sessions, conn).push_refused(
                                request_id,
                                refused.index,
                                refused.code,
                                refused.message,
                            );
                            return self.relay_effects(conn, effects);
                        }
                    };
                    if self.rng.chance(self.faults.crash_after_commit_percent) {
                        // Committed durably, then the process died before acknowledging.
                        self.crash_relay();
                        return;
                    }
                    let effects =
                        session(&mut self.sessions, conn).committed(request_id, results, head);
                    self.relay_effects(conn, effects);
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
                    let effects = session(&mut self.sessions, conn).entries(
                        request_id,
                        entries,
                        projections,
                        head,
                    );
                    self.relay_effects(conn, effects);
                }
                SessionEffect::ReadBootstrap {
                    space,
                    request_id,
                    position,
                    max_entries,
                    max_bytes,
                } => {
                    if position.is_none() {
                        self.stats.bootstraps += 1;
                    }
                    let page =
                        self.log
                            .bootstrap(&space, position, max_entries as usize, max_bytes);
                    let effects =
                        session(&mut self.sessions, conn).bootstrap_page(request_id, page);
                    self.relay_effects(conn, effects);
                }
                SessionEffect::WakeOthers { .. } => unreachable!("handled above"),
                SessionEffect::Close { .. } => {
                    self.sessions.remove(&conn);
                    let delay = self.latency();
                    self.schedule(delay, Event::Closed { device, conn });
                }
            }
        }
    }

    // ---- the loop ------------------------------------------------------------------

    fn deliver(&mut self, event: Event) {
        let now = self.ts();
        if let Ok(d) = std::env::var("SIM_TRACE") {
            let d: usize = d.parse().unwrap();
            let show = d < self.devices.len()
                && match &event {
                    Event::Opened { device, .. }
                    | Event::ConnectFailed { device, .. }
                    | Event::Closed { device, .. }
                    | Event::ToDevice { device, .. }
                    | Event::Stored { device, .. }
                    | Event::OutboxRead { device, .. } => *device == d,
                    Event::ToRelay { conn, .. } => {
                        self.devices.get(d).is_some_and(|x| x.conn == Some(*conn))
                    }
                };
            if show {
                let text = match &event {
                    Event::ToDevice { frame, conn, .. } => format!(
                        "to device conn {conn}: {:?}",
                        shared::sync::protocol::decode::<shared::sync::protocol::ServerMessage>(
                            frame
                        )
                        .map(|m| format!("{m:?}").chars().take(120).collect::<String>())
                    ),
                    Event::ToRelay { frame, conn } => format!(
                        "to relay conn {conn}: {:?}",
                        shared::sync::protocol::decode::<shared::sync::protocol::ClientMessage>(
                            frame
                        )
                        .map(|m| format!("{m:?}").chars().take(120).collect::<String>())
                    ),
                    Event::Stored {
                        cursor,
                        fails,
                        incarnation,
                        ..
                    } => {
                        format!("stored through {cursor:?} fails={fails} incarnation={incarnation}")
                    }
                    other => format!("{other:?}"),
                };
                eprintln!(
                    "{} dev.conn={:?} session={} {text}",
                    self.now - T0,
                    self.devices[d].conn,
                    self.devices[d]
                        .conn
                        .is_some_and(|c| self.sessions.contains_key(&c))
                );
            }
        }
        match event {
            Event::Opened { device, conn } => {
                if self.devices[device].conn != Some(conn) {
                    return;
                }
                self.sessions.insert(
                    conn,
                    (device, RelaySession::new(RelayLimits::default(), now)),
                );
                let effects = self.devices[device].engine.connected(now);
                self.device_effects(device, effects);
            }
            Event::ConnectFailed { device, conn } | Event::Closed { device, conn } => {
                if self.devices[device].conn != Some(conn) {
                    return;
                }
                self.devices[device].conn = None;
                self.sessions.remove(&conn);
                let effects = self.devices[device].engine.disconnected(now);
                self.device_effects(device, effects);
            }
            Event::ToRelay { conn, frame } => {
                let Some((_, session)) = self.sessions.get_mut(&conn) else {
                    return;
                };
                let effects = session.frame(&frame, now);
                self.relay_effects(conn, effects);
            }
            Event::ToDevice {
                device,
                conn,
                frame,
            } => {
                if self.devices[device].conn != Some(conn) {
                    return;
                }
                let effects = self.devices[device].engine.frame(&frame, now);
                self.device_effects(device, effects);
            }
            Event::OutboxRead {
                device,
                incarnation,
                ids,
                fails,
            } => {
                if self.devices[device].incarnation != incarnation {
                    return;
                }
                let effects = if fails {
                    self.devices[device]
                        .engine
                        .outbox_read_failed("storage unavailable".into(), now)
                } else {
                    let d = &self.devices[device];
                    let items = (ids.iter())
                        .filter_map(|id| Some((*id, d.outbox.get(id)?.clone())))
                        .collect();
                    self.devices[device].engine.outbox_read(items, now)
                };
                self.device_effects(device, effects);
            }
            Event::Stored {
                device,
                incarnation,
                entries,
                projections,
                cursor,
                bootstrap,
                fails,
            } => {
                if self.devices[device].incarnation != incarnation {
                    return;
                }
                if fails {
                    let effects = self.devices[device]
                        .engine
                        .apply_failed("storage full".into(), now);
                    return self.device_effects(device, effects);
                }
                let mut projections = projections.into_iter();
                let mut projected = 0;
                for entry in entries {
                    let projection = projections.next().flatten();
                    let id = entry.document.0.clone();
                    if entry.kind == BlobKind::Erased {
                        assert!(entry.bytes.is_empty(), "an erased entry carries bytes");
                        self.erased_elsewhere(device, &id);
                        continue;
                    }
                    let d = &mut self.devices[device];
                    if d.erased.contains(&id) {
                        // Erased here, the erasure not yet at the relay: what others sent
                        // before it is not taken back in.
                        continue;
                    }
                    match d.docs.get_mut(&id) {
                        Some(doc) => {
                            doc.apply_remote(&entry.bytes).unwrap_or_else(|err| {
                                panic!("device {device} applying seq {}: {err}", entry.seq.0)
                            });
                        }
                        None => {
                            let mut doc = CustomerDoc::from_remote(&entry.bytes, d.actor.clone())
                                .unwrap_or_else(|err| {
                                    panic!(
                                        "device {device} creating from seq {}: {err}",
                                        entry.seq.0
                                    )
                                });
                            // What the client lists instead of loading the document must
                            // be exactly what the document holds.
                            if let Some(projection) = projection {
                                let decoded = decode_projection(&projection.0)
                                    .expect("a projection of this build");
                                assert_eq!(
                                    decoded,
                                    (doc.summary(), doc.facts()),
                                    "seq {}",
                                    entry.seq.0
                                );
                                projected += 1;
                            }
                            d.docs.insert(id, doc);
                        }
                    }
                }
                let d = &mut self.devices[device];
                d.cursor = cursor;
                d.bootstrap = bootstrap;
                self.stats.projected += projected;
                let effects = self.devices[device].engine.applied(now);
                self.device_effects(device, effects);
            }
        }
    }

    /// Runs events and timers up to `until`.
    fn run_until(&mut self, until: i64) {
        loop {
            let next_event = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let next_timer = self
                .devices
                .iter()
                .enumerate()
                .filter_map(|(i, d)| d.engine.next_wakeup().map(|t| (t.0, i)))
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
                let effects = self.devices[device].engine.tick(now);
                self.device_effects(device, effects);
            }
        }
        self.now = self.now.max(until);
    }

    fn quiet(&self) -> bool {
        self.queue.is_empty() && self.devices.iter().all(|d| d.engine.is_quiet())
    }
}

fn session(
    sessions: &mut BTreeMap<ConnId, (usize, RelaySession)>,
    conn: ConnId,
) -> &mut RelaySession {
    &mut sessions.get_mut(&conn).expect("the session is open").1
}

fn small_config() -> ClientConfig {
    ClientConfig {
        // Small pages and pushes so pagination happens with small books.
        push_max_uploads: 3,
        page_entries: 4,
        ..ClientConfig::default()
    }
}

fn credentials() -> Credentials {
    Credentials {
        space: SpaceId("space-1".into()),
        token: TOKEN.into(),
    }
}

fn run_schedule(seed: u64) -> Stats {
    let mut sim = Sim::new(seed);
    let device_count = 2 + sim.rng.below(3) as usize;
    for _ in 0..device_count {
        sim.add_device();
    }
    let steps = 60 + sim.rng.below(60);
    for _ in 0..steps {
        let device = sim.rng.below(sim.devices.len() as u64) as usize;
        match sim.rng.below(100) {
            0..=19 => sim.create_customer(device),
            20..=64 => sim.edit_customer(device),
            65..=71 => {
                let online = !sim.devices[device].online;
                sim.set_online(device, online);
            }
            72..=75 => sim.restart_device(device),
            81..=82 => sim.erase_customer(device),
            76..=78 => sim.crash_relay(),
            83..=85 => {
                // A team admin makes the device's account a viewer, or a rep again.
                let access = match sim.devices[device].access {
                    SpaceAccess::ReadWrite => SpaceAccess::ReadOnly,
                    SpaceAccess::ReadOnly => SpaceAccess::ReadWrite,
                };
                sim.set_access(device, access);
            }
            79..=80 if sim.devices.len() < 6 => {
                sim.add_device();
            }
            _ => {}
        }
        // Sometimes a long stretch passes (a device offline for days), usually a moment.
        let pause = if sim.rng.chance(5) {
            3 * 86_400_000
        } else {
            sim.rng.below(400) as i64
        };
        let until = sim.now + pause;
        sim.run_until(until);
    }
    // Quiet: the network heals, every account may write again (what a viewer edited
    // meanwhile was kept on her device, never acknowledged, and now goes through) and
    // every device comes back online.
    sim.faults = CALM;
    for device in 0..sim.devices.len() {
        sim.set_access(device, SpaceAccess::ReadWrite);
    }
    for device in 0..sim.devices.len() {
        if !sim.devices[device].online {
            sim.set_online(device, true);
        }
    }
    let deadline = sim.now + 3_600_000;
    while !sim.quiet() && sim.now < deadline {
        let until = sim.now + 1000;
        sim.run_until(until);
    }
    assert!(
        sim.quiet(),
        "seed {seed}: not quiet an hour after the faults stopped"
    );
    check_converged(seed, &mut sim);
    sim.stats
}

fn change_hash(upload: &Upload) -> ChangeHash {
    automerge::Change::try_from(upload.bytes.as_slice())
        .unwrap()
        .hash()
}

/// Every change an upload carries: a change's own, or all of a snapshot's.
fn upload_hashes(upload: &Upload) -> Vec<ChangeHash> {
    match upload.kind {
        BlobKind::Change => vec![change_hash(upload)],
        BlobKind::Snapshot { .. } => automerge::Automerge::load(&upload.bytes)
            .unwrap()
            .get_changes(&[])
            .iter()
            .map(|change| change.hash())
            .collect(),
        BlobKind::Erased | BlobKind::Moved => Vec::new(),
    }
}

fn check_converged(seed: u64, sim: &mut Sim) {
    let in_log: BTreeSet<ChangeHash> = sim
        .log
        .all(&sim.space)
        .iter()
        .flat_map(|entry| {
            upload_hashes(&Upload {
                document: entry.document.clone(),
                kind: entry.kind,
                bytes: entry.bytes.clone(),
            })
        })
        .collect();
    // Erased documents: nothing of them in the log but erasures without bytes, on no
    // device, and every change ever made of them was either stored before the erasure
    // (and erased with it), unsent on the erasing device (erased by the rep), or set
    // aside on a device for its rep: none vanished unseen.
    let set_aside: BTreeSet<ChangeHash> = (sim.devices.iter())
        .flat_map(|device| device.set_aside.iter())
        .flat_map(upload_hashes)
        .collect();
    let mut erased_hashes = BTreeSet::new();
    for id in &sim.erased {
        for entry in sim.log.all(&sim.space) {
            if &entry.document.0 == id {
                assert!(
                    entry.kind == BlobKind::Erased && entry.bytes.is_empty(),
                    "seed {seed}: seq {} of erased {id} kept its bytes",
                    entry.seq.0
                );
            }
        }
        for (index, device) in sim.devices.iter().enumerate() {
            assert!(
                !device.docs.contains_key(id),
                "seed {seed}: device {index} still holds erased {id}"
            );
        }
        for hash in sim.made.get(id).into_iter().flatten() {
            assert!(
                sim.acked.contains(hash)
                    || sim.dropped_by_eraser.contains(hash)
                    || set_aside.contains(hash),
                "seed {seed}: change {hash} of erased {id} vanished"
            );
            erased_hashes.insert(*hash);
        }
    }
    for id in &sim.erased {
        sim.made.remove(id);
    }
    for hash in &sim.acked {
        assert!(
            in_log.contains(hash) || erased_hashes.contains(hash),
            "seed {seed}: acknowledged change {hash} missing from the log"
        );
    }
    let reference: BTreeMap<String, Vec<ChangeHash>> = sim.devices[0]
        .docs
        .iter_mut()
        .map(|(id, doc)| {
            let mut heads = doc.heads();
            heads.sort();
            (id.clone(), heads)
        })
        .collect();
    let made: Vec<(String, ChangeHash)> = sim
        .made
        .iter()
        .flat_map(|(id, hashes)| hashes.iter().map(move |h| (id.clone(), *h)))
        .collect();
    if std::env::var("SIM_DEBUG").is_ok() {
        for (index, device) in sim.devices.iter().enumerate() {
            eprintln!(
                "device {index}: cursor {:?} docs {} {:?}",
                device.cursor,
                device.docs.len(),
                device.engine.status()
            );
        }
        eprintln!(
            "log: {:?}",
            sim.log
                .all(&sim.space)
                .iter()
                .map(|e| (e.seq.0, e.document.0[..4].to_string(), e.kind))
                .collect::<Vec<_>>()
        );
    }
    let customers: BTreeMap<String, shared::Customer> = (sim.devices[0].docs.iter())
        .map(|(id, doc)| (id.clone(), doc.customer().clone()))
        .collect();
    for (index, device) in sim.devices.iter_mut().enumerate() {
        assert!(
            device.outbox.is_empty(),
            "seed {seed}: device {index} still has unsent changes"
        );
        let ids: Vec<&String> = device.docs.keys().collect();
        assert_eq!(
            ids,
            reference.keys().collect::<Vec<_>>(),
            "seed {seed}: device {index} holds other documents than device 0"
        );
        for (id, doc) in device.docs.iter_mut() {
            let mut heads = doc.heads();
            heads.sort();
            assert_eq!(
                heads, reference[id],
                "seed {seed}: device {index} differs on {id}"
            );
        }
        for (id, hash) in &made {
            let in_log_doc = sim
                .log
                .all(&sim.space)
                .iter()
                .filter(|e| &e.document.0 == id)
                .map(|e| (e.seq.0, e.kind))
                .collect::<Vec<_>>();
            let doc = device.docs.get_mut(id).unwrap_or_else(|| {
                panic!("seed {seed}: device {index} lacks document {id}; log: {in_log_doc:?}")
            });
            assert!(
                doc.has_change(hash),
                "seed {seed}: device {index} lost change {hash} of {id}"
            );
        }
        // Same heads, same content: the hydrated customers agree too (custom values made
        // in two maps by two devices included).
        for (id, doc) in device.docs.iter() {
            let parsed: CustomerId = id.parse().unwrap();
            assert_eq!(doc.customer().id, parsed);
            assert_eq!(
                (&doc.customer().custom, &doc.customer().custom_sets),
                (&customers[id].custom, &customers[id].custom_sets),
                "seed {seed}: device {index} reads other custom values of {id}"
            );
        }
    }
}

#[test]
fn devices_converge_under_faults() {
    let seeds: Vec<u64> = match std::env::var("FIELDBOOK_SIM_SEED") {
        Ok(one) => vec![one.parse().expect("FIELDBOOK_SIM_SEED is a number")],
        Err(_) => {
            let count = std::env::var("FIELDBOOK_SIM_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(SIM_SEEDS);
            (1..=count).collect()
        }
    };
    let mut total = Stats::default();
    for seed in seeds {
        let stats = run_schedule(seed);
        total.crashes += stats.crashes;
        total.drops += stats.drops;
        total.duplicates += stats.duplicates;
        total.bootstraps += stats.bootstraps;
        total.projected += stats.projected;
        total.erasures += stats.erasures;
        total.set_aside += stats.set_aside;
        total.access_changes += stats.access_changes;
        total.read_only_refusals += stats.read_only_refusals;
    }
    // The faults really happened (a simulation without them would prove little).
    assert!(
        total.crashes > 0
            && total.drops > 0
            && total.duplicates > 0
            && total.bootstraps > 0
            && total.projected > 0
            && total.erasures > 0
            && total.set_aside > 0
            && total.access_changes > 0
            && total.read_only_refusals > 0,
        "{total:?}"
    );
}

#[test]
fn a_device_with_the_wrong_token_is_refused_and_stores_nothing() {
    let mut sim = Sim::new(1);
    sim.add_device();
    sim.devices[0].engine = ClientEngine::new(
        small_config(),
        Some(Credentials {
            space: SpaceId("space-1".into()),
            token: "stolen".into(),
        }),
        Seq(0),
        None,
        Vec::new(),
        1,
    );
    sim.devices[0].online = false;
    sim.faults = CALM;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim.set_online(0, true);
        sim.create_customer(0);
        sim.run_until(T0 + 10_000);
    }));
    // The sim treats a sign-out as fatal: the engine reported it.
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("device signed out: unknown token"),
        "{message}"
    );
    assert!(sim.log.all(&sim.space).is_empty());
}

#[test]
fn an_idle_reconnect_is_one_round_trip() {
    let mut sim = Sim::new(2);
    sim.faults = CALM;
    sim.add_device();
    for _ in 0..50 {
        sim.create_customer(0);
    }
    sim.run_until(T0 + 60_000);
    assert!(sim.quiet());
    // Reconnect: count frames both ways.
    sim.set_online(0, false);
    sim.run_until(sim.now + 1000);
    let before = sim.event_seq;
    sim.set_online(0, true);
    sim.run_until(sim.now + 60_000);
    assert!(sim.quiet());
    // Opened, Hello, Welcome: nothing else travelled.
    assert_eq!(sim.event_seq - before, 3);
}

#[test]
fn relay_validation_keeps_garbage_out() {
    let limits = RelayLimits::default();
    let garbage = Upload {
        document: DocumentId("c1".into()),
        kind: BlobKind::Change,
        bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
    };
    assert_eq!(
        blob::validate(garbage, limits.max_blob_bytes)
            .unwrap_err()
            .code,
        ErrorCode::InvalidBlob
    );
}
