//! [`MemoryLog`]: the relay's log semantics in memory. It is the reference the relay's
//! SQL stores follow (and are tested against), and the relay storage of the deterministic
//! sync simulation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::blob::{BlobKey, ValidUpload};
use crate::sync::protocol::{
    bootstrap_skips, BlobKind, BootstrapPage, BootstrapPhase, BootstrapPosition, DocumentId,
    EntryProjection, LogEntry, Seq, SpaceId, UploadResult,
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
}

impl SpaceLog {
    fn head(&self) -> Seq {
        Seq(self.entries.len() as u64)
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
            BlobKind::Change => None,
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
    /// again and reports its earlier position.
    pub fn append(&mut self, space: &SpaceId, uploads: &[ValidUpload]) -> (Vec<UploadResult>, Seq) {
        let log = self.spaces.entry(space.clone()).or_default();
        let mut results = Vec::with_capacity(uploads.len());
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
            results.push(UploadResult {
                seq,
                duplicate: false,
            });
        }
        (results, log.head())
    }

    /// Entries after `since`, at most `max_entries` and, past the first, `max_bytes` of blobs.
    pub fn entries(
        &self,
        space: &SpaceId,
        since: Seq,
        max_entries: usize,
        max_bytes: usize,
    ) -> (Vec<LogEntry>, Seq) {
        let Some(log) = self.spaces.get(space) else {
            return (Vec::new(), Seq(0));
        };
        let start = (since.0 as usize).min(log.entries.len());
        let mut page = Vec::new();
        let mut bytes = 0;
        for entry in &log.entries[start..] {
            if page.len() >= max_entries
                || (!page.is_empty() && bytes + entry.bytes.len() > max_bytes)
            {
                break;
            }
            bytes += entry.bytes.len();
            page.push(entry.clone());
        }
        (page, log.head())
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
