-- What a sink made for a ticket (a Chatwoot conversation opened for a marketplace buyer), so
-- the ticket's later events reach the same place.
CREATE TABLE sink_refs (
    handoff_id INTEGER NOT NULL REFERENCES handoffs (id),
    sink INTEGER NOT NULL,
    external_ref TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (handoff_id, sink)
);
