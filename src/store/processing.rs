//! Committing one processing step (`Store::commit_processing`), decided once for both
//! backends: the claim is checked first, the messages are marked, the reply is queued under
//! the worker's lease, the ticket is opened (or updated, unless an agent resolved it
//! meanwhile), each routed sink gets one notice naming the ticket's event, and the
//! conversation's state is saved. All of it in one transaction, or none of it. A backend
//! supplies only its SQL, on its own transaction ([`StepSql`]).

use super::rows::{lease_lost, resolved_meanwhile};
use super::{now_ms, JobLease, Millis, NotifyPayload, ReplyPayload, StoreError};
use crate::domain::HandoffCard;
use async_trait::async_trait;

/// What the bot remembers of a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationState {
    pub last_reply_at: Option<Millis>,
    pub last_mood_rank: u8,
    pub last_intensity: u8,
    pub open_handoff: Option<i64>,
}

/// Everything one processing step decided, written in one transaction.
#[derive(Debug, Clone)]
pub struct ProcessOutcome {
    /// The processing job, committed done under this claim only.
    pub job: JobLease,
    pub shop: String,
    pub conversation_id: String,
    pub processed: Vec<i64>,
    pub state: ConversationState,
    pub reply: Option<ReplyPayload>,
    pub handoff: HandoffChange,
    /// Sinks (by name) to tell about the ticket opened or updated.
    pub notify: Vec<String>,
    /// The step took only the oldest of the conversation's waiting messages: the
    /// conversation is queued again for the rest.
    pub more: bool,
}

#[derive(Debug, Clone)]
pub enum HandoffChange {
    None,
    Open {
        card: Box<HandoffCard>,
        sla_due_at: Millis,
    },
    Update {
        id: i64,
        card: Box<HandoffCard>,
        sla_due_at: Millis,
    },
}

/// The SQL of a processing step, run on one open transaction.
#[async_trait]
pub(super) trait StepSql: Send {
    /// Marks the claimed job done; false when the claim no longer holds it. Called first,
    /// so that where rows are locked (PostgreSQL) the job stays locked until commit.
    async fn finish_claimed(&mut self, job: JobLease, now: Millis) -> Result<bool, StoreError>;
    async fn mark_processed(&mut self, ids: &[i64]) -> Result<(), StoreError>;
    /// A reply job already claimed by this worker (claim 1, leased until `lease_until`), so
    /// it is delivered at once without a second claim; its id.
    async fn queue_reply(
        &mut self,
        shop: &str,
        conversation: &str,
        payload: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<i64, StoreError>;
    async fn queue_notice(
        &mut self,
        shop: &str,
        conversation: &str,
        payload: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// A new open ticket, its id; the database refuses a second unresolved ticket for the
    /// conversation (a `Conflict`).
    async fn open_handoff(
        &mut self,
        shop: &str,
        conversation: &str,
        card: &HandoffCard,
        sla_due_at: Millis,
        reply_job: Option<i64>,
        now: Millis,
    ) -> Result<i64, StoreError>;
    /// The ticket's status, locked until commit where the backend locks rows (SQLite has
    /// one writer: its read is current).
    async fn handoff_status(&mut self, id: i64) -> Result<String, StoreError>;
    async fn update_handoff(
        &mut self,
        id: i64,
        card: &HandoffCard,
        sla_due_at: Millis,
        now: Millis,
    ) -> Result<(), StoreError>;
    async fn save_conversation(
        &mut self,
        shop: &str,
        conversation: &str,
        state: &ConversationState,
    ) -> Result<(), StoreError>;
    /// A pending processing job for the conversation, unless one waits already.
    async fn queue_process(
        &mut self,
        shop: &str,
        conversation: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
}

/// Writes what one processing step decided through `sql` (the caller commits): the reply
/// job's lease when there is a reply.
pub(super) async fn commit(
    sql: &mut dyn StepSql,
    o: &ProcessOutcome,
    lease_ms: Millis,
) -> Result<Option<JobLease>, StoreError> {
    let now = now_ms();
    let (shop, conversation) = (o.shop.as_str(), o.conversation_id.as_str());
    if !sql.finish_claimed(o.job, now).await? {
        return Err(lease_lost(o.job));
    }
    sql.mark_processed(&o.processed).await?;
    let reply_job = match &o.reply {
        Some(reply) => {
            let payload = serde_json::to_string(reply).expect("payloads serialise");
            Some(
                sql.queue_reply(shop, conversation, &payload, now + lease_ms, now)
                    .await?,
            )
        }
        None => None,
    };
    let mut state = o.state.clone();
    let ticket = match &o.handoff {
        HandoffChange::None => None,
        HandoffChange::Open { card, sla_due_at } => {
            let id = sql
                .open_handoff(shop, conversation, card, *sla_due_at, reply_job, now)
                .await?;
            state.open_handoff = Some(id);
            Some((id, "created"))
        }
        HandoffChange::Update {
            id,
            card,
            sla_due_at,
        } => {
            // An agent may have resolved the ticket while this step ran: the step is refused
            // whole, and the messages are decided afresh.
            if sql.handoff_status(*id).await? == "resolved" {
                return Err(resolved_meanwhile(*id));
            }
            sql.update_handoff(*id, card, *sla_due_at, now).await?;
            Some((*id, "updated"))
        }
    };
    if let Some((handoff_id, event)) = ticket {
        for sink in &o.notify {
            let payload = NotifyPayload {
                sink: sink.clone(),
                handoff_id,
                event: event.to_string(),
            };
            let payload = serde_json::to_string(&payload).expect("payloads serialise");
            sql.queue_notice(shop, conversation, &payload, now).await?;
        }
    }
    sql.save_conversation(shop, conversation, &state).await?;
    if o.more {
        sql.queue_process(shop, conversation, now).await?;
    }
    Ok(reply_job.map(|id| JobLease { id, claim: 1 }))
}
