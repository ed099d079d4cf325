//! Several spaces over one connection (protocol version 5): a device in its personal book
//! and a team's spaces (the shared space and each territory it may read) opens one socket,
//! and each space is a *channel* carrying the frames of its own session, unchanged.
//!
//! Both sides reuse their one-space state machines: the relay runs a [`RelaySession`] per
//! channel inside [`RelayChannels`], the device a [`ClientEngine`] per space inside
//! [`ClientChannels`]. Only the framing is shared: a device sends every frame wrapped in
//! [`ClientMessage::Channels`] — the first one holding each space's `Hello`, so a reconnect
//! with nothing new is one round trip whatever the number of spaces — and the relay
//! answers in [`ServerMessage::Channels`], batching what the sessions sent while handling
//! one message.
//!
//! # Rules
//!
//! - A channel's session lives and dies alone: a space refused (the device was removed from
//!   the team), closed for a malformed frame or ended because the account's access changed
//!   leaves the other channels open; a `Hello` on the channel opens it again.
//! - What concerns the whole connection — a frame that is not a `Channels` message, too
//!   many channels, the device revoked, shutdown — is a plain [`ServerMessage::Error`] and
//!   the end of the socket.
//! - A relay of version 4 or older cannot decode `Channels` and answers a plain `Malformed`
//!   error: the device then syncs only its first space (its own book) the old way, until
//!   the app restarts against an updated relay.

use std::collections::BTreeMap;

use super::client::{ClientEffect, ClientEngine};
use super::relay::{decode_frame, RelayLimits, RelaySession, SessionEffect};
use crate::sync::protocol::{
    decode, encode, ChannelFrame, ClientMessage, ErrorCode, ServerMessage, MAX_CHANNELS,
};
use crate::Timestamp;

/// The channel an effect belongs to: `None` for a connection that said a plain `Hello`
/// (one space, no channels) and for what concerns the whole connection.
pub type Channel = Option<u16>;

/// An effect of one channel's session, for the relay's runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEffect {
    /// Whose: feed the effect's result back to this channel's session
    /// ([`RelayChannels::with`]).
    pub channel: Channel,
    /// What to do. A `Close` of `Some` channel ends that channel's session only (the
    /// runtime forgets its registration); of `None`, the connection.
    pub effect: SessionEffect,
}

#[derive(Debug)]
enum Mode {
    /// No frame yet; this session answers timeouts and frames that do not decode.
    Undecided(RelaySession),
    /// A plain `Hello`: one space, as before version 5.
    Single(RelaySession),
    /// `Channels`: one session per channel.
    Channels(BTreeMap<u16, RelaySession>),
    Closed,
}

/// One device connection on the relay, carrying one space (a plain `Hello`) or several
/// (channels).
#[derive(Debug)]
pub struct RelayChannels {
    mode: Mode,
    limits: RelayLimits,
    last_frame: Timestamp,
}

impl RelayChannels {
    /// A connection opened at `now`.
    pub fn new(limits: RelayLimits, now: Timestamp) -> RelayChannels {
        RelayChannels {
            mode: Mode::Undecided(RelaySession::new(limits, now)),
            limits,
            last_frame: now,
        }
    }

    /// Whether any space of the connection is signed in (only such connections are kept
    /// alive with pings).
    pub fn is_signed_in(&self) -> bool {
        match &self.mode {
            Mode::Single(session) => session.space().is_some(),
            Mode::Channels(sessions) => sessions.values().any(|s| s.space().is_some()),
            Mode::Undecided(_) | Mode::Closed => false,
        }
    }

    /// Whether the connection has ended; the runtime drops it.
    pub fn is_closed(&self) -> bool {
        match &self.mode {
            Mode::Closed => true,
            Mode::Undecided(session) | Mode::Single(session) => session.is_closed(),
            Mode::Channels(_) => false,
        }
    }

    /// The channels whose sessions are open.
    pub fn open_channels(&self) -> Vec<u16> {
        match &self.mode {
            Mode::Channels(sessions) => sessions
                .iter()
                .filter(|(_, s)| !s.is_closed())
                .map(|(channel, _)| *channel)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// When [`RelayChannels::tick`] must run: the earliest session deadline; a
    /// connection of channels whose sessions all ended has the time to sign in again.
    pub fn idle_deadline(&self) -> Timestamp {
        match &self.mode {
            Mode::Undecided(session) | Mode::Single(session) => session.idle_deadline(),
            Mode::Channels(sessions) => sessions
                .values()
                .filter(|s| !s.is_closed())
                .map(RelaySession::idle_deadline)
                .min()
                .unwrap_or(Timestamp(self.last_frame.0 + self.limits.hello_timeout_ms)),
            Mode::Closed => Timestamp(i64::MAX),
        }
    }

    /// Time passed: closes idle sessions, or a connection that did not sign in in time.
    pub fn tick(&mut self, now: Timestamp) -> Vec<ChannelEffect> {
        match &mut self.mode {
            Mode::Undecided(session) | Mode::Single(session) => tagged(None, session.tick(now)),
            Mode::Channels(sessions) => {
                if sessions.values().all(RelaySession::is_closed)
                    && now >= Timestamp(self.last_frame.0 + self.limits.hello_timeout_ms)
                {
                    return self.fail(
                        ErrorCode::UnexpectedMessage,
                        "no open channel and no Hello within the time allowed".into(),
                    );
                }
                let mut effects = Vec::new();
                for (channel, session) in sessions.iter_mut() {
                    effects.extend(tagged(Some(*channel), session.tick(now)));
                }
                effects
            }
            Mode::Closed => Vec::new(),
        }
    }

    /// The connection showed signs of life (a pong): every signed-in session is kept.
    pub fn keepalive(&mut self, now: Timestamp) {
        match &mut self.mode {
            Mode::Undecided(session) | Mode::Single(session) => session.keepalive(now),
            Mode::Channels(sessions) => sessions.values_mut().for_each(|s| s.keepalive(now)),
            Mode::Closed => {}
        }
    }

    /// A frame arrived.
    pub fn frame(&mut self, frame: &[u8], now: Timestamp) -> Vec<ChannelEffect> {
        self.last_frame = now;
        match std::mem::replace(&mut self.mode, Mode::Closed) {
            Mode::Undecided(mut session) => match decode::<ClientMessage>(frame) {
                Ok(ClientMessage::Channels(frames)) => {
                    self.mode = Mode::Channels(BTreeMap::new());
                    self.channel_frames(frames, now)
                }
                // A plain Hello, or anything the session refuses in its own words.
                _ => {
                    let effects = session.frame(frame, now);
                    self.mode = Mode::Single(session);
                    tagged(None, effects)
                }
            },
            Mode::Single(mut session) => {
                let effects = session.frame(frame, now);
                self.mode = Mode::Single(session);
                tagged(None, effects)
            }
            Mode::Channels(sessions) => {
                self.mode = Mode::Channels(sessions);
                match decode_frame(frame, &self.limits) {
                    Ok(ClientMessage::Channels(frames)) => self.channel_frames(frames, now),
                    Ok(_) => self.fail(
                        ErrorCode::UnexpectedMessage,
                        "a connection of channels carries only channel frames".into(),
                    ),
                    Err((code, message)) => self.fail(code, message),
                }
            }
            Mode::Closed => Vec::new(),
        }
    }

    fn channel_frames(&mut self, frames: Vec<ChannelFrame>, now: Timestamp) -> Vec<ChannelEffect> {
        if let Some(frame) = frames
            .iter()
            .find(|f| usize::from(f.channel) >= MAX_CHANNELS)
        {
            return self.fail(
                ErrorCode::TooLarge,
                format!(
                    "channel {} is beyond the {MAX_CHANNELS} a connection may open",
                    frame.channel
                ),
            );
        }
        let limits = self.limits;
        let Mode::Channels(sessions) = &mut self.mode else {
            return Vec::new();
        };
        let mut effects = Vec::new();
        for ChannelFrame { channel, frame } in frames {
            // A Hello (variant 0) opens the channel, again if it was open: the device's
            // session of that space started over (its own timeout, say).
            let hello = frame.first() == Some(&0);
            let session = match sessions.get_mut(&channel) {
                Some(session) if !hello && !session.is_closed() => session,
                _ => {
                    sessions.insert(channel, RelaySession::new(limits, now));
                    sessions.get_mut(&channel).expect("just inserted")
                }
            };
            effects.extend(tagged(Some(channel), session.frame(&frame, now)));
        }
        // Any frame of the connection keeps every session alive.
        for session in sessions.values_mut() {
            session.keepalive(now);
        }
        effects
    }

    /// Feeds the result of an effect back to `channel`'s session (nothing if that session
    /// is gone).
    pub fn with(
        &mut self,
        channel: Channel,
        f: impl FnOnce(&mut RelaySession) -> Vec<SessionEffect>,
    ) -> Vec<ChannelEffect> {
        let session = match (&mut self.mode, channel) {
            (Mode::Undecided(session) | Mode::Single(session), None) => session,
            (Mode::Channels(sessions), Some(channel)) => match sessions.get_mut(&channel) {
                Some(session) => session,
                None => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        tagged(channel, f(session))
    }

    /// Every session is refused with `code` (the device was revoked while connected), then
    /// the connection ends.
    pub fn refuse_all(&mut self, code: ErrorCode, message: String) -> Vec<ChannelEffect> {
        match &mut self.mode {
            Mode::Undecided(session) | Mode::Single(session) => {
                tagged(None, session.refused(code, message))
            }
            Mode::Channels(sessions) => {
                let mut effects = Vec::new();
                for (channel, session) in sessions.iter_mut().filter(|(_, s)| !s.is_closed()) {
                    effects.extend(tagged(
                        Some(*channel),
                        session.refused(code, message.clone()),
                    ));
                }
                self.mode = Mode::Closed;
                effects.push(ChannelEffect {
                    channel: None,
                    effect: SessionEffect::Close { reason: message },
                });
                effects
            }
            Mode::Closed => Vec::new(),
        }
    }

    /// Ends the whole connection with a plain error.
    fn fail(&mut self, code: ErrorCode, message: String) -> Vec<ChannelEffect> {
        self.mode = Mode::Closed;
        let mut session = RelaySession::new(self.limits, self.last_frame);
        tagged(None, session.refused(code, message))
    }
}

fn tagged(channel: Channel, effects: Vec<SessionEffect>) -> Vec<ChannelEffect> {
    effects
        .into_iter()
        .map(|effect| ChannelEffect { channel, effect })
        .collect()
}

/// The frames carrying `sends`, in order: a plain message alone in its frame (no
/// channel), consecutive channel messages together in one [`ServerMessage::Channels`].
pub fn server_frames(sends: Vec<(Channel, ServerMessage)>) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut batch: Vec<ChannelFrame> = Vec::new();
    for (channel, message) in sends {
        match channel {
            Some(channel) => batch.push(ChannelFrame {
                channel,
                frame: encode(&message),
            }),
            None => {
                if !batch.is_empty() {
                    frames.push(encode(&ServerMessage::Channels(std::mem::take(&mut batch))));
                }
                frames.push(encode(&message));
            }
        }
    }
    if !batch.is_empty() {
        frames.push(encode(&ServerMessage::Channels(batch)));
    }
    frames
}

/// What the device's runtime must do for [`ClientChannels`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelsEffect {
    /// Open the socket; report [`ClientChannels::connected`] or
    /// [`ClientChannels::disconnected`].
    Connect,
    /// Send this frame.
    Send(Vec<u8>),
    /// Close the socket (no [`ClientChannels::disconnected`] needed).
    Disconnect,
    /// An effect of one space's engine (never `Connect`, `Send` or `Disconnect`): report
    /// its result to that space ([`ClientChannels::with`]).
    Space {
        /// The space's channel (its index in [`ClientChannels::new`]'s list).
        channel: u16,
        /// What to do.
        effect: ClientEffect,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    /// Open; `answered` once a `Channels` message came on it.
    Open {
        answered: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// The space's engine has no connection.
    Off,
    /// It asked for one; the socket is opening.
    Waiting,
    /// It has one: its frames go over the socket in its channel.
    On,
}

/// A device's connection to the relay for several spaces: one [`ClientEngine`] per space,
/// each believing it has its own connection, over one socket.
#[derive(Debug)]
pub struct ClientChannels {
    engines: Vec<ClientEngine>,
    links: Vec<Link>,
    socket: Socket,
    /// The relay answered `Channels` with a plain `Malformed`: it is older than version 5;
    /// only the first space syncs, without channels.
    legacy: bool,
    outgoing: Vec<ChannelFrame>,
}

impl ClientChannels {
    /// Spaces, each with its engine; a space's channel is its index here.
    pub fn new(engines: Vec<ClientEngine>) -> ClientChannels {
        let links = vec![Link::Off; engines.len()];
        ClientChannels {
            engines,
            links,
            socket: Socket::Closed,
            legacy: false,
            outgoing: Vec::new(),
        }
    }

    /// A space added later (the device joined a team); returns its channel.
    pub fn add(&mut self, engine: ClientEngine, now: Timestamp) -> (u16, Vec<ChannelsEffect>) {
        let channel = self.engines.len() as u16;
        self.engines.push(engine);
        self.links.push(Link::Off);
        let effects = self.with(channel, now, |engine| engine.retry_now(now));
        (channel, effects)
    }

    /// The spaces' engines, by channel.
    pub fn engines(&self) -> &[ClientEngine] {
        &self.engines
    }

    /// Whether the relay turned out to be older than channels (only the first space
    /// syncs).
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// Runs `f` on one space's engine (a result of its effect, a queued change, new
    /// credentials…) and carries out what it asks of the connection.
    pub fn with(
        &mut self,
        channel: u16,
        now: Timestamp,
        f: impl FnOnce(&mut ClientEngine) -> Vec<ClientEffect>,
    ) -> Vec<ChannelsEffect> {
        let Some(engine) = self.engines.get_mut(usize::from(channel)) else {
            return Vec::new();
        };
        let effects = f(engine);
        let mut out = Vec::new();
        self.absorb(channel, effects, now, &mut out);
        self.flush(&mut out);
        out
    }

    /// Runs `f` on every engine (online/offline, ticks).
    pub fn each(
        &mut self,
        now: Timestamp,
        mut f: impl FnMut(&mut ClientEngine) -> Vec<ClientEffect>,
    ) -> Vec<ChannelsEffect> {
        let mut out = Vec::new();
        for channel in 0..self.engines.len() {
            let effects = f(&mut self.engines[channel]);
            self.absorb(channel as u16, effects, now, &mut out);
        }
        self.flush(&mut out);
        out
    }

    /// The earliest wake-up any engine wants.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        self.engines
            .iter()
            .filter_map(ClientEngine::next_wakeup)
            .min()
    }

    /// Time passed.
    pub fn tick(&mut self, now: Timestamp) -> Vec<ChannelsEffect> {
        self.each(now, |engine| engine.tick(now))
    }

    /// The socket is open: every space that asked, and every space waiting to retry,
    /// says Hello in one frame.
    pub fn connected(&mut self, now: Timestamp) -> Vec<ChannelsEffect> {
        if self.socket != Socket::Opening {
            return vec![ChannelsEffect::Disconnect];
        }
        self.socket = Socket::Open { answered: false };
        let mut out = Vec::new();
        for channel in 0..self.engines.len() {
            if self.legacy && channel > 0 {
                continue;
            }
            let effects = self.engines[channel].retry_now(now);
            self.absorb(channel as u16, effects, now, &mut out);
            if self.links[channel] == Link::Waiting {
                self.links[channel] = Link::On;
                let effects = self.engines[channel].connected(now);
                self.absorb(channel as u16, effects, now, &mut out);
            }
        }
        self.flush(&mut out);
        out
    }

    /// The socket failed to open or closed.
    pub fn disconnected(&mut self, now: Timestamp) -> Vec<ChannelsEffect> {
        self.socket = Socket::Closed;
        self.outgoing.clear();
        let mut out = Vec::new();
        for channel in 0..self.engines.len() {
            if self.links[channel] != Link::Off {
                self.links[channel] = Link::Off;
                let effects = self.engines[channel].disconnected(now);
                self.absorb(channel as u16, effects, now, &mut out);
            }
        }
        self.flush(&mut out);
        out
    }

    /// A frame arrived from the relay.
    pub fn frame(&mut self, frame: &[u8], now: Timestamp) -> Vec<ChannelsEffect> {
        let mut out = Vec::new();
        if self.legacy {
            if self.links.first() == Some(&Link::On) {
                let effects = self.engines[0].frame(frame, now);
                self.absorb(0, effects, now, &mut out);
            }
        } else {
            match decode::<ServerMessage>(frame) {
                Ok(ServerMessage::Channels(frames)) => {
                    if let Socket::Open { answered } = &mut self.socket {
                        *answered = true;
                    }
                    for ChannelFrame { channel, frame } in frames {
                        if self.links.get(usize::from(channel)) == Some(&Link::On) {
                            let effects = self.engines[usize::from(channel)].frame(&frame, now);
                            self.absorb(channel, effects, now, &mut out);
                        }
                    }
                }
                Ok(ServerMessage::Error {
                    code: ErrorCode::Malformed,
                    ..
                }) if self.socket == Socket::Open { answered: false } => {
                    // A relay before version 5 cannot read channels: sync the first space
                    // the old way from the next connection on.
                    self.legacy = true;
                    for channel in 0..self.engines.len() {
                        if self.links[channel] == Link::On {
                            self.links[channel] = Link::Off;
                            let effects = self.engines[channel].disconnected(now);
                            self.absorb(channel as u16, effects, now, &mut out);
                        }
                    }
                    if self.socket != Socket::Closed {
                        self.socket = Socket::Closed;
                        out.push(ChannelsEffect::Disconnect);
                    }
                }
                // Anything else concerns the whole connection (or is unreadable): every
                // open space hears it.
                _ => {
                    for channel in 0..self.engines.len() {
                        if self.links[channel] == Link::On {
                            let effects = self.engines[channel].frame(frame, now);
                            self.absorb(channel as u16, effects, now, &mut out);
                        }
                    }
                }
            }
        }
        self.flush(&mut out);
        out
    }

    fn absorb(
        &mut self,
        channel: u16,
        effects: Vec<ClientEffect>,
        now: Timestamp,
        out: &mut Vec<ChannelsEffect>,
    ) {
        let index = usize::from(channel);
        for effect in effects {
            match effect {
                ClientEffect::Connect => {
                    if self.legacy && index > 0 {
                        // Only the first space syncs with an old relay; the others wait
                        // (their attempts time out and retry, harmlessly).
                        continue;
                    }
                    match self.socket {
                        Socket::Open { .. } => {
                            self.links[index] = Link::On;
                            let more = self.engines[index].connected(now);
                            self.absorb(channel, more, now, out);
                        }
                        Socket::Opening => self.links[index] = Link::Waiting,
                        Socket::Closed => {
                            self.links[index] = Link::Waiting;
                            self.socket = Socket::Opening;
                            out.push(ChannelsEffect::Connect);
                        }
                    }
                }
                ClientEffect::Send(frame) => {
                    if self.legacy {
                        out.push(ChannelsEffect::Send(frame));
                    } else {
                        self.outgoing.push(ChannelFrame { channel, frame });
                    }
                }
                ClientEffect::Disconnect => {
                    self.links[index] = Link::Off;
                    if self.socket != Socket::Closed && self.links.iter().all(|l| *l == Link::Off) {
                        self.socket = Socket::Closed;
                        self.outgoing.clear();
                        out.push(ChannelsEffect::Disconnect);
                    }
                }
                effect => out.push(ChannelsEffect::Space { channel, effect }),
            }
        }
    }

    /// Sends what the engines said, in one frame.
    fn flush(&mut self, out: &mut Vec<ChannelsEffect>) {
        if self.outgoing.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.outgoing);
        if matches!(self.socket, Socket::Open { .. }) {
            out.push(ChannelsEffect::Send(encode(&ClientMessage::Channels(
                frames,
            ))));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, VecDeque};

    use super::*;
    use crate::sync::client::{ClientConfig, Credentials, OutboxItem};
    use crate::sync::memory::MemoryLog;
    use crate::sync::protocol::{BlobKind, DocumentId, Seq, SpaceId, Upload, SUPPORTED_VERSIONS};
    use crate::sync::team::SpaceAccess;
    use crate::{seed, CustomerDoc};

    const T: Timestamp = Timestamp(1_795_341_600_000);

    /// A relay in memory: who may do what, the logs, and the connection.
    struct Relay {
        log: MemoryLog,
        access: BTreeMap<String, Result<SpaceAccess, ErrorCode>>,
        conn: RelayChannels,
        /// Frames sent to the device.
        sent: Vec<Vec<u8>>,
        closed: bool,
    }

    impl Relay {
        fn new(access: &[(&str, Result<SpaceAccess, ErrorCode>)]) -> Relay {
            Relay {
                log: MemoryLog::new(),
                access: access
                    .iter()
                    .map(|(space, access)| (space.to_string(), *access))
                    .collect(),
                conn: RelayChannels::new(RelayLimits::default(), T),
                sent: Vec::new(),
                closed: false,
            }
        }

        /// A frame from the device, and everything it leads to (as `server/src/ws.rs`).
        fn receive(&mut self, frame: &[u8]) {
            let effects = self.conn.frame(frame, T);
            self.run(effects);
        }

        fn run(&mut self, effects: Vec<ChannelEffect>) {
            let mut queue: VecDeque<ChannelEffect> = effects.into();
            let mut sends = Vec::new();
            while let Some(ChannelEffect { channel, effect }) = queue.pop_front() {
                let more = match effect {
                    SessionEffect::Authenticate { space, .. } => {
                        match self.access.get(&space.0).copied() {
                            Some(Ok(access)) => {
                                let head = self.log.head(&space);
                                self.conn
                                    .with(channel, |s| s.authenticated(space, head, access))
                            }
                            Some(Err(code)) => self
                                .conn
                                .with(channel, |s| s.refused(code, "not a member".into())),
                            None => self
                                .conn
                                .with(channel, |s| s.refused(ErrorCode::Forbidden, "no".into())),
                        }
                    }
                    SessionEffect::Send(message) => {
                        sends.push((channel, message));
                        Vec::new()
                    }
                    SessionEffect::Append {
                        space,
                        request_id,
                        uploads,
                    } => match self.log.append(&space, &uploads) {
                        Ok((results, head)) => self
                            .conn
                            .with(channel, |s| s.committed(request_id, results, head)),
                        Err(refused) => self.conn.with(channel, |s| {
                            s.push_refused(request_id, refused.index, refused.code, refused.message)
                        }),
                    },
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
                        self.conn.with(channel, |s| {
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
                        self.conn
                            .with(channel, |s| s.bootstrap_page(request_id, page))
                    }
                    SessionEffect::WakeOthers { .. } => Vec::new(),
                    SessionEffect::Close { .. } => {
                        if channel.is_none() {
                            self.closed = true;
                        }
                        Vec::new()
                    }
                };
                queue.extend(more);
            }
            self.sent.extend(server_frames(sends));
        }
    }

    /// A device in `spaces`, its effects carried out at once (storage always succeeds).
    struct Device {
        conn: ClientChannels,
        /// Frames to the relay.
        sent: Vec<Vec<u8>>,
        open: bool,
        signed_out: Vec<u16>,
        acked: usize,
        stored: BTreeMap<u16, usize>,
    }

    impl Device {
        fn new(spaces: &[&str], cursors: &[u64]) -> Device {
            let engines = spaces
                .iter()
                .zip(cursors)
                .enumerate()
                .map(|(i, (space, cursor))| {
                    ClientEngine::new(
                        ClientConfig::default(),
                        Some(Credentials {
                            space: SpaceId(space.to_string()),
                            token: "the-device-token-of-the-rep-0123456789abcdef".into(),
                        }),
                        Seq(*cursor),
                        None,
                        Vec::new(),
                        i as u64,
                    )
                })
                .collect();
            Device {
                conn: ClientChannels::new(engines),
                sent: Vec::new(),
                open: false,
                signed_out: Vec::new(),
                acked: 0,
                stored: BTreeMap::new(),
            }
        }

        fn run(&mut self, effects: Vec<ChannelsEffect>) {
            let mut queue: VecDeque<ChannelsEffect> = effects.into();
            while let Some(effect) = queue.pop_front() {
                match effect {
                    ChannelsEffect::Connect => {
                        self.open = true;
                        queue.extend(self.conn.connected(T));
                    }
                    ChannelsEffect::Send(frame) => self.sent.push(frame),
                    ChannelsEffect::Disconnect => self.open = false,
                    ChannelsEffect::Space { channel, effect } => match effect {
                        ClientEffect::Apply { entries, .. } => {
                            *self.stored.entry(channel).or_default() += entries.len();
                            queue.extend(self.conn.with(channel, T, |e| e.applied(T)));
                        }
                        ClientEffect::Acked(ids) => self.acked += ids.len(),
                        ClientEffect::SignedOut { .. } => self.signed_out.push(channel),
                        _ => {}
                    },
                }
            }
        }
    }

    /// Carries frames both ways until neither side has anything to say.
    fn exchange(device: &mut Device, relay: &mut Relay) -> (usize, usize, usize, usize) {
        let (mut up, mut up_bytes, mut down, mut down_bytes) = (0, 0, 0, 0);
        loop {
            let to_relay = std::mem::take(&mut device.sent);
            let to_device = std::mem::take(&mut relay.sent);
            if to_relay.is_empty() && to_device.is_empty() {
                return (up, up_bytes, down, down_bytes);
            }
            for frame in to_relay {
                up += 1;
                up_bytes += frame.len();
                relay.receive(&frame);
            }
            for frame in to_device {
                down += 1;
                down_bytes += frame.len();
                let effects = device.conn.frame(&frame, T);
                device.run(effects);
            }
        }
    }

    fn customer_upload(n: u64) -> Upload {
        let customer = seed::customer(3, n, T);
        let id = customer.id.to_string();
        let mut doc = CustomerDoc::create(customer, automerge::ActorId::random(), T).unwrap();
        Upload {
            document: DocumentId(id),
            kind: BlobKind::Snapshot { covers: Seq(0) },
            bytes: doc.save(),
        }
    }

    const SPACES: [&str; 5] = [
        "book-of-ada-0123456789abcdef01234567",
        "team-shared-0123456789abcdef01234567",
        "territory-north-0123456789abcdef0123",
        "territory-south-0123456789abcdef0123",
        "territory-keys-0123456789abcdef01234",
    ];

    #[test]
    fn a_reconnect_with_nothing_new_opens_every_space_in_one_round_trip_under_a_kilobyte() {
        let mut relay = Relay::new(&[
            (SPACES[0], Ok(SpaceAccess::ReadWrite)),
            (SPACES[1], Ok(SpaceAccess::ReadOnly)),
            (SPACES[2], Ok(SpaceAccess::ReadWrite)),
            (SPACES[3], Ok(SpaceAccess::ReadWrite)),
            (SPACES[4], Ok(SpaceAccess::ReadWrite)),
        ]);
        let mut device = Device::new(&SPACES, &[0; 5]);
        let effects = device.conn.each(T, |e| e.set_online(true, T));
        device.run(effects);
        let (up, up_bytes, down, down_bytes) = exchange(&mut device, &mut relay);
        eprintln!("reconnect: {up} frame of {up_bytes} bytes up, {down} of {down_bytes} down");
        assert_eq!((up, down), (1, 1), "one frame each way");
        assert!(
            up_bytes + down_bytes <= 1024,
            "{up_bytes} + {down_bytes} bytes"
        );
        for engine in device.conn.engines() {
            assert!(engine.is_quiet(), "{:?}", engine.status());
        }
    }

    #[test]
    fn spaces_push_and_pull_in_their_own_channels_and_one_refused_space_leaves_the_others_open() {
        let access = [
            (SPACES[0], Ok(SpaceAccess::ReadWrite)),
            (SPACES[1], Err(ErrorCode::Forbidden)),
            (SPACES[2], Ok(SpaceAccess::ReadWrite)),
        ];
        let mut relay = Relay::new(&access);
        let mut device = Device::new(&SPACES[..3], &[0; 3]);
        let effects = device.conn.each(T, |e| e.set_online(true, T));
        device.run(effects);
        exchange(&mut device, &mut relay);
        assert_eq!(device.signed_out, vec![1], "only the refused space");
        assert_eq!(relay.conn.open_channels(), vec![0, 2]);
        for (channel, n) in [(0u16, 1u64), (2, 2), (2, 3)] {
            let item = OutboxItem {
                id: n,
                upload: customer_upload(n),
                projection: None,
            };
            let effects = device.conn.with(channel, T, |e| e.queued(vec![item], T));
            device.run(effects);
            exchange(&mut device, &mut relay);
        }
        assert_eq!(device.acked, 3);
        assert_eq!(relay.log.all(&SpaceId(SPACES[0].into())).len(), 1);
        assert_eq!(relay.log.all(&SpaceId(SPACES[2].into())).len(), 2);
        assert!(relay.log.all(&SpaceId(SPACES[1].into())).is_empty());
        // A second device of the account pulls each space into its own channel.
        relay.conn = RelayChannels::new(RelayLimits::default(), T);
        let mut other = Device::new(&[SPACES[0], SPACES[2]], &[0, 0]);
        let effects = other.conn.each(T, |e| e.set_online(true, T));
        other.run(effects);
        exchange(&mut other, &mut relay);
        assert_eq!(other.stored, BTreeMap::from([(0, 1), (1, 2)]));
    }

    #[test]
    fn a_relay_before_channels_gets_the_first_space_the_old_way() {
        let mut device = Device::new(&SPACES[..2], &[0, 0]);
        let effects = device.conn.each(T, |e| e.set_online(true, T));
        device.run(effects);
        assert_eq!(device.sent.len(), 1);
        // What a relay of version 4 answers to a message it cannot decode.
        let refusal = encode(&ServerMessage::Error {
            code: ErrorCode::Malformed,
            message: "malformed message: Found an enum discriminant that was not expected".into(),
        });
        device.sent.clear();
        let effects = device.conn.frame(&refusal, T);
        device.run(effects);
        assert!(device.conn.is_legacy());
        assert!(!device.open);
        // Later: the first space alone, with a plain Hello.
        let later = Timestamp(T.0 + 120_000);
        let effects = device.conn.tick(later);
        device.run(effects);
        let hellos: Vec<ClientMessage> = device
            .sent
            .iter()
            .map(|frame| decode(frame).unwrap())
            .collect();
        assert!(
            matches!(&hellos[..], [ClientMessage::Hello { space, .. }] if space.0 == SPACES[0]),
            "{hellos:?}"
        );
    }

    #[test]
    fn a_bad_frame_closes_its_channel_and_a_hello_opens_it_again() {
        let mut relay = Relay::new(&[
            (SPACES[0], Ok(SpaceAccess::ReadWrite)),
            (SPACES[1], Ok(SpaceAccess::ReadWrite)),
        ]);
        let hello = |space: &str| {
            encode(&ClientMessage::Hello {
                supported_versions: SUPPORTED_VERSIONS.to_vec(),
                space: SpaceId(space.into()),
                token: "t".into(),
            })
        };
        let channels = |frames: Vec<(u16, Vec<u8>)>| {
            encode(&ClientMessage::Channels(
                frames
                    .into_iter()
                    .map(|(channel, frame)| ChannelFrame { channel, frame })
                    .collect(),
            ))
        };
        relay.receive(&channels(vec![
            (0, hello(SPACES[0])),
            (1, hello(SPACES[1])),
        ]));
        assert_eq!(relay.conn.open_channels(), vec![0, 1]);
        relay.receive(&channels(vec![(1, vec![0xff, 0xff])]));
        assert_eq!(relay.conn.open_channels(), vec![0]);
        let last: ServerMessage = decode(relay.sent.last().unwrap()).unwrap();
        let ServerMessage::Channels(frames) = last else {
            panic!("{last:?}")
        };
        assert_eq!(frames[0].channel, 1);
        assert!(matches!(
            decode::<ServerMessage>(&frames[0].frame),
            Ok(ServerMessage::Error {
                code: ErrorCode::Malformed,
                ..
            })
        ));
        relay.receive(&channels(vec![(1, hello(SPACES[1]))]));
        assert_eq!(relay.conn.open_channels(), vec![0, 1]);
        assert!(!relay.closed);
        // A channel beyond the limit, or a plain message, ends the connection.
        relay.receive(&channels(vec![(MAX_CHANNELS as u16, hello(SPACES[0]))]));
        assert!(relay.closed);
        let mut relay = Relay::new(&[(SPACES[0], Ok(SpaceAccess::ReadWrite))]);
        relay.receive(&channels(vec![(0, hello(SPACES[0]))]));
        relay.receive(&hello(SPACES[0]));
        assert!(relay.closed);
        assert!(matches!(
            decode::<ServerMessage>(relay.sent.last().unwrap()),
            Ok(ServerMessage::Error {
                code: ErrorCode::UnexpectedMessage,
                ..
            })
        ));
    }

    #[test]
    fn a_plain_hello_is_a_one_space_connection_as_before() {
        let mut relay = Relay::new(&[(SPACES[0], Ok(SpaceAccess::ReadWrite))]);
        relay.receive(&encode(&ClientMessage::Hello {
            supported_versions: vec![4],
            space: SpaceId(SPACES[0].into()),
            token: "t".into(),
        }));
        assert_eq!(
            relay.sent,
            vec![encode(&ServerMessage::Welcome {
                version: 4,
                head: Seq(0)
            })]
        );
        assert!(relay.conn.is_signed_in());
    }

    #[test]
    fn revoking_the_device_refuses_every_channel_then_ends_the_connection() {
        let mut relay = Relay::new(&[
            (SPACES[0], Ok(SpaceAccess::ReadWrite)),
            (SPACES[1], Ok(SpaceAccess::ReadWrite)),
        ]);
        let mut device = Device::new(&SPACES[..2], &[0, 0]);
        let effects = device.conn.each(T, |e| e.set_online(true, T));
        device.run(effects);
        exchange(&mut device, &mut relay);
        let effects = relay
            .conn
            .refuse_all(ErrorCode::Revoked, "signed out elsewhere".into());
        relay.run(effects);
        assert!(relay.closed);
        exchange(&mut device, &mut relay);
        assert_eq!(device.signed_out, vec![0, 1]);
        assert!(!device.open);
    }
}
