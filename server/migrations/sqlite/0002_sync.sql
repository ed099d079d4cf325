-- Accounts, devices and the per-space append-only change log.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    -- Lower-cased and trimmed.
    email         TEXT NOT NULL UNIQUE,
    -- argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- A space is the unit of sharing: today a rep's own book.
CREATE TABLE spaces (
    id         TEXT PRIMARY KEY NOT NULL,
    owner      TEXT NOT NULL REFERENCES accounts (id),
    -- The latest sequence number, updated in the transaction that appends.
    head       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX spaces_owner ON spaces (owner);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY NOT NULL,
    account      TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    -- SHA-256 of the device's random token; the token itself is never stored.
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX devices_account ON devices (account);

CREATE TABLE log (
    space      TEXT NOT NULL REFERENCES spaces (id),
    -- Gap-free from 1 within a space, assigned by the single writer.
    seq        INTEGER NOT NULL,
    document   TEXT NOT NULL,
    -- 0: one Automerge change, 1: a whole-document snapshot.
    kind       INTEGER NOT NULL,
    -- For snapshots: the uploading device's cursor (see protocol::bootstrap_skips).
    covers     INTEGER,
    -- Idempotency key: the change hash, or a hash of a snapshot's heads.
    blob_key   BLOB NOT NULL,
    bytes      BLOB NOT NULL,
    device     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (space, seq)
) STRICT;
CREATE UNIQUE INDEX log_blob_key ON log (space, blob_key);
CREATE INDEX log_document ON log (space, document, kind, seq);
