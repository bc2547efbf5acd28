//! The escalation ladder and the follow-up (回访), written once for both backends: the
//! tickets the SLA timer marks (warned, breached), an unclaimed P1 escalated once, a resolved ticket reopened
//! when its buyer complains again, and the follow-up asked once, answered once. Each decision is a guarded write (the first
//! statement must change a row, or nothing is written), so two instances never announce or
//! send anything twice.

use super::queue::{Arg, Sql, Statement};
use super::rows::{card_json, is_unique_violation};
use super::{now_ms, Handoff, Millis, NotifyPayload, ReplyPayload, StoreError};
use crate::domain::{HandoffCard, Priority};

/// A notice about ticket `$1` (payload `$2`) queued at `$3`.
const NOTIFY: &str = "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at,
       created_at, updated_at)
     SELECT 'notify', shop, conversation_id, $2, 'pending', $3, $3, $3 FROM handoffs WHERE id = $1";

/// A message to ticket `$1`'s buyer (payload `$2`) queued at `$3`.
const REPLY: &str = "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at,
       created_at, updated_at)
     SELECT 'reply', shop, conversation_id, $2, 'pending', $3, $3, $3 FROM handoffs WHERE id = $1";

fn notices(id: i64, sinks: &[String], event: &str) -> Vec<String> {
    sinks
        .iter()
        .map(|sink| {
            let payload = NotifyPayload {
                sink: sink.clone(),
                handoff_id: id,
                event: event.to_string(),
            };
            serde_json::to_string(&payload).expect("payloads serialise")
        })
        .collect()
}

fn queue<'a>(
    sql: &'static str,
    id: i64,
    payloads: &'a [String],
    now: Millis,
) -> Vec<Statement<'a>> {
    payloads
        .iter()
        .map(|p| Statement {
            sql,
            args: vec![Arg::Int(id), Arg::Text(p), Arg::Int(now)],
        })
        .collect()
}

/// Open or claimed tickets past their SLA due time, unanswered, not yet marked breached.
pub(super) async fn overdue(sql: &dyn Sql, now: Millis) -> Result<Vec<Handoff>, StoreError> {
    let filter = "WHERE NOT h.sla_breached AND h.status IN ('open', 'claimed')
       AND h.first_response_at IS NULL AND h.sla_due_at <= $1
     ORDER BY h.sla_due_at LIMIT 200";
    sql.handoffs_where(filter, &[Arg::Int(now)]).await
}

/// Open or claimed tickets of `priority` due in (`now`, `until`], unanswered, not yet warned.
pub(super) async fn due_soon(
    sql: &dyn Sql,
    priority: Priority,
    now: Millis,
    until: Millis,
) -> Result<Vec<Handoff>, StoreError> {
    let filter = "WHERE NOT h.sla_warned AND NOT h.sla_breached
       AND h.status IN ('open', 'claimed') AND h.first_response_at IS NULL
       AND h.priority = $1 AND h.sla_due_at > $2 AND h.sla_due_at <= $3
     ORDER BY h.sla_due_at LIMIT 200";
    let args = [Arg::Text(priority.as_str()), Arg::Int(now), Arg::Int(until)];
    sql.handoffs_where(filter, &args).await
}

/// Open (unclaimed) P1 tickets, open since `opened_before` or earlier, not escalated yet.
pub(super) async fn unclaimed_p1(
    sql: &dyn Sql,
    opened_before: Millis,
) -> Result<Vec<Handoff>, StoreError> {
    let filter = "WHERE h.status = 'open' AND h.priority = 'P1' AND NOT h.escalated
       AND COALESCE(h.open_since, h.created_at) <= $1 ORDER BY h.id LIMIT 200";
    sql.handoffs_where(filter, &[Arg::Int(opened_before)]).await
}

/// Marks ticket `$1` about to breach at `$2`, unless it was warned or breached already.
const WARN: &str = "UPDATE handoffs SET sla_warned = TRUE, updated_at = $2
     WHERE id = $1 AND NOT sla_warned AND NOT sla_breached";

/// Marks ticket `$1` breached (and so warned) at `$2`, unless it was breached already.
const BREACH: &str = "UPDATE handoffs SET sla_breached = TRUE, sla_warned = TRUE, updated_at = $2
     WHERE id = $1 AND NOT sla_breached";

/// What the SLA timer marks on a ticket.
#[derive(Debug, Clone, Copy)]
pub(super) enum SlaMark {
    Warned,
    Breached,
}

/// Marks the ticket and queues a notice per sink (`sla_warning` / `sla_breach`), once:
/// false when it was already marked (by this instance or another).
pub(super) async fn mark_sla(
    sql: &dyn Sql,
    id: i64,
    mark: SlaMark,
    sinks: &[String],
) -> Result<bool, StoreError> {
    let (guard, event) = match mark {
        SlaMark::Warned => (WARN, "sla_warning"),
        SlaMark::Breached => (BREACH, "sla_breach"),
    };
    let now = now_ms();
    let payloads = notices(id, sinks, event);
    let mut statements = vec![Statement {
        sql: guard,
        args: vec![Arg::Int(id), Arg::Int(now)],
    }];
    statements.extend(queue(NOTIFY, id, &payloads, now));
    Ok(sql.write_guarded(&statements).await?.is_some())
}

const ESCALATE: &str = "UPDATE handoffs SET escalated = TRUE, updated_at = $2
     WHERE id = $1 AND status = 'open' AND NOT escalated";

/// Marks the ticket escalated and queues an `escalated` notice per sink, once: false when it
/// was already escalated, or claimed meanwhile.
pub(super) async fn escalate(sql: &dyn Sql, id: i64, sinks: &[String]) -> Result<bool, StoreError> {
    let now = now_ms();
    let payloads = notices(id, sinks, "escalated");
    let mut statements = vec![Statement {
        sql: ESCALATE,
        args: vec![Arg::Int(id), Arg::Int(now)],
    }];
    statements.extend(queue(NOTIFY, id, &payloads, now));
    Ok(sql.write_guarded(&statements).await?.is_some())
}

/// The conversation's newest ticket, whatever its status.
pub(super) async fn latest(
    sql: &dyn Sql,
    shop: &str,
    conversation: &str,
) -> Result<Option<Handoff>, StoreError> {
    let filter = "WHERE h.shop = $1 AND h.conversation_id = $2 ORDER BY h.id DESC LIMIT 1";
    let args = [Arg::Text(shop), Arg::Text(conversation)];
    Ok(sql.handoffs_where(filter, &args).await?.pop())
}

/// Back to open, unclaimed, with a fresh SLA clock, one more repeat; a follow-up that was
/// asked and not answered yet is answered "unhappy" by the complaint itself.
const REOPEN: &str = "UPDATE handoffs SET status = 'open', claimed_by = NULL, priority = $2,
       sla_due_at = $3, card = $4, repeat_count = repeat_count + 1, resolved_at = NULL,
       open_since = $5, sla_breached = FALSE, sla_warned = FALSE, first_response_at = NULL,
       escalated = FALSE, followup_due_at = NULL,
       followup_answer = CASE WHEN followup_sent_at IS NOT NULL AND followup_answer IS NULL
                         THEN 'unhappy' ELSE followup_answer END,
       updated_at = $5
     WHERE id = $1 AND status = 'resolved'";

const OWN_CONVERSATION: &str = "UPDATE conversations SET open_handoff = $1
     WHERE shop = (SELECT shop FROM handoffs WHERE id = $1)
       AND conversation_id = (SELECT conversation_id FROM handoffs WHERE id = $1)";

/// Reopens a resolved ticket as the conversation's open one, with `card` (its priority and
/// due time already raised), and queues a `reopened` notice per sink. `Conflict` when the
/// ticket is no longer resolved, or the conversation has another open ticket.
pub(super) async fn reopen(
    sql: &dyn Sql,
    id: i64,
    card: &HandoffCard,
    sla_due_at: Millis,
    sinks: &[String],
) -> Result<(), StoreError> {
    let now = now_ms();
    let json = card_json(card);
    let payloads = notices(id, sinks, "reopened");
    let mut statements = vec![
        Statement {
            sql: REOPEN,
            args: vec![
                Arg::Int(id),
                Arg::Text(card.priority.as_str()),
                Arg::Int(sla_due_at),
                Arg::Text(&json),
                Arg::Int(now),
            ],
        },
        Statement {
            sql: OWN_CONVERSATION,
            args: vec![Arg::Int(id)],
        },
    ];
    statements.extend(queue(NOTIFY, id, &payloads, now));
    match sql.write_guarded(&statements).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(StoreError::Conflict(format!(
            "handoff {id} is no longer resolved"
        ))),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "the conversation of handoff {id} has another unresolved handoff"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Resolved tickets whose follow-up is due at `now`.
pub(super) async fn followups_due(sql: &dyn Sql, now: Millis) -> Result<Vec<Handoff>, StoreError> {
    let filter = "WHERE h.status = 'resolved' AND h.followup_due_at <= $1
       AND h.followup_sent_at IS NULL ORDER BY h.followup_due_at LIMIT 100";
    sql.handoffs_where(filter, &[Arg::Int(now)]).await
}

/// Schedules (or moves) the follow-up of a resolved ticket not followed up yet.
const SCHEDULE: &str = "UPDATE handoffs SET followup_due_at = $2
     WHERE id = $1 AND status = 'resolved' AND followup_sent_at IS NULL";

pub(super) async fn schedule_followup(
    sql: &dyn Sql,
    id: i64,
    at: Millis,
) -> Result<(), StoreError> {
    let args = vec![Arg::Int(id), Arg::Int(at)];
    sql.write(&[Statement {
        sql: SCHEDULE,
        args,
    }])
    .await?;
    Ok(())
}

const ASKED: &str = "UPDATE handoffs SET followup_sent_at = $2, followup_due_at = NULL,
       updated_at = $2
     WHERE id = $1 AND status = 'resolved' AND followup_sent_at IS NULL
       AND followup_due_at IS NOT NULL";

/// Sends the follow-up question once: false if it was sent already (or the ticket reopened).
pub(super) async fn ask(
    sql: &dyn Sql,
    id: i64,
    question: &ReplyPayload,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let payload = [serde_json::to_string(question).expect("payloads serialise")];
    let mut statements = vec![Statement {
        sql: ASKED,
        args: vec![Arg::Int(id), Arg::Int(now)],
    }];
    statements.extend(queue(REPLY, id, &payload, now));
    Ok(sql.write_guarded(&statements).await?.is_some())
}

const SATISFIED: &str =
    "UPDATE handoffs SET followup_answer = 'satisfied', review_invited = $2 = 1,
       updated_at = $3
     WHERE id = $1 AND status = 'resolved' AND followup_sent_at IS NOT NULL
       AND followup_answer IS NULL";

/// The buyer answered the follow-up satisfied: marked once, and `invitation` (thanks and a
/// review invitation, where the shop allows it) queued with it. False if already answered.
pub(super) async fn satisfied(
    sql: &dyn Sql,
    id: i64,
    invitation: Option<&ReplyPayload>,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let payload: Vec<String> = invitation
        .iter()
        .map(|p| serde_json::to_string(p).expect("payloads serialise"))
        .collect();
    let invited = i64::from(invitation.is_some());
    let mut statements = vec![Statement {
        sql: SATISFIED,
        args: vec![Arg::Int(id), Arg::Int(invited), Arg::Int(now)],
    }];
    statements.extend(queue(REPLY, id, &payload, now));
    Ok(sql.write_guarded(&statements).await?.is_some())
}
