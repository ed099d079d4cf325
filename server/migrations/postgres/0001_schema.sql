-- The relay's tables in PostgreSQL, for several relays sharing one database. Same shape
-- as the SQLite migrations (../sqlite): accounts, devices and the per-space change log.

CREATE TABLE relay_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO relay_meta (key, value) VALUES ('created_by', 'fieldbook-server');

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY NOT NULL,
    -- Lower-cased and trimmed.
    email         TEXT NOT NULL UNIQUE,
    -- argon2id, PHC string format.
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- A space is the unit of sharing: today a rep's own book. Its row is the per-space lock:
-- an append takes it (SELECT ... FOR UPDATE) before numbering, so appends to one space
-- commit one after the other, in sequence order, whichever relay makes them.
CREATE TABLE spaces (
    id         TEXT PRIMARY KEY NOT NULL,
    owner      TEXT NOT NULL REFERENCES accounts (id),
    -- The latest sequence number, updated in the transaction that appends.
    head       BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX spaces_owner ON spaces (owner);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY NOT NULL,
    account      TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    -- SHA-256 of the device's random token; the token itself is never stored.
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX devices_account ON devices (account);

CREATE TABLE log (
    space      TEXT NOT NULL REFERENCES spaces (id),
    -- Gap-free from 1 within a space, assigned under the space's row lock.
    seq        BIGINT NOT NULL,
    -- Byte order (like SQLite's): bootstrap pages through documents by id.
    document   TEXT COLLATE "C" NOT NULL,
    -- 0: one Automerge change, 1: a whole-document snapshot.
    kind       BIGINT NOT NULL,
    -- For snapshots: the uploading device's cursor (see protocol::bootstrap_skips).
    covers     BIGINT,
    -- Idempotency key: the change hash, or a hash of a snapshot's heads.
    blob_key   BYTEA NOT NULL,
    bytes      BYTEA NOT NULL,
    device     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (space, seq)
);
CREATE UNIQUE INDEX log_blob_key ON log (space, blob_key);
CREATE INDEX log_document ON log (space, document, kind, seq);
