//! Customers that moved to another territory of the team (`shared::sync::handover`).
//!
//! The relay's `Moved` entry in this territory's log says a customer left: this device
//! forgets it (its chunks, summary and facts go in the same transaction as the page that
//! brought the move) but keeps its unsent changes queued — the relay forwards them to the
//! customer's new territory, so an edit made offline follows the customer and still counts
//! as backed up once acknowledged. The rep is told how many customers left and how many of
//! this device's edits went with them (its changes the move's heads do not cover), until
//! she dismisses the notice. A change or snapshot of the customer after its move means it
//! came back: it is taken in like any other.
//!
//! A customer that left with changes of this device the move did not carry (unsent, or
//! sent after the move) keeps its chunks (*dormant*, meta `moved_dormant`; only the list
//! leaves it out): should it come back, the hand-over merges into this device's copy, so
//! its own changes are part of the document again before the log brings them back and a
//! new edit never reuses their sequence numbers (the channels simulation found that). A
//! dormant copy stays until the customer comes back or the book leaves the device.

use std::collections::{BTreeSet, HashMap, HashSet};

use shared::sync::handover::{decode_heads, MovedNotice};
use shared::sync::protocol::decode;

use super::*;

/// Meta key of the notice not dismissed yet (a [`MovedNotice`], postcard in hex).
const MOVED_META: &str = "moved";
/// Meta key of the customers that left with unsent changes (their chunks kept).
const DORMANT_META: &str = "moved_dormant";

/// What a page of entries does for the customers that moved away.
#[derive(Debug, Default)]
pub(super) struct Moves {
    /// Customers to forget.
    pub ids: Vec<CustomerId>,
    /// Customers whose chunks go (left with nothing unsent, or their last unsent change
    /// was sent).
    pub delete: Vec<CustomerId>,
    /// Customers that left with unsent changes: out of the list, chunks kept.
    pub hide: Vec<CustomerId>,
    /// Meta records to store with the page.
    pub meta: Vec<(&'static str, String)>,
    /// Index (in the page) of each document's last move: its entries before it are of a
    /// customer that left.
    last_move: HashMap<String, usize>,
    /// The updated notice, when a customer this device listed moved.
    pub notice: Option<MovedNotice>,
}

impl Moves {
    /// Whether the page's entry at `index` is taken in: not a move, and not of a customer
    /// before it moved away.
    pub fn keeps(&self, index: usize, entry: &LogEntry) -> bool {
        entry.kind != BlobKind::Moved
            && self
                .last_move
                .get(&entry.document.0)
                .is_none_or(|&moved| index > moved)
    }
}

impl Repo {
    /// Which customers `entries` move away, how many of this device's edits went with
    /// them, and the notice to store with the page.
    pub(super) async fn moves_in(
        &self,
        store: &Store,
        entries: &[(LogEntry, Option<EntryProjection>)],
    ) -> Result<Moves, String> {
        let mut moves = Moves::default();
        let mut heads: HashMap<String, Vec<automerge::ChangeHash>> = HashMap::new();
        for (index, (entry, _)) in entries.iter().enumerate() {
            if entry.kind != BlobKind::Moved || entry.bytes.is_empty() {
                // A change forwarded from here after the move: nothing of it is kept here.
                continue;
            }
            moves.last_move.insert(entry.document.0.clone(), index);
            if let Some(decoded) = decode_heads(&entry.bytes) {
                heads.insert(entry.document.0.clone(), decoded);
            }
        }
        if moves.last_move.is_empty() {
            return Ok(moves);
        }
        let dormant_before = self.dormant_stored(store).await;
        // Documents with changes this device has not sent.
        // (Heads only: an outbox of 10,000 never-sent imported customers is tens of
        // megabytes, and a wasm memory's high-water mark is never given back.)
        let unsent: HashSet<String> = (store.outbox_heads().await)
            .map_err(|err| err.to_string())?
            .into_iter()
            .filter(|head| head.kind != BlobKind::Erased)
            .map(|head| head.document.0)
            .collect();
        // Customers with a change or snapshot after their last move in this page (or with
        // no move in it): here (again).
        let back_here: HashSet<&str> = (entries.iter().enumerate())
            .filter(|(index, (entry, _))| {
                entry.kind != BlobKind::Moved
                    && (moves.last_move.get(&entry.document.0)).is_none_or(|&at| *index > at)
            })
            .map(|(_, (entry, _))| entry.document.0.as_str())
            .collect();
        let mut dormant: BTreeSet<String> = dormant_before.clone();
        let mut moved = MovedNotice::default();
        for (document, &at) in &moves.last_move {
            let back = (entries[at + 1..].iter())
                .any(|(entry, _)| entry.document.0 == *document && entry.kind != BlobKind::Moved);
            let Ok(id) = document.parse::<CustomerId>() else {
                continue;
            };
            if back {
                continue;
            }
            let listed = self.inner().borrow().summaries.contains(&id);
            let mut edits = 0;
            if listed {
                let heads = heads.get(document).cloned().unwrap_or_default();
                edits = self
                    .with_doc(&id, |cached| cached.doc.edits_after(&heads))
                    .await
                    .unwrap_or(0);
                moved.customers += 1;
                moved.edits += edits as u32;
            }
            if unsent.contains(document) || edits > 0 {
                dormant.insert(document.clone());
                moves.hide.push(id.clone());
            } else {
                moves.delete.push(id.clone());
            }
            moves.ids.push(id);
        }
        // Dormant customers back here: live again.
        dormant.retain(|document| !back_here.contains(document.as_str()));
        if dormant != dormant_before {
            let list: Vec<String> = dormant.into_iter().collect();
            moves.meta.push((DORMANT_META, hex::encode(encode(&list))));
        }
        if moved.customers > 0 {
            let mut notice = self.moved_notice_stored(store).await;
            notice.customers += moved.customers;
            notice.edits += moved.edits;
            moves.meta.push(Repo::moved_meta(&notice));
            moves.notice = Some(notice);
        }
        Ok(moves)
    }

    /// The customers that left with unsent changes, their chunks kept.
    pub(super) async fn dormant_stored(&self, store: &Store) -> BTreeSet<String> {
        match store.get_meta(DORMANT_META).await {
            Ok(Some(stored)) => hex::decode(stored)
                .ok()
                .and_then(|bytes| decode::<Vec<String>>(&bytes).ok())
                .map(|list| list.into_iter().collect())
                .unwrap_or_default(),
            Ok(None) => BTreeSet::new(),
            Err(err) => {
                tracing::error!(cause = %err, "cannot read the customers that moved away");
                BTreeSet::new()
            }
        }
    }

    /// After the write that forgot them committed: the customers leave memory, this tab's
    /// screens and the other tabs.
    pub(super) fn forget_moved(&self, moves: Moves) {
        if moves.ids.is_empty() {
            return;
        }
        self.forget_moved_in_memory(&moves.ids);
        let notice = moves.notice;
        self.tell_page(EngineEvent::Moved {
            ids: moves.ids.clone(),
            notice,
        });
        self.tabs.announce(TabEvent::Moved {
            ids: moves.ids,
            notice,
        });
    }

    /// The customers are gone from this tab's memory; unlike an erased one, a moved
    /// customer may come back.
    pub(super) fn forget_moved_in_memory(&self, ids: &[CustomerId]) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        for id in ids {
            inner.summaries.remove(id);
            inner.docs.remove(id);
            if let Some(facts) = inner.facts.as_mut() {
                facts.remove(id);
            }
        }
    }

    async fn moved_notice_stored(&self, store: &Store) -> MovedNotice {
        match store.get_meta(MOVED_META).await {
            Ok(Some(stored)) => hex::decode(stored)
                .ok()
                .and_then(|bytes| decode(&bytes).ok())
                .unwrap_or_default(),
            Ok(None) => MovedNotice::default(),
            Err(err) => {
                tracing::error!(cause = %err, "cannot read the notice of moved customers");
                MovedNotice::default()
            }
        }
    }

    /// The meta record that stores `notice`.
    pub(super) fn moved_meta(notice: &MovedNotice) -> (&'static str, String) {
        (MOVED_META, hex::encode(encode(notice)))
    }

    /// Customers moved to another territory that the rep has not dismissed.
    pub async fn moved_notice(&self) -> Result<MovedNotice, RepoError> {
        let store = self.store().await?;
        Ok(self.moved_notice_stored(&store).await)
    }

    /// The rep read the notice of moved customers.
    pub async fn dismiss_moved(&self) -> Result<(), RepoError> {
        if !self.writes_here().await? {
            return self
                .tabs
                .ask(TabRequest::DismissMoved)
                .await
                .map_err(RepoError::Writer);
        }
        let store = self.store().await?;
        let (key, value) = Repo::moved_meta(&MovedNotice::default());
        store.put_meta(key, &value).await?;
        let notice = Some(MovedNotice::default());
        self.tell_page(EngineEvent::Moved {
            ids: Vec::new(),
            notice,
        });
        self.tabs.announce(TabEvent::Moved {
            ids: Vec::new(),
            notice,
        });
        Ok(())
    }
}
