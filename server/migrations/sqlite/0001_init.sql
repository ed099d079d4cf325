-- The relay's metadata. Accounts, devices and the per-space change log arrive with sync;
-- this first migration only records which schema a data file carries.
CREATE TABLE relay_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

INSERT INTO relay_meta (key, value) VALUES ('created_by', 'fieldbook-server');
