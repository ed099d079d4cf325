-- Teams (issue 21, `shared::sync::team`): a team owns one shared space (catalog, pipeline,
-- segments) and one space per territory (customers). Members have one role; reps and
-- viewers reach the territories they are assigned to. Invites store only hashes of their
-- link secret and code.

-- NULL: an account's own book (only its owner reaches it). Otherwise the team it belongs to.
ALTER TABLE spaces ADD COLUMN team TEXT;
-- 'shared' or 'territory' for a team's spaces.
ALTER TABLE spaces ADD COLUMN team_kind TEXT;
-- A territory's name.
ALTER TABLE spaces ADD COLUMN name TEXT;
CREATE INDEX spaces_team ON spaces (team) WHERE team IS NOT NULL;

CREATE TABLE teams (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    shared_space TEXT NOT NULL REFERENCES spaces (id),
    created_by   TEXT NOT NULL REFERENCES accounts (id),
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE team_members (
    team      TEXT NOT NULL REFERENCES teams (id),
    account   TEXT NOT NULL REFERENCES accounts (id),
    role      TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'viewer')),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (team, account)
) STRICT;
CREATE INDEX team_members_account ON team_members (account);

CREATE TABLE territory_members (
    space   TEXT NOT NULL REFERENCES spaces (id),
    account TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (space, account)
) STRICT;
CREATE INDEX territory_members_account ON territory_members (account);

CREATE TABLE team_invites (
    id          TEXT PRIMARY KEY NOT NULL,
    team        TEXT NOT NULL REFERENCES teams (id),
    -- SHA-256 of the link's secret and of the code's canonical form.
    secret_hash BLOB NOT NULL UNIQUE,
    code_hash   BLOB NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'viewer')),
    -- Space ids, comma-separated.
    territories TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES accounts (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    max_uses    INTEGER NOT NULL,
    uses        INTEGER NOT NULL DEFAULT 0,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX team_invites_team ON team_invites (team);
