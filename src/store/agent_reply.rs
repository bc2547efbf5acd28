//! An agent's answer to the buyer (`POST /v1/handoffs/{id}/reply`), written once for both
//! backends: the line, the reply job that delivers it and the ticket's first-response mark,
//! in one transaction. The job is an ordinary reply job (the worker signs, retries and
//! dead-letters it like a bot reply; the line's id is its idempotency key), so the line's
//! delivery status is its job's status.

use super::queue::{Arg, Sql, Statement};
use super::rows::{rfc3339, Fields};
use super::{now_ms, Handoff, ReplyPayload, StoreError};
use serde::Serialize;

/// Where an agent's line is on its way to the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Waiting for its first send, or for a retry after a failed one (see `error`).
    Queued,
    /// The platform took it.
    Sent,
    /// Given up on: refused for good or out of attempts (a dead letter; see `error`).
    Failed,
}

impl Delivery {
    fn of_job(status: &str) -> Delivery {
        match status {
            "done" => Delivery::Sent,
            "dead" => Delivery::Failed,
            _ => Delivery::Queued,
        }
    }
}

/// A line an agent wrote to the buyer, with its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLine {
    /// Also the idempotency key of its send.
    pub message_id: String,
    pub agent: String,
    pub text: String,
    pub created_at: String,
    pub status: Delivery,
    /// Why the last send failed (kept while a retry waits, and for a failed line).
    pub error: Option<String>,
    /// Sends tried so far.
    pub attempts: u32,
}

/// The first line stamps the ticket's first response; every line touches it. Only an
/// unresolved ticket: the guard every statement repeats, so that a ticket resolved meanwhile
/// changes nothing at all.
const STAMP: &str = "UPDATE handoffs SET first_response_at = COALESCE(first_response_at, $2),
       updated_at = $2
     WHERE id = $1 AND status <> 'resolved'";

const QUEUE: &str = "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at,
       created_at, updated_at)
     SELECT 'reply', shop, conversation_id, $2, 'pending', $3, $3, $3
     FROM handoffs WHERE id = $1 AND status <> 'resolved'";

/// The job just queued is found by its payload, which holds the line's unique id; the
/// conversation narrows the search to its few jobs (indexed).
const RECORD: &str = "INSERT INTO agent_replies (handoff_id, message_id, agent, text, job_id,
       created_at)
     SELECT $1, $2, $3, $4, j.id, $5 FROM jobs j
     WHERE j.shop = $6 AND j.conversation_id = $7 AND j.kind = 'reply'
       AND j.status = 'pending' AND j.payload = $8";

/// The ticket's agent lines, oldest first, each with its job's state.
pub(super) const LINES: &str =
    "SELECT r.message_id, r.agent, r.text, r.created_at, j.status, j.last_error, j.attempts
     FROM agent_replies r JOIN jobs j ON j.id = r.job_id
     WHERE r.handoff_id = $1 ORDER BY r.id";

pub(super) fn line_from(row: &impl Fields) -> Result<AgentLine, StoreError> {
    let status = Delivery::of_job(&row.text("status")?);
    Ok(AgentLine {
        message_id: row.text("message_id")?,
        agent: row.text("agent")?,
        text: row.text("text")?,
        created_at: rfc3339(row.int("created_at")?),
        status,
        error: row.opt_text("last_error")?,
        attempts: row.int("attempts")?.max(0) as u32,
    })
}

/// Queues `text` from `agent` to the buyer of `handoff` (read just before). A resolved
/// ticket, or one resolved meanwhile, is a conflict and nothing is written.
pub(super) async fn queue(
    sql: &dyn Sql,
    handoff: &Handoff,
    agent: &str,
    text: &str,
) -> Result<AgentLine, StoreError> {
    let resolved = || StoreError::Conflict(format!("handoff {} is resolved", handoff.id));
    if handoff.status == "resolved" {
        return Err(resolved());
    }
    let now = now_ms();
    let card = &handoff.card;
    let payload = ReplyPayload::to_ticket(handoff, "agent", text.to_string());
    let message_id = payload.idempotency_key.clone();
    let payload = serde_json::to_string(&payload).expect("payloads serialise");
    use Arg::*;
    let id = Int(handoff.id);
    let statements = [
        Statement {
            sql: STAMP,
            args: vec![id, Int(now)],
        },
        Statement {
            sql: QUEUE,
            args: vec![id, Text(&payload), Int(now)],
        },
        Statement {
            sql: RECORD,
            args: vec![
                id,
                Text(&message_id),
                Text(agent),
                Text(text),
                Int(now),
                Text(&card.shop),
                Text(&card.conversation_id),
                Text(&payload),
            ],
        },
    ];
    if sql.write(&statements).await? != [1, 1, 1] {
        return Err(resolved());
    }
    Ok(AgentLine {
        message_id,
        agent: agent.to_string(),
        text: text.to_string(),
        created_at: rfc3339(now),
        status: Delivery::Queued,
        error: None,
        attempts: 0,
    })
}
