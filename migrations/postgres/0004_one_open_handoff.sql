-- SQLite 0007. At most one unresolved ticket per conversation, guaranteed by the database:
-- a second "open" (a worker whose lease ran out while another one took over the
-- conversation) is refused and its processing retried, which then updates the open ticket.
-- (No PostgreSQL database predates this migration, so none holds duplicates to resolve.)
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (shop, conversation_id)
    WHERE status <> 'resolved';
