-- Sinks are named (`name` in [[sinks]], default kind@host) instead of numbered by their place
-- in the config, so reordering [[sinks]] no longer sends a ticket's later events elsewhere.
-- References made before keep their position, as text ('0', '1', …): the first start with
-- this version renames them, and queued notices naming a position, to the name of the sink
-- at that position in the config of that start (names are never all digits, so once).
CREATE TABLE sink_refs_named (
    handoff_id   INTEGER NOT NULL REFERENCES handoffs (id),
    sink         TEXT    NOT NULL,
    external_ref TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (handoff_id, sink)
);
INSERT INTO sink_refs_named (handoff_id, sink, external_ref, created_at)
SELECT handoff_id, CAST(sink AS TEXT), external_ref, created_at FROM sink_refs;
DROP TABLE sink_refs;
ALTER TABLE sink_refs_named RENAME TO sink_refs;
