-- Bytes of blobs each space holds, kept by the log's writer in the same transaction as its
-- appends, for the per-space storage quota (`--space-quota-mb`).
ALTER TABLE spaces ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE spaces SET stored_bytes = COALESCE((SELECT SUM(octet_length(bytes)) FROM log WHERE log.space = spaces.id), 0);
