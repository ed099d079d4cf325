-- Failed sign-ins per account and per client address, for growing delays instead of a
-- lockout (`server/src/throttle.rs`); in the database so every relay counts the same.
CREATE TABLE signin_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);
