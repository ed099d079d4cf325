-- What the relay derived from a customer snapshot when it stored it (the customer's summary
-- and dashboard facts, `shared::model::snapshot::encode_projection`), sent with the snapshot
-- to bootstrapping devices (protocol version 2). NULL for changes, other documents and rows
-- stored before.
ALTER TABLE log ADD COLUMN projection BYTEA;
