//! [`RelaySession`]: the relay's side of one device connection, as a state machine.
//!
//! The relay runtime feeds it frames and the results of the effects it asked for, and
//! carries out the [`SessionEffect`]s it returns: authenticate, store, read, send, wake the
//! space's other sessions, close. It never touches storage itself, so the same session
//! logic runs over SQLite, PostgreSQL and the in-memory log of the simulation.

use super::blob::{self, ValidUpload};
use crate::sync::protocol::{
    decode, deflate_page, negotiate, BlobKind, BootstrapPage, BootstrapPosition, ClientMessage,
    DecodeError, EntryProjection, ErrorCode, LogEntry, ProtocolVersion, Seq, ServerMessage,
    SpaceId, UploadResult, CHANGE_PROJECTIONS_VERSION, ERASE_VERSION, HANDOVER_VERSION,
    MAX_CHANGE_PROJECTION_BYTES, PROJECTIONS_VERSION, SUPPORTED_VERSIONS, TEAMS_VERSION,
};
use crate::sync::team::SpaceAccess;
use crate::Timestamp;

/// Limits a relay enforces on every session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayLimits {
    /// Largest frame accepted (never above [`crate::sync::protocol::MAX_FRAME_BYTES`]).
    pub max_frame_bytes: usize,
    /// Largest blob accepted.
    pub max_blob_bytes: usize,
    /// Most blobs in one push.
    pub max_uploads_per_push: usize,
    /// Most entries in one page.
    pub max_page_entries: u32,
    /// Most blob bytes in one page (a single larger entry is still sent alone).
    pub max_page_bytes: usize,
    /// A session with no frame for this long is closed.
    pub idle_timeout_ms: i64,
    /// A connection that has not signed in (Hello answered) this long after it opened is
    /// closed, whatever it sends meanwhile (pongs, frames).
    pub hello_timeout_ms: i64,
}

impl Default for RelayLimits {
    fn default() -> Self {
        RelayLimits {
            max_frame_bytes: crate::sync::protocol::MAX_FRAME_BYTES,
            max_blob_bytes: 1024 * 1024,
            max_uploads_per_push: 1000,
            max_page_entries: 1000,
            max_page_bytes: 2 * 1024 * 1024,
            idle_timeout_ms: 5 * 60 * 1000,
            hello_timeout_ms: 10 * 1000,
        }
    }
}

/// A device's frame as a message, or the refusal it earns: too large for `limits` (checked
/// before decoding) or not a message. One rule for a session and a connection of channels.
pub(crate) fn decode_frame(
    frame: &[u8],
    limits: &RelayLimits,
) -> Result<ClientMessage, (ErrorCode, String)> {
    let too_large = |size: usize, limit: usize| {
        (
            ErrorCode::TooLarge,
            format!("frame of {size} bytes exceeds the limit of {limit} bytes"),
        )
    };
    if frame.len() > limits.max_frame_bytes {
        return Err(too_large(frame.len(), limits.max_frame_bytes));
    }
    decode::<ClientMessage>(frame).map_err(|err| match err {
        DecodeError::TooLarge { size, limit } => too_large(size, limit),
        err => (ErrorCode::Malformed, err.to_string()),
    })
}

/// Longest error message sent to a device, in characters.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// What the runtime must do for a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEffect {
    /// Check `token` against `space`, then call [`RelaySession::authenticated`] or
    /// [`RelaySession::refused`].
    Authenticate {
        /// The space asked for.
        space: SpaceId,
        /// The device's token.
        token: String,
    },
    /// Send this message to the device.
    Send(ServerMessage),
    /// Store the uploads in this order, idempotently, commit durably, then call
    /// [`RelaySession::committed`] (or [`RelaySession::commit_failed`]: nothing stored).
    Append {
        /// The space (already checked).
        space: SpaceId,
        /// The push's id.
        request_id: u64,
        /// Validated uploads.
        uploads: Vec<ValidUpload>,
    },
    /// Read entries after `since`, then call [`RelaySession::entries`].
    ReadEntries {
        /// The space (already checked).
        space: SpaceId,
        /// The pull's id.
        request_id: u64,
        /// The device's cursor.
        since: Seq,
        /// Page size.
        max_entries: u32,
        /// Page bytes.
        max_bytes: usize,
    },
    /// Read a bootstrap page, then call [`RelaySession::bootstrap_page`].
    ReadBootstrap {
        /// The space (already checked).
        space: SpaceId,
        /// The request's id.
        request_id: u64,
        /// Where to resume.
        position: Option<BootstrapPosition>,
        /// Page size.
        max_entries: u32,
        /// Page bytes.
        max_bytes: usize,
    },
    /// Send [`ServerMessage::Wake`] to the space's other sessions.
    WakeOthers {
        /// The space.
        space: SpaceId,
        /// Its new head.
        head: Seq,
    },
    /// Close the connection after sending what came before.
    Close {
        /// Why, for the logs and the close frame.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitingHello,
    Authenticating {
        version: ProtocolVersion,
    },
    Ready {
        space: SpaceId,
        version: ProtocolVersion,
        access: SpaceAccess,
    },
    Closed,
}

/// One device connection, from the relay's side.
#[derive(Debug)]
pub struct RelaySession {
    state: State,
    limits: RelayLimits,
    last_frame: Timestamp,
    opened: Timestamp,
}

impl RelaySession {
    /// A session for a connection opened at `now`.
    pub fn new(limits: RelayLimits, now: Timestamp) -> RelaySession {
        RelaySession {
            state: State::AwaitingHello,
            limits,
            last_frame: now,
            opened: now,
        }
    }

    /// The space once authenticated.
    pub fn space(&self) -> Option<&SpaceId> {
        match &self.state {
            State::Ready { space, .. } => Some(space),
            _ => None,
        }
    }

    /// Whether the session has ended; the runtime drops the connection.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// When the session times out: for want of frames once signed in; before, a fixed
    /// time after the connection opened.
    pub fn idle_deadline(&self) -> Timestamp {
        match self.state {
            State::Ready { .. } | State::Closed => {
                Timestamp(self.last_frame.0 + self.limits.idle_timeout_ms)
            }
            State::AwaitingHello | State::Authenticating { .. } => {
                Timestamp(self.opened.0 + self.limits.hello_timeout_ms)
            }
        }
    }

    /// Called by the runtime's timer (at [`RelaySession::idle_deadline`] at the latest);
    /// closes an idle session, or one that did not sign in in time.
    pub fn tick(&mut self, now: Timestamp) -> Vec<SessionEffect> {
        if self.state != State::Closed && now >= self.idle_deadline() {
            let reason = match self.state {
                State::Ready { .. } => "idle for too long",
                _ => "no Hello within the time allowed to sign in",
            };
            return self.fail(ErrorCode::UnexpectedMessage, reason.into());
        }
        Vec::new()
    }

    /// The connection showed signs of life (a pong) without a frame. Before sign-in it
    /// does not extend anything: pings must not keep an anonymous socket open.
    pub fn keepalive(&mut self, now: Timestamp) {
        if matches!(self.state, State::Ready { .. }) {
            self.last_frame = now;
        }
    }

    /// A binary frame arrived.
    pub fn frame(&mut self, frame: &[u8], now: Timestamp) -> Vec<SessionEffect> {
        if self.state == State::Closed {
            return Vec::new();
        }
        self.last_frame = now;
        let message = match decode_frame(frame, &self.limits) {
            Ok(message) => message,
            Err((code, message)) => return self.fail(code, message),
        };
        match (&self.state, message) {
            (
                State::AwaitingHello,
                ClientMessage::Hello {
                    supported_versions,
                    space,
                    token,
                },
            ) => match negotiate(&supported_versions, SUPPORTED_VERSIONS) {
                Some(version) => {
                    self.state = State::Authenticating { version };
                    vec![SessionEffect::Authenticate { space, token }]
                }
                None => self.fail(
                    ErrorCode::UnsupportedVersion,
                    format!(
                        "no common protocol version: the device speaks {supported_versions:?}, \
                         the relay {SUPPORTED_VERSIONS:?}; update the app"
                    ),
                ),
            },
            (
                State::Ready {
                    space,
                    access: SpaceAccess::ReadWrite,
                    ..
                },
                ClientMessage::Push {
                    request_id,
                    uploads,
                },
            ) => {
                let space = space.clone();
                self.push(space, request_id, uploads, Vec::new())
            }
            (
                State::Ready {
                    space,
                    access: SpaceAccess::ReadWrite,
                    version,
                },
                ClientMessage::ProjectedPush {
                    request_id,
                    uploads,
                    projections,
                },
            ) if *version >= CHANGE_PROJECTIONS_VERSION => {
                let space = space.clone();
                self.push(space, request_id, uploads, projections)
            }
            (State::Ready { version, .. }, ClientMessage::ProjectedPush { .. })
                if *version < CHANGE_PROJECTIONS_VERSION =>
            {
                self.fail(
                    ErrorCode::UnexpectedMessage,
                    format!("a push with projections needs protocol version {CHANGE_PROJECTIONS_VERSION}"),
                )
            }
            (
                State::Ready {
                    access: SpaceAccess::ReadOnly,
                    ..
                },
                ClientMessage::Push { request_id, .. }
                | ClientMessage::ProjectedPush { request_id, .. },
            ) => self.push_refused(
                request_id,
                0,
                ErrorCode::ReadOnly,
                "this device's account may read this space but not change it \
                 (ask a team admin for another role); the changes stay on the device"
                    .into(),
            ),
            (
                State::Ready { space, .. },
                ClientMessage::Pull {
                    request_id,
                    since,
                    max_entries,
                },
            ) => vec![SessionEffect::ReadEntries {
                space: space.clone(),
                request_id,
                since,
                max_entries: max_entries.clamp(1, self.limits.max_page_entries),
                max_bytes: self.limits.max_page_bytes,
            }],
            (
                State::Ready { space, .. },
                ClientMessage::Bootstrap {
                    request_id,
                    position,
                    max_entries,
                },
            ) => vec![SessionEffect::ReadBootstrap {
                space: space.clone(),
                request_id,
                position,
                max_entries: max_entries.clamp(1, self.limits.max_page_entries),
                max_bytes: self.limits.max_page_bytes,
            }],
            (State::Ready { .. }, ClientMessage::Hello { .. }) => {
                self.fail(ErrorCode::UnexpectedMessage, "hello sent twice".into())
            }
            (_, _) => self.fail(
                ErrorCode::UnexpectedMessage,
                "the session starts with hello and waits for welcome".into(),
            ),
        }
    }

    fn push(
        &mut self,
        space: SpaceId,
        request_id: u64,
        uploads: Vec<crate::sync::protocol::Upload>,
        projections: Vec<Option<EntryProjection>>,
    ) -> Vec<SessionEffect> {
        let reject = |index: usize, code: ErrorCode, message: String| {
            vec![SessionEffect::Send(ServerMessage::Rejected {
                request_id,
                index: index as u32,
                code,
                message,
            })]
        };
        if uploads.is_empty() {
            return reject(
                0,
                ErrorCode::Malformed,
                "a push needs at least one blob".into(),
            );
        }
        if uploads.len() > self.limits.max_uploads_per_push {
            return reject(
                self.limits.max_uploads_per_push,
                ErrorCode::TooLarge,
                format!(
                    "a push may hold at most {} blobs, this one has {}",
                    self.limits.max_uploads_per_push,
                    uploads.len()
                ),
            );
        }
        if !projections.is_empty() && projections.len() != uploads.len() {
            return reject(
                0,
                ErrorCode::Malformed,
                format!(
                    "a push with projections needs one per blob: {} blobs, {} projections",
                    uploads.len(),
                    projections.len()
                ),
            );
        }
        let mut projections = projections.into_iter();
        let mut valid = Vec::with_capacity(uploads.len());
        for (index, upload) in uploads.into_iter().enumerate() {
            let projection = projections.next().flatten();
            if let Some(projection) = &projection {
                if upload.kind != BlobKind::Change {
                    return reject(
                        index,
                        ErrorCode::Malformed,
                        "only a change may carry a projection".into(),
                    );
                }
                if projection.0.len() > MAX_CHANGE_PROJECTION_BYTES {
                    return reject(
                        index,
                        ErrorCode::TooLarge,
                        format!(
                            "a change's projection of {} bytes exceeds the limit of \
                             {MAX_CHANGE_PROJECTION_BYTES} bytes",
                            projection.0.len()
                        ),
                    );
                }
            }
            if upload.kind == BlobKind::Erased && !self.knows_erasures() {
                return reject(
                    index,
                    ErrorCode::UnsupportedVersion,
                    format!("erasing needs protocol version {ERASE_VERSION}"),
                );
            }
            if upload.kind == BlobKind::Moved {
                return reject(
                    index,
                    ErrorCode::InvalidBlob,
                    "only the relay moves a customer to another territory".into(),
                );
            }
            match blob::validate(upload, self.limits.max_blob_bytes) {
                Ok(mut upload) => {
                    // Opaque to the relay: stored and sent on as the device made it.
                    if projection.is_some() {
                        upload.projection = projection.map(|projection| projection.0);
                    }
                    valid.push(upload)
                }
                Err(err) => return reject(index, err.code, err.message),
            }
        }
        vec![SessionEffect::Append {
            space,
            request_id,
            uploads: valid,
        }]
    }

    /// The token is valid for the space, whose head is `head`, with `access`.
    pub fn authenticated(
        &mut self,
        space: SpaceId,
        head: Seq,
        access: SpaceAccess,
    ) -> Vec<SessionEffect> {
        let State::Authenticating { version } = self.state else {
            return Vec::new();
        };
        self.state = State::Ready {
            space,
            version,
            access,
        };
        vec![SessionEffect::Send(ServerMessage::Welcome {
            version,
            head,
        })]
    }

    /// The token is not valid for the space (`Unauthorized`, `Revoked` or `Forbidden`), the
    /// device was revoked while connected, or its team access changed (`AccessChanged`).
    pub fn refused(&mut self, code: ErrorCode, message: String) -> Vec<SessionEffect> {
        if self.state == State::Closed {
            return Vec::new();
        }
        let code = match code {
            ErrorCode::AccessChanged if !self.knows_teams() => ErrorCode::Internal,
            code => code,
        };
        self.fail(code, message)
    }

    /// The push `request_id` is durably stored.
    pub fn committed(
        &mut self,
        request_id: u64,
        results: Vec<UploadResult>,
        head: Seq,
    ) -> Vec<SessionEffect> {
        let Some(space) = self.space().cloned() else {
            return Vec::new();
        };
        let stored_new = results.iter().any(|result| !result.duplicate);
        let mut effects = vec![SessionEffect::Send(ServerMessage::Acked {
            request_id,
            results,
            head,
        })];
        if stored_new {
            effects.push(SessionEffect::WakeOthers { space, head });
        }
        effects
    }

    /// Storing the push failed; nothing of it was stored.
    pub fn commit_failed(&mut self, request_id: u64, message: String) -> Vec<SessionEffect> {
        self.push_refused(request_id, 0, ErrorCode::Internal, message)
    }

    /// The push `request_id` was refused as a whole with `code` (e.g.
    /// [`ErrorCode::QuotaExceeded`]), naming its upload at `index`; nothing of it was
    /// stored. A device of a version before erasures is told a change to an erased
    /// document is invalid (it refuses that change and tells the rep).
    pub fn push_refused(
        &mut self,
        request_id: u64,
        index: u32,
        code: ErrorCode,
        message: String,
    ) -> Vec<SessionEffect> {
        let code = match code {
            ErrorCode::Erased if !self.knows_erasures() => ErrorCode::InvalidBlob,
            ErrorCode::ReadOnly if !self.knows_teams() => ErrorCode::Forbidden,
            code => code,
        };
        vec![SessionEffect::Send(ServerMessage::Rejected {
            request_id,
            index,
            code,
            message,
        })]
    }

    /// Whether the device speaks a version that knows team spaces' error codes.
    fn knows_teams(&self) -> bool {
        matches!(self.state, State::Ready { version, .. } if version >= TEAMS_VERSION)
    }

    /// Whether the device speaks a version that knows erased documents.
    fn knows_erasures(&self) -> bool {
        matches!(self.state, State::Ready { version, .. } if version >= ERASE_VERSION)
    }

    /// A device of a version before erasures (or moves) cannot read an erased (or moved)
    /// entry: it is told to update instead of being sent something it would take for
    /// damage.
    fn erasures_unreadable(&mut self, entries: &[LogEntry]) -> Option<Vec<SessionEffect>> {
        let erased = entries.iter().any(|entry| entry.kind == BlobKind::Erased);
        let moved = entries.iter().any(|entry| entry.kind == BlobKind::Moved);
        let version = match self.state {
            State::Ready { version, .. } => version,
            _ => 0,
        };
        let unreadable = match (
            erased && version < ERASE_VERSION,
            moved && version < HANDOVER_VERSION,
        ) {
            (true, _) => "erased customers",
            (false, true) => "customers moved to another territory",
            (false, false) => return None,
        };
        Some(self.fail(
            ErrorCode::UnsupportedVersion,
            format!(
                "this book has {unreadable}, which this version of the app cannot read: \
                 reload the app to update it"
            ),
        ))
    }

    /// A page of entries was read for the pull `request_id`.
    ///
    /// `projections`: one per entry as stored (or none); sent only to a device of version
    /// [`CHANGE_PROJECTIONS_VERSION`] on, and only the changes' (a snapshot's is for
    /// bootstraps).
    pub fn entries(
        &mut self,
        request_id: u64,
        entries: Vec<LogEntry>,
        projections: Vec<Option<EntryProjection>>,
        head: Seq,
    ) -> Vec<SessionEffect> {
        if self.space().is_none() {
            return Vec::new();
        }
        if let Some(refusal) = self.erasures_unreadable(&entries) {
            return refusal;
        }
        let projected = matches!(
            self.state,
            State::Ready { version, .. } if version >= CHANGE_PROJECTIONS_VERSION
        );
        let mut projections: Vec<Option<EntryProjection>> = if projected {
            (entries.iter())
                .zip(projections.into_iter().chain(std::iter::repeat(None)))
                .map(|(entry, projection)| projection.filter(|_| entry.kind == BlobKind::Change))
                .collect()
        } else {
            Vec::new()
        };
        // A device lists a document from the projection of its last change in the page
        // only: the earlier ones' are left out.
        let mut later = std::collections::HashSet::new();
        for (entry, projection) in entries.iter().zip(projections.iter_mut()).rev() {
            if !later.insert(&entry.document) {
                *projection = None;
            }
        }
        if projections.iter().any(Option::is_some) {
            return vec![SessionEffect::Send(ServerMessage::ProjectedEntries {
                request_id,
                entries,
                projections,
                head,
            })];
        }
        vec![SessionEffect::Send(ServerMessage::Entries {
            request_id,
            entries,
            head,
        })]
    }

    /// A bootstrap page was read for `request_id`.
    pub fn bootstrap_page(&mut self, request_id: u64, page: BootstrapPage) -> Vec<SessionEffect> {
        if self.space().is_none() {
            return Vec::new();
        }
        if let Some(refusal) = self.erasures_unreadable(&page.entries) {
            return refusal;
        }
        let projected =
            matches!(self.state, State::Ready { version, .. } if version >= PROJECTIONS_VERSION);
        // A bootstrap lists a customer from its snapshot's projection only: a change's
        // (version 7) would add bytes no bootstrapping device reads.
        let mut page = page;
        for (entry, projection) in page.entries.iter().zip(page.projections.iter_mut()) {
            if entry.kind == BlobKind::Change {
                *projection = None;
            }
        }
        let message = if projected {
            ServerMessage::CompressedBootstrapPage {
                request_id,
                deflated: deflate_page(&page),
            }
        } else {
            ServerMessage::BootstrapPage {
                request_id,
                entries: page.entries,
                next: page.next,
                through: page.through,
                total_documents: page.total_documents,
            }
        };
        vec![SessionEffect::Send(message)]
    }

    /// Reading failed.
    pub fn read_failed(&mut self, message: String) -> Vec<SessionEffect> {
        self.fail(ErrorCode::Internal, message)
    }

    /// Another session of the space committed up to `head`.
    pub fn woken(&mut self, head: Seq) -> Vec<SessionEffect> {
        if self.space().is_none() {
            return Vec::new();
        }
        vec![SessionEffect::Send(ServerMessage::Wake { head })]
    }

    fn fail(&mut self, code: ErrorCode, message: String) -> Vec<SessionEffect> {
        self.state = State::Closed;
        // Messages may quote what the device sent (its versions, ids): never echo more
        // than a short excerpt back.
        let message = match message.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
            Some((end, _)) => format!("{}…", &message[..end]),
            None => message,
        };
        vec![
            SessionEffect::Send(ServerMessage::Error {
                code,
                message: message.clone(),
            }),
            SessionEffect::Close { reason: message },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::{encode, inflate_page, EntryProjection};

    /// A session that said hello with `versions` and was let in.
    fn ready(versions: &[ProtocolVersion]) -> RelaySession {
        ready_with(versions, SpaceAccess::ReadWrite)
    }

    /// A session that said hello with `versions` and was let in with `access`.
    fn ready_with(versions: &[ProtocolVersion], access: SpaceAccess) -> RelaySession {
        let mut session = RelaySession::new(RelayLimits::default(), Timestamp(0));
        let hello = encode(&ClientMessage::Hello {
            supported_versions: versions.to_vec(),
            space: SpaceId("s".into()),
            token: "t".into(),
        });
        session.frame(&hello, Timestamp(0));
        session.authenticated(SpaceId("s".into()), Seq(0), access);
        session
    }

    #[test]
    fn a_read_only_session_pulls_but_every_push_is_refused_with_nothing_stored() {
        let push = encode(&ClientMessage::Push {
            request_id: 7,
            uploads: vec![crate::sync::protocol::Upload {
                document: crate::sync::protocol::DocumentId("c".into()),
                kind: BlobKind::Change,
                bytes: vec![1, 2, 3],
            }],
        });
        for (versions, expected) in [
            (&[1, 2, 3, 4][..], ErrorCode::ReadOnly),
            (&[1, 2, 3][..], ErrorCode::Forbidden),
        ] {
            let mut session = ready_with(versions, SpaceAccess::ReadOnly);
            let effects = session.frame(&push, Timestamp(1));
            let [SessionEffect::Send(ServerMessage::Rejected {
                request_id: 7,
                index: 0,
                code,
                ..
            })] = &effects[..]
            else {
                panic!("{effects:?}")
            };
            assert_eq!(*code, expected);
            // Still connected: it keeps pulling what the team writes.
            let pull = encode(&ClientMessage::Pull {
                request_id: 8,
                since: Seq(0),
                max_entries: 10,
            });
            assert!(matches!(
                &session.frame(&pull, Timestamp(2))[..],
                [SessionEffect::ReadEntries { request_id: 8, .. }]
            ));
        }
        // The same push from a session that may write is stored.
        let mut session = ready_with(&[1, 2, 3, 4], SpaceAccess::ReadWrite);
        let effects = session.frame(&push, Timestamp(1));
        assert!(
            !effects.iter().any(|effect| matches!(
                effect,
                SessionEffect::Send(ServerMessage::Rejected {
                    code: ErrorCode::ReadOnly | ErrorCode::Forbidden,
                    ..
                })
            )),
            "{effects:?}"
        );
    }

    fn page() -> BootstrapPage {
        BootstrapPage {
            entries: Vec::new(),
            projections: vec![Some(EntryProjection(vec![1]))],
            next: None,
            through: Seq(1),
            total_documents: 1,
        }
    }

    #[test]
    fn an_error_quotes_at_most_a_short_excerpt_of_what_the_device_sent() {
        let mut session = RelaySession::new(RelayLimits::default(), Timestamp(0));
        let hello = encode(&ClientMessage::Hello {
            supported_versions: vec![9999; 100_000],
            space: SpaceId("s".into()),
            token: "t".into(),
        });
        let effects = session.frame(&hello, Timestamp(0));
        let [SessionEffect::Send(ServerMessage::Error { code, message }), SessionEffect::Close { .. }] =
            &effects[..]
        else {
            panic!("{effects:?}")
        };
        assert_eq!(*code, ErrorCode::UnsupportedVersion);
        assert!(
            message.chars().count() <= MAX_ERROR_MESSAGE_CHARS + 1,
            "{}",
            message.len()
        );
    }

    #[test]
    fn a_connection_that_does_not_sign_in_in_time_is_closed_whatever_it_sends() {
        let limits = RelayLimits::default();
        let mut session = RelaySession::new(limits, Timestamp(0));
        // Pongs and garbage-free silence do not extend the time to sign in.
        session.keepalive(Timestamp(limits.hello_timeout_ms - 1));
        assert_eq!(session.idle_deadline(), Timestamp(limits.hello_timeout_ms));
        assert!(session
            .tick(Timestamp(limits.hello_timeout_ms - 1))
            .is_empty());
        let effects = session.tick(Timestamp(limits.hello_timeout_ms));
        assert!(
            matches!(&effects[..], [SessionEffect::Send(ServerMessage::Error { code: ErrorCode::UnexpectedMessage, message }), SessionEffect::Close { .. }] if message.contains("Hello")),
            "{effects:?}"
        );
        assert!(session.is_closed());

        // Signed in: the idle timeout applies, and pongs extend it.
        let mut session = ready(SUPPORTED_VERSIONS);
        session.keepalive(Timestamp(60_000));
        assert_eq!(
            session.idle_deadline(),
            Timestamp(60_000 + limits.idle_timeout_ms)
        );
        assert!(session.tick(Timestamp(limits.idle_timeout_ms)).is_empty());
    }

    #[test]
    fn erasures_go_only_to_and_from_devices_that_speak_version_3() {
        let erasure = LogEntry {
            seq: Seq(4),
            document: crate::sync::protocol::DocumentId("c1".into()),
            kind: BlobKind::Erased,
            bytes: Vec::new(),
        };
        // Version 3 reads it; version 2 is told to update, and the session ends.
        let effects =
            ready(SUPPORTED_VERSIONS).entries(1, vec![erasure.clone()], Vec::new(), Seq(4));
        assert!(matches!(
            &effects[..],
            [SessionEffect::Send(ServerMessage::Entries { .. })]
        ));
        let effects = ready(&[1, 2]).entries(1, vec![erasure.clone()], Vec::new(), Seq(4));
        assert!(
            matches!(
                &effects[..],
                [
                    SessionEffect::Send(ServerMessage::Error {
                        code: ErrorCode::UnsupportedVersion,
                        ..
                    }),
                    SessionEffect::Close { .. }
                ]
            ),
            "{effects:?}"
        );
        // Version 2 cannot erase, and is refused an erased document's code it cannot read.
        let push = encode(&ClientMessage::Push {
            request_id: 5,
            uploads: vec![crate::sync::protocol::Upload {
                document: erasure.document.clone(),
                kind: BlobKind::Erased,
                bytes: Vec::new(),
            }],
        });
        let mut old = ready(&[1, 2]);
        assert!(matches!(
            &old.frame(&push, Timestamp(1))[..],
            [SessionEffect::Send(ServerMessage::Rejected {
                code: ErrorCode::UnsupportedVersion,
                ..
            })]
        ));
        assert!(matches!(
            &old.push_refused(5, 0, ErrorCode::Erased, "erased".into())[..],
            [SessionEffect::Send(ServerMessage::Rejected {
                code: ErrorCode::InvalidBlob,
                ..
            })]
        ));
        assert!(matches!(
            &ready(SUPPORTED_VERSIONS).frame(&push, Timestamp(1))[..],
            [SessionEffect::Append { .. }]
        ));
    }

    #[test]
    fn projections_go_only_to_devices_that_speak_version_2() {
        let sent = |session: &mut RelaySession| match session.bootstrap_page(7, page()).pop() {
            Some(SessionEffect::Send(message)) => message,
            other => panic!("expected a message, got {other:?}"),
        };
        assert!(matches!(
            sent(&mut ready(&[1])),
            ServerMessage::BootstrapPage { request_id: 7, .. }
        ));
        assert!(matches!(
            sent(&mut ready(&[1, 2])),
            ServerMessage::CompressedBootstrapPage { request_id: 7, ref deflated }
                if inflate_page(deflated).is_ok_and(|page| page == self::tests::page())
        ));
    }

    /// A real Automerge change of a document, as a device pushes it.
    fn a_change() -> Vec<u8> {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "name", "Ada").expect("put");
        doc.commit();
        doc.get_last_local_change()
            .expect("a change")
            .raw_bytes()
            .to_vec()
    }

    fn projected_push(kind: BlobKind, projection: Vec<u8>) -> Vec<u8> {
        encode(&ClientMessage::ProjectedPush {
            request_id: 3,
            uploads: vec![crate::sync::protocol::Upload {
                document: crate::sync::protocol::DocumentId("c1".into()),
                kind,
                bytes: a_change(),
            }],
            projections: vec![Some(EntryProjection(projection))],
        })
    }

    #[test]
    fn a_change_keeps_the_projection_it_was_pushed_with_and_only_version_7_may_send_one() {
        let effects = ready(SUPPORTED_VERSIONS).frame(
            &projected_push(BlobKind::Change, vec![1, 2, 3]),
            Timestamp(1),
        );
        match &effects[..] {
            [SessionEffect::Append { uploads, .. }] => {
                assert_eq!(uploads[0].projection.as_deref(), Some(&[1u8, 2, 3][..]))
            }
            other => panic!("expected an append, got {other:?}"),
        }
        // Larger than the limit, or on a snapshot: refused, nothing stored.
        let effects = ready(SUPPORTED_VERSIONS).frame(
            &projected_push(BlobKind::Change, vec![0; MAX_CHANGE_PROJECTION_BYTES + 1]),
            Timestamp(1),
        );
        assert!(
            matches!(
                &effects[..],
                [SessionEffect::Send(ServerMessage::Rejected {
                    code: ErrorCode::TooLarge,
                    ..
                })]
            ),
            "{effects:?}"
        );
        let effects = ready(SUPPORTED_VERSIONS).frame(
            &projected_push(BlobKind::Snapshot { covers: Seq(0) }, vec![1]),
            Timestamp(1),
        );
        assert!(matches!(
            &effects[..],
            [SessionEffect::Send(ServerMessage::Rejected {
                code: ErrorCode::Malformed,
                ..
            })]
        ));
        // A device of version 6 cannot send one.
        let effects = ready(&[6]).frame(&projected_push(BlobKind::Change, vec![1]), Timestamp(1));
        assert!(
            matches!(
                &effects[..],
                [
                    SessionEffect::Send(ServerMessage::Error {
                        code: ErrorCode::UnexpectedMessage,
                        ..
                    }),
                    SessionEffect::Close { .. }
                ]
            ),
            "{effects:?}"
        );
    }

    #[test]
    fn a_pull_carries_changes_projections_to_version_7_only_and_a_bootstrap_never() {
        let entry = |seq: u64, kind: BlobKind| LogEntry {
            seq: Seq(seq),
            document: crate::sync::protocol::DocumentId("c1".into()),
            kind,
            bytes: vec![1],
        };
        let entries = vec![
            entry(1, BlobKind::Snapshot { covers: Seq(0) }),
            entry(2, BlobKind::Change),
        ];
        let projections = vec![
            Some(EntryProjection(vec![1])),
            Some(EntryProjection(vec![2])),
        ];
        let effects =
            ready(SUPPORTED_VERSIONS).entries(1, entries.clone(), projections.clone(), Seq(2));
        match &effects[..] {
            [SessionEffect::Send(ServerMessage::ProjectedEntries { projections, .. })] => {
                // The snapshot's projection is for bootstraps.
                assert_eq!(projections, &vec![None, Some(EntryProjection(vec![2]))]);
            }
            other => panic!("expected projected entries, got {other:?}"),
        }
        // Two changes of one document: only the last one's goes.
        let two = vec![entry(3, BlobKind::Change), entry(4, BlobKind::Change)];
        let effects = ready(SUPPORTED_VERSIONS).entries(
            1,
            two,
            vec![
                Some(EntryProjection(vec![3])),
                Some(EntryProjection(vec![4])),
            ],
            Seq(4),
        );
        assert!(matches!(
            &effects[..],
            [SessionEffect::Send(ServerMessage::ProjectedEntries { projections, .. })]
                if projections == &vec![None, Some(EntryProjection(vec![4]))]
        ));
        let effects = ready(&[6]).entries(1, entries.clone(), projections.clone(), Seq(2));
        assert!(matches!(
            &effects[..],
            [SessionEffect::Send(ServerMessage::Entries { .. })]
        ));
        // Nothing to carry: plain entries, even at version 7.
        let effects =
            ready(SUPPORTED_VERSIONS).entries(1, entries.clone(), vec![None, None], Seq(2));
        assert!(matches!(
            &effects[..],
            [SessionEffect::Send(ServerMessage::Entries { .. })]
        ));
        let page = BootstrapPage {
            entries,
            projections,
            next: None,
            through: Seq(2),
            total_documents: 1,
        };
        match ready(SUPPORTED_VERSIONS).bootstrap_page(4, page).pop() {
            Some(SessionEffect::Send(ServerMessage::CompressedBootstrapPage {
                deflated, ..
            })) => {
                let page = inflate_page(&deflated).expect("a page");
                assert_eq!(page.projections, vec![Some(EntryProjection(vec![1])), None]);
            }
            other => panic!("expected a page, got {other:?}"),
        }
    }
}
