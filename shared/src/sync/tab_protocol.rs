//! The messages between the tabs (and installed-app windows) of Fieldbook in one browser
//! profile.
//!
//! # Why
//!
//! Every tab of one profile shares one IndexedDB database. If each tab wrote its own copy of
//! a document, their writes would overwrite each other and an edit shown as "saved" could be
//! lost. So exactly one tab, the **writer**, elected with the Web Locks API, writes to
//! IndexedDB and talks to the relay. Every other tab, a **follower**, makes its edits on its
//! own copy of the document (with an actor id of its own, so the Automerge changes of two
//! tabs never collide) and asks the writer to store the resulting changes, exactly as if
//! they came from another device. The writer announces every commit, so every tab shows the
//! same book live.
//!
//! # Flow
//!
//! ```text
//! follower                                 writer
//!   Ask { from, id, Store(changes) }  ─────▶  merge, write one transaction, queue for relay
//!   ◀───── Event(Committed { summaries… })   (to every tab)
//!   ◀───── Answer { to, id, Ok(Stored) }     "Saved on this device" only now
//! ```
//!
//! Requests carry the asking tab's id and a request id, echoed by the answer. When the
//! writer tab closes or crashes, another tab takes the lock and announces
//! [`TabEvent::WriterChanged`]; followers then send their unanswered requests again. Storing
//! the same Automerge change twice changes nothing, so a request is committed at most once
//! in effect, and a request never answered is reported as not saved.
//!
//! Messages travel over a `BroadcastChannel` as postcard bytes ([`encode`], [`decode`]).
//! Both sides run the same build (the service worker serves one build at a time), but a
//! message that does not decode is ignored with a warning rather than trusted.

use serde::{Deserialize, Serialize};

use crate::model::facts::CustomerFacts;
use crate::sync::account::{HeldBook, Session};
use crate::sync::handover::MovedNotice;
use crate::sync::protocol::Upload;
use crate::sync::SyncStatus;
use crate::{CustomerId, CustomerSummary};

/// A tab's random identity for the lifetime of its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TabId(pub u64);

/// The id of one request of one tab, echoed by its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// One message on the tabs' channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TabMessage {
    /// A follower asks the writer to do something only the writer may do.
    Ask {
        /// The asking tab.
        from: TabId,
        /// Echoed by the answer.
        id: RequestId,
        /// What to do.
        request: TabRequest,
    },
    /// The writer's answer to one request.
    Answer {
        /// The tab that asked.
        to: TabId,
        /// The request answered.
        id: RequestId,
        /// Done, or why not (a sentence for the rep).
        result: Result<(), String>,
    },
    /// Something every tab must know, sent by the writer.
    Event(TabEvent),
}

/// What a follower asks the writer to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TabRequest {
    /// Store changes made in the follower (edits, new customers, catalog changes, imports)
    /// and queue them for the relay, like changes from another device.
    Store(Vec<Upload>),
    /// The follower signed in: store the session and start syncing with it.
    SignedIn(Session),
    /// Sign this device out (revoke its token, forget its book). Unless `discard_unsent`,
    /// a book with changes the relay never acknowledged is held instead of removed.
    SignOut {
        /// Remove the book even if some of its changes were never backed up.
        discard_unsent: bool,
    },
    /// Announce the current sync state (a tab that just opened asks).
    Hello,
    /// Forget a customer set aside after another device erased it (see
    /// `EngineRequest::DismissSetAside`).
    DismissSetAside(u64),
    /// Forget the notice of customers moved to another territory (see
    /// `EngineRequest::DismissMoved`).
    DismissMoved,
}

/// What the writer tells every tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TabEvent {
    /// A tab became the writer: unanswered requests go to it.
    WriterChanged {
        /// The new writer.
        writer: TabId,
    },
    /// Changes were committed to IndexedDB (from any tab, the relay or an import).
    Committed {
        /// The new summaries of the customers changed.
        summaries: Vec<CustomerSummary>,
        /// Their dashboard facts.
        facts: Vec<CustomerFacts>,
        /// The saved book document (catalog, pipeline, segments), when it changed.
        book: Option<Vec<u8>>,
    },
    /// Every customer was removed from this device (sign-out, revocation).
    Wiped,
    /// These customers were erased and are no longer stored.
    Erased {
        /// The customers.
        ids: Vec<CustomerId>,
        /// Whether unsent changes of some of them were set aside.
        set_aside: bool,
    },
    /// The sync state, whenever it changes.
    Sync(Box<SyncState>),
    /// These customers moved to another territory and are no longer stored (see
    /// `EngineEvent::Moved`).
    Moved {
        /// The customers.
        ids: Vec<CustomerId>,
        /// The notice, all moves the rep has not dismissed; `None`: unchanged.
        notice: Option<MovedNotice>,
    },
}

/// What the sync indicator and the account screen show, as the writer knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// What the indicator shows.
    pub status: SyncStatus,
    /// The signed-in account.
    pub session: Option<Session>,
    /// A message for the rep (e.g. signed out from another device).
    pub notice: Option<String>,
    /// A book kept after sign-out because some of its changes were never backed up.
    pub held: Option<HeldBook>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable message from another tab: {0}")]
pub struct TabDecodeError(String);

/// The message as bytes for the channel.
pub fn encode(message: &TabMessage) -> Vec<u8> {
    crate::sync::protocol::encode(message)
}

/// The message in `bytes`; trailing bytes are an error. No size limit: a batch of an import
/// sent to the writer may exceed the relay's frame limit, and it never leaves the browser.
pub fn decode(bytes: &[u8]) -> Result<TabMessage, TabDecodeError> {
    crate::sync::protocol::decode_unbounded(bytes).map_err(|err| TabDecodeError(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::customer;
    use crate::sync::protocol::{BlobKind, DocumentId, Seq};
    use crate::sync::SyncPhase;
    use crate::{CustomerDoc, Timestamp};

    fn round_trip(message: TabMessage) {
        let bytes = encode(&message);
        assert_eq!(decode(&bytes), Ok(message));
    }

    #[test]
    fn every_message_round_trips() {
        let now = Timestamp(1_700_000_000_000);
        let mut doc = CustomerDoc::create(
            customer(7, 1, now),
            automerge::ActorId::from([1u8; 16]),
            now,
        )
        .expect("a seeded customer is valid");
        round_trip(TabMessage::Ask {
            from: TabId(1),
            id: RequestId(2),
            request: TabRequest::Store(vec![Upload {
                document: DocumentId(doc.customer().id.to_string()),
                kind: BlobKind::Snapshot { covers: Seq(3) },
                bytes: vec![1, 2, 3],
            }]),
        });
        round_trip(TabMessage::Ask {
            from: TabId(1),
            id: RequestId(3),
            request: TabRequest::SignedIn(Session {
                account_id: "a".into(),
                email: "rep@example.com".into(),
                token: "t".into(),
                space_id: "s".into(),
                device_id: "d".into(),
                device_name: "Phone".into(),
            }),
        });
        round_trip(TabMessage::Ask {
            from: TabId(1),
            id: RequestId(4),
            request: TabRequest::SignOut {
                discard_unsent: true,
            },
        });
        round_trip(TabMessage::Answer {
            to: TabId(1),
            id: RequestId(2),
            result: Err("the device's storage is full".into()),
        });
        round_trip(TabMessage::Event(TabEvent::Committed {
            summaries: vec![doc.summary()],
            facts: vec![doc.facts()],
            book: Some(vec![9, 9]),
        }));
        round_trip(TabMessage::Event(TabEvent::WriterChanged {
            writer: TabId(5),
        }));
        round_trip(TabMessage::Event(TabEvent::Wiped));
        round_trip(TabMessage::Event(TabEvent::Sync(Box::new(SyncState {
            status: SyncStatus {
                phase: SyncPhase::Syncing,
                unsent: 3,
                last_synced: Some(Timestamp(5)),
                bootstrap: Some((10, 100)),
                problem: None,
                retry_at: None,
            },
            session: None,
            notice: Some("signed out".into()),
            held: Some(HeldBook {
                email: "rep@example.com".into(),
                space_id: "s".into(),
                reason: "revoked".into(),
            }),
        }))));
    }

    #[test]
    fn garbage_and_trailing_bytes_are_refused() {
        assert!(decode(&[0xff, 0xff, 0xff]).is_err());
        let mut bytes = encode(&TabMessage::Event(TabEvent::Wiped));
        bytes.push(0);
        assert!(decode(&bytes).is_err());
    }
}
