//! A team's customers moving between territories (issue 21), as the relay does it and a
//! device reads it.
//!
//! Territories are separate spaces (separate logs), so a move is the relay's work, in one
//! transaction under both spaces' locks (`server/src/handover.rs`): every entry the
//! document has in the territory it leaves is folded into one snapshot ([`hand_over`])
//! appended to the territory it goes to, and a [`BlobKind::Moved`] entry carrying that
//! snapshot's heads ([`encode_heads`]) is appended where it was. From then on a change a
//! device pushes to the document in the old territory — a rep who edited it offline — is
//! stored in the new one and stands in the old log as a `Moved` entry without bytes: the
//! edit followed the customer. A device of the old territory that reads the move forgets
//! the customer; its own changes not covered by the heads ([`edits_after`]) are the edits
//! that went with it (pushed already, or still in its outbox and forwarded when sent).
//!
//! [`BlobKind::Moved`]: crate::sync::protocol::BlobKind::Moved

use automerge::{Automerge, ChangeHash};
use serde::{Deserialize, Serialize};

/// Most customers one move request may name (its JSON stays under the API's 16 KB).
pub const MAX_MOVE_CUSTOMERS: usize = 250;

/// Bytes of one head in a move entry.
const HEAD_BYTES: usize = 32;

/// A move request (`POST /api/teams/{team}/moves`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveRequest {
    /// The territory (space) the customers are in.
    pub from: String,
    /// The territory (space) they go to.
    pub to: String,
    /// Their ids.
    pub customers: Vec<String>,
}

/// What a move did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOutcome {
    /// The customers now in the new territory.
    pub moved: Vec<String>,
    /// The customers left where they were, each with why.
    pub skipped: Vec<Skipped>,
}

/// A customer a move left where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The customer.
    pub customer: String,
    /// Why, for people.
    pub reason: String,
}

/// What a device tells the rep about customers that moved out of the territory it holds,
/// until she dismisses it: "12 customers moved to another territory; your 3 edits went
/// with them".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedNotice {
    /// Customers this device had that moved away.
    pub customers: u32,
    /// This device's edits to them the move did not carry: forwarded by the relay.
    pub edits: u32,
}

impl MovedNotice {
    /// The notice in words, or `None` when nothing moved.
    pub fn text(&self) -> Option<String> {
        self.text_to("another territory")
    }

    /// The same, saying where they went (`"a team territory"` in a rep's own book).
    pub fn text_to(&self, destination: &str) -> Option<String> {
        let customers = match self.customers {
            0 => return None,
            1 => format!("1 customer moved to {destination}"),
            n => format!("{n} customers moved to {destination}"),
        };
        Some(match self.edits {
            0 => format!("{customers}."),
            1 => format!("{customers}; your edit went with it."),
            n if self.customers == 1 => format!("{customers}; your {n} edits went with it."),
            n => format!("{customers}; your {n} edits went with them."),
        })
    }
}

/// A document folded for a move: one snapshot and its heads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOver {
    /// The whole document (`Automerge::save`).
    pub snapshot: Vec<u8>,
    /// Its heads, as a move entry carries them ([`encode_heads`]).
    pub heads: Vec<u8>,
    /// What the relay derives from any customer snapshot for the list of a device
    /// bootstrapping the territory (`crate::documents::customer_doc::projection_of`), from
    /// the document just folded instead of parsing the snapshot again.
    pub projection: Option<Vec<u8>>,
}

/// Folds document `id`'s log entries (changes and snapshots, in log order; each one the
/// relay validated when it stored it) into one snapshot. An error names what could not be
/// read.
pub fn hand_over<'a>(
    id: &str,
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<HandedOver, String> {
    let entries: Vec<&[u8]> = entries.into_iter().collect();
    if entries.is_empty() {
        return Err("the customer has nothing in this territory".into());
    }
    // Automerge's own parsing; validated blobs do not panic it, but a move must never take
    // the relay down if one did.
    std::panic::catch_unwind(|| {
        let mut doc = Automerge::new();
        for bytes in &entries {
            doc.load_incremental(bytes)
                .map_err(|err| format!("an entry of the customer cannot be read: {err}"))?;
        }
        let mut heads = doc.get_heads();
        crate::order::sort(&mut heads);
        Ok(HandedOver {
            snapshot: doc.save(),
            heads: encode_heads(&heads),
            projection: crate::documents::customer_doc::projection_of(&doc, id),
        })
    })
    .unwrap_or_else(|_| Err("an entry of the customer cannot be read".into()))
}

/// Heads as a move entry carries them: 32 bytes each.
pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|head| head.0).collect()
}

/// The heads a move entry carries; `None` if its bytes are not whole heads (a forwarded
/// change's entry carries none: `Some(empty)`).
pub fn decode_heads(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if !bytes.len().is_multiple_of(HEAD_BYTES) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(HEAD_BYTES)
            .filter_map(|chunk| <[u8; HEAD_BYTES]>::try_from(chunk).ok().map(ChangeHash))
            .collect(),
    )
}

/// How many of `doc`'s changes the handed-over `heads` do not cover: the edits made on
/// this device that the relay forwards to the customer's new territory.
pub fn edits_after(doc: &Automerge, heads: &[ChangeHash]) -> usize {
    let known: Vec<ChangeHash> = (heads.iter())
        .filter(|head| doc.get_change_meta_by_hash(head).is_some())
        .copied()
        .collect();
    doc.get_changes_meta(&known).len()
}

#[cfg(test)]
mod tests {
    use automerge::{transaction::Transactable, AutoCommit, ROOT};

    use super::*;

    fn edit(doc: &mut AutoCommit, key: &str, value: &str) -> Vec<u8> {
        doc.put(ROOT, key, value).unwrap();
        doc.commit();
        doc.get_last_local_change().unwrap().raw_bytes().to_vec()
    }

    #[test]
    fn the_hand_over_holds_every_entry_and_its_heads_cover_exactly_them() {
        let mut doc = AutoCommit::new();
        edit(&mut doc, "name", "Ada");
        let snapshot = doc.save();
        let late_in_log = edit(&mut doc, "city", "Lyon");
        let mut offline = doc.fork();
        let handed = hand_over("ada", [snapshot.as_slice(), late_in_log.as_slice()]).unwrap();
        let moved = Automerge::load(&handed.snapshot).unwrap();
        assert_eq!(moved.get_changes(&[]).len(), 2);
        let heads = decode_heads(&handed.heads).unwrap();
        assert_eq!(heads, moved.get_heads());
        // The device that edited offline: two edits the move did not carry.
        edit(&mut offline, "phone", "1");
        edit(&mut offline, "email", "a@b.c");
        assert_eq!(edits_after(offline.document(), &heads), 2);
        assert_eq!(edits_after(&moved, &heads), 0);
    }

    #[test]
    fn unreadable_entries_and_heads_are_refused() {
        assert!(hand_over("x", [&b"not automerge"[..]]).is_err());
        assert!(hand_over("x", std::iter::empty()).is_err());
        assert_eq!(decode_heads(&[0; 31]), None);
        assert_eq!(decode_heads(&[]), Some(Vec::new()));
        assert_eq!(decode_heads(&[7; 64]).map(|heads| heads.len()), Some(2));
    }
}
