//! [`MemoryLog`]: the relay's log semantics in memory. It is the reference the relay's
//! SQL stores follow (and are tested against), and the relay storage of the deterministic
//! sync simulation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::blob::{BlobKey, ValidUpload};
use crate::sync::protocol::{
    bootstrap_skips, BlobKind, BootstrapPage, BootstrapPhase, BootstrapPosition, DocumentId,
    EntryProjection, ErrorCode, LogEntry, Seq, SpaceId, UploadResult,
};

/// Every space's append-only log.
#[derive(Debug, Default, Clone)]
pub struct MemoryLog {
    spaces: HashMap<SpaceId, SpaceLog>,
}

#[derive(Debug, Default, Clone)]
struct SpaceLog {
    entries: Vec<LogEntry>,
    by_key: HashMap<BlobKey, Seq>,
    /// Per document, the sequence numbers of its snapshots.
    snapshots: BTreeMap<DocumentId, Vec<Seq>>,
    /// What was derived from customer snapshots, by sequence number.
    projections: HashMap<Seq, EntryProjection>,
    documents: BTreeSet<DocumentId>,
    /// Erased documents: no change to them is stored any more.
    erased: BTreeSet<DocumentId>,
    /// Documents moved out (`crate::sync::handover`): the space each went to and the
    /// position there its hand-over snapshot covers. A change to one is forwarded.
    moved: BTreeMap<DocumentId, (SpaceId, Seq)>,
}

/// Why [`MemoryLog::append`] stored nothing of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRefused {
    /// The refused upload's index in the push.
    pub index: u32,
    /// Why, for programs.
    pub code: ErrorCode,
    /// Why, for people.
    pub message: String,
}

/// The words of [`ErrorCode::Erased`] for a change to `document`.
pub fn erased_message(document: &DocumentId) -> String {
    format!(
        "{} was erased on another device; changes to it are no longer stored",
        document.0
    )
}

/// The first upload of `uploads` that changes a document erased before it (in `erased`,
/// or by an earlier upload of the same push); an upload already stored (`stored`) is
/// not a change. Shared by every store, so they refuse the same pushes.
pub fn first_change_to_erased<'a>(
    uploads: impl IntoIterator<Item = &'a ValidUpload>,
    mut erased: impl FnMut(&DocumentId) -> bool,
    mut stored: impl FnMut(&ValidUpload) -> bool,
) -> Option<AppendRefused> {
    let mut erased_here: BTreeSet<&DocumentId> = BTreeSet::new();
    for (index, valid) in uploads.into_iter().enumerate() {
        let document = &valid.upload.document;
        if valid.upload.kind == BlobKind::Erased {
            erased_here.insert(document);
            continue;
        }
        if stored(valid) {
            continue;
        }
        if erased_here.contains(document) || erased(document) {
            return Some(AppendRefused {
                index: index as u32,
                code: ErrorCode::Erased,
                message: erased_message(document),
            });
        }
    }
    None
}

impl SpaceLog {
    /// Empties every entry of `document` (each becomes an erasure without bytes) and
    /// forgets its snapshots and what was derived from them.
    fn erase(&mut self, document: &DocumentId) {
        for entry in &mut self.entries {
            if entry.document == *document {
                entry.kind = BlobKind::Erased;
                entry.bytes = Vec::new();
                self.projections.remove(&entry.seq);
            }
        }
        self.snapshots.remove(document);
        self.documents.remove(document);
        self.erased.insert(document.clone());
    }

    fn head(&self) -> Seq {
        Seq(self.entries.len() as u64)
    }

    /// Appends an entry the relay wrote itself (a move's), under a key no upload has.
    fn push_own(&mut self, document: &DocumentId, kind: BlobKind, bytes: Vec<u8>) -> Seq {
        let seq = Seq(self.entries.len() as u64 + 1);
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seq.0.to_be_bytes());
        key[8] = 0xff;
        for (slot, byte) in key[9..].iter_mut().zip(document.0.bytes()) {
            *slot = byte;
        }
        self.by_key.insert(BlobKey(key), seq);
        if let BlobKind::Snapshot { .. } = kind {
            self.snapshots
                .entry(document.clone())
                .or_default()
                .push(seq);
        }
        self.documents.insert(document.clone());
        self.entries.push(LogEntry {
            seq,
            document: document.clone(),
            kind,
            bytes,
        });
        seq
    }

    fn entry(&self, seq: Seq) -> &LogEntry {
        &self.entries[(seq.0 - 1) as usize]
    }

    /// The latest snapshot of `document` at or before `through`: (seq, covers).
    fn latest_snapshot(&self, document: &DocumentId, through: Seq) -> Option<(Seq, Seq)> {
        let seqs = self.snapshots.get(document)?;
        let seq = *seqs.iter().rev().find(|seq| **seq <= through)?;
        match self.entry(seq).kind {
            BlobKind::Snapshot { covers } => Some((seq, covers)),
            BlobKind::Change | BlobKind::Erased | BlobKind::Moved => None,
        }
    }
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// The latest sequence number of `space` (`Seq(0)` when empty).
    pub fn head(&self, space: &SpaceId) -> Seq {
        self.spaces.get(space).map_or(Seq(0), SpaceLog::head)
    }

    /// Appends uploads in order; an upload whose key is already in the space is not stored
    /// again and reports its earlier position. An erasure empties every earlier entry of
    /// its document; a push that changes an erased document is refused whole.
    pub fn append(
        &mut self,
        space: &SpaceId,
        uploads: &[ValidUpload],
    ) -> Result<(Vec<UploadResult>, Seq), AppendRefused> {
        let log = self.spaces.entry(space.clone()).or_default();
        if let Some(refused) = first_change_to_erased(
            uploads,
            |document| log.erased.contains(document),
            |valid| log.by_key.contains_key(&valid.key),
        ) {
            return Err(refused);
        }
        let mut results = Vec::with_capacity(uploads.len());
        // Changes to documents that moved out, for the space each went to.
        let mut forwards: Vec<(SpaceId, Seq, ValidUpload)> = Vec::new();
        for valid in uploads {
            if let Some(seq) = log.by_key.get(&valid.key) {
                results.push(UploadResult {
                    seq: *seq,
                    duplicate: true,
                });
                continue;
            }
            let seq = Seq(log.entries.len() as u64 + 1);
            let upload = &valid.upload;
            let moved = log.moved.get(&upload.document).cloned();
            if let (Some((to, covers)), BlobKind::Change | BlobKind::Snapshot { .. }) =
                (moved, upload.kind)
            {
                // Stored where the document went; here, a bytes-less move in its place.
                log.entries.push(LogEntry {
                    seq,
                    document: upload.document.clone(),
                    kind: BlobKind::Moved,
                    bytes: Vec::new(),
                });
                log.by_key.insert(valid.key, seq);
                forwards.push((to, covers, valid.clone()));
                results.push(UploadResult {
                    seq,
                    duplicate: false,
                });
                continue;
            }
            log.entries.push(LogEntry {
                seq,
                document: upload.document.clone(),
                kind: upload.kind,
                bytes: upload.bytes.clone(),
            });
            log.by_key.insert(valid.key, seq);
            if let Some(projection) = &valid.projection {
                log.projections
                    .insert(seq, EntryProjection(projection.clone()));
            }
            log.documents.insert(upload.document.clone());
            if let BlobKind::Snapshot { .. } = upload.kind {
                log.snapshots
                    .entry(upload.document.clone())
                    .or_default()
                    .push(seq);
            }
            if upload.kind == BlobKind::Erased {
                log.erase(&upload.document);
            }
            results.push(UploadResult {
                seq,
                duplicate: false,
            });
        }
        let head = log.head();
        for (to, covers, mut valid) in forwards {
            if let BlobKind::Snapshot { .. } = valid.upload.kind {
                valid.upload.kind = BlobKind::Snapshot { covers };
            }
            // A forwarded change is never refused where it goes.
            let _ = self.append(&to, std::slice::from_ref(&valid));
        }
        Ok((results, head))
    }

    /// Moves `documents` from `from` to `to`, as the relay does (`server/src/handover.rs`):
    /// each one's entries folded into a snapshot appended to `to` (covering what `to` had),
    /// a `Moved` entry with its heads appended to `from`; later changes to it in `from` are
    /// forwarded. Returns the documents moved (one not in `from`, erased or moved out
    /// already stays).
    pub fn move_documents(
        &mut self,
        from: &SpaceId,
        to: &SpaceId,
        documents: &[DocumentId],
    ) -> Vec<DocumentId> {
        let mut moved = Vec::new();
        if from == to {
            return moved;
        }
        for document in documents {
            let Some(source) = self.spaces.get(from) else {
                return moved;
            };
            if source.erased.contains(document) || source.moved.contains_key(document) {
                continue;
            }
            let entries = (source.entries.iter())
                .filter(|entry| &entry.document == document && entry.kind != BlobKind::Moved)
                .map(|entry| entry.bytes.as_slice());
            let Ok(handed) = crate::sync::handover::hand_over(&document.0, entries) else {
                continue;
            };
            let target = self.spaces.entry(to.clone()).or_default();
            let covers = target.head();
            target.push_own(document, BlobKind::Snapshot { covers }, handed.snapshot);
            target.moved.remove(document);
            for log in self.spaces.values_mut() {
                if let Some((went, covered)) = log.moved.get_mut(document) {
                    if went == from {
                        *went = to.clone();
                        *covered = covers;
                    }
                }
            }
            let source = self.spaces.entry(from.clone()).or_default();
            source.push_own(document, BlobKind::Moved, handed.heads);
            source.moved.insert(document.clone(), (to.clone(), covers));
            moved.push(document.clone());
        }
        moved
    }

    /// Entries after `since`, at most `max_entries` and, past the first, `max_bytes` of blobs.
    pub fn entries(
        &self,
        space: &SpaceId,
        since: Seq,
        max_entries: usize,
        max_bytes: usize,
    ) -> (Vec<LogEntry>, Vec<Option<EntryProjection>>, Seq) {
        let Some(log) = self.spaces.get(space) else {
            return (Vec::new(), Vec::new(), Seq(0));
        };
        let start = (since.0 as usize).min(log.entries.len());
        let mut page = Vec::new();
        let mut projections = Vec::new();
        let mut bytes = 0;
        for entry in &log.entries[start..] {
            // A snapshot's projection is for bootstraps: a pull sends only changes'.
            let projection = (log.projections.get(&entry.seq))
                .filter(|_| entry.kind == BlobKind::Change)
                .cloned();
            let size = entry.bytes.len() + projection.as_ref().map_or(0, |p| p.0.len());
            if page.len() >= max_entries || (!page.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            page.push(entry.clone());
            projections.push(projection);
        }
        (page, projections, log.head())
    }

    /// One page of a bootstrap: first the latest snapshot of every document (by id), then
    /// the entries those snapshots do not cover ([`bootstrap_skips`]), both limited to the
    /// log as it was when the bootstrap started.
    pub fn bootstrap(
        &self,
        space: &SpaceId,
        position: Option<BootstrapPosition>,
        max_entries: usize,
        max_bytes: usize,
    ) -> BootstrapPage {
        let empty = SpaceLog::default();
        let log = self.spaces.get(space).unwrap_or(&empty);
        let position = position.unwrap_or_else(|| BootstrapPosition {
            through: log.head(),
            total_documents: log.documents.len() as u64,
            phase: BootstrapPhase::Snapshots { after: None },
        });
        let through = position.through.min(log.head());
        let position = BootstrapPosition {
            through,
            ..position
        };
        let mut entries = Vec::new();
        let mut projections = Vec::new();
        let mut bytes = 0;
        let full = |entries: &Vec<LogEntry>, bytes: usize, next: usize| {
            entries.len() >= max_entries || (!entries.is_empty() && bytes + next > max_bytes)
        };
        let mut phase = position.phase.clone();
        if let BootstrapPhase::Snapshots { after } = &position.phase {
            let documents = log
                .snapshots
                .keys()
                .filter(|id| after.as_ref().is_none_or(|a| *id > a));
            let mut last = after.clone();
            for document in documents {
                let Some((seq, _)) = log.latest_snapshot(document, through) else {
                    continue;
                };
                let entry = log.entry(seq);
                if full(&entries, bytes, entry.bytes.len()) {
                    return BootstrapPage::continues(
                        entries,
                        projections,
                        &position,
                        BootstrapPhase::Snapshots { after: last },
                    );
                }
                bytes += entry.bytes.len();
                entries.push(entry.clone());
                projections.push(log.projections.get(&seq).cloned());
                last = Some(document.clone());
            }
            phase = BootstrapPhase::Tail { after: Seq(0) };
        }
        let after = match phase {
            BootstrapPhase::Tail { after } => after,
            BootstrapPhase::Snapshots { .. } => Seq(0),
        };
        let mut last = after;
        for seq in after.0 + 1..=through.0 {
            let entry = log.entry(Seq(seq));
            let skipped = log
                .latest_snapshot(&entry.document, through)
                .is_some_and(|(snapshot, covers)| bootstrap_skips(entry.seq, snapshot, covers));
            if skipped {
                last = entry.seq;
                continue;
            }
            if full(&entries, bytes, entry.bytes.len()) {
                return BootstrapPage::continues(
                    entries,
                    projections,
                    &position,
                    BootstrapPhase::Tail { after: last },
                );
            }
            bytes += entry.bytes.len();
            entries.push(entry.clone());
            projections.push(log.projections.get(&entry.seq).cloned());
            last = entry.seq;
        }
        BootstrapPage {
            entries,
            projections,
            next: None,
            through,
            total_documents: position.total_documents,
        }
    }

    /// Every entry of `space`, in order (for tests).
    pub fn all(&self, space: &SpaceId) -> &[LogEntry] {
        self.spaces.get(space).map_or(&[], |log| &log.entries)
    }
}
