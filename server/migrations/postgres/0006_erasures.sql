-- Erased documents (`kind = 2`, see shared::sync::protocol::BlobKind::Erased): looked up on
-- every push, so a change to an erased document is refused. Few rows, small index.
CREATE INDEX log_erased ON log (space, document) WHERE kind = 2;
