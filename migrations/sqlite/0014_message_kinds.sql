-- Who wrote a stored line: a buyer's text (analysed, answered), a buyer's placeholder
-- (image, sticker, order card…) or the shop's own line (Shopee pushes, Rakuten merchant
-- replies, anfu's own sends echoed back). Only buyer_text is ever analysed or answered.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'buyer_text';

-- What anfu sent into a conversation (its reply jobs) is read per conversation: as the
-- analyzer's context, and to tell an echo of it from the buyer's text.
CREATE INDEX jobs_conversation_replies ON jobs (shop, conversation_id, created_at)
    WHERE kind = 'reply';

-- Retention (`storage.keep`) keeps the jobs tickets read their delivery statuses from.
CREATE INDEX handoffs_reply_job ON handoffs (reply_job);
CREATE INDEX agent_replies_job ON agent_replies (job_id);
