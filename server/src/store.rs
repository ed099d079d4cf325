//! The change log: one writer task per relay that appends with group commit, and readers
//! that page through the log. SQLite or PostgreSQL (see [`crate::db`]).
//!
//! Appends from every connection go through one channel to [`run_writer`], which takes all
//! waiting requests, stores them in one transaction (assigning gap-free sequence numbers
//! per space and skipping blobs already stored) and commits durably before answering any
//! of them. Blobs are numbered optimistically (nothing stored yet, the usual case) and the
//! unique `(space, blob_key)` index catches a resent one, which sends the batch round again
//! with a lookup first. One commit serves many pushes. Sequence numbers never race: the transaction
//! first locks the row of every space it appends to, in id order (SQLite: the database
//! write lock of `BEGIN IMMEDIATE`; PostgreSQL: `SELECT … FOR UPDATE`, which also
//! serialises the writers of several relays), so the appends of one space commit one after
//! the other in sequence order and a reader never sees seq n+1 before n. In PostgreSQL the
//! transaction also NOTIFYs the new heads, delivered to every relay on commit
//! ([`crate::fanout`]). The semantics follow `shared::sync::MemoryLog`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use shared::sync::memory::first_change_to_erased;
use shared::sync::protocol::{
    bootstrap_skips, BlobKind, BootstrapPhase, BootstrapPosition, DocumentId, EntryProjection,
    ErrorCode, LogEntry, Seq, SpaceId, UploadResult,
};
use shared::sync::{BootstrapPage, ValidUpload};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Database, Dialect};
use crate::health::{Health, PROBE_EVERY};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::with_db;
use std::sync::Arc;

/// Most requests folded into one transaction.
const MAX_BATCH_REQUESTS: usize = 256;

/// Why a store operation failed; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The relay is shutting down.
    #[error("the relay is shutting down")]
    Closed,
}

struct AppendRequest {
    space: SpaceId,
    device: String,
    uploads: Vec<ValidUpload>,
    now: i64,
    reply: oneshot::Sender<Result<(Vec<UploadResult>, Seq), AppendError>>,
}

/// Why a push was not stored (nothing of it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendError {
    /// For the device: [`ErrorCode::Internal`] (retry), [`ErrorCode::QuotaExceeded`] or
    /// [`ErrorCode::Erased`].
    pub code: ErrorCode,
    /// The upload it is about (0 when it is about the whole push).
    pub index: u32,
    /// For people.
    pub message: String,
}

impl AppendError {
    fn internal(message: String) -> AppendError {
        AppendError {
            code: ErrorCode::Internal,
            index: 0,
            message,
        }
    }
}

/// A handle to the log; cheap to clone.
#[derive(Clone)]
pub struct LogStore {
    db: Database,
    relay: Arc<str>,
    writer: mpsc::Sender<AppendRequest>,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
}

/// Bytes of blobs one space may hold, by default (1 GiB: a rep's book of 10,000 customers
/// with their histories is tens of MB).
pub const DEFAULT_SPACE_QUOTA_BYTES: u64 = 1 << 30;

impl LogStore {
    /// A store over `db`, with the writer task's join handle. `relay` names this relay in
    /// the commit notifications (PostgreSQL), so it can ignore its own. Every commit's
    /// outcome and every damaged read goes to `health`; `hub`'s sessions of a territory
    /// are woken when a change pushed to a customer that moved out of another one is
    /// forwarded to it (the pushing session wakes its own space's). The writer ends when
    /// every handle is dropped, after answering what it received.
    pub fn start(
        db: Database,
        relay: String,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
        quota_bytes: u64,
        hub: Arc<Hub>,
    ) -> (LogStore, tokio::task::JoinHandle<()>) {
        let (writer, requests) = mpsc::channel(1024);
        let name: Arc<str> = relay.as_str().into();
        let task = tokio::spawn(run_writer(
            db.clone(),
            relay,
            health.clone(),
            metrics.clone(),
            quota_bytes,
            hub,
            requests,
        ));
        (
            LogStore {
                db,
                relay: name,
                writer,
                health,
                metrics,
            },
            task,
        )
    }

    /// Appends `uploads` durably; returns one result per upload and the new head.
    pub async fn append(
        &self,
        space: &SpaceId,
        device: &str,
        uploads: Vec<ValidUpload>,
        now: i64,
    ) -> Result<(Vec<UploadResult>, Seq), AppendError> {
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            space: space.clone(),
            device: device.to_string(),
            uploads,
            now,
            reply,
        };
        let closed = || AppendError::internal(StoreError::Closed.to_string());
        self.writer.send(request).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// This relay's name in commit notifications.
    pub fn relay(&self) -> &str {
        &self.relay
    }

    /// The latest sequence number of `space`.
    pub async fn head(&self, space: &SpaceId) -> Result<Seq, StoreError> {
        let head: Option<i64> = with_db!(&self.db, pool =>
            sqlx::query_scalar("SELECT head FROM spaces WHERE id = $1")
                .bind(&space.0)
                .fetch_optional(pool)
                .await
                .map_err(|err| self.read_failed(err))?);
        Ok(Seq(head.unwrap_or(0) as u64))
    }

    /// A read failed: damage is recorded (and logged) before the error goes to the device.
    fn read_failed(&self, err: sqlx::Error) -> StoreError {
        self.health.saw(&err);
        self.metrics.storage_error("read");
        tracing::warn!(cause = %err, "a read of the log failed");
        StoreError::Db(err)
    }

    /// Entries after `since`: at most `max_entries`, and past the first, `max_bytes`.
    pub async fn entries(
        &self,
        space: &SpaceId,
        since: Seq,
        max_entries: u32,
        max_bytes: usize,
    ) -> Result<(Vec<LogEntry>, Vec<Option<EntryProjection>>, Seq), StoreError> {
        self.read_entries(space, since, max_entries, max_bytes)
            .await
            .map_err(|err| self.failed(err))
    }

    /// One page of a bootstrap (see `shared::sync::MemoryLog::bootstrap`).
    pub async fn bootstrap(
        &self,
        space: &SpaceId,
        position: Option<BootstrapPosition>,
        max_entries: u32,
        max_bytes: usize,
    ) -> Result<BootstrapPage, StoreError> {
        self.read_bootstrap(space, position, max_entries, max_bytes)
            .await
            .map_err(|err| self.failed(err))
    }

    fn failed(&self, err: StoreError) -> StoreError {
        match err {
            StoreError::Db(err) => self.read_failed(err),
            other => other,
        }
    }

    async fn read_entries(
        &self,
        space: &SpaceId,
        since: Seq,
        max_entries: u32,
        max_bytes: usize,
    ) -> Result<(Vec<LogEntry>, Vec<Option<EntryProjection>>, Seq), StoreError> {
        // Read the head first: entries read afterwards reach at least up to it.
        let head = self.head(space).await?;
        let rows = with_db!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT seq, document, kind, covers, bytes, projection FROM log \
                 WHERE space = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(&space.0)
            // A cursor past every possible position is past the head, not before the start.
            .bind(db_seq(since))
            .bind(i64::from(max_entries))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let projection: Option<Vec<u8>> = row.try_get("projection")?;
                    Ok::<_, sqlx::Error>((entry_of(row)?, projection.map(EntryProjection)))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        let mut entries = Vec::with_capacity(rows.len());
        let mut projections = Vec::with_capacity(rows.len());
        let mut bytes = 0;
        for (entry, projection) in rows {
            // A snapshot's projection is for bootstraps: a pull sends only changes'.
            let projection = projection.filter(|_| entry.kind == BlobKind::Change);
            let size = entry.bytes.len() + projection.as_ref().map_or(0, |p| p.0.len());
            if !entries.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            entries.push(entry);
            projections.push(projection);
        }
        let head = entries.last().map_or(head, |last| head.max(last.seq));
        Ok((entries, projections, head))
    }

    /// The snapshots among `rows` whose stored projection an earlier build wrote (another
    /// fingerprint: no device of this build reads it, and each would load and merge the
    /// document instead, ~6× the download of a book) get a projection made again from the
    /// snapshot (`blob::project_again`, on a blocking thread: ~1 ms a document), written
    /// back so it is made once. A failed write only means it is made again next time.
    async fn project_again(
        &self,
        space: &SpaceId,
        mut rows: Vec<(LogEntry, Option<EntryProjection>)>,
    ) -> Vec<(LogEntry, Option<EntryProjection>)> {
        let stale: Vec<usize> = (rows.iter().enumerate())
            .filter(|(_, (entry, projection))| {
                matches!(entry.kind, BlobKind::Snapshot { .. })
                    && projection
                        .as_ref()
                        .is_some_and(|p| !shared::model::snapshot::of_this_build(&p.0))
            })
            .map(|(at, _)| at)
            .collect();
        if stale.is_empty() {
            return rows;
        }
        let snapshots: Vec<(Vec<u8>, String)> = (stale.iter())
            .map(|at| (rows[*at].0.bytes.clone(), rows[*at].0.document.0.clone()))
            .collect();
        let made = tokio::task::spawn_blocking(move || {
            (snapshots.iter())
                .map(|(bytes, id)| shared::sync::blob::project_again(bytes, id))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let mut written = Vec::new();
        for (at, projection) in stale.into_iter().zip(made) {
            // None (not a customer's snapshot any more): the device loads the document.
            rows[at].1 = projection.clone().map(EntryProjection);
            written.push((rows[at].0.seq, projection));
        }
        let count = written.len();
        let result: Result<(), sqlx::Error> = with_db!(&self.db, pool => {
            async {
                let mut tx = pool.begin().await?;
                for (seq, projection) in &written {
                    sqlx::query(
                        "UPDATE log SET projection = $1 WHERE space = $2 AND seq = $3 AND kind = 1",
                    )
                    .bind(projection.as_deref())
                    .bind(&space.0)
                    .bind(db_seq(*seq))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            }
            .await
        });
        match result {
            Ok(()) => {
                tracing::info!(space = %space.0, count, "projections of an earlier build made again")
            }
            Err(err) => {
                tracing::warn!(space = %space.0, count, cause = %err, "projections made again, not stored")
            }
        }
        rows
    }

    async fn read_bootstrap(
        &self,
        space: &SpaceId,
        position: Option<BootstrapPosition>,
        max_entries: u32,
        max_bytes: usize,
    ) -> Result<BootstrapPage, StoreError> {
        let position = match position {
            Some(position) => position,
            None => {
                let through = self.head(space).await?;
                let total: i64 = with_db!(&self.db, pool => sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT document) FROM log WHERE space = $1 AND seq <= $2 AND kind <> 2",
                )
                .bind(&space.0)
                .bind(db_seq(through))
                .fetch_one(pool)
                .await?);
                BootstrapPosition {
                    through,
                    total_documents: total as u64,
                    phase: BootstrapPhase::Snapshots { after: None },
                }
            }
        };
        let through = position.through;
        let mut entries = Vec::new();
        let mut projections = Vec::new();
        let mut bytes = 0;
        let mut after_seq = Seq(0);
        if let BootstrapPhase::Snapshots { after } = &position.phase {
            // The latest snapshot (at or before `through`) of each document after `after`.
            let rows = with_db!(&self.db, pool => {
                let rows = sqlx::query(
                    "SELECT l.seq, l.document, l.kind, l.covers, l.bytes, l.projection FROM log l \
                     WHERE l.space = $1 AND l.kind = 1 AND l.document > $2 AND l.seq = ( \
                         SELECT MAX(s.seq) FROM log s WHERE s.space = $1 AND s.document = l.document \
                         AND s.kind = 1 AND s.seq <= $3) \
                     ORDER BY l.document LIMIT $4",
                )
                .bind(&space.0)
                .bind(after.as_ref().map_or("", |after| after.0.as_str()))
                .bind(db_seq(through))
                .bind(i64::from(max_entries) + 1)
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let projection: Option<Vec<u8>> = row.try_get("projection")?;
                        Ok::<_, sqlx::Error>((entry_of(row)?, projection.map(EntryProjection)))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            });
            let rows = self.project_again(space, rows).await;
            for (entry, projection) in rows {
                let full = entries.len() >= max_entries as usize
                    || (!entries.is_empty() && bytes + entry.bytes.len() > max_bytes);
                if full {
                    let last = entries.last().map(|e: &LogEntry| e.document.clone());
                    return Ok(BootstrapPage::continues(
                        entries,
                        projections,
                        &position,
                        BootstrapPhase::Snapshots { after: last },
                    ));
                }
                bytes += entry.bytes.len();
                entries.push(entry);
                projections.push(projection);
            }
        } else if let BootstrapPhase::Tail { after } = position.phase {
            after_seq = after;
        }
        // The tail: entries not covered by their document's latest snapshot.
        let rows = with_db!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT e.seq, e.document, e.kind, e.covers, e.bytes, e.projection, \
                        s.seq AS snapshot_seq, s.covers AS snapshot_covers \
                 FROM log e LEFT JOIN log s ON s.space = e.space AND s.seq = ( \
                     SELECT MAX(x.seq) FROM log x WHERE x.space = e.space AND x.document = e.document \
                     AND x.kind = 1 AND x.seq <= $3) \
                 WHERE e.space = $1 AND e.seq > $2 AND e.seq <= $3 ORDER BY e.seq LIMIT $4",
            )
            .bind(&space.0)
            .bind(db_seq(after_seq))
            .bind(db_seq(through))
            .bind(i64::from(max_entries) * 4 + 1)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let snapshot: Option<i64> = row.try_get("snapshot_seq")?;
                    let covers: Option<i64> = row.try_get("snapshot_covers")?;
                    let projection: Option<Vec<u8>> = row.try_get("projection")?;
                    Ok::<_, sqlx::Error>((
                        entry_of(row)?,
                        projection.map(EntryProjection),
                        snapshot,
                        covers,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?
        });
        let scanned_all = rows.len() < (max_entries as usize) * 4 + 1;
        let mut last = after_seq;
        for (entry, projection, snapshot, covers) in rows {
            let skipped = match (snapshot, covers) {
                (Some(snapshot), Some(covers)) => {
                    bootstrap_skips(entry.seq, Seq(snapshot as u64), Seq(covers as u64))
                }
                _ => false,
            };
            if !skipped {
                let full = entries.len() >= max_entries as usize
                    || (!entries.is_empty() && bytes + entry.bytes.len() > max_bytes);
                if full {
                    return Ok(BootstrapPage::continues(
                        entries,
                        projections,
                        &position,
                        BootstrapPhase::Tail { after: last },
                    ));
                }
                bytes += entry.bytes.len();
            }
            last = entry.seq;
            if !skipped {
                entries.push(entry);
                projections.push(projection);
            }
        }
        if !scanned_all {
            return Ok(BootstrapPage::continues(
                entries,
                projections,
                &position,
                BootstrapPhase::Tail { after: last },
            ));
        }
        Ok(BootstrapPage {
            entries,
            projections,
            next: None,
            through,
            total_documents: position.total_documents,
        })
    }
}

/// The `kind` column: a change, a snapshot, an erasure (the marker, and every earlier
/// entry of the erased document, emptied).
const KIND_CHANGE: i64 = 0;
pub(crate) const KIND_SNAPSHOT: i64 = 1;
pub(crate) const KIND_ERASED: i64 = 2;
/// A customer that moved to another territory (`shared::sync::handover`): the move itself
/// (with the handed-over heads as bytes), and in place of every change pushed to it here
/// afterwards (without bytes; the change went to `moved_documents.to_space`).
pub(crate) const KIND_MOVED: i64 = 3;

/// A position as the database stores it. Positions come from devices too (a cursor, an
/// echoed bootstrap position, a snapshot's coverage): one past every stored position is
/// read as "after everything", never wrapped to a negative number ("before the start").
fn db_seq(seq: Seq) -> i64 {
    i64::try_from(seq.0).unwrap_or(i64::MAX)
}

/// A log row (`seq, document, kind, covers, bytes`) of either backend.
fn entry_of<R: Row>(row: &R) -> Result<LogEntry, sqlx::Error>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let seq: i64 = row.try_get("seq")?;
    let kind: i64 = row.try_get("kind")?;
    let covers: Option<i64> = row.try_get("covers")?;
    Ok(LogEntry {
        seq: Seq(seq as u64),
        document: DocumentId(row.try_get("document")?),
        kind: match kind {
            KIND_SNAPSHOT => BlobKind::Snapshot {
                covers: Seq(covers.unwrap_or(0) as u64),
            },
            KIND_ERASED => BlobKind::Erased,
            KIND_MOVED => BlobKind::Moved,
            _ => BlobKind::Change,
        },
        bytes: row.try_get("bytes")?,
    })
}

/// The single writer: folds waiting append requests into one transaction per round.
/// While commits fail it probes every [`PROBE_EVERY`] between requests, so its health
/// recovers once the cause is gone (see [`crate::health`]).
async fn run_writer(
    db: Database,
    relay: String,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    quota_bytes: u64,
    hub: Arc<Hub>,
    mut requests: mpsc::Receiver<AppendRequest>,
) {
    let mut batch = Vec::new();
    loop {
        let received = if health.writes_failing() {
            tokio::select! {
                received = requests.recv_many(&mut batch, MAX_BATCH_REQUESTS) => received,
                () = tokio::time::sleep(PROBE_EVERY) => {
                    match probe(&db).await {
                        Ok(()) => health.write_succeeded(),
                        Err(err) => health.write_failed(&err),
                    }
                    continue;
                }
            }
        } else {
            requests.recv_many(&mut batch, MAX_BATCH_REQUESTS).await
        };
        if received == 0 {
            break;
        }
        let started = std::time::Instant::now();
        let result = write_batch(&db, &relay, quota_bytes, &batch).await;
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok((answers, forwarded)) => {
                health.write_succeeded();
                for (space, head) in &forwarded {
                    hub.wake(space, *head, None);
                }
                for answer in &answers {
                    match answer {
                        Ok((results, _)) => {
                            metrics.pushes_acked.inc();
                            metrics
                                .blobs_stored
                                .inc_by(results.iter().filter(|r| !r.duplicate).count() as u64);
                        }
                        Err(err) if err.code == ErrorCode::QuotaExceeded => {
                            metrics.quota_refusals.inc();
                        }
                        Err(_) => {}
                    }
                }
                for (request, answer) in batch.drain(..).zip(answers) {
                    let _ = request.reply.send(answer);
                }
            }
            Err(err) => {
                health.write_failed(&err);
                metrics.storage_error("commit");
                tracing::error!(cause = %err, requests = batch.len(), "append failed; nothing stored");
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(AppendError::internal(format!(
                        "the relay could not store the changes: {err}"
                    ))));
                }
            }
        }
    }
}

/// One small durable write (a row of `health_probe`), to see whether commits work again.
async fn probe(db: &Database) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
        let mut conn = pool.acquire().await?;
        let result = sqlx::query("UPDATE health_probe SET checked_at = $1 WHERE id = 1")
            .bind(crate::now_ms())
            .execute(&mut *conn)
            .await;
        if result.is_err() {
            conn.close_on_drop();
        }
        result.map(drop)
    })
}

/// What an append request is answered: one result per upload, and the space's new head.
type Answer = Result<(Vec<UploadResult>, Seq), AppendError>;

/// Rows per multi-row INSERT (10 bound values each; far below either backend's limit).
const INSERT_CHUNK_ROWS: usize = 200;
/// Keys per duplicate lookup.
const LOOKUP_CHUNK_KEYS: usize = 500;

/// A log row about to be inserted.
struct NewRow<'a> {
    space: &'a SpaceId,
    seq: Seq,
    valid: &'a ValidUpload,
    device: &'a str,
    now: i64,
    stored_as: StoredAs,
}

/// How a row stores its upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredAs {
    /// As uploaded.
    Upload,
    /// In the space the device pushed to, for a customer that moved out of it: a `Moved`
    /// entry without bytes (the upload's key, so a resend is a duplicate).
    MovedAway,
    /// In the territory the customer moved to: the upload; a snapshot covers what the
    /// customer's hand-over snapshot there covers (its own `covers` counted positions of
    /// the other log, and it holds all the customer had there before: the device that
    /// made it had the customer from a hand-over that held all of that).
    Forwarded(Seq),
}

/// A space's head and the blob bytes it holds, before the batch.
#[derive(Debug, Clone, Copy, Default)]
struct SpaceState {
    head: Seq,
    stored_bytes: u64,
}

/// Numbers a batch: every upload not already stored (in the log: `stored`, or earlier in
/// this batch) takes the next sequence number of its space. A request whose new blobs
/// would take its space past `quota_bytes` is refused whole (nothing of it stored).
/// Returns the rows to insert, one answer per request and the spaces' new states.
fn number<'a>(
    batch: &'a [AppendRequest],
    mut spaces: HashMap<&'a SpaceId, SpaceState>,
    stored: &HashMap<(&'a SpaceId, [u8; 32]), Seq>,
    erased: &HashSet<(&'a SpaceId, String)>,
    quota_bytes: u64,
) -> (
    Vec<NewRow<'a>>,
    Vec<Answer>,
    HashMap<&'a SpaceId, SpaceState>,
) {
    // Blobs numbered in this batch so far, so a blob sent twice in one batch is stored once.
    let mut pending: HashMap<(&SpaceId, [u8; 32]), Seq> = HashMap::new();
    let mut rows = Vec::new();
    let mut answers = Vec::with_capacity(batch.len());
    // Documents erased by requests of this batch already answered.
    let mut erased_here: HashSet<(&SpaceId, &str)> = HashSet::new();
    for request in batch {
        let refused = first_change_to_erased(
            &request.uploads,
            |document| {
                erased.contains(&(&request.space, document.0.clone()))
                    || erased_here.contains(&(&request.space, document.0.as_str()))
            },
            |valid| {
                let key = (&request.space, valid.key.0);
                stored.contains_key(&key) || pending.contains_key(&key)
            },
        );
        if let Some(refused) = refused {
            answers.push(Err(AppendError {
                code: refused.code,
                index: refused.index,
                message: refused.message,
            }));
            continue;
        }
        let before = spaces.get(&request.space).copied().unwrap_or_default();
        let mut state = before;
        let mut results = Vec::with_capacity(request.uploads.len());
        let mut new_rows = Vec::new();
        let mut new_keys: HashMap<(&SpaceId, [u8; 32]), Seq> = HashMap::new();
        for valid in &request.uploads {
            let key = (&request.space, valid.key.0);
            if let Some(seq) = stored
                .get(&key)
                .or_else(|| pending.get(&key))
                .or_else(|| new_keys.get(&key))
            {
                results.push(UploadResult {
                    seq: *seq,
                    duplicate: true,
                });
                continue;
            }
            state.head = Seq(state.head.0 + 1);
            state.stored_bytes += valid.upload.bytes.len() as u64;
            new_keys.insert(key, state.head);
            new_rows.push(NewRow {
                space: &request.space,
                seq: state.head,
                valid,
                device: &request.device,
                now: request.now,
                stored_as: StoredAs::Upload,
            });
            results.push(UploadResult {
                seq: state.head,
                duplicate: false,
            });
        }
        if state.stored_bytes > quota_bytes && state.stored_bytes > before.stored_bytes {
            tracing::warn!(space = %request.space.0, stored_bytes = before.stored_bytes, quota_bytes, "push refused: storage quota");
            answers.push(Err(AppendError {
                code: ErrorCode::QuotaExceeded,
                index: 0,
                message: format!(
                    "this space holds {} of its {} MiB; {} more bytes do not fit",
                    mib(before.stored_bytes),
                    mib(quota_bytes),
                    state.stored_bytes - before.stored_bytes
                ),
            }));
            continue;
        }
        pending.extend(new_keys);
        for row in &new_rows {
            if row.valid.upload.kind == BlobKind::Erased {
                erased_here.insert((row.space, row.valid.upload.document.0.as_str()));
            }
        }
        rows.extend(new_rows);
        spaces.insert(&request.space, state);
        answers.push(Ok((results, state.head)));
    }
    (rows, answers, spaces)
}

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// How a backend finds which of a space's blob keys its log already holds.
trait StoredKeys {
    /// `(blob_key, seq)` of every key of `keys` stored in `space`.
    async fn stored_keys(
        &mut self,
        space: &SpaceId,
        keys: &[&ValidUpload],
    ) -> Result<Vec<(Vec<u8>, i64)>, sqlx::Error>;

    /// Which of `documents` are erased in `space`.
    async fn erased_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<String>, sqlx::Error>;

    /// Which of `documents` moved out of `space`: each with the space it is in now and
    /// the position there its hand-over snapshot covers.
    async fn moved_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error>;
}

impl StoredKeys for sqlx::SqliteConnection {
    async fn stored_keys(
        &mut self,
        space: &SpaceId,
        keys: &[&ValidUpload],
    ) -> Result<Vec<(Vec<u8>, i64)>, sqlx::Error> {
        let mut found = Vec::new();
        for chunk in keys.chunks(LOOKUP_CHUNK_KEYS) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT blob_key, seq FROM log WHERE space = ",
            );
            query.push_bind(&space.0).push(" AND blob_key IN (");
            let mut list = query.separated(", ");
            for valid in chunk {
                list.push_bind(&valid.key.0[..]);
            }
            query.push(")");
            found.extend(query.build_query_as().fetch_all(&mut *self).await?);
        }
        Ok(found)
    }

    async fn erased_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<String>, sqlx::Error> {
        let mut found = Vec::new();
        for chunk in documents.chunks(LOOKUP_CHUNK_KEYS) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT DISTINCT document FROM log WHERE kind = 2 AND space = ",
            );
            query.push_bind(&space.0).push(" AND document IN (");
            let mut list = query.separated(", ");
            for document in chunk {
                list.push_bind(*document);
            }
            query.push(")");
            found.extend(query.build_query_scalar().fetch_all(&mut *self).await?);
        }
        Ok(found)
    }

    async fn moved_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let mut found = Vec::new();
        for chunk in documents.chunks(LOOKUP_CHUNK_KEYS) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT document, to_space, covers FROM moved_documents WHERE space = ",
            );
            query.push_bind(&space.0).push(" AND document IN (");
            let mut list = query.separated(", ");
            for document in chunk {
                list.push_bind(*document);
            }
            query.push(")");
            found.extend(query.build_query_as().fetch_all(&mut *self).await?);
        }
        Ok(found)
    }
}

impl StoredKeys for sqlx::PgConnection {
    async fn stored_keys(
        &mut self,
        space: &SpaceId,
        keys: &[&ValidUpload],
    ) -> Result<Vec<(Vec<u8>, i64)>, sqlx::Error> {
        // A join on the unique (space, blob_key) index, one probe per key. Not `blob_key IN
        // (…)`: PostgreSQL's cost model has no "unique, so one row" shortcut for an IN list,
        // and a plan cached while the table was small scanned every row of the space for
        // each lookup (16 ms per push at 16,000 rows, most of a batch's time).
        let keys: Vec<&[u8]> = keys.iter().map(|valid| &valid.key.0[..]).collect();
        sqlx::query_as(
            "SELECT l.blob_key, l.seq FROM unnest($2::bytea[]) AS k(key) \
             JOIN log l ON l.space = $1 AND l.blob_key = k.key",
        )
        .bind(&space.0)
        .bind(keys)
        .fetch_all(&mut *self)
        .await
    }

    async fn erased_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT DISTINCT l.document FROM unnest($2::text[]) AS d(id) \
             JOIN log l ON l.space = $1 AND l.document = d.id AND l.kind = 2",
        )
        .bind(&space.0)
        .bind(documents)
        .fetch_all(&mut *self)
        .await
    }

    async fn moved_among(
        &mut self,
        space: &SpaceId,
        documents: &[&str],
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT m.document, m.to_space, m.covers FROM unnest($2::text[]) AS d(id) \
             JOIN moved_documents m ON m.space = $1 AND m.document = d.id",
        )
        .bind(&space.0)
        .bind(documents)
        .fetch_all(&mut *self)
        .await
    }
}

/// Writes a space's new head and stored bytes in the transaction and, where commits
/// announce themselves (PostgreSQL), notifies every relay of the head on commit.
pub(crate) trait SetHead {
    async fn set_head(
        &mut self,
        relay: &str,
        space: &SpaceId,
        head: Seq,
        stored_bytes: u64,
    ) -> Result<(), sqlx::Error>;
}

macro_rules! set_head_for {
    ($connection:ty, $db:ty) => {
        impl SetHead for $connection {
            async fn set_head(
                &mut self,
                relay: &str,
                space: &SpaceId,
                head: Seq,
                stored_bytes: u64,
            ) -> Result<(), sqlx::Error> {
                sqlx::query("UPDATE spaces SET head = $1, stored_bytes = $2 WHERE id = $3")
                    .bind(db_seq(head))
                    .bind(i64::try_from(stored_bytes).unwrap_or(i64::MAX))
                    .bind(&space.0)
                    .execute(&mut *self)
                    .await?;
                if <$db as Dialect>::NOTIFIES {
                    // Delivered to every relay when (and only if) the transaction commits.
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(crate::fanout::CHANNEL)
                        .bind(crate::fanout::head_payload(relay, space, head))
                        .execute(&mut *self)
                        .await?;
                }
                Ok(())
            }
        }
    };
}
set_head_for!(sqlx::SqliteConnection, sqlx::Sqlite);
set_head_for!(sqlx::PgConnection, sqlx::Postgres);

/// The territories changes of a batch were forwarded to, with their new heads.
type Forwarded = Vec<(SpaceId, Seq)>;

/// The documents each space of `batch` changes (not erasures).
fn changed_documents<'a>(batch: &'a [AppendRequest], space: &SpaceId) -> Vec<&'a str> {
    let documents: BTreeSet<&str> = (batch.iter())
        .filter(|request| request.space == *space)
        .flat_map(|request| &request.uploads)
        .filter(|valid| valid.upload.kind != BlobKind::Erased)
        .map(|valid| valid.upload.document.0.as_str())
        .collect();
    documents.into_iter().collect()
}

async fn write_batch(
    db: &Database,
    relay: &str,
    quota_bytes: u64,
    batch: &[AppendRequest],
) -> Result<(Vec<Answer>, Forwarded), sqlx::Error> {
    // Every space of the batch, in id order: locks are always taken in the same order, so
    // two relays' writers cannot deadlock.
    let spaces: BTreeSet<&SpaceId> = batch.iter().map(|request| &request.space).collect();
    // Territories the batch's moved customers went to (`shared::sync::handover`): read
    // before locking, so they are locked in the same order as the rest. A move committed
    // in between is seen under the locks and sends the batch round again, its territory
    // locked too.
    let mut targets: BTreeSet<SpaceId> = BTreeSet::new();
    with_db!(db, pool => {
        // A failed transaction can leave its connection unusable: after SQLite's "database
        // or disk is full" the rollback fails too and every later BEGIN on that connection
        // is refused, which wedged the relay until a restart. A connection whose
        // transaction failed is therefore closed, and the next one starts fresh.
        let mut conn = pool.acquire().await?;
        let outcome: Result<(Vec<Answer>, Forwarded), sqlx::Error> = async {
        for space in &spaces {
            let documents = changed_documents(batch, space);
            for (_, to, _) in conn.moved_among(space, &documents).await? {
                targets.insert(SpaceId(to));
            }
        }
        // First attempt: number the batch as if none of its blobs were stored yet (the
        // usual case) and let the unique (space, blob_key) index say otherwise. If a blob
        // was stored already (a device resending after a lost acknowledgement), the
        // numbering would have a gap: roll back and number again, knowing the log's keys.
        let mut look_up = false;
        loop {
        let locked: BTreeSet<&SpaceId> = spaces.iter().copied().chain(targets.iter()).collect();
        let mut tx = sqlx::Connection::begin_with(&mut *conn, <Db as Dialect>::BEGIN).await?;
        let mut states: HashMap<&SpaceId, SpaceState> = HashMap::new();
        for space in &locked {
            let (head, stored_bytes): (i64, i64) = sqlx::query_as(<Db as Dialect>::LOCK_HEAD)
                .bind(&space.0)
                .fetch_one(&mut *tx)
                .await?;
            states.insert(
                *space,
                SpaceState {
                    head: Seq(head as u64),
                    stored_bytes: stored_bytes.max(0) as u64,
                },
            );
        }
        // Which documents the batch changes are erased (under the space's lock too). A
        // change to one is refused unless it is stored already (then it is a duplicate,
        // emptied by the erasure): that takes the lookup below.
        let mut erased: HashSet<(&SpaceId, String)> = HashSet::new();
        // Which of them moved to another territory, and where.
        let mut moved: HashMap<(&SpaceId, String), (SpaceId, Seq)> = HashMap::new();
        for space in &spaces {
            let documents = changed_documents(batch, space);
            for document in tx.erased_among(space, &documents).await? {
                erased.insert((*space, document));
            }
            for (document, to, covers) in tx.moved_among(space, &documents).await? {
                moved.insert((*space, document), (SpaceId(to), Seq(covers.max(0) as u64)));
            }
        }
        let unlocked: Vec<SpaceId> = (moved.values())
            .filter(|(to, _)| !locked.contains(to))
            .map(|(to, _)| to.clone())
            .collect();
        if !unlocked.is_empty() {
            tx.rollback().await?;
            targets.extend(unlocked);
            continue;
        }
        look_up |= !erased.is_empty();
        // Which of these blobs the log already holds (under the space's lock: a blob
        // another relay committed is seen here).
        let mut stored: HashMap<(&SpaceId, [u8; 32]), Seq> = HashMap::new();
        if look_up {
            for request in batch {
                let keys: Vec<&ValidUpload> = request.uploads.iter().collect();
                for (key, seq) in tx.stored_keys(&request.space, &keys).await? {
                    if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                        stored.insert((&request.space, key), Seq(seq as u64));
                    }
                }
            }
        }
        let (mut rows, answers, mut states) = number(batch, states, &stored, &erased, quota_bytes);
        // Changes to customers that moved out: stored where the customer went, and here as
        // a `Moved` entry in their place (the pushing device's acknowledgement).
        let mut to_forward: BTreeMap<&SpaceId, Vec<(usize, Seq)>> = BTreeMap::new();
        for (index, row) in rows.iter_mut().enumerate() {
            if !matches!(row.valid.upload.kind, BlobKind::Change | BlobKind::Snapshot { .. }) {
                continue;
            }
            let Some((to, covers)) = (moved.get(&(row.space, row.valid.upload.document.0.clone())))
                .and_then(|(to, covers)| Some((*locked.get(to)?, *covers)))
            else {
                continue;
            };
            row.stored_as = StoredAs::MovedAway;
            if let Some(state) = states.get_mut(row.space) {
                state.stored_bytes =
                    (state.stored_bytes).saturating_sub(row.valid.upload.bytes.len() as u64);
            }
            to_forward.entry(to).or_default().push((index, covers));
        }
        let mut forwarded: Forwarded = Vec::new();
        for (to, indices) in to_forward {
            let valids: Vec<&ValidUpload> =
                indices.iter().map(|&(index, _)| rows[index].valid).collect();
            let mut seen: HashSet<Vec<u8>> = (tx.stored_keys(to, &valids).await?)
                .into_iter()
                .map(|(key, _)| key)
                .collect();
            seen.extend((rows.iter())
                .filter(|row| row.space == to)
                .map(|row| row.valid.key.0.to_vec()));
            let Some(state) = states.get_mut(to) else {
                continue;
            };
            for (index, covers) in indices {
                let row = &rows[index];
                if !seen.insert(row.valid.key.0.to_vec()) {
                    continue;
                }
                state.head = Seq(state.head.0 + 1);
                state.stored_bytes += row.valid.upload.bytes.len() as u64;
                let forward = NewRow {
                    space: to,
                    seq: state.head,
                    valid: row.valid,
                    device: row.device,
                    now: row.now,
                    stored_as: StoredAs::Forwarded(covers),
                };
                rows.push(forward);
            }
            forwarded.push((to.clone(), state.head));
        }
        let mut inserted = 0u64;
        for chunk in rows.chunks(INSERT_CHUNK_ROWS) {
            let mut insert = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO log (space, seq, document, kind, covers, blob_key, bytes, device, created_at, projection) ",
            );
            insert.push_values(chunk, |mut values, row| {
                let upload = &row.valid.upload;
                let (kind, covers) = match (row.stored_as, upload.kind) {
                    (StoredAs::MovedAway, _) | (_, BlobKind::Moved) => (KIND_MOVED, None),
                    (_, BlobKind::Change) => (KIND_CHANGE, None),
                    (StoredAs::Forwarded(covers), BlobKind::Snapshot { .. }) => {
                        (KIND_SNAPSHOT, Some(db_seq(covers)))
                    }
                    (_, BlobKind::Snapshot { covers }) => (KIND_SNAPSHOT, Some(db_seq(covers))),
                    (_, BlobKind::Erased) => (KIND_ERASED, None),
                };
                let (bytes, projection): (&[u8], Option<&[u8]>) = match row.stored_as {
                    StoredAs::MovedAway => (&[], None),
                    _ => (&upload.bytes, row.valid.projection.as_deref()),
                };
                values
                    .push_bind(&row.space.0)
                    .push_bind(db_seq(row.seq))
                    .push_bind(&upload.document.0)
                    .push_bind(kind)
                    .push_bind(covers)
                    .push_bind(&row.valid.key.0[..])
                    .push_bind(bytes)
                    .push_bind(row.device)
                    .push_bind(row.now)
                    .push_bind(projection);
            });
            // After the lookup a conflict is a bug, and fails the whole transaction
            // (nothing stored, every request answered with an error) rather than leaving
            // a gap in the sequence numbers.
            if !look_up {
                insert.push(" ON CONFLICT (space, blob_key) DO NOTHING");
            }
            inserted += insert.build().execute(&mut *tx).await?.rows_affected();
        }
        if inserted < rows.len() as u64 {
            tx.rollback().await?;
            look_up = true;
            continue;
        }
        // Erasures: every earlier entry of the document is emptied where it stands (the
        // log stays gap-free) and its bytes leave the space's quota.
        let erasures: Vec<(&SpaceId, &str)> = (rows.iter())
            .filter(|row| row.valid.upload.kind == BlobKind::Erased)
            .map(|row| (row.space, row.valid.upload.document.0.as_str()))
            .collect();
        for (space, document) in &erasures {
            let freed: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(LENGTH(bytes)), 0) AS BIGINT) FROM log \
                 WHERE space = $1 AND document = $2 AND kind <> 2",
            )
            .bind(&space.0)
            .bind(*document)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE log SET kind = 2, bytes = $3, covers = NULL, projection = NULL \
                 WHERE space = $1 AND document = $2 AND kind <> 2",
            )
            .bind(&space.0)
            .bind(*document)
            .bind(Vec::<u8>::new())
            .execute(&mut *tx)
            .await?;
            if let Some(state) = states.get_mut(space) {
                state.stored_bytes = state.stored_bytes.saturating_sub(freed.max(0) as u64);
            }
            tracing::info!(space = %space.0, %document, freed_bytes = freed, "document erased");
        }
        for (space, state) in &states {
            tx.set_head(relay, space, state.head, state.stored_bytes).await?;
        }
        tx.commit().await?;
        if let (false, Some(statement)) = (erasures.is_empty(), <Db as Dialect>::AFTER_ERASURE) {
            // The commit stands either way; a checkpoint that fails (busy readers) leaves
            // the erased bytes in the write-ahead log until the next one.
            if let Err(err) = sqlx::query(statement).execute(&mut *conn).await {
                tracing::warn!(cause = %err, "could not truncate the write-ahead log after an erasure");
            }
        }
        return Ok((answers, forwarded));
        }
        }
        .await;
        if outcome.is_err() {
            conn.close_on_drop();
        }
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::sync::protocol::Upload;
    use shared::{CustomerDoc, Timestamp};

    async fn store_with_space(dir: &std::path::Path) -> (LogStore, SpaceId) {
        let db = crate::db::open(&crate::db::DatabaseTarget::Sqlite(
            dir.join(crate::db::DB_FILE_NAME),
        ))
        .await
        .unwrap();
        let crate::db::Database::Sqlite(pool) = &db else {
            unreachable!()
        };
        sqlx::query("INSERT INTO accounts (id, email, password_hash, created_at) VALUES ('a', 'a@example.com', 'x', 0)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO spaces (id, owner, created_at) VALUES ('s', 'a', 0)")
            .execute(pool)
            .await
            .unwrap();
        (
            LogStore::start(
                db,
                "r".into(),
                Arc::new(Health::default()),
                Arc::new(Metrics::default()),
                DEFAULT_SPACE_QUOTA_BYTES,
                Arc::new(Hub::default()),
            )
            .0,
            SpaceId("s".into()),
        )
    }

    /// `n` distinct valid changes of one customer document.
    fn changes(n: usize) -> Vec<ValidUpload> {
        let now = Timestamp(1_795_341_600_000);
        let mut doc = CustomerDoc::create(
            shared::seed::customer(1, 1, now),
            automerge::ActorId::from(vec![7u8; 16]),
            now,
        )
        .unwrap();
        (0..n)
            .map(|i| {
                doc.update(now, |c| c.job_title = format!("job {i}"))
                    .unwrap();
                let upload = Upload {
                    document: shared::sync::protocol::DocumentId(doc.customer().id.to_string()),
                    kind: BlobKind::Change,
                    bytes: doc.last_local_change().unwrap(),
                };
                shared::sync::blob::validate(upload, 1 << 20).unwrap()
            })
            .collect()
    }

    fn seqs(results: &[UploadResult]) -> Vec<(u64, bool)> {
        results.iter().map(|r| (r.seq.0, r.duplicate)).collect()
    }

    #[tokio::test]
    async fn duplicates_in_a_push_in_a_batch_and_in_the_log_are_stored_once_without_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let (store, space) = store_with_space(dir.path()).await;
        let [a, b, c, d] = <[ValidUpload; 4]>::try_from(changes(4)).ok().unwrap();

        // The same blob twice in one push: stored once.
        let (results, head) = store
            .append(&space, "phone", vec![a.clone(), a.clone(), b.clone()], 1)
            .await
            .unwrap();
        assert_eq!(seqs(&results), vec![(1, false), (1, true), (2, false)]);
        assert_eq!(head, Seq(2));

        // Already in the log, then new: the new one takes the next number.
        let (results, head) = store
            .append(&space, "tablet", vec![b.clone(), c.clone()], 2)
            .await
            .unwrap();
        assert_eq!(seqs(&results), vec![(2, true), (3, false)]);
        assert_eq!(head, Seq(3));

        // Two pushes racing with the same new blob (likely folded into one batch).
        let (first, second) = tokio::join!(
            store.append(&space, "phone", vec![d.clone()], 3),
            store.append(&space, "tablet", vec![d.clone(), a.clone()], 3),
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        let d_seqs = [first.0[0].seq, second.0[0].seq];
        assert_eq!(d_seqs[0], d_seqs[1], "one blob, one position");
        assert_eq!(d_seqs[0], Seq(4));
        assert_eq!(
            [first.0[0].duplicate, second.0[0].duplicate]
                .iter()
                .filter(|dup| !**dup)
                .count(),
            1
        );
        assert_eq!(seqs(&second.0[1..]), vec![(1, true)]);
        assert_eq!(store.head(&space).await.unwrap(), Seq(4));

        // The log holds 4 entries, numbered 1..=4.
        let (entries, _, _) = store.entries(&space, Seq(0), 100, 1 << 20).await.unwrap();
        let numbers: Vec<u64> = entries.iter().map(|e| e.seq.0).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4]);
    }

    /// A snapshot whose stored projection an earlier build wrote (another fingerprint) is
    /// sent with a projection made again from the snapshot, stored back once; a current one
    /// is sent as stored.
    #[tokio::test]
    async fn a_projection_of_an_earlier_build_is_made_again_and_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (store, space) = store_with_space(dir.path()).await;
        let now = Timestamp(1_795_341_600_000);
        let snapshot = |n: u64| {
            let mut doc = CustomerDoc::create(
                shared::seed::customer(2, n, now),
                automerge::ActorId::from(vec![n as u8 + 1; 16]),
                now,
            )
            .unwrap();
            let upload = Upload {
                document: shared::sync::protocol::DocumentId(doc.customer().id.to_string()),
                kind: BlobKind::Snapshot { covers: Seq(0) },
                bytes: doc.save(),
            };
            shared::sync::blob::validate(upload, 1 << 20).unwrap()
        };
        let (old, current) = (snapshot(1), snapshot(2));
        let made = old.projection.clone().unwrap();
        store
            .append(&space, "phone", vec![old.clone(), current.clone()], 0)
            .await
            .unwrap();
        // As an earlier build stored it: its fingerprint differs.
        let mut earlier = made.clone();
        earlier[0] ^= 0xff;
        let crate::db::Database::Sqlite(pool) = &store.db else {
            unreachable!()
        };
        let id = old.upload.document.0.clone();
        let stored = || {
            sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT projection FROM log WHERE space = 's' AND document = $1",
            )
            .bind(&id)
            .fetch_one(pool)
        };
        sqlx::query("UPDATE log SET projection = $1 WHERE space = 's' AND document = $2")
            .bind(&earlier)
            .bind(&id)
            .execute(pool)
            .await
            .unwrap();
        assert!(!shared::model::snapshot::of_this_build(
            &stored().await.unwrap()
        ));

        let page = store.bootstrap(&space, None, 100, 1 << 20).await.unwrap();
        let sent: std::collections::HashMap<&DocumentId, &Option<EntryProjection>> =
            (page.entries.iter().map(|e| &e.document))
                .zip(&page.projections)
                .collect();
        assert_eq!(
            sent[&old.upload.document],
            &Some(EntryProjection(made.clone()))
        );
        assert_eq!(
            sent[&current.upload.document],
            &Some(EntryProjection(current.projection.clone().unwrap()))
        );
        assert!(shared::model::snapshot::decode_projection(&made).is_some());
        // Stored back: the next bootstrap reads it as made.
        assert_eq!(stored().await.unwrap(), made);
    }
}
