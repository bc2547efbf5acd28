-- SQLite 0012. The escalation ladder and the follow-up (回访): when a ticket was resolved,
-- how often its buyer came back, whether an unclaimed P1 was escalated, and the follow-up's
-- schedule and answer. open_since: when the ticket last became open (NULL: created_at).
ALTER TABLE handoffs ADD COLUMN resolved_at BIGINT;
ALTER TABLE handoffs ADD COLUMN open_since BIGINT;
ALTER TABLE handoffs ADD COLUMN repeat_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE handoffs ADD COLUMN followup_due_at BIGINT;
ALTER TABLE handoffs ADD COLUMN followup_sent_at BIGINT;
ALTER TABLE handoffs ADD COLUMN followup_answer TEXT;      -- satisfied | unhappy
ALTER TABLE handoffs ADD COLUMN review_invited BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX handoffs_conversation ON handoffs (shop, conversation_id, id);
CREATE INDEX handoffs_followup ON handoffs (followup_due_at) WHERE followup_due_at IS NOT NULL;
