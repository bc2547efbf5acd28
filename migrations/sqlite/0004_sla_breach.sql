-- Set once a ticket passes its SLA due time unanswered; the breach is announced once.
ALTER TABLE handoffs ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;
CREATE INDEX handoffs_sla ON handoffs (sla_breached, status, sla_due_at);
