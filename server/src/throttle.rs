//! Sign-in throttling with growing delays instead of a lockout: after a number of free
//! failures, each further attempt for the same account (or from the same address) must
//! wait a delay that doubles with every failure, up to a ceiling — 30 s for an account, so
//! its owner is never locked out for long by someone guessing, and 15 min for an address.
//! Failures are forgotten 15 minutes after the last one, and an account's on a successful
//! sign-in. The counts live in the database (`signin_failures`), so every relay on one
//! PostgreSQL applies the same limits.

use crate::db::Database;
use crate::with_db;

/// A failure older than this no longer counts.
pub const FORGET_AFTER_MS: i64 = 15 * 60 * 1000;

/// What is throttled, with its ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An account (by normalised email): the owner must not be locked out.
    Account,
    /// A client address (the one a trusted proxy names).
    Address,
}

impl Subject {
    fn max_delay_ms(self) -> i64 {
        match self {
            Subject::Account => 30 * 1000,
            Subject::Address => 15 * 60 * 1000,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Address => "address",
        }
    }
}

/// The delay before the next attempt after `failures` failures, `free` of them free.
pub fn delay_ms(subject: Subject, failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(20) as u32;
    (1000i64 << doublings).min(subject.max_delay_ms())
}

/// Throttle state of one relay: how many failures are free.
#[derive(Debug, Clone)]
pub struct Throttle {
    db: Database,
    free_account_failures: i64,
    free_address_failures: i64,
}

impl Throttle {
    /// `free` failures per account before delays start (ten times as many per address:
    /// colleagues share an office's address).
    pub fn new(db: Database, free: usize) -> Throttle {
        let free = i64::try_from(free).unwrap_or(i64::MAX);
        Throttle {
            db,
            free_account_failures: free,
            free_address_failures: free.saturating_mul(10),
        }
    }

    fn free(&self, subject: Subject) -> i64 {
        match subject {
            Subject::Account => self.free_account_failures,
            Subject::Address => self.free_address_failures,
        }
    }

    /// Seconds to wait before an attempt for `key` is allowed at `now`, if any.
    pub async fn wait(
        &self,
        subject: Subject,
        key: &str,
        now: i64,
    ) -> Result<Option<u64>, sqlx::Error> {
        let key = format!("{}:{key}", subject.prefix());
        let row: Option<(i64, i64)> = with_db!(&self.db, pool =>
            sqlx::query_as("SELECT failures, last_failure_at FROM signin_failures WHERE key = $1")
                .bind(&key)
                .fetch_optional(pool)
                .await?);
        let Some((failures, last)) = row else {
            return Ok(None);
        };
        if now - last > FORGET_AFTER_MS {
            return Ok(None);
        }
        let until = last + delay_ms(subject, failures, self.free(subject));
        Ok((now < until).then(|| ((until - now + 999) / 1000) as u64))
    }

    /// Counts a failed attempt for `key` at `now`.
    pub async fn failed(&self, subject: Subject, key: &str, now: i64) -> Result<(), sqlx::Error> {
        let key = format!("{}:{key}", subject.prefix());
        with_db!(&self.db, pool =>
            sqlx::query(
                "INSERT INTO signin_failures (key, failures, last_failure_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN $2 - signin_failures.last_failure_at > $3 THEN 1 \
                                 ELSE signin_failures.failures + 1 END, \
                 last_failure_at = $2",
            )
            .bind(&key)
            .bind(now)
            .bind(FORGET_AFTER_MS)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Forgets the failures of `key` (its owner signed in).
    pub async fn succeeded(&self, subject: Subject, key: &str) -> Result<(), sqlx::Error> {
        let key = format!("{}:{key}", subject.prefix());
        with_db!(&self.db, pool =>
            sqlx::query("DELETE FROM signin_failures WHERE key = $1")
                .bind(&key)
                .execute(pool)
                .await
                .map(drop)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_after_the_free_failures_up_to_a_ceiling() {
        assert_eq!(delay_ms(Subject::Account, 9, 10), 0);
        assert_eq!(delay_ms(Subject::Account, 10, 10), 1000);
        assert_eq!(delay_ms(Subject::Account, 11, 10), 2000);
        assert_eq!(delay_ms(Subject::Account, 14, 10), 16_000);
        assert_eq!(delay_ms(Subject::Account, 15, 10), 30_000);
        assert_eq!(delay_ms(Subject::Account, 1_000, 10), 30_000);
        assert_eq!(delay_ms(Subject::Address, 1_000, 100), 15 * 60 * 1000);
    }
}
