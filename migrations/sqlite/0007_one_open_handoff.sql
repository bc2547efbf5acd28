-- At most one unresolved ticket per conversation, guaranteed by the database: a second
-- "open" (a worker whose lease ran out while another one took over the conversation) is
-- refused and its processing retried, which then updates the open ticket.
--
-- Such a race could already have left two unresolved tickets. Keep the one the conversation
-- points at (else the newest) and resolve the others with a note saying why.
CREATE TEMP TABLE duplicate_handoffs AS
SELECT h.id FROM handoffs h
WHERE h.status <> 'resolved'
  AND h.id <> COALESCE(
    (SELECT c.open_handoff FROM conversations c JOIN handoffs k ON k.id = c.open_handoff
      WHERE c.shop = h.shop AND c.conversation_id = h.conversation_id AND k.status <> 'resolved'),
    (SELECT MAX(k.id) FROM handoffs k
      WHERE k.shop = h.shop AND k.conversation_id = h.conversation_id AND k.status <> 'resolved'));
INSERT INTO handoff_notes (handoff_id, author, text, created_at)
SELECT id, 'anfu',
       'Closed on upgrade: a second unresolved ticket of this conversation; it goes on in the one still open.',
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM duplicate_handoffs;
UPDATE handoffs SET status = 'resolved',
       updated_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
WHERE id IN (SELECT id FROM duplicate_handoffs);
DROP TABLE duplicate_handoffs;
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (shop, conversation_id) WHERE status <> 'resolved';
