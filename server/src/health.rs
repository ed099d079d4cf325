//! What `/healthz` reports beyond "the database answers a query": whether commits are
//! failing (disk full, I/O errors, lock timeouts) and whether the database is damaged.
//!
//! The log's writer records every commit's outcome ([`Health::write_failed`],
//! [`Health::write_succeeded`]); while commits fail, it probes with a one-row write every
//! [`PROBE_EVERY`] so the relay notices by itself when the cause is gone, even if no device
//! pushes meanwhile (a load balancer that stopped sending devices would otherwise keep it
//! unhealthy forever). Damage is found by the integrity check at start
//! ([`check_integrity`]) and by any query that fails with a corruption error
//! ([`Health::saw`]); it is logged loudly and stays reported until a restart on a repaired
//! file.

use std::sync::Mutex;
use std::time::Duration;

use crate::db::Database;

/// How often a relay whose commits fail tries a write to see whether it recovered.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// Why the relay is not healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Commits fail; nothing is stored until one succeeds again.
    WritesFailing {
        /// The database's error.
        reason: String,
    },
    /// The database file is damaged; it needs a repair or a restore.
    Damaged {
        /// What found it.
        reason: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::WritesFailing { reason } => write!(f, "commits are failing: {reason}"),
            Problem::Damaged { reason } => write!(f, "the database is damaged: {reason}"),
        }
    }
}

/// The relay's storage health; shared by the writer, the readers and `/healthz`.
#[derive(Debug, Default)]
pub struct Health {
    writes_failing: Mutex<Option<String>>,
    damaged: Mutex<Option<String>>,
    integrity: Mutex<Integrity>,
}

/// Where the integrity check at start is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Integrity {
    /// Not started (PostgreSQL checks its own pages).
    #[default]
    NotChecked,
    /// Running in the background.
    Checking,
    /// Passed.
    Passed,
    /// Failed (the reason is in [`Problem::Damaged`]).
    Failed,
}

impl Integrity {
    /// For `/healthz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Integrity::NotChecked => "not checked",
            Integrity::Checking => "checking",
            Integrity::Passed => "passed",
            Integrity::Failed => "failed",
        }
    }
}

impl Health {
    /// What is wrong, damage first; `None` when healthy.
    pub fn problem(&self) -> Option<Problem> {
        if let Some(reason) = lock(&self.damaged).clone() {
            return Some(Problem::Damaged { reason });
        }
        lock(&self.writes_failing)
            .clone()
            .map(|reason| Problem::WritesFailing { reason })
    }

    /// Whether commits are failing (the writer then probes).
    pub fn writes_failing(&self) -> bool {
        lock(&self.writes_failing).is_some()
    }

    /// A commit failed with `err`.
    pub fn write_failed(&self, err: &sqlx::Error) {
        self.saw(err);
        let reason = err.to_string();
        let mut failing = lock(&self.writes_failing);
        if failing.is_none() {
            tracing::error!(cause = %reason, "commits are failing; the relay reports itself unhealthy until one succeeds");
        }
        *failing = Some(reason);
    }

    /// A commit succeeded.
    pub fn write_succeeded(&self) {
        if lock(&self.writes_failing).take().is_some() {
            tracing::warn!("commits succeed again; the relay is healthy");
        }
    }

    /// Records a damaged database if `err` says so (any query, read or write).
    pub fn saw(&self, err: &sqlx::Error) {
        if is_corruption(err) {
            self.damaged(format!("a query failed: {err}"));
        }
    }

    /// Records a damaged database.
    pub fn damaged(&self, reason: String) {
        let mut damaged = lock(&self.damaged);
        if damaged.is_none() {
            tracing::error!(cause = %reason, "THE DATABASE IS DAMAGED: restore it from a backup or repair it (sqlite3 .recover); the relay reports itself unhealthy");
            *damaged = Some(reason);
        }
    }

    /// Where the integrity check at start is.
    pub fn integrity(&self) -> Integrity {
        *lock(&self.integrity)
    }

    fn set_integrity(&self, integrity: Integrity) {
        *lock(&self.integrity) = integrity;
    }
}

/// A poisoned lock still holds a usable value here (plain data, no invariants across it).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a database error means the stored data is damaged: SQLite's `SQLITE_CORRUPT`
/// (11, with its extended codes) and `SQLITE_NOTADB` (26); PostgreSQL's class XX
/// `data_corrupted` and `index_corrupted`.
pub fn is_corruption(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db_err) = err else {
        return false;
    };
    let Some(code) = db_err.code() else {
        return false;
    };
    if let Ok(number) = code.parse::<i64>() {
        return matches!(number & 0xff, 11 | 26);
    }
    matches!(code.as_ref(), "XX001" | "XX002")
}

/// Checks a SQLite file's structure (`PRAGMA quick_check`, in the background: a large file
/// takes a while, and the relay serves meanwhile) and records damage in `health`. A
/// PostgreSQL database is not checked here.
pub fn check_integrity(db: &Database, health: std::sync::Arc<Health>) {
    let Database::Sqlite(pool) = db else {
        return;
    };
    let pool = pool.clone();
    health.set_integrity(Integrity::Checking);
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        // At most 10 problems listed: the first already decides.
        let result: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar("PRAGMA quick_check(10)")
            .fetch_all(&pool)
            .await;
        match result {
            Ok(lines) if lines.len() == 1 && lines[0] == "ok" => {
                health.set_integrity(Integrity::Passed);
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "database integrity check passed"
                );
            }
            Ok(lines) => {
                health.set_integrity(Integrity::Failed);
                health.damaged(format!("integrity check: {}", lines.join("; ")));
            }
            Err(err) => {
                health.set_integrity(Integrity::Failed);
                health.damaged(format!("integrity check failed to run: {err}"));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_outranks_failing_writes_and_a_success_clears_only_the_writes() {
        let health = Health::default();
        assert_eq!(health.problem(), None);
        let full = sqlx::Error::Protocol("database or disk is full".into());
        health.write_failed(&full);
        assert!(health.writes_failing());
        assert!(matches!(
            health.problem(),
            Some(Problem::WritesFailing { .. })
        ));
        health.damaged("page 7 is garbage".into());
        assert_eq!(
            health.problem(),
            Some(Problem::Damaged {
                reason: "page 7 is garbage".into()
            })
        );
        health.write_succeeded();
        assert!(!health.writes_failing());
        assert!(
            matches!(health.problem(), Some(Problem::Damaged { .. })),
            "damage stays until a restart"
        );
    }
}
