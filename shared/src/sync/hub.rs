//! One connection to the relay per device, whatever the number of books it keeps.
//!
//! # Why
//!
//! A rep's device keeps several books in sync: her own, and each territory of a team she
//! belongs to (each with the team's shared space). Each book has its own engine (its own
//! IndexedDB database, its own writer among the tabs), and each used to open its own
//! socket: a reconnect with nothing new cost one handshake and one round trip per book.
//! The relay already carries any number of spaces over one connection as *channels*
//! ([`super::channels`]); the **hub** puts every book's channels on one socket.
//!
//! # Flow
//!
//! ```text
//! book writer (any tab)                 hub (one engine of the profile)          relay
//!   Attach { book, attempt }   ───────▶  first book: open the socket      ──────▶
//!   ◀─────── Opened { hub, attempt }     socket open: every attached book
//!   Frame { Channels[0: Hello] } ──────▶  channel 0 → slot·2 + 0; the first
//!                                         frames of all books in one message ───▶
//!   ◀─────── Frame { Channels[0: …] }    slot·2 + c → the book's channel c  ◀──────
//!   Detach                      ───────▶  last book gone: close the socket
//! ```
//!
//! Each book's [`super::ClientChannels`] believes it has a socket of its own; the hub only
//! renumbers channels. The frames of every book that was waiting when the socket opened
//! go out together (or after [`HELLO_WINDOW_MS`]), so a reconnect with nothing new is one
//! round trip for the whole device.
//!
//! # Rules
//!
//! - One hub per browser profile and build, elected with a Web Lock by every engine; when
//!   its engine goes away another takes over and announces itself ([`FromHub::Up`]): the
//!   books linked to the old one count their link as closed and attach again.
//! - Every message to a book carries the `attempt` of its `Attach`; a book ignores what
//!   belongs to an earlier attempt, so a late frame never reaches a newer session.
//! - A book's slot stays the same for the life of the socket (channels of an earlier
//!   attachment may still be answered by the relay; a `Hello` on a channel opens it again).
//! - The socket closing, failing to open or being closed by the relay is every attached
//!   book's link closing: each engine reconnects on its own schedule.
//!
//! Messages travel over `BroadcastChannel`s as [`super::engine_protocol::encode`] bytes
//! (with the build's fingerprint).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::sync::protocol::{
    decode, encode, ChannelFrame, ClientMessage, ServerMessage, MAX_CHANNELS,
};
use crate::Timestamp;

/// Channels a book may use (its customers' space, a team's shared space).
pub const STRIDE: u16 = 2;
/// Most books one socket carries.
pub const MAX_BOOKS: u16 = MAX_CHANNELS as u16 / STRIDE;
/// How long, after the socket opened, the hub waits for every attached book's first frames
/// before sending what it has.
pub const HELLO_WINDOW_MS: i64 = 40;

/// A book writer's message to the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToHub {
    /// The book's engine wants a connection (its `Connect`).
    Attach {
        /// The book (its IndexedDB database's name).
        book: String,
        /// New for each attachment of the book.
        attempt: u64,
    },
    /// A frame for the relay: a [`ClientMessage::Channels`] with the book's channels.
    Frame {
        /// The book.
        book: String,
        /// Its attempt.
        attempt: u64,
        /// The encoded message.
        frame: Vec<u8>,
    },
    /// The book's engine closed its connection (its `Disconnect`).
    Detach {
        /// The book.
        book: String,
        /// Its attempt.
        attempt: u64,
    },
}

/// The hub's message to a book writer (on the book's own channel), or to every engine
/// ([`FromHub::Up`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FromHub {
    /// The socket is open for this attempt: the book's engine may send.
    Opened {
        /// Which hub (see [`FromHub::Up`]).
        hub: u64,
        /// The attempt opened.
        attempt: u64,
    },
    /// A frame from the relay for this book, with its own channel numbers.
    Frame {
        /// The attempt it belongs to.
        attempt: u64,
        /// The encoded [`ServerMessage`].
        frame: Vec<u8>,
    },
    /// The book's link closed (the socket closed, did not open, or cannot carry the book).
    Closed {
        /// The attempt closed.
        attempt: u64,
    },
    /// A hub started: links to any other hub are gone.
    Up {
        /// Its id.
        hub: u64,
    },
}

/// What the hub's runtime must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubEffect {
    /// Open the socket; report [`Hub::opened`] or [`Hub::closed`].
    Open,
    /// Send this frame on the socket.
    Send(Vec<u8>),
    /// Close the socket (no [`Hub::closed`] needed).
    Close,
    /// Post a message to one book's writer.
    Tell {
        /// The book.
        book: String,
        /// The message.
        message: FromHub,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Attached {
    attempt: u64,
    slot: u16,
    /// Sent something since the socket opened (the hello window waits for every book).
    spoke: bool,
}

/// The hub's state: one socket, the books attached to it.
#[derive(Debug)]
pub struct Hub {
    id: u64,
    socket: Socket,
    books: BTreeMap<String, Attached>,
    /// Each book's slot for the life of the socket.
    slots: BTreeMap<String, u16>,
    /// Until when frames wait for the other books' first frames.
    window: Option<Timestamp>,
    pending: Vec<ChannelFrame>,
    /// Frames sent on the socket and received from it (for the benchmark's round trips).
    sent: u64,
    received: u64,
}

impl Hub {
    /// A hub with this id (random: tells it apart from the hub before it).
    pub fn new(id: u64) -> Hub {
        Hub {
            id,
            socket: Socket::Closed,
            books: BTreeMap::new(),
            slots: BTreeMap::new(),
            window: None,
            pending: Vec::new(),
            sent: 0,
            received: 0,
        }
    }

    /// The message announcing this hub to every engine.
    pub fn up(&self) -> FromHub {
        FromHub::Up { hub: self.id }
    }

    /// The books attached now.
    pub fn attached(&self) -> Vec<String> {
        self.books.keys().cloned().collect()
    }

    /// Frames sent on the socket and received from it so far.
    pub fn frames(&self) -> (u64, u64) {
        (self.sent, self.received)
    }

    /// When [`Hub::tick`] must run.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        self.window
    }

    /// A book writer's message.
    pub fn from_book(&mut self, message: ToHub, now: Timestamp) -> Vec<HubEffect> {
        match message {
            ToHub::Attach { book, attempt } => self.attach(book, attempt),
            ToHub::Frame {
                book,
                attempt,
                frame,
            } => self.book_frame(&book, attempt, &frame, now),
            ToHub::Detach { book, attempt } => self.detach(&book, attempt),
        }
    }

    fn attach(&mut self, book: String, attempt: u64) -> Vec<HubEffect> {
        let next = self.slots.len() as u16;
        let slot = match self.slots.get(&book) {
            Some(slot) => *slot,
            None if next < MAX_BOOKS => {
                self.slots.insert(book.clone(), next);
                next
            }
            None => {
                // More books than one socket carries: this one waits for a socket with
                // room (its engine retries with its backoff).
                return vec![HubEffect::Tell {
                    book,
                    message: FromHub::Closed { attempt },
                }];
            }
        };
        self.books.insert(
            book.clone(),
            Attached {
                attempt,
                slot,
                spoke: false,
            },
        );
        match self.socket {
            Socket::Closed => {
                self.socket = Socket::Opening;
                vec![HubEffect::Open]
            }
            Socket::Opening => Vec::new(),
            Socket::Open => vec![HubEffect::Tell {
                book,
                message: FromHub::Opened {
                    hub: self.id,
                    attempt,
                },
            }],
        }
    }

    fn book_frame(
        &mut self,
        book: &str,
        attempt: u64,
        frame: &[u8],
        now: Timestamp,
    ) -> Vec<HubEffect> {
        let Some(attached) = self.books.get_mut(book) else {
            return Vec::new();
        };
        if attached.attempt != attempt || self.socket != Socket::Open {
            return Vec::new();
        }
        let Ok(ClientMessage::Channels(frames)) = decode::<ClientMessage>(frame) else {
            // Only channel frames share a socket (a book's engine speaks plainly only to a
            // relay older than channels, which this hub does not serve).
            let book = book.to_string();
            self.books.remove(&book);
            return vec![HubEffect::Tell {
                book,
                message: FromHub::Closed { attempt },
            }];
        };
        attached.spoke = true;
        let base = attached.slot * STRIDE;
        self.pending
            .extend(
                frames
                    .into_iter()
                    .filter(|f| f.channel < STRIDE)
                    .map(|f| ChannelFrame {
                        channel: base + f.channel,
                        frame: f.frame,
                    }),
            );
        let everyone_spoke = self.books.values().all(|b| b.spoke);
        match self.window {
            Some(until) if now < until && !everyone_spoke => Vec::new(),
            _ => {
                self.window = None;
                self.flush()
            }
        }
    }

    fn detach(&mut self, book: &str, attempt: u64) -> Vec<HubEffect> {
        let Some(attached) = self.books.get(book) else {
            return Vec::new();
        };
        if attached.attempt != attempt {
            return Vec::new();
        }
        let slot = attached.slot;
        self.books.remove(book);
        self.pending.retain(|f| f.channel / STRIDE != slot);
        if !self.books.is_empty() || self.socket == Socket::Closed {
            return Vec::new();
        }
        self.reset();
        vec![HubEffect::Close]
    }

    /// The socket opened.
    pub fn opened(&mut self, now: Timestamp) -> Vec<HubEffect> {
        if self.socket != Socket::Opening {
            return Vec::new();
        }
        self.socket = Socket::Open;
        self.window = Some(Timestamp(now.0 + HELLO_WINDOW_MS));
        let id = self.id;
        self.books
            .iter_mut()
            .map(|(book, attached)| {
                attached.spoke = false;
                HubEffect::Tell {
                    book: book.clone(),
                    message: FromHub::Opened {
                        hub: id,
                        attempt: attached.attempt,
                    },
                }
            })
            .collect()
    }

    /// The socket closed or did not open: every attached book's link is closed.
    pub fn closed(&mut self) -> Vec<HubEffect> {
        let effects = std::mem::take(&mut self.books)
            .into_iter()
            .map(|(book, attached)| HubEffect::Tell {
                book,
                message: FromHub::Closed {
                    attempt: attached.attempt,
                },
            })
            .collect();
        self.reset();
        effects
    }

    fn reset(&mut self) {
        self.socket = Socket::Closed;
        self.books.clear();
        self.slots.clear();
        self.window = None;
        self.pending.clear();
    }

    /// A frame from the relay: each book gets its channels' frames, renumbered; what
    /// concerns the whole connection (a plain message) goes to every book.
    pub fn frame(&mut self, frame: &[u8]) -> Vec<HubEffect> {
        self.received += 1;
        let frames = match decode::<ServerMessage>(frame) {
            Ok(ServerMessage::Channels(frames)) => frames,
            _ => {
                return self
                    .books
                    .iter()
                    .map(|(book, attached)| HubEffect::Tell {
                        book: book.clone(),
                        message: FromHub::Frame {
                            attempt: attached.attempt,
                            frame: frame.to_vec(),
                        },
                    })
                    .collect()
            }
        };
        let mut by_slot: BTreeMap<u16, Vec<ChannelFrame>> = BTreeMap::new();
        for f in frames {
            by_slot
                .entry(f.channel / STRIDE)
                .or_default()
                .push(ChannelFrame {
                    channel: f.channel % STRIDE,
                    frame: f.frame,
                });
        }
        let mut effects = Vec::new();
        for (book, attached) in &self.books {
            if let Some(frames) = by_slot.remove(&attached.slot) {
                effects.push(HubEffect::Tell {
                    book: book.clone(),
                    message: FromHub::Frame {
                        attempt: attached.attempt,
                        frame: encode(&ServerMessage::Channels(frames)),
                    },
                });
            }
        }
        // Frames of a book no longer attached are dropped: its engine asks again.
        effects
    }

    /// Time passed: the hello window may be over.
    pub fn tick(&mut self, now: Timestamp) -> Vec<HubEffect> {
        match self.window {
            Some(until) if now >= until => {
                self.window = None;
                self.flush()
            }
            _ => Vec::new(),
        }
    }

    fn flush(&mut self) -> Vec<HubEffect> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        self.sent += 1;
        let frames = std::mem::take(&mut self.pending);
        vec![HubEffect::Send(encode(&ClientMessage::Channels(frames)))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::channels::RelayChannels;
    use crate::sync::protocol::{Seq, SpaceId, SUPPORTED_VERSIONS};
    use crate::sync::relay::RelayLimits;
    use crate::sync::team::SpaceAccess;
    use crate::sync::{ClientChannels, ClientConfig, ClientEngine, Credentials, SessionEffect};

    const T0: Timestamp = Timestamp(1_000);

    fn channels(frames: Vec<(u16, ClientMessage)>) -> Vec<u8> {
        encode(&ClientMessage::Channels(
            frames
                .into_iter()
                .map(|(channel, m)| ChannelFrame {
                    channel,
                    frame: encode(&m),
                })
                .collect(),
        ))
    }

    fn hello(space: &str) -> ClientMessage {
        ClientMessage::Hello {
            supported_versions: SUPPORTED_VERSIONS.to_vec(),
            space: SpaceId(space.into()),
            token: "t".into(),
        }
    }

    fn attach(hub: &mut Hub, book: &str, attempt: u64) -> Vec<HubEffect> {
        hub.from_book(
            ToHub::Attach {
                book: book.into(),
                attempt,
            },
            T0,
        )
    }

    fn book_frame(
        hub: &mut Hub,
        book: &str,
        attempt: u64,
        frame: Vec<u8>,
        at: Timestamp,
    ) -> Vec<HubEffect> {
        hub.from_book(
            ToHub::Frame {
                book: book.into(),
                attempt,
                frame,
            },
            at,
        )
    }

    fn sent(effects: &[HubEffect]) -> Vec<Vec<ChannelFrame>> {
        effects
            .iter()
            .filter_map(|e| match e {
                HubEffect::Send(bytes) => match decode::<ClientMessage>(bytes) {
                    Ok(ClientMessage::Channels(frames)) => Some(frames),
                    other => panic!("not channels: {other:?}"),
                },
                _ => None,
            })
            .collect()
    }

    fn told(effects: &[HubEffect], who: &str) -> Vec<FromHub> {
        effects
            .iter()
            .filter_map(|e| match e {
                HubEffect::Tell { book, message } if book == who => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_first_attach_opens_the_socket_and_every_waiting_book_hears_it_opened() {
        let mut hub = Hub::new(7);
        assert_eq!(attach(&mut hub, "own", 1), vec![HubEffect::Open]);
        assert_eq!(attach(&mut hub, "north", 5), vec![]);
        let effects = hub.opened(T0);
        assert_eq!(
            told(&effects, "own"),
            vec![FromHub::Opened { hub: 7, attempt: 1 }]
        );
        assert_eq!(
            told(&effects, "north"),
            vec![FromHub::Opened { hub: 7, attempt: 5 }]
        );
        // A book attaching to an open socket hears it at once.
        assert_eq!(
            told(&attach(&mut hub, "east", 2), "east"),
            vec![FromHub::Opened { hub: 7, attempt: 2 }]
        );
    }

    #[test]
    fn every_books_first_frames_leave_in_one_message_with_their_channels_renumbered() {
        let mut hub = Hub::new(1);
        attach(&mut hub, "own", 1);
        attach(&mut hub, "north", 1);
        hub.opened(T0);
        let own = book_frame(
            &mut hub,
            "own",
            1,
            channels(vec![(0, hello("mine"))]),
            Timestamp(T0.0 + 1),
        );
        assert_eq!(own, vec![], "waits for the other book");
        let north = book_frame(
            &mut hub,
            "north",
            1,
            channels(vec![(0, hello("north")), (1, hello("shared"))]),
            Timestamp(T0.0 + 2),
        );
        let frames = sent(&north);
        assert_eq!(frames.len(), 1, "one message for both books");
        let numbers: Vec<u16> = frames[0].iter().map(|f| f.channel).collect();
        assert_eq!(numbers, vec![0, 2, 3]);
        assert_eq!(hub.frames(), (1, 0));
        // After the window, each book's frames go at once.
        let later = book_frame(
            &mut hub,
            "own",
            1,
            channels(vec![(0, hello("mine"))]),
            Timestamp(T0.0 + 3),
        );
        assert_eq!(sent(&later).len(), 1);
    }

    #[test]
    fn a_book_that_does_not_speak_in_time_does_not_hold_the_others_back() {
        let mut hub = Hub::new(1);
        attach(&mut hub, "own", 1);
        attach(&mut hub, "north", 1);
        hub.opened(T0);
        let own = book_frame(&mut hub, "own", 1, channels(vec![(0, hello("mine"))]), T0);
        assert!(sent(&own).is_empty());
        assert_eq!(hub.next_wakeup(), Some(Timestamp(T0.0 + HELLO_WINDOW_MS)));
        assert!(hub.tick(Timestamp(T0.0 + HELLO_WINDOW_MS - 1)).is_empty());
        assert_eq!(sent(&hub.tick(Timestamp(T0.0 + HELLO_WINDOW_MS))).len(), 1);
        assert_eq!(hub.next_wakeup(), None);
    }

    #[test]
    fn relay_frames_reach_only_their_book_with_its_own_channel_numbers() {
        let mut hub = Hub::new(1);
        attach(&mut hub, "own", 3);
        attach(&mut hub, "north", 4);
        hub.opened(T0);
        let welcome = |n| ServerMessage::Wake { head: Seq(n) };
        let from_relay = encode(&ServerMessage::Channels(vec![
            ChannelFrame {
                channel: 0,
                frame: encode(&welcome(1)),
            },
            ChannelFrame {
                channel: 3,
                frame: encode(&welcome(2)),
            },
            // A book no longer attached (slot 9): dropped.
            ChannelFrame {
                channel: 18,
                frame: encode(&welcome(3)),
            },
        ]));
        let effects = hub.frame(&from_relay);
        let frame_of = |book| match told(&effects, book).as_slice() {
            [FromHub::Frame { attempt, frame }] => (*attempt, frame.clone()),
            other => panic!("{other:?}"),
        };
        let (attempt, own) = frame_of("own");
        assert_eq!(attempt, 3);
        assert_eq!(
            decode::<ServerMessage>(&own).unwrap(),
            ServerMessage::Channels(vec![ChannelFrame {
                channel: 0,
                frame: encode(&welcome(1))
            }])
        );
        let (attempt, north) = frame_of("north");
        assert_eq!(attempt, 4);
        assert_eq!(
            decode::<ServerMessage>(&north).unwrap(),
            ServerMessage::Channels(vec![ChannelFrame {
                channel: 1,
                frame: encode(&welcome(2))
            }])
        );
        assert_eq!(effects.len(), 2);
        // What concerns the whole connection goes to everyone, as it came.
        let error = encode(&ServerMessage::Error {
            code: crate::sync::protocol::ErrorCode::Revoked,
            message: "revoked".into(),
        });
        let effects = hub.frame(&error);
        assert_eq!(effects.len(), 2);
        assert!(effects.iter().all(|e| matches!(e,
            HubEffect::Tell { message: FromHub::Frame { frame, .. }, .. } if *frame == error)));
    }

    #[test]
    fn stale_attempts_are_ignored_and_the_last_book_leaving_closes_the_socket() {
        let mut hub = Hub::new(1);
        attach(&mut hub, "own", 1);
        hub.opened(T0);
        // Attached again (its engine started over): frames of attempt 1 no longer count.
        assert_eq!(
            told(&attach(&mut hub, "own", 2), "own"),
            vec![FromHub::Opened { hub: 1, attempt: 2 }]
        );
        let stale = book_frame(&mut hub, "own", 1, channels(vec![(0, hello("mine"))]), T0);
        assert!(stale.is_empty());
        assert!(hub
            .from_book(
                ToHub::Detach {
                    book: "own".into(),
                    attempt: 1
                },
                T0
            )
            .is_empty());
        assert_eq!(
            hub.from_book(
                ToHub::Detach {
                    book: "own".into(),
                    attempt: 2
                },
                T0
            ),
            vec![HubEffect::Close]
        );
        // The next attach opens a new socket.
        assert_eq!(attach(&mut hub, "own", 3), vec![HubEffect::Open]);
    }

    #[test]
    fn the_socket_closing_closes_every_link_and_a_plain_frame_closes_its_book() {
        let mut hub = Hub::new(1);
        attach(&mut hub, "own", 1);
        attach(&mut hub, "north", 2);
        let effects = hub.closed();
        assert_eq!(told(&effects, "own"), vec![FromHub::Closed { attempt: 1 }]);
        assert_eq!(
            told(&effects, "north"),
            vec![FromHub::Closed { attempt: 2 }]
        );
        assert!(hub.attached().is_empty());
        attach(&mut hub, "own", 3);
        hub.opened(T0);
        let plain = book_frame(&mut hub, "own", 3, encode(&hello("mine")), T0);
        assert_eq!(told(&plain, "own"), vec![FromHub::Closed { attempt: 3 }]);
    }

    #[test]
    fn more_books_than_a_socket_carries_are_told_closed() {
        let mut hub = Hub::new(1);
        for n in 0..MAX_BOOKS {
            attach(&mut hub, &format!("book{n}"), 1);
        }
        assert_eq!(
            attach(&mut hub, "one too many", 1),
            vec![HubEffect::Tell {
                book: "one too many".into(),
                message: FromHub::Closed { attempt: 1 }
            }]
        );
    }

    /// Three books' engines over one hub and a real relay connection state machine: one
    /// message out with every space's Hello, one message back with every Welcome.
    #[test]
    fn three_books_reconnect_in_one_round_trip_over_one_relay_connection() {
        let spaces = [
            vec!["mine"],
            vec!["north", "shared"],
            vec!["east", "shared"],
        ];
        let books = ["own", "north", "east"];
        let mut engines: Vec<ClientChannels> = spaces
            .iter()
            .map(|spaces| {
                ClientChannels::new(
                    spaces
                        .iter()
                        .map(|space| {
                            ClientEngine::new(
                                ClientConfig::default(),
                                Some(Credentials {
                                    space: SpaceId(space.to_string()),
                                    token: "t".into(),
                                }),
                                Seq(0),
                                None,
                                Vec::new(),
                                1,
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        let mut hub = Hub::new(9);
        let mut to_relay = Vec::new();
        let mut to_books: Vec<(String, FromHub)> = Vec::new();
        let run = |effects: Vec<HubEffect>,
                   to_relay: &mut Vec<Vec<u8>>,
                   to_books: &mut Vec<(String, FromHub)>| {
            for effect in effects {
                match effect {
                    HubEffect::Send(bytes) => to_relay.push(bytes),
                    HubEffect::Tell { book, message } => to_books.push((book, message)),
                    HubEffect::Open | HubEffect::Close => {}
                }
            }
        };
        // Each engine goes online and asks for a connection: each attaches.
        for (i, engine) in engines.iter_mut().enumerate() {
            let effects = engine.each(T0, |e| e.set_online(true, T0));
            assert!(effects.contains(&crate::sync::ChannelsEffect::Connect));
            let effects = hub.from_book(
                ToHub::Attach {
                    book: books[i].into(),
                    attempt: 1,
                },
                T0,
            );
            run(effects, &mut to_relay, &mut to_books);
        }
        run(hub.opened(T0), &mut to_relay, &mut to_books);
        // Each book hears "opened" and sends its Hellos.
        for (book, message) in std::mem::take(&mut to_books) {
            assert!(matches!(message, FromHub::Opened { .. }));
            let i = books.iter().position(|b| *b == book).unwrap();
            for effect in engines[i].connected(T0) {
                if let crate::sync::ChannelsEffect::Send(frame) = effect {
                    let effects = hub.from_book(
                        ToHub::Frame {
                            book: book.clone(),
                            attempt: 1,
                            frame,
                        },
                        T0,
                    );
                    run(effects, &mut to_relay, &mut to_books);
                }
            }
        }
        assert_eq!(to_relay.len(), 1, "one message to the relay");
        // The relay's connection answers every channel; its Welcomes come back batched.
        let mut relay = RelayChannels::new(RelayLimits::default(), T0);
        let effects = relay.frame(&to_relay[0], T0);
        let mut welcomes = Vec::new();
        let mut effects = effects;
        while let Some(effect) = effects.pop() {
            match effect.effect {
                SessionEffect::Authenticate { space, .. } => {
                    effects.extend(relay.with(effect.channel, |s| {
                        s.authenticated(space, Seq(0), SpaceAccess::ReadWrite)
                    }));
                }
                SessionEffect::Send(message) => welcomes.push((effect.channel, message)),
                _ => {}
            }
        }
        assert_eq!(welcomes.len(), 5, "a Welcome per space");
        let frames = crate::sync::channels::server_frames(welcomes);
        assert_eq!(frames.len(), 1, "one message back");
        run(hub.frame(&frames[0]), &mut to_relay, &mut to_books);
        assert_eq!(to_books.len(), 3);
        for (book, message) in to_books {
            let i = books.iter().position(|b| *b == book).unwrap();
            let FromHub::Frame { frame, .. } = message else {
                panic!("{message:?}")
            };
            engines[i].frame(&frame, T0);
            assert!(
                engines[i]
                    .engines()
                    .iter()
                    .all(|e| e.status().phase == crate::sync::SyncPhase::UpToDate),
                "{book} is up to date"
            );
        }
        assert_eq!(hub.frames(), (1, 1), "one round trip");
    }
}
