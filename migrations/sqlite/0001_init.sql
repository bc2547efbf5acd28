-- Messages as received. (shop, message_key) is the dedupe key: the database, not a cache,
-- guarantees that a redelivered message is processed once.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    shop            TEXT    NOT NULL,
    platform        TEXT    NOT NULL,
    message_key     TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    buyer_id        TEXT,
    buyer_nick      TEXT,
    text            TEXT    NOT NULL,
    order_id        TEXT,
    sent_at         TEXT,
    received_at     INTEGER NOT NULL,
    processed       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (shop, message_key)
);
CREATE INDEX messages_conversation ON messages (shop, conversation_id, received_at);

-- Every effect is a stored job: processing a conversation, sending a reply.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,           -- process | reply
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    payload         TEXT    NOT NULL,           -- JSON
    status          TEXT    NOT NULL,           -- pending | running | done | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          INTEGER NOT NULL,           -- unix ms
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
-- One waiting processing job per conversation: a burst of messages shares it.
CREATE UNIQUE INDEX jobs_one_pending_process ON jobs (shop, conversation_id)
    WHERE kind = 'process' AND status = 'pending';

-- What the bot remembers of a conversation: its last auto-reply and the open handoff.
CREATE TABLE conversations (
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    last_reply_at   INTEGER,
    last_mood_rank  INTEGER NOT NULL DEFAULT 0,
    last_intensity  INTEGER NOT NULL DEFAULT 0,
    open_handoff    INTEGER,
    PRIMARY KEY (shop, conversation_id)
);

CREATE TABLE handoffs (
    id              INTEGER PRIMARY KEY,
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    status          TEXT    NOT NULL,           -- open | claimed | resolved
    priority        TEXT    NOT NULL,           -- P1 | P2 | P3
    sla_due_at      INTEGER NOT NULL,
    claimed_by      TEXT,
    reply_job       INTEGER,
    card            TEXT    NOT NULL,           -- JSON HandoffCard
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX handoffs_status ON handoffs (status, priority);

CREATE TABLE handoff_notes (
    id              INTEGER PRIMARY KEY,
    handoff_id      INTEGER NOT NULL REFERENCES handoffs (id),
    author          TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Poll cursors (Rakuten): where the next poll starts, so a restart misses nothing.
CREATE TABLE cursors (
    shop            TEXT    PRIMARY KEY,
    position        TEXT    NOT NULL
);
