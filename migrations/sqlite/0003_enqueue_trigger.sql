-- Storing a new message queues its conversation for processing in the same statement, so a
-- whole batch of webhooks is one INSERT. A pending processing job of the conversation
-- already covers the message (the partial unique index makes the second one a no-op).
CREATE TRIGGER messages_enqueue AFTER INSERT ON messages
BEGIN
    INSERT OR IGNORE INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
    VALUES ('process', NEW.shop, NEW.conversation_id, '{}', 'pending', NEW.received_at, NEW.received_at, NEW.received_at);
END;
