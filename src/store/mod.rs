//! Durable state, organised by use case. The database guarantees idempotency (unique message
//! keys, one pending processing job per conversation); caches in front only speed it up.

mod agent_reply;
mod error;
mod group_commit;
mod handoff_record;
mod ladder;
mod payloads;
mod pg_events;
mod postgres;
mod processing;
mod queue;
mod reports;
mod retention;
mod rows;
mod sent;
mod sqlite;
mod tickets;
mod tokens;

pub use agent_reply::{AgentLine, Delivery};
pub use error::StoreError;
pub use handoff_record::{Followup, FollowupAnswer, Handoff, HandoffFilter, Note};
pub use payloads::{NotifyPayload, ReplyPayload};
pub use postgres::PgStore;
pub use processing::{ConversationState, HandoffChange, ProcessOutcome};
pub use queue::{JobLease, Settled};
pub use reports::{Count, DayCount, Report, ReportQuery, Terms};
pub use retention::Purged;
pub use sqlite::SqliteStore;
pub use tokens::TokenPair;

use queue::Settle;

use crate::domain::{BuyerMessage, HandoffCard, Priority};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch: every time in the store.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Process,
    Reply,
    Notify,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Process => "process",
            JobKind::Reply => "reply",
            JobKind::Notify => "notify",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub shop: String,
    pub conversation_id: String,
    pub payload: serde_json::Value,
    pub status: String,
    /// Attempts started so far, this one included.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Which claim of the job this is (see [`JobLease`]).
    #[serde(skip)]
    pub claim: i64,
}

impl Job {
    /// The claim this worker holds: what its updates of the job are fenced with.
    pub fn lease(&self) -> JobLease {
        JobLease {
            id: self.id,
            claim: self.claim,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub message: BuyerMessage,
    pub received_at: Millis,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores the message if its key is new and queues its conversation for processing, in one
    /// transaction. Returns false for a redelivery (nothing changes).
    async fn accept(
        &self,
        shop: &str,
        platform: &str,
        message: &BuyerMessage,
    ) -> Result<bool, StoreError>;

    /// Claims the next due job (or one whose worker's lease ran out). Jobs of a conversation
    /// being processed wait, so one conversation is never processed twice at once.
    async fn claim_job(&self, lease_ms: Millis) -> Result<Option<Job>, StoreError> {
        Ok(self.claim_jobs(lease_ms, 1).await?.pop())
    }

    /// Claims up to `max` due jobs at once, oldest due first, in one statement. Each job is
    /// claimed by one caller only, and a batch never holds a conversation's processing while
    /// another worker runs it (the queue keeps one waiting processing per conversation).
    async fn claim_jobs(&self, lease_ms: Millis, max: usize) -> Result<Vec<Job>, StoreError>;

    /// The SQL runner of the use cases written once for both backends (`queue.rs`): each
    /// backend returns itself. Not for use outside the store.
    #[doc(hidden)]
    fn sql(&self) -> &dyn queue::Sql;

    /// Deletes at most `batch` finished jobs and `batch` messages older than `cutoff` that
    /// no open ticket or waiting processing needs (`storage.keep`).
    async fn purge(&self, cutoff: Millis, batch: u32) -> Result<Purged, StoreError> {
        retention::purge(self.sql(), cutoff, batch).await
    }

    /// Gives freed pages back to the file system where the backend can (SQLite's
    /// incremental vacuum); PostgreSQL's autovacuum does it on its own.
    async fn reclaim(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether other instances may share this store (PostgreSQL): then console events are
    /// published through it.
    fn is_shared(&self) -> bool {
        false
    }

    /// Publishes a console event to every instance (PostgreSQL NOTIFY).
    async fn publish_event(&self, _payload: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Every published event, as it comes (PostgreSQL LISTEN); None without other instances.
    async fn event_feed(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>, StoreError> {
        Ok(None)
    }

    // Settling a claimed job. Each is fenced with the claim: under a claim that is no longer
    // the job's current one (the lease ran out and another worker took the job), nothing
    // changes, the answer is `Settled::LeaseLost` and it is logged. A processing job sent
    // back (retry, defer) while its conversation has a waiting processing job merges into
    // that one (`Settled::Merged`).

    async fn complete_job(&self, job: JobLease) -> Result<Settled, StoreError> {
        queue::settle(self.sql(), job, Settle::Done).await
    }
    /// Again at `run_at`, the attempt counted.
    async fn retry_job(
        &self,
        job: JobLease,
        run_at: Millis,
        error: &str,
    ) -> Result<Settled, StoreError> {
        queue::settle(self.sql(), job, Settle::Retry { run_at, error }).await
    }
    async fn bury_job(&self, job: JobLease, error: &str) -> Result<Settled, StoreError> {
        queue::settle(self.sql(), job, Settle::Bury { error }).await
    }
    /// Puts a claimed job back without counting the attempt (a rate limit said "later", the
    /// database failed).
    async fn defer_job(&self, job: JobLease, run_at: Millis) -> Result<Settled, StoreError> {
        queue::settle(self.sql(), job, Settle::Defer { run_at }).await
    }
    async fn jobs(&self, status: Option<&str>) -> Result<Vec<Job>, StoreError>;
    /// The earliest run_at of a pending job, to sleep until then.
    async fn next_due(&self) -> Result<Option<Millis>, StoreError>;

    /// The conversation's oldest `limit` messages not processed yet, oldest first.
    async fn unprocessed(
        &self,
        shop: &str,
        conversation: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// The newest `limit` messages of the conversation received at or after `since`, oldest
    /// first.
    async fn messages_since(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    async fn conversation(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<ConversationState, StoreError>;
    /// Writes a processing step's decisions and completes its job, all or nothing. The reply
    /// job, if any, is stored already claimed (leased) by the caller, who delivers it at once;
    /// its claim is returned. Should the caller die, the lease runs out and any worker retries.
    /// Refused whole with `LeaseLost` when `outcome.job` is no longer the job's current claim,
    /// and with `Conflict` when the step's view of the conversation went stale: a second
    /// ticket to open, or the ticket to update resolved meanwhile (processing again decides
    /// afresh).
    async fn commit_processing(
        &self,
        outcome: ProcessOutcome,
        lease_ms: Millis,
    ) -> Result<Option<JobLease>, StoreError>;

    async fn handoffs(&self, filter: &HandoffFilter) -> Result<Vec<Handoff>, StoreError>;
    async fn handoff(&self, id: i64) -> Result<Handoff, StoreError>;
    async fn claim_handoff(&self, id: i64, agent: &str) -> Result<Handoff, StoreError> {
        tickets::claim(self, id, agent).await
    }
    /// Resolving also closes the conversation's handoff: the bot may answer again.
    async fn resolve_handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        tickets::resolve(self, id).await
    }
    async fn add_note(&self, id: i64, author: &str, text: &str) -> Result<Handoff, StoreError> {
        tickets::add_note(self, id, author, text).await
    }
    /// Queues `text` from `agent` to the ticket's buyer, through the shop's send API like a
    /// bot reply, and stamps the ticket's first response: `NotFound` for an unknown ticket,
    /// `Conflict` for a resolved one. The worker is woken by the caller.
    async fn queue_agent_reply(
        &self,
        id: i64,
        agent: &str,
        text: &str,
    ) -> Result<AgentLine, StoreError> {
        let handoff = self.handoff(id).await?;
        agent_reply::queue(self.sql(), &handoff, agent, text).await
    }

    // The escalation ladder and the follow-up (回访), written once in `ladder.rs`.

    /// Unclaimed P1 tickets open since `opened_before` or earlier, not escalated yet.
    async fn unclaimed_p1(&self, opened_before: Millis) -> Result<Vec<Handoff>, StoreError> {
        ladder::unclaimed_p1(self.sql(), opened_before).await
    }
    /// Marks the ticket escalated and queues an `escalated` notice per sink in `notify`,
    /// once: false if it already was (or was claimed meanwhile).
    async fn escalate(&self, id: i64, notify: &[String]) -> Result<bool, StoreError> {
        ladder::escalate(self.sql(), id, notify).await
    }
    /// The conversation's newest ticket, whatever its status.
    async fn latest_handoff(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<Option<Handoff>, StoreError> {
        ladder::latest(self.sql(), shop, conversation).await
    }
    /// Reopens a resolved ticket (its buyer complained again): open and unclaimed again with
    /// `card` and a fresh SLA clock, one more repeat, the conversation's open ticket, and a
    /// `reopened` notice per sink. `Conflict` if it is no longer resolved.
    async fn reopen_handoff(
        &self,
        id: i64,
        card: &HandoffCard,
        sla_due_at: Millis,
        notify: &[String],
    ) -> Result<(), StoreError> {
        ladder::reopen(self.sql(), id, card, sla_due_at, notify).await
    }
    /// Resolved tickets whose follow-up is due.
    async fn followups_due(&self, now: Millis) -> Result<Vec<Handoff>, StoreError> {
        ladder::followups_due(self.sql(), now).await
    }
    /// Schedules, or moves, the follow-up of a resolved ticket not followed up yet.
    async fn schedule_followup(&self, id: i64, at: Millis) -> Result<(), StoreError> {
        ladder::schedule_followup(self.sql(), id, at).await
    }
    /// Queues the follow-up question, once: false if it was asked already.
    async fn ask_followup(&self, id: i64, question: &ReplyPayload) -> Result<bool, StoreError> {
        ladder::ask(self.sql(), id, question).await
    }
    /// The buyer answered the follow-up satisfied: marked once, with the thanks and review
    /// invitation queued when given. False if the answer was recorded already.
    async fn followup_satisfied(
        &self,
        id: i64,
        invitation: Option<&ReplyPayload>,
    ) -> Result<bool, StoreError> {
        ladder::satisfied(self.sql(), id, invitation).await
    }

    /// The complaint report over a time range (and a shop), computed in SQL.
    async fn report(&self, query: &ReportQuery) -> Result<Report, StoreError> {
        reports::report(self.sql(), self.sql().dialect(), query).await
    }

    /// Open or claimed tickets past their SLA due time, unanswered, not yet marked breached.
    async fn overdue(&self, now: Millis) -> Result<Vec<Handoff>, StoreError> {
        ladder::overdue(self.sql(), now).await
    }
    /// Marks a ticket breached and queues the notices, once; false if it already was.
    async fn record_breach(&self, id: i64, notify: &[String]) -> Result<bool, StoreError> {
        ladder::mark_sla(self.sql(), id, ladder::SlaMark::Breached, notify).await
    }
    /// Open or claimed tickets of `priority` due after `now` and at or before `until`,
    /// unanswered, not yet warned.
    async fn due_soon(
        &self,
        priority: Priority,
        now: Millis,
        until: Millis,
    ) -> Result<Vec<Handoff>, StoreError> {
        ladder::due_soon(self.sql(), priority, now, until).await
    }
    /// Marks a ticket as about to breach and queues the notices, once; false if it already
    /// was warned or breached.
    async fn record_warning(&self, id: i64, notify: &[String]) -> Result<bool, StoreError> {
        ladder::mark_sla(self.sql(), id, ladder::SlaMark::Warned, notify).await
    }

    /// What the sink named `sink` made for the ticket, e.g. a Chatwoot conversation id.
    async fn sink_ref(&self, handoff: i64, sink: &str) -> Result<Option<String>, StoreError>;
    /// Remembers it; the first one stays if two race.
    async fn set_sink_ref(
        &self,
        handoff: i64,
        sink: &str,
        external_ref: &str,
    ) -> Result<(), StoreError>;
    /// Renames sinks still named by their position in `[[sinks]]` (queued notices and sink
    /// references from before names) to `names[position]`, today's configuration: once,
    /// at start. How many rows changed.
    async fn adopt_sink_names(&self, names: &[String]) -> Result<usize, StoreError> {
        queue::adopt_sink_names(self.sql(), names).await
    }

    async fn cursor(&self, shop: &str) -> Result<Option<String>, StoreError>;
    async fn set_cursor(&self, shop: &str, position: &str) -> Result<(), StoreError>;
    /// Takes the shop's poll lease for `ttl_ms`, or renews it when `holder` has it: true if
    /// `holder` may poll now. Atomic: of several instances asking, one gets it.
    async fn take_poll_lease(
        &self,
        shop: &str,
        holder: &str,
        ttl_ms: Millis,
    ) -> Result<bool, StoreError> {
        queue::take_poll_lease(self.sql(), shop, holder, ttl_ms).await
    }
    /// Gives the lease up (if `holder` has it), so another instance polls at once.
    async fn release_poll_lease(&self, shop: &str, holder: &str) -> Result<(), StoreError> {
        queue::release_poll_lease(self.sql(), shop, holder).await
    }

    /// What anfu queued for a conversation since `since` (its replies, agents' lines,
    /// follow-ups), oldest first, with when: context for the analyzer, and never read as the
    /// buyer's when a platform echoes it.
    async fn reply_texts(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
    ) -> Result<Vec<(Millis, String)>, StoreError> {
        sent::reply_texts(self.sql(), shop, conversation, since).await
    }
    /// The shop's newest platform token pair (Shopee), if one is stored.
    async fn token(&self, shop: &str) -> Result<Option<TokenPair>, StoreError> {
        tokens::read(self.sql(), shop).await
    }
    /// Stores a token pair bought by spending the refresh token `spent` (None: the config's
    /// first one, when nothing is stored): false when another instance rotated first.
    async fn rotate_token(
        &self,
        shop: &str,
        spent: Option<&str>,
        new: &TokenPair,
    ) -> Result<bool, StoreError> {
        tokens::rotate(self.sql(), shop, spent, new).await
    }

    /// How many jobs there are by kind and status (queue depth for /metrics).
    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError>;

    /// Is the database reachable?
    async fn ping(&self) -> Result<(), StoreError>;
}
