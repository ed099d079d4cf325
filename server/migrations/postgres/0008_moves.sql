-- Customers moved between a team's territories (issue 21, `shared::sync::handover`): a
-- change pushed to `document` in `space` after the move is stored in `to_space` instead
-- (the log of `space` keeps a `kind = 3` entry in its place; a forwarded snapshot covers
-- `covers` there). Always one hop: a later move
-- of the document re-points every row that led to where it was.
CREATE TABLE moved_documents (
    space     TEXT NOT NULL REFERENCES spaces (id),
    document  TEXT NOT NULL,
    to_space  TEXT NOT NULL REFERENCES spaces (id),
    -- The position in `to_space` before the customer's hand-over snapshot: everything of
    -- the customer there up to it is in that snapshot, and in any snapshot forwarded later
    -- (its `covers`, see `server/src/store.rs`).
    covers    BIGINT NOT NULL,
    moved_at  BIGINT NOT NULL,
    moved_by  TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (space, document)
);
CREATE INDEX moved_documents_document ON moved_documents (document);
