-- One row the log's writer updates while commits fail, to notice by itself when they work
-- again (disk space freed, I/O error gone): `server/src/health.rs`.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
INSERT INTO health_probe (id, checked_at) VALUES (1, 0);
