-- The escalation ladder and the follow-up (回访): when a ticket was resolved, how often its
-- buyer came back, whether an unclaimed P1 was escalated, and the follow-up's schedule and
-- answer. open_since: when the ticket last became open (NULL: created_at), for escalation.
ALTER TABLE handoffs ADD COLUMN resolved_at INTEGER;
ALTER TABLE handoffs ADD COLUMN open_since INTEGER;
ALTER TABLE handoffs ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN followup_due_at INTEGER;
ALTER TABLE handoffs ADD COLUMN followup_sent_at INTEGER;
ALTER TABLE handoffs ADD COLUMN followup_answer TEXT;      -- satisfied | unhappy
ALTER TABLE handoffs ADD COLUMN review_invited INTEGER NOT NULL DEFAULT 0;
CREATE INDEX handoffs_conversation ON handoffs (shop, conversation_id, id);
CREATE INDEX handoffs_followup ON handoffs (followup_due_at) WHERE followup_due_at IS NOT NULL;
