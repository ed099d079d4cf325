//! The wire protocol between a device and the relay: versioned messages in a compact binary
//! encoding (postcard), one message per WebSocket binary frame.
//!
//! # Flow
//!
//! 1. The device opens the socket and sends [`ClientMessage::Hello`] with every protocol
//!    version it speaks, the space it wants and its device token.
//! 2. The relay picks the highest common version ([`negotiate`]), checks the token against
//!    the space and answers [`ServerMessage::Welcome`] with the space's latest sequence
//!    number. A device whose cursor equals that number has nothing to pull: a reconnect with
//!    nothing new is this one round trip of a few dozen bytes, whatever the number of
//!    documents.
//! 3. The device pulls what it lacks ([`ClientMessage::Pull`] → [`ServerMessage::Entries`],
//!    in pages) and pushes its own changes ([`ClientMessage::Push`] →
//!    [`ServerMessage::Acked`], sent only after the relay's durable commit). A device with
//!    nothing yet bootstraps instead ([`ClientMessage::Bootstrap`] →
//!    [`ServerMessage::BootstrapPage`]): the latest snapshot of every document, then the log
//!    entries those snapshots do not cover ([`bootstrap_skips`]).
//! 4. After each commit the relay sends [`ServerMessage::Wake`] to the space's other
//!    connected devices, a hint that they should pull.
//!
//! Every request carries a `request_id` that its answer echoes, so a late, duplicated or
//! unexpected answer is recognised and ignored.
//!
//! Serialization boundary: only this module derives serde. Variants are only ever added at
//! the end of an enum; [`ClientMessage::Hello`] and [`ServerMessage::Welcome`] /
//! [`ServerMessage::Error`] keep their positions in every version so any two versions can
//! at least negotiate or refuse cleanly.

use serde::{Deserialize, Serialize};

/// A protocol version number.
pub type ProtocolVersion = u16;

/// Every version this build speaks, oldest first.
///
/// - 1: the first.
/// - 2: bootstrap pages carry what the relay derived from each customer snapshot, deflated
///   ([`ServerMessage::CompressedBootstrapPage`]).
/// - 3: a document can be erased ([`BlobKind::Erased`]): its entries are emptied in the
///   log and devices forget it.
/// - 4: team spaces (`crate::sync::team`): a push to a space the device may only read is
///   refused with [`ErrorCode::ReadOnly`]; a session whose team access changed ends with
///   [`ErrorCode::AccessChanged`].
/// - 5: several spaces over one connection ([`ClientMessage::Channels`],
///   [`ServerMessage::Channels`]): each space is a channel carrying the frames of its own
///   session, so a device in a personal book and a team's spaces reconnects in one round
///   trip.
/// - 6: a team's customer can move to another territory ([`BlobKind::Moved`]): devices of
///   the territory it left forget it, and a change pushed to it there afterwards is
///   forwarded by the relay to where it went (`crate::sync::handover`).
/// - 7: a change can carry its projection — the customer's summary and facts right after
///   it, as the device that made it computed them ([`ClientMessage::ProjectedPush`]) — and
///   a pull's page carries them ([`ServerMessage::ProjectedEntries`]): a device that holds
///   exactly the state the change was made on lists it without loading the document.
pub const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[1, 2, 3, 4, 5, 6, 7];

/// The first version whose bootstrap pages carry projections.
pub const PROJECTIONS_VERSION: ProtocolVersion = 2;

/// The first version that knows erased documents ([`BlobKind::Erased`]).
pub const ERASE_VERSION: ProtocolVersion = 3;

/// The first version that knows team spaces' error codes ([`ErrorCode::ReadOnly`],
/// [`ErrorCode::AccessChanged`]).
pub const TEAMS_VERSION: ProtocolVersion = 4;

/// The first version that carries several spaces over one connection
/// ([`ClientMessage::Channels`]).
pub const CHANNELS_VERSION: ProtocolVersion = 5;

/// The first version that knows moved documents ([`BlobKind::Moved`]).
pub const HANDOVER_VERSION: ProtocolVersion = 6;

/// The first version whose changes carry projections ([`ClientMessage::ProjectedPush`],
/// [`ServerMessage::ProjectedEntries`]).
pub const CHANGE_PROJECTIONS_VERSION: ProtocolVersion = 7;

/// The largest projection a change may carry ([`ClientMessage::ProjectedPush`]): a
/// customer's summary and facts are a few hundred bytes; one with a long history of dated
/// records may be larger, and its changes then go without one (devices load the document).
pub const MAX_CHANGE_PROJECTION_BYTES: usize = 4 * 1024;

/// Most channels (spaces) one connection may open.
pub const MAX_CHANNELS: usize = 64;

/// One frame of one space's session inside a [`ClientMessage::Channels`] or
/// [`ServerMessage::Channels`] message: `frame` is that session's message, encoded as it
/// would be alone on a connection (a [`ClientMessage`] from the device, a
/// [`ServerMessage`] from the relay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelFrame {
    /// The channel, chosen by the device (below [`MAX_CHANNELS`]); a `Hello` on it opens
    /// (or opens again) the session of the space that Hello names.
    pub channel: u16,
    /// The session's encoded message.
    #[serde(with = "serde_bytes_compat")]
    pub frame: Vec<u8>,
}

/// The largest frame either side accepts; larger frames are refused before decoding.
pub const MAX_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// A position in a space's append-only log, assigned by the relay, gap-free from 1.
/// `Seq(0)` means "nothing yet".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Seq(pub u64);

/// The document a log entry belongs to (a customer today; catalogs and settings later).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocumentId(pub String);

/// A space: the unit of sharing, with its own log (a rep's book).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SpaceId(pub String);

/// Whether a blob is one Automerge change or a whole-document snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlobKind {
    /// One Automerge change (`Change::raw_bytes`).
    Change,
    /// A compacted document (`Automerge::save`), used to bootstrap new devices.
    Snapshot {
        /// The uploading device's cursor when it saved the snapshot: the snapshot contains
        /// every entry of this document up to here, so a new device given this snapshot
        /// can skip them.
        covers: Seq,
    },
    /// The document is erased (version 3 on). Uploaded (with no bytes) to erase a document:
    /// the relay empties every earlier entry of the document — each becomes an `Erased`
    /// entry without bytes, at its position, so the log stays gap-free — and refuses any
    /// later change to it ([`ErrorCode::Erased`]). A device that reads one forgets the
    /// document.
    Erased,
    /// The document left this space (version 6 on): a manager moved the customer to
    /// another territory of the team (`crate::sync::handover`). Written only by the relay;
    /// a device that uploads one is refused. The move's own entry carries the heads of the
    /// document as the relay handed it over (32 bytes per head, see
    /// [`crate::sync::handover::decode_heads`]); a device that reads it forgets the
    /// document, and its changes the heads do not cover are the ones that went with it.
    /// Every change a device pushes to the document here afterwards is forwarded to the
    /// territory it went to and stands here as a `Moved` entry without bytes (its
    /// position, for the pushing device's acknowledgement). A change or snapshot of the
    /// document after a `Moved` entry means it came back.
    Moved,
}

/// The fields of an encoded [`Upload`] before its bytes: which document and what kind.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadHead {
    /// The document it belongs to.
    pub document: DocumentId,
    /// Change or snapshot.
    pub kind: BlobKind,
}

impl UploadHead {
    /// How many bytes of an encoded upload hold its head, unless its document id is
    /// unusually long ([`UploadHead::decode`] then asks for the whole upload).
    pub const PREFIX: usize = 256;

    /// The head of an encoded upload, from its first bytes (`encode(&upload)`, cut anywhere
    /// after the head): a reader that only asks which documents have unsent changes need
    /// not copy their payloads. `None` if `prefix` ends inside the head or is no upload.
    pub fn decode(prefix: &[u8]) -> Option<UploadHead> {
        postcard::take_from_bytes::<UploadHead>(prefix)
            .ok()
            .map(|(head, _)| head)
    }
}

/// A blob a device uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The document it belongs to.
    pub document: DocumentId,
    /// Change or snapshot.
    pub kind: BlobKind,
    /// The Automerge bytes; opaque to the relay beyond validation.
    #[serde(with = "serde_bytes_compat")]
    pub bytes: Vec<u8>,
}

/// One entry of a space's log, as the relay sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its position in the log.
    pub seq: Seq,
    /// The document it belongs to.
    pub document: DocumentId,
    /// Change or snapshot.
    pub kind: BlobKind,
    /// The Automerge bytes.
    #[serde(with = "serde_bytes_compat")]
    pub bytes: Vec<u8>,
}

/// What the relay derived from a customer document's snapshot when it stored it: the
/// customer's summary and dashboard facts (`crate::model::snapshot::encode_projection`,
/// tagged with the format of the build that wrote them). A bootstrapping device of the same
/// format lists the customer from it and stores the snapshot without loading the document;
/// any other device ignores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryProjection(#[serde(with = "serde_bytes_compat")] pub Vec<u8>);

/// The relay's answer to one uploaded blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResult {
    /// Where the blob is in the log (its earlier position if it was already there).
    pub seq: Seq,
    /// Whether the same blob was already stored (pushes are idempotent).
    pub duplicate: bool,
}

/// Where an interrupted bootstrap resumes; opaque to the device, which echoes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapPosition {
    /// The log position the bootstrap brings the device to; fixed when it starts.
    pub through: Seq,
    /// How many documents the space held when the bootstrap started (for progress).
    pub total_documents: u64,
    /// What the next page holds.
    pub phase: BootstrapPhase,
}

/// The two phases of a bootstrap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootstrapPhase {
    /// Latest snapshots, by document id, after this one (`None`: from the first).
    Snapshots {
        /// The last document already sent.
        after: Option<DocumentId>,
    },
    /// Log entries the snapshots do not cover, after this sequence number.
    Tail {
        /// The last entry already sent.
        after: Seq,
    },
}

/// Why the relay refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// No protocol version in common.
    UnsupportedVersion,
    /// The frame is not a message of the negotiated version.
    Malformed,
    /// The frame or a blob exceeds a limit.
    TooLarge,
    /// A blob is not a valid Automerge change or snapshot.
    InvalidBlob,
    /// The token is missing or wrong.
    Unauthorized,
    /// The device was signed out from another device; it must forget the space.
    Revoked,
    /// The device may not touch this space.
    Forbidden,
    /// The message arrived out of order (e.g. before `Hello`).
    UnexpectedMessage,
    /// The relay failed; nothing was stored.
    Internal,
    /// The space's storage quota would be exceeded; nothing of the push was stored. The
    /// device keeps its changes and tries again later.
    QuotaExceeded,
    /// The upload (at the refusal's index) is a change to a document erased in this space
    /// (version 3 on); nothing of the push was stored. The device forgets the document.
    Erased,
    /// The device may read this space but not write to it (version 4 on: a team's viewer,
    /// or a rep in the team's shared space); nothing of the push was stored. The device
    /// keeps its changes and shows them as not accepted (older versions are told
    /// [`ErrorCode::Forbidden`]).
    ReadOnly,
    /// The account's role, territories or membership in the space's team changed while
    /// connected (version 4 on): the session ends and the device reconnects under the new
    /// rules (older versions are told [`ErrorCode::Internal`], which they retry too).
    AccessChanged,
}

/// What a device sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMessage {
    /// Opens the session with every version the device speaks. Always variant 0.
    Hello {
        /// Versions the device speaks.
        supported_versions: Vec<ProtocolVersion>,
        /// The space the device syncs.
        space: SpaceId,
        /// The device's secret token, issued at sign-in.
        token: String,
    },
    /// Uploads blobs; answered by [`ServerMessage::Acked`] after the durable commit.
    Push {
        /// Echoed in the acknowledgement.
        request_id: u64,
        /// The blobs, stored in this order.
        uploads: Vec<Upload>,
    },
    /// Asks for the log after `since`, at most `max_entries` per page.
    Pull {
        /// Echoed in the answer.
        request_id: u64,
        /// The device's cursor: it holds everything up to here.
        since: Seq,
        /// Page size wanted; the relay may send fewer.
        max_entries: u32,
    },
    /// Asks for the next page of a bootstrap (`None`: start one).
    Bootstrap {
        /// Echoed in the answer.
        request_id: u64,
        /// Where to resume, as given by the previous page.
        position: Option<BootstrapPosition>,
        /// Page size wanted; the relay may send fewer.
        max_entries: u32,
    },
    /// Frames of several spaces' sessions (version 5 on). The first message of a
    /// connection that syncs several spaces: each channel's `Hello`, so every space is
    /// opened in one round trip; then every later frame of those sessions, each wrapped in
    /// its channel. A relay of an older version cannot decode it and refuses the
    /// connection with a plain [`ServerMessage::Error`].
    Channels(Vec<ChannelFrame>),
    /// A [`ClientMessage::Push`] whose changes may carry their projection (version 7 on):
    /// for a change of a customer document, the customer's summary and facts right after
    /// the change on the device that made it (`crate::model::snapshot::encode_projection`,
    /// at most [`MAX_CHANGE_PROJECTION_BYTES`]). Opaque to the relay, which stores it with
    /// the change and sends it with the change in [`ServerMessage::ProjectedEntries`].
    ProjectedPush {
        /// Echoed in the acknowledgement.
        request_id: u64,
        /// The blobs, stored in this order.
        uploads: Vec<Upload>,
        /// One per upload (`None`: the upload has none; only changes may have one).
        projections: Vec<Option<EntryProjection>>,
    },
}

/// What the relay sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// Accepts the session. Always variant 0.
    Welcome {
        /// The version both sides now speak.
        version: ProtocolVersion,
        /// The space's latest sequence number.
        head: Seq,
    },
    /// Refuses a message or the session. Always variant 1.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
    /// Acknowledges a push: every blob is durably stored.
    Acked {
        /// The push's `request_id`.
        request_id: u64,
        /// One result per uploaded blob, in order.
        results: Vec<UploadResult>,
        /// The space's latest sequence number.
        head: Seq,
    },
    /// A page of the log.
    Entries {
        /// The pull's `request_id`.
        request_id: u64,
        /// Entries in log order, without gaps, starting right after the pull's `since`.
        entries: Vec<LogEntry>,
        /// The space's latest sequence number.
        head: Seq,
    },
    /// Something new was committed in the space; pull when convenient.
    Wake {
        /// The space's latest sequence number.
        head: Seq,
    },
    /// A push was refused as a whole; nothing of it was stored.
    Rejected {
        /// The push's `request_id`.
        request_id: u64,
        /// The first refused blob's index in the push.
        index: u32,
        /// Why, for programs.
        code: ErrorCode,
        /// Why, for people.
        message: String,
    },
    /// A page of a bootstrap.
    BootstrapPage {
        /// The request's `request_id`.
        request_id: u64,
        /// Snapshots (first phase) or log entries (second phase).
        entries: Vec<LogEntry>,
        /// Where the next page starts; `None` when the bootstrap is complete and the
        /// device holds everything up to `through`.
        next: Option<BootstrapPosition>,
        /// The log position the bootstrap brings the device to.
        through: Seq,
        /// How many documents the space held when the bootstrap started.
        total_documents: u64,
    },
    /// A page of a bootstrap (version 2 on): a [`BootstrapPage`] with, for each customer
    /// snapshot, its projection, deflated ([`deflate_page`], [`inflate_page`]): a new
    /// device's download is 40% smaller.
    CompressedBootstrapPage {
        /// The request's `request_id`.
        request_id: u64,
        /// The deflated postcard of the [`BootstrapPage`].
        #[serde(with = "serde_bytes_compat")]
        deflated: Vec<u8>,
    },
    /// Frames of several spaces' sessions (version 5 on), answering
    /// [`ClientMessage::Channels`]: what the sessions sent while handling one message of
    /// the device, each in its channel.
    Channels(Vec<ChannelFrame>),
    /// A page of the log (version 7 on) as [`ServerMessage::Entries`], with the projection
    /// each change carried when it was pushed ([`ClientMessage::ProjectedPush`]). Sent
    /// instead of `Entries` when at least one entry of the page has one.
    ProjectedEntries {
        /// The pull's `request_id`.
        request_id: u64,
        /// Entries in log order, without gaps, starting right after the pull's `since`.
        entries: Vec<LogEntry>,
        /// One per entry (`None`: none).
        projections: Vec<Option<EntryProjection>>,
        /// The space's latest sequence number.
        head: Seq,
    },
}

/// A page of a bootstrap: what [`ServerMessage::BootstrapPage`] carries, with projections
/// (inside [`ServerMessage::CompressedBootstrapPage`]); also what the relay's stores and
/// `MemoryLog::bootstrap` produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapPage {
    /// Snapshots (first phase) or log entries (second phase).
    pub entries: Vec<LogEntry>,
    /// What the relay derived from each entry's snapshot, in the same order (`None` for
    /// changes and for snapshots that are not of a customer).
    pub projections: Vec<Option<EntryProjection>>,
    /// Where the next page starts; `None` when the bootstrap is complete.
    pub next: Option<BootstrapPosition>,
    /// The log position the bootstrap brings the device to.
    pub through: Seq,
    /// How many documents the space held when the bootstrap started.
    pub total_documents: u64,
}

impl BootstrapPage {
    /// A page after which the bootstrap continues at `phase` of the same `position`.
    pub fn continues(
        entries: Vec<LogEntry>,
        projections: Vec<Option<EntryProjection>>,
        position: &BootstrapPosition,
        phase: BootstrapPhase,
    ) -> BootstrapPage {
        BootstrapPage {
            entries,
            projections,
            through: position.through,
            total_documents: position.total_documents,
            next: Some(BootstrapPosition {
                phase,
                ..position.clone()
            }),
        }
    }
}

/// The most bytes an inflated bootstrap page may take: a page is at most a frame's worth of
/// blobs plus their projections; anything larger is refused before it is all in memory.
pub const MAX_INFLATED_PAGE_BYTES: usize = 4 * MAX_FRAME_BYTES;

/// A page as [`ServerMessage::CompressedBootstrapPage`] carries it (fast deflate: the
/// relay compresses every page it sends).
pub fn deflate_page(page: &BootstrapPage) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(&encode(page));
    encoder.finish().unwrap_or_default()
}

/// The page of [`deflate_page`]; refuses bytes that do not inflate, inflate beyond
/// [`MAX_INFLATED_PAGE_BYTES`] or do not decode as a page.
pub fn inflate_page(deflated: &[u8]) -> Result<BootstrapPage, DecodeError> {
    use std::io::Read;
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(MAX_INFLATED_PAGE_BYTES as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|err| DecodeError::Malformed(format!("bootstrap page: {err}")))?;
    if inflated.len() > MAX_INFLATED_PAGE_BYTES {
        return Err(DecodeError::TooLarge {
            size: inflated.len(),
            limit: MAX_INFLATED_PAGE_BYTES,
        });
    }
    decode_unbounded(&inflated)
}

/// Whether a bootstrap leaves out the entry at `seq` of a document whose latest snapshot
/// (at or before the bootstrap's `through`) sits at `snapshot_seq` and covers
/// `snapshot_covers`: the snapshot was sent in the first phase and contains every entry of
/// its document up to `snapshot_covers`. Entries after that are sent even when they come
/// before the snapshot in the log, because the snapshot's device may not have had them.
pub fn bootstrap_skips(seq: Seq, snapshot_seq: Seq, snapshot_covers: Seq) -> bool {
    seq <= snapshot_covers || seq == snapshot_seq
}

/// Why bytes are not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame exceeds [`MAX_FRAME_BYTES`]; it was not decoded.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The frame's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes do not decode as a message.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A message decoded but bytes were left over.
    #[error("malformed message: {0} trailing bytes")]
    TrailingBytes(usize),
}

/// Encodes a message into one frame.
pub fn encode<M: Serialize>(message: &M) -> Vec<u8> {
    // Serializing these plain data types into a Vec cannot fail.
    postcard::to_allocvec(message).unwrap_or_default()
}

/// Decodes one frame, refusing oversized frames before looking at them.
pub fn decode<'de, M: Deserialize<'de>>(frame: &'de [u8]) -> Result<M, DecodeError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge {
            size: frame.len(),
            limit: MAX_FRAME_BYTES,
        });
    }
    decode_unbounded(frame)
}

/// Decodes one message of any size (trailing bytes are an error): for messages that never
/// come from the network, such as those between tabs of one browser (`tab_protocol`).
pub fn decode_unbounded<'de, M: Deserialize<'de>>(bytes: &'de [u8]) -> Result<M, DecodeError> {
    let (message, rest) = postcard::take_from_bytes::<M>(bytes)
        .map_err(|err| DecodeError::Malformed(err.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    Ok(message)
}

/// The highest version both sides speak, if any.
pub fn negotiate(theirs: &[ProtocolVersion], ours: &[ProtocolVersion]) -> Option<ProtocolVersion> {
    ours.iter()
        .copied()
        .filter(|version| theirs.contains(version))
        .max()
}

/// Byte vectors as one length-prefixed run instead of one varint per byte.
mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct BytesVisitor;
        impl<'de> serde::de::Visitor<'de> for BytesVisitor {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                Ok(bytes.to_vec())
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<Vec<u8>, E> {
                Ok(bytes.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(bytes)
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::seed::SeedRng;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn check_client(message: ClientMessage, expect: Expect) {
        let frame = encode(&message);
        assert_eq!(decode::<ClientMessage>(&frame), Ok(message));
        expect.assert_eq(&hex(&frame));
    }

    fn check_server(message: ServerMessage, expect: Expect) {
        let frame = encode(&message);
        assert_eq!(decode::<ServerMessage>(&frame), Ok(message));
        expect.assert_eq(&hex(&frame));
    }

    fn upload() -> Upload {
        Upload {
            document: DocumentId("c1".into()),
            kind: BlobKind::Change,
            bytes: vec![0x85, 0x6f, 0x4a, 0x83],
        }
    }

    // The expected bytes freeze the wire format: a change here breaks deployed devices.
    #[test]
    fn client_messages_round_trip() {
        check_client(
            ClientMessage::Hello {
                supported_versions: vec![1],
                space: SpaceId("s1".into()),
                token: "t".into(),
            },
            expect!["0001010273310174"],
        );
        check_client(
            ClientMessage::Push {
                request_id: 7,
                uploads: vec![upload()],
            },
            expect!["0107010263310004856f4a83"],
        );
        check_client(
            ClientMessage::Pull {
                request_id: 8,
                since: Seq(300),
                max_entries: 500,
            },
            expect!["0208ac02f403"],
        );
        check_client(
            ClientMessage::Bootstrap {
                request_id: 9,
                position: Some(BootstrapPosition {
                    through: Seq(5),
                    total_documents: 2,
                    phase: BootstrapPhase::Snapshots {
                        after: Some(DocumentId("c1".into())),
                    },
                }),
                max_entries: 100,
            },
            expect!["0309010502000102633164"],
        );
        check_client(
            ClientMessage::Channels(vec![ChannelFrame {
                channel: 2,
                frame: vec![0, 1, 5],
            }]),
            expect!["04010203000105"],
        );
    }

    #[test]
    fn server_messages_round_trip() {
        check_server(
            ServerMessage::Welcome {
                version: 1,
                head: Seq(42),
            },
            expect!["00012a"],
        );
        check_server(
            ServerMessage::Error {
                code: ErrorCode::Forbidden,
                message: "not your space".into(),
            },
            expect!["01060e6e6f7420796f7572207370616365"],
        );
        check_server(
            ServerMessage::Acked {
                request_id: 7,
                results: vec![UploadResult {
                    seq: Seq(43),
                    duplicate: false,
                }],
                head: Seq(43),
            },
            expect!["0207012b002b"],
        );
        check_server(
            ServerMessage::Entries {
                request_id: 8,
                entries: vec![LogEntry {
                    seq: Seq(1),
                    document: DocumentId("c1".into()),
                    kind: BlobKind::Snapshot { covers: Seq(0) },
                    bytes: vec![1, 2, 3],
                }],
                head: Seq(9),
            },
            expect!["0308010102633101000301020309"],
        );
        check_server(ServerMessage::Wake { head: Seq(9) }, expect!["0409"]);
        check_server(
            ServerMessage::Rejected {
                request_id: 7,
                index: 0,
                code: ErrorCode::InvalidBlob,
                message: "x".into(),
            },
            expect!["050700030178"],
        );
        check_server(
            ServerMessage::BootstrapPage {
                request_id: 9,
                entries: vec![],
                next: None,
                through: Seq(5),
                total_documents: 2,
            },
            expect!["060900000502"],
        );
        check_server(
            ServerMessage::CompressedBootstrapPage {
                request_id: 9,
                deflated: vec![1, 2],
            },
            expect!["0709020102"],
        );
        check_server(
            ServerMessage::Channels(vec![ChannelFrame {
                channel: 300,
                frame: vec![4, 9],
            }]),
            expect!["0801ac02020409"],
        );
    }

    #[test]
    fn a_deflated_page_inflates_to_itself_and_a_bomb_or_garbage_is_refused() {
        let page = BootstrapPage {
            entries: vec![LogEntry {
                seq: Seq(1),
                document: DocumentId("c1".into()),
                kind: BlobKind::Snapshot { covers: Seq(0) },
                bytes: vec![7; 3000],
            }],
            projections: vec![Some(EntryProjection(vec![1, 2, 3]))],
            next: None,
            through: Seq(1),
            total_documents: 1,
        };
        let deflated = deflate_page(&page);
        assert!(deflated.len() < 200, "{} bytes", deflated.len());
        assert_eq!(inflate_page(&deflated), Ok(page));
        assert!(matches!(
            inflate_page(&[1, 2, 3]),
            Err(DecodeError::Malformed(_))
        ));
        // Zeros beyond the limit deflate to a few kilobytes: refused, not inflated whole.
        use std::io::Write;
        let mut bomb = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        bomb.write_all(&vec![0; MAX_INFLATED_PAGE_BYTES + 10])
            .unwrap();
        let bomb = bomb.finish().unwrap();
        assert!(bomb.len() < MAX_FRAME_BYTES);
        assert!(matches!(
            inflate_page(&bomb),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn an_idle_reconnect_is_a_few_bytes() {
        let hello = encode(&ClientMessage::Hello {
            supported_versions: SUPPORTED_VERSIONS.to_vec(),
            space: SpaceId("0123456789abcdef0123456789abcdef".into()),
            token: "fb1_".to_string() + &"0".repeat(64),
        });
        let welcome = encode(&ServerMessage::Welcome {
            version: 1,
            head: Seq(u64::MAX),
        });
        assert!(hello.len() + welcome.len() < 128);
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        assert!(matches!(
            decode::<ClientMessage>(&[]),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode::<ClientMessage>(&[9, 9, 9]),
            Err(DecodeError::Malformed(_))
        ));
        let mut frame = encode(&ClientMessage::Pull {
            request_id: 1,
            since: Seq(1),
            max_entries: 1,
        });
        frame.push(0);
        assert_eq!(
            decode::<ClientMessage>(&frame),
            Err(DecodeError::TrailingBytes(1))
        );
        let huge = vec![0u8; MAX_FRAME_BYTES + 1];
        assert!(matches!(
            decode::<ClientMessage>(&huge),
            Err(DecodeError::TooLarge { .. })
        ));
        // A length prefix claiming far more than the frame holds.
        assert!(decode::<ClientMessage>(&[1, 7, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        // Deterministic garbage of every small size never panics.
        let mut rng = SeedRng::new(11);
        for len in 0..2000 {
            let frame: Vec<u8> = (0..len % 64).map(|_| rng.next_u64() as u8).collect();
            let _ = decode::<ClientMessage>(&frame);
            let _ = decode::<ServerMessage>(&frame);
        }
    }

    #[test]
    fn an_uploads_head_decodes_from_its_first_bytes_and_a_cut_head_is_none() {
        for (document, kind) in [
            ("c-1", BlobKind::Change),
            ("customer-2", BlobKind::Snapshot { covers: Seq(300) }),
            ("book", BlobKind::Erased),
        ] {
            let upload = Upload {
                document: DocumentId(document.into()),
                kind,
                bytes: vec![7; 10_000],
            };
            let encoded = encode(&upload);
            let head = UploadHead::decode(&encoded[..UploadHead::PREFIX]);
            assert_eq!(
                head,
                Some(UploadHead {
                    document: upload.document.clone(),
                    kind,
                })
            );
            // Cut inside the document id: no head, never a wrong one.
            assert_eq!(UploadHead::decode(&encoded[..document.len()]), None);
        }
        let long = Upload {
            document: DocumentId("x".repeat(UploadHead::PREFIX)),
            kind: BlobKind::Change,
            bytes: vec![1, 2, 3],
        };
        assert_eq!(
            UploadHead::decode(&encode(&long)[..UploadHead::PREFIX]),
            None
        );
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate(&[1, 2, 3], &[1, 2]), Some(2));
        assert_eq!(negotiate(&[1], &[1, 2]), Some(1));
        assert_eq!(negotiate(&[3], &[1, 2]), None);
        assert_eq!(negotiate(&[], SUPPORTED_VERSIONS), None);
    }
}
