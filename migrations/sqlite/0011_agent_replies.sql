-- Agents answer buyers from anfu: each line an agent writes, and the reply job that delivers
-- it (its status is the line's delivery status). The first line stamps the ticket's
-- first_response_at: the SLA's first-response mark.
ALTER TABLE handoffs ADD COLUMN first_response_at INTEGER;
CREATE TABLE agent_replies (
    id          INTEGER PRIMARY KEY,
    handoff_id  INTEGER NOT NULL REFERENCES handoffs (id),
    message_id  TEXT    NOT NULL UNIQUE,        -- also the send's idempotency key
    agent       TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    job_id      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX agent_replies_handoff ON agent_replies (handoff_id, id);
