//! Erasing a customer's history (see `shared::sync::protocol::BlobKind::Erased`).
//!
//! The rep erases on one device: the customer as it is now goes on as a new document with
//! one change ([`CustomerDoc::recreate`], unless she erases the customer completely), and an
//! erasure of the old document is queued for the relay, which empties every entry of it.
//! Both are stored like an import: the writer merges them in one transaction that also
//! deletes the old document's chunks, drops its unsent changes (the rep erased them) and
//! records the id as erased, so an entry of it that arrives later is never taken back in.
//!
//! Another device learns of the erasure from the relay (an erased entry in a pull, or a
//! push refused with `ErrorCode::Erased`) and forgets the document the same way, except
//! that changes of it this device had not sent are first set aside, with the customer as
//! this device had it, for the rep to download or discard ([`SetAside`]): nothing unsent
//! is dropped unseen.
//!
//! The list's stored snapshot is rewritten without the erased customers in the same
//! transaction (so the page's early read of the book never shows them), which needs every
//! committed summary in memory: the write waits until no other write is in flight.

use std::collections::HashSet;

use shared::model::history::SetAside;
use shared::sync::protocol::decode;

use super::*;

/// Meta key of the erased customers' ids (see [`to_meta`]).
pub(super) const ERASED_META: &str = "erased";
/// Meta key of the customers set aside (a list of [`SetAside`], see [`to_meta`]).
const SET_ASIDE_META: &str = "set_aside";

/// What a write does for the customers erased by what it stores.
#[derive(Debug, Default)]
pub(super) struct Erasures {
    /// Customers to forget.
    pub ids: Vec<CustomerId>,
    /// Their unsent changes in the outbox.
    pub delete_outbox: Vec<u64>,
    /// The updated erased ids and set-aside customers.
    pub meta: Vec<(&'static str, String)>,
    /// Whether some customer was set aside.
    pub set_aside: bool,
}

impl Repo {
    /// Erases a customer's history; with `keep_as`, the customer as it is now goes on under
    /// that id in a document without history. Stored by the writer (asked, from another
    /// tab) like any import; the relay empties the old document once the erasure is pushed.
    pub async fn erase(
        &self,
        customer_id: &CustomerId,
        keep_as: Option<CustomerId>,
    ) -> Result<(), RepoError> {
        let (actor, author, cursor) = {
            let inner = self.inner();
            let inner = inner.borrow();
            (self.actor_for_load(&inner), author_of(&inner), inner.cursor)
        };
        let kept = self
            .with_doc(customer_id, |cached| match &keep_as {
                Some(new_id) => cached
                    .doc
                    .recreate(new_id.clone(), actor, author.as_deref(), now())
                    .map(|(bytes, _, _)| Some(snapshot_upload(new_id, bytes, cursor))),
                None => Ok(None),
            })
            .await??;
        let mut uploads: Vec<Upload> = kept.into_iter().collect();
        uploads.push(erasure_of(customer_id));
        self.import_changes(uploads)
            .await
            .map_err(RepoError::Writer)?;
        Ok(())
    }

    /// The relay refused a push because another device erased `document`: it is forgotten
    /// here, its unsent changes (`ids`) set aside first.
    pub async fn erased_elsewhere(&self, document: &DocumentId, ids: Vec<u64>) {
        let known = (document.0.parse::<CustomerId>())
            .is_ok_and(|id| self.inner().borrow().erased.contains(&id));
        if known {
            // Forgotten already; these were queued after (another tab's late edit).
            if let Ok(store) = self.store().await {
                if let Err(err) = store.delete_outbox(&ids).await {
                    tracing::warn!(cause = %err, "could not delete changes of an erased customer");
                }
            }
            return;
        }
        let entry = LogEntry {
            seq: Seq(0),
            document: document.clone(),
            kind: BlobKind::Erased,
            bytes: Vec::new(),
        };
        if let Err(err) = self
            .merge_and_store(
                vec![entry],
                Vec::new(),
                Vec::new(),
                Vec::new(),
                false,
                false,
            )
            .await
        {
            tracing::error!(cause = %err, document = %document.0, "could not forget an erased customer");
        }
    }

    /// Which customers `entries` erase, and what the write storing them must do: delete
    /// their chunks and unsent changes, set aside the unsent changes of those erased on
    /// another device (not by an erasure in `outbox`, made here), and record them as erased.
    pub(super) async fn erasures_in(
        &self,
        store: &Store,
        entries: &[(LogEntry, Option<EntryProjection>)],
        outbox: &[Upload],
    ) -> Result<Erasures, String> {
        let mut erasures = Erasures::default();
        {
            let inner = self.inner();
            let inner = inner.borrow();
            for (entry, _) in entries {
                if entry.kind != BlobKind::Erased {
                    continue;
                }
                let Ok(id) = entry.document.0.parse::<CustomerId>() else {
                    continue;
                };
                if !inner.erased.contains(&id) && !erasures.ids.contains(&id) {
                    erasures.ids.push(id);
                }
            }
        }
        if erasures.ids.is_empty() {
            return Ok(erasures);
        }
        let erased_here: HashSet<&str> = (outbox.iter())
            .filter(|upload| upload.kind == BlobKind::Erased)
            .map(|upload| upload.document.0.as_str())
            .collect();
        // Heads only, as a hand-over (the bytes of a large unsent outbox are never needed here).
        let unsent = (store.outbox_heads().await).map_err(|err| err.to_string())?;
        let mut set_aside = self.set_aside_stored(store).await;
        for id in &erasures.ids {
            let keys: Vec<u64> = (unsent.iter())
                .filter(|head| head.document.0 == id.as_str() && head.kind != BlobKind::Erased)
                .map(|head| head.id)
                .collect();
            if keys.is_empty() {
                continue;
            }
            if !erased_here.contains(id.as_str()) {
                // The customer as this device has it, its unsent changes included.
                match self
                    .with_doc(id, |cached| cached.doc.customer().clone())
                    .await
                {
                    Ok(customer) => {
                        let key = set_aside.iter().map(|s| s.key + 1).max().unwrap_or(1);
                        set_aside.push(SetAside {
                            key,
                            customer,
                            unsent: keys.len(),
                            at: now(),
                        });
                        erasures.set_aside = true;
                    }
                    Err(err) => {
                        // Its document cannot be read: its changes stay queued (the relay
                        // refuses them, and they are set aside then).
                        tracing::error!(cause = %err, customer = %id, "cannot set aside an erased customer");
                        continue;
                    }
                }
            }
            erasures.delete_outbox.extend(keys);
        }
        let mut all: Vec<String> = {
            let inner = self.inner();
            let inner = inner.borrow();
            inner.erased.iter().map(ToString::to_string).collect()
        };
        all.extend(erasures.ids.iter().map(ToString::to_string));
        shared::order::sort(&mut all);
        erasures.meta.push((ERASED_META, to_meta(&all)));
        if erasures.set_aside {
            erasures.meta.push((SET_ASIDE_META, to_meta(&set_aside)));
        }
        Ok(erasures)
    }

    /// After the write that erased them committed: the customers leave memory, the sync
    /// engine's outbox, this tab's screens and the other tabs.
    pub(super) fn forget_erased(&self, erasures: Erasures) {
        if erasures.ids.is_empty() {
            return;
        }
        self.forget_in_memory_only(&erasures.ids);
        let hook = self.inner().borrow().on_forget.clone();
        if let (Some(hook), false) = (hook, erasures.delete_outbox.is_empty()) {
            hook(erasures.delete_outbox);
        }
        self.tell_page(EngineEvent::Erased {
            ids: erasures.ids.clone(),
            set_aside: erasures.set_aside,
        });
        self.tabs.announce(TabEvent::Erased {
            ids: erasures.ids,
            set_aside: erasures.set_aside,
        });
    }

    /// The customers are gone from this tab's memory (summaries, documents, facts).
    pub(super) fn forget_in_memory_only(&self, ids: &[CustomerId]) {
        let inner = self.inner();
        let mut inner = inner.borrow_mut();
        for id in ids {
            inner.erased.insert(id.clone());
            inner.summaries.remove(id);
            inner.docs.remove(id);
            if let Some(facts) = inner.facts.as_mut() {
                facts.remove(id);
            }
        }
    }

    /// The erased customers' ids, as stored.
    pub(super) async fn load_erased(store: &Store) -> HashSet<CustomerId> {
        match store.get_meta(ERASED_META).await {
            Ok(Some(stored)) => from_meta::<Vec<CustomerId>>(&stored)
                .map(|ids| ids.into_iter().collect())
                .unwrap_or_else(|err| {
                    tracing::error!(cause = %err, "unreadable list of erased customers");
                    HashSet::new()
                }),
            Ok(None) => HashSet::new(),
            Err(err) => {
                tracing::error!(cause = %err, "cannot read the erased customers");
                HashSet::new()
            }
        }
    }

    async fn set_aside_stored(&self, store: &Store) -> Vec<SetAside> {
        match store.get_meta(SET_ASIDE_META).await {
            Ok(Some(stored)) => from_meta(&stored).unwrap_or_else(|err| {
                tracing::error!(cause = %err, "unreadable set-aside customers");
                Vec::new()
            }),
            Ok(None) => Vec::new(),
            Err(err) => {
                tracing::error!(cause = %err, "cannot read the set-aside customers");
                Vec::new()
            }
        }
    }

    /// Customers erased on another device while this one had unsent changes to them.
    pub async fn set_aside(&self) -> Result<Vec<SetAside>, RepoError> {
        let store = self.store().await?;
        Ok(self.set_aside_stored(&store).await)
    }

    /// The rep has dealt with set-aside customer `key` (downloaded or discarded it).
    pub async fn dismiss_set_aside(&self, key: u64) -> Result<(), RepoError> {
        if !self.writes_here().await? {
            return self
                .tabs
                .ask(TabRequest::DismissSetAside(key))
                .await
                .map_err(RepoError::Writer);
        }
        let store = self.store().await?;
        let mut set_aside = self.set_aside_stored(&store).await;
        set_aside.retain(|item| item.key != key);
        store.put_meta(SET_ASIDE_META, &to_meta(&set_aside)).await?;
        Ok(())
    }
}

/// A value as a meta record stores it: postcard, in hex (the codec the engine already
/// has for its messages; JSON of a whole customer added 28 KB to the engine's wasm).
fn to_meta<T: serde::Serialize>(value: &T) -> String {
    hex::encode(encode(value))
}

fn from_meta<T: serde::de::DeserializeOwned>(stored: &str) -> Result<T, String> {
    let bytes = hex::decode(stored).map_err(|err| err.to_string())?;
    decode(&bytes).map_err(|err| err.to_string())
}

/// The upload that erases `customer_id`'s document.
fn erasure_of(customer_id: &CustomerId) -> Upload {
    Upload {
        document: DocumentId(customer_id.to_string()),
        kind: BlobKind::Erased,
        bytes: Vec::new(),
    }
}
