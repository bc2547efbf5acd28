-- Claiming checks for a running processing job of the same conversation: index that lookup.
CREATE INDEX jobs_conversation ON jobs (shop, conversation_id, kind, status);
