-- SQLite 0005. Set once a ticket comes within sla.warn_before of its due time; the warning
-- is announced once.
ALTER TABLE handoffs ADD COLUMN sla_warned BOOLEAN NOT NULL DEFAULT FALSE;
