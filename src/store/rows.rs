//! What both backends share: the column lists and turning rows into the store's types. The
//! schemas keep the same column names and decodable types (ids and millis are 64-bit
//! integers, JSON is text, flags decode as bool), so one mapping serves SQLite and PostgreSQL.

use super::*;
use crate::domain::{HandoffCard, MessageKind, Priority};
use std::str::FromStr;

pub(super) const JOB_COLUMNS: &str =
    "id, kind, shop, conversation_id, payload, status, attempts, last_error, claims";
/// A handoff with the delivery status of its auto-reply; callers add WHERE / ORDER BY.
pub(super) const HANDOFF_SELECT: &str = "SELECT h.id, h.status, h.priority, h.claimed_by, h.card, h.created_at, h.updated_at, h.sla_breached, h.sla_warned, h.first_response_at,
       h.resolved_at, h.repeat_count, h.escalated, h.followup_due_at, h.followup_sent_at,
       h.followup_answer, h.review_invited, j.status AS reply_status
     FROM handoffs h LEFT JOIN jobs j ON j.id = h.reply_job";
pub(super) const MESSAGE_COLUMNS: &str =
    "id, message_key, conversation_id, buyer_id, buyer_nick, text, order_id, sent_at, received_at, kind";

/// The few column types the store reads, for either backend's row type.
pub(super) trait Fields {
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! fields {
    ($row:ty) => {
        impl Fields for $row {
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
        }
    };
}

fields!(sqlx::sqlite::SqliteRow);
fields!(sqlx::postgres::PgRow);

pub(super) fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn card_json(card: &HandoffCard) -> String {
    serde_json::to_string(card).expect("cards serialise")
}

pub(super) fn job_from(row: &impl Fields) -> Result<Job, StoreError> {
    let kind = row.text("kind")?;
    let payload = row.text("payload")?;
    Ok(Job {
        id: row.int("id")?,
        kind: match kind.as_str() {
            "process" => JobKind::Process,
            "reply" => JobKind::Reply,
            "notify" => JobKind::Notify,
            other => return Err(StoreError::Corrupt(format!("job kind `{other}`"))),
        },
        shop: row.text("shop")?,
        conversation_id: row.text("conversation_id")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
        status: row.text("status")?,
        attempts: row.int("attempts")? as u32,
        last_error: row.opt_text("last_error")?,
        claim: row.int("claims")?,
    })
}

pub(super) fn message_from(row: &impl Fields) -> Result<StoredMessage, StoreError> {
    Ok(StoredMessage {
        id: row.int("id")?,
        received_at: row.int("received_at")?,
        message: BuyerMessage {
            message_key: row.text("message_key")?,
            conversation_id: row.text("conversation_id")?,
            buyer_id: row.opt_text("buyer_id")?,
            buyer_nick: row.opt_text("buyer_nick")?,
            text: row.text("text")?,
            order_id: row.opt_text("order_id")?,
            sent_at: row.opt_text("sent_at")?,
            kind: {
                let kind = row.text("kind")?;
                MessageKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("message kind `{kind}`")))?
            },
        },
    })
}

pub(super) fn note_from(row: &impl Fields) -> Result<Note, StoreError> {
    Ok(Note {
        author: row.text("author")?,
        text: row.text("text")?,
        created_at: rfc3339(row.int("created_at")?),
    })
}

/// A row of [`HANDOFF_SELECT`].
pub(super) fn handoff_from(row: &impl Fields, notes: Vec<Note>) -> Result<Handoff, StoreError> {
    let card: HandoffCard = serde_json::from_str(&row.text("card")?)
        .map_err(|e| StoreError::Corrupt(format!("card: {e}")))?;
    let priority = row.text("priority")?;
    Ok(Handoff {
        id: row.int("id")?,
        status: row.text("status")?,
        priority: Priority::from_str(&priority).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        claimed_by: row.opt_text("claimed_by")?,
        created_at: rfc3339(row.int("created_at")?),
        updated_at: rfc3339(row.int("updated_at")?),
        reply_status: row.opt_text("reply_status")?,
        sla_breached: row.flag("sla_breached")?,
        sla_warning: row.flag("sla_warned")? && !row.flag("sla_breached")?,
        first_response_at: row.opt_int("first_response_at")?.map(rfc3339),
        resolved_at: row.opt_int("resolved_at")?.map(rfc3339),
        repeat_count: row.int("repeat_count")?.max(0) as u32,
        escalated: row.flag("escalated")?,
        followup: Followup {
            due_at: row.opt_int("followup_due_at")?.map(rfc3339),
            sent_at: row.opt_int("followup_sent_at")?.map(rfc3339),
            answer: match row.opt_text("followup_answer")?.as_deref() {
                Some("satisfied") => Some(FollowupAnswer::Satisfied),
                Some("unhappy") => Some(FollowupAnswer::Unhappy),
                _ => None,
            },
            review_invited: row.flag("review_invited")?,
        },
        card,
        notes,
        replies: None,
    })
}

/// A conversations row (last_reply_at, last_mood_rank, last_intensity, open_handoff) as the
/// bot's memory.
pub(super) fn conversation_from(row: &impl Fields) -> Result<ConversationState, StoreError> {
    Ok(ConversationState {
        last_reply_at: row.opt_int("last_reply_at")?,
        last_mood_rank: row.int("last_mood_rank")? as u8,
        last_intensity: row.int("last_intensity")? as u8,
        open_handoff: row.opt_int("open_handoff")?,
    })
}

/// A unique index refused the row.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Opening a ticket failed. The only unique index on handoffs allows one unresolved ticket
/// per conversation: a second one is a conflict (the caller's view of the conversation was
/// stale; processing again reads the open ticket and updates it).
pub(super) fn open_failed(e: sqlx::Error, shop: &str, conversation: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(format!(
            "conversation {conversation} of shop {shop} already has an unresolved handoff"
        ))
    } else {
        StoreError::Db(e)
    }
}

/// The final update of a processing step matched no job: `job` is no longer its current claim.
pub(super) fn lease_lost(job: JobLease) -> StoreError {
    StoreError::LeaseLost(format!(
        "job {} is no longer under claim {} (its lease ran out)",
        job.id, job.claim
    ))
}

/// The ticket a processing step would update was resolved meanwhile.
pub(super) fn resolved_meanwhile(handoff: i64) -> StoreError {
    StoreError::Conflict(format!(
        "handoff {handoff} was resolved while its conversation was processed"
    ))
}
