-- The schema of the SQLite migrations 0001–0004 in one step, in PostgreSQL's types. Column
-- names and decoded types match SQLite's (ids and unix-ms times are BIGINT, JSON is TEXT,
-- flags are BOOLEAN), so both backends share their row mapping (src/store/rows.rs).

-- Messages as received. (shop, message_key) is the dedupe key: the database, not a cache,
-- guarantees that a redelivered message is processed once.
CREATE TABLE messages (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop            TEXT    NOT NULL,
    platform        TEXT    NOT NULL,
    message_key     TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    buyer_id        TEXT,
    buyer_nick      TEXT,
    text            TEXT    NOT NULL,
    order_id        TEXT,
    sent_at         TEXT,
    received_at     BIGINT  NOT NULL,
    processed       BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (shop, message_key)
);
CREATE INDEX messages_conversation ON messages (shop, conversation_id, received_at);

-- Every effect is a stored job: processing a conversation, sending a reply, notifying a sink.
CREATE TABLE jobs (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL,           -- process | reply | notify
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    payload         TEXT    NOT NULL,           -- JSON
    status          TEXT    NOT NULL,           -- pending | running | done | dead
    attempts        BIGINT  NOT NULL DEFAULT 0,
    run_at          BIGINT  NOT NULL,           -- unix ms
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
-- One waiting processing job per conversation: a burst of messages shares it.
CREATE UNIQUE INDEX jobs_one_pending_process ON jobs (shop, conversation_id)
    WHERE kind = 'process' AND status = 'pending';
-- Claiming checks for a running processing job of the same conversation: index that lookup.
CREATE INDEX jobs_conversation ON jobs (shop, conversation_id, kind, status);

-- What the bot remembers of a conversation: its last auto-reply and the open handoff.
CREATE TABLE conversations (
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    last_reply_at   BIGINT,
    last_mood_rank  BIGINT  NOT NULL DEFAULT 0,
    last_intensity  BIGINT  NOT NULL DEFAULT 0,
    open_handoff    BIGINT,
    PRIMARY KEY (shop, conversation_id)
);

CREATE TABLE handoffs (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop            TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    status          TEXT    NOT NULL,           -- open | claimed | resolved
    priority        TEXT    NOT NULL,           -- P1 | P2 | P3
    sla_due_at      BIGINT  NOT NULL,
    claimed_by      TEXT,
    reply_job       BIGINT,
    card            TEXT    NOT NULL,           -- JSON HandoffCard
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    -- Set once a ticket passes its SLA due time unanswered; the breach is announced once.
    sla_breached    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX handoffs_status ON handoffs (status, priority);
CREATE INDEX handoffs_sla ON handoffs (sla_breached, status, sla_due_at);

CREATE TABLE handoff_notes (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handoff_id      BIGINT  NOT NULL REFERENCES handoffs (id),
    author          TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
-- PostgreSQL does not index foreign keys by itself; every ticket view reads its notes.
CREATE INDEX handoff_notes_handoff ON handoff_notes (handoff_id);

-- Poll cursors (Rakuten): where the next poll starts, so a restart misses nothing.
CREATE TABLE cursors (
    shop            TEXT    PRIMARY KEY,
    position        TEXT    NOT NULL
);
