-- SQLite 0006. What a sink made for a ticket (a Chatwoot conversation opened for a
-- marketplace buyer), so the ticket's later events reach the same place.
CREATE TABLE sink_refs (
    handoff_id   BIGINT NOT NULL REFERENCES handoffs (id),
    sink         BIGINT NOT NULL,
    external_ref TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (handoff_id, sink)
);
