//! Durable state, organised by use case. The database guarantees idempotency (unique message
//! keys, one pending processing job per conversation); caches in front only speed it up.

mod postgres;
mod rows;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::domain::{BuyerMessage, HandoffCard, Priority};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database full: {0}")]
    Full(String),
}

impl StoreError {
    /// The disk (or SQLite's `storage.max_size`) is full: SQLite's SQLITE_FULL, which it also
    /// reports for ENOSPC, or PostgreSQL's class 53 (disk_full, out of memory…).
    pub fn is_full(&self) -> bool {
        match self {
            StoreError::Full(_) => true,
            StoreError::Db(sqlx::Error::Database(e)) => e.code().is_some_and(|c| full_code(&c)),
            _ => false,
        }
    }

    /// The database failed (unreachable, locked, full), not the data or the request: the same
    /// work will succeed later unchanged, so it must not use up a job's attempts.
    pub fn is_outage(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Full(_) => true,
            StoreError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(e) => e.code().is_some_and(|c| outage_code(&c)),
                _ => false,
            },
            StoreError::Corrupt(_) | StoreError::NotFound(_) | StoreError::Conflict(_) => false,
        }
    }
}

/// SQLite reports (extended) result codes as numbers of at most four digits (the largest is
/// 8458); PostgreSQL SQLSTATEs are always five characters, some all digits (53100).
fn sqlite_primary(code: &str) -> Option<i64> {
    if code.len() >= 5 {
        return None;
    }
    code.parse::<i64>().ok().map(|c| c & 0xff)
}

fn full_code(code: &str) -> bool {
    sqlite_primary(code).map_or(code.starts_with("53"), |c| c == 13)
}

fn outage_code(code: &str) -> bool {
    // SQLite: BUSY 5, LOCKED 6, READONLY 8 (a disk remounted read-only), IOERR 10, FULL 13,
    // CANTOPEN 14. PostgreSQL: 08 connection exceptions, 53 insufficient resources, 57P0x
    // the server shutting down or starting, 55000 a database not accepting connections.
    match sqlite_primary(code) {
        Some(c) => matches!(c, 5 | 6 | 8 | 10 | 13 | 14),
        None => {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P0")
                || code == "55000"
        }
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn result_codes_name_outages_and_full_disks() {
        let cases = [
            // (code, outage, full)
            ("5", true, false),      // SQLITE_BUSY
            ("773", true, false),    // SQLITE_BUSY_TIMEOUT (extended)
            ("13", true, true),      // SQLITE_FULL
            ("266", true, false),    // SQLITE_IOERR_READ (extended)
            ("19", false, false),    // SQLITE_CONSTRAINT: the data, not the database
            ("2067", false, false),  // SQLITE_CONSTRAINT_UNIQUE
            ("53100", true, true),   // disk_full
            ("08006", true, false),  // connection_failure
            ("57P01", true, false),  // admin_shutdown
            ("55000", true, false),  // database not accepting connections
            ("23505", false, false), // unique_violation
            ("42P01", false, false), // undefined_table: a bug, retrying will not help
        ];
        for (code, outage, full) in cases {
            assert_eq!(outage_code(code), outage, "outage: {code}");
            assert_eq!(full_code(code), full, "full: {code}");
        }
    }

    #[test]
    fn errors_without_a_code_are_classified_by_kind() {
        assert!(StoreError::Db(sqlx::Error::PoolTimedOut).is_outage());
        assert!(StoreError::Unavailable("committer stopped".into()).is_outage());
        assert!(StoreError::Full("x".into()).is_full());
        assert!(!StoreError::Corrupt("bad json".into()).is_outage());
        assert!(!StoreError::NotFound("handoff 9".into()).is_outage());
        assert!(!StoreError::Db(sqlx::Error::RowNotFound).is_outage());
    }
}

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

/// What a reply job sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    pub to_buyer: Option<String>,
    pub text: String,
    /// Sent with every attempt so the platform delivers it once.
    pub idempotency_key: String,
    /// When the message answered was received (for the reply-lag metric).
    #[serde(default)]
    pub received_at: Option<Millis>,
}

/// What a notify job tells a sink (the card is read from the ticket when it runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPayload {
    /// Index into the configured `[[sinks]]`.
    pub sink: usize,
    pub handoff_id: i64,
    /// `created` or `updated`.
    pub event: String,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub message: BuyerMessage,
    pub received_at: Millis,
}

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
    pub job_id: i64,
    pub shop: String,
    pub conversation_id: String,
    pub processed: Vec<i64>,
    pub state: ConversationState,
    pub reply: Option<ReplyPayload>,
    pub handoff: HandoffChange,
    /// Sinks (indexes into `[[sinks]]`) to tell about the ticket opened or updated.
    pub notify: Vec<usize>,
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

#[derive(Debug, Clone, Serialize)]
pub struct Handoff {
    pub id: i64,
    pub status: String,
    pub priority: Priority,
    pub claimed_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Delivery of the auto-reply: pending, running, done or dead (None: no reply).
    pub reply_status: Option<String>,
    /// Passed its SLA due time while open or claimed.
    pub sla_breached: bool,
    /// Close to its SLA due time (`sla.warn_before`) and not breached yet.
    pub sla_warning: bool,
    pub card: HandoffCard,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub author: String,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HandoffFilter {
    pub status: Option<String>,
    pub priority: Option<Priority>,
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
    async fn claim_job(&self, lease_ms: Millis) -> Result<Option<Job>, StoreError>;
    async fn complete_job(&self, id: i64) -> Result<(), StoreError>;
    async fn retry_job(&self, id: i64, run_at: Millis, error: &str) -> Result<(), StoreError>;
    async fn bury_job(&self, id: i64, error: &str) -> Result<(), StoreError>;
    /// Puts a claimed job back without counting the attempt (a rate limit said "later").
    async fn defer_job(&self, id: i64, run_at: Millis) -> Result<(), StoreError>;
    async fn jobs(&self, status: Option<&str>) -> Result<Vec<Job>, StoreError>;
    /// The earliest run_at of a pending job, to sleep until then.
    async fn next_due(&self) -> Result<Option<Millis>, StoreError>;

    async fn unprocessed(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Messages of the conversation received at or after `since`, oldest first.
    async fn messages_since(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    async fn conversation(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<ConversationState, StoreError>;
    /// Writes a processing step's decisions and completes its job, all or nothing. The reply
    /// job, if any, is stored already claimed (leased) by the caller, who delivers it at once;
    /// its id is returned. Should the caller die, the lease runs out and any worker retries.
    async fn commit_processing(
        &self,
        outcome: ProcessOutcome,
        lease_ms: Millis,
    ) -> Result<Option<i64>, StoreError>;

    async fn handoffs(&self, filter: &HandoffFilter) -> Result<Vec<Handoff>, StoreError>;
    async fn handoff(&self, id: i64) -> Result<Handoff, StoreError>;
    async fn claim_handoff(&self, id: i64, agent: &str) -> Result<Handoff, StoreError>;
    /// Resolving also closes the conversation's handoff: the bot may answer again.
    async fn resolve_handoff(&self, id: i64) -> Result<Handoff, StoreError>;
    async fn add_note(&self, id: i64, author: &str, text: &str) -> Result<Handoff, StoreError>;

    /// Open or claimed tickets past their SLA due time, not yet marked breached.
    async fn overdue(&self, now: Millis) -> Result<Vec<Handoff>, StoreError>;
    /// Marks a ticket breached and queues the notices, once; false if it already was.
    async fn record_breach(&self, id: i64, notify: &[usize]) -> Result<bool, StoreError>;
    /// Open or claimed tickets of `priority` due after `now` and at or before `until`, not yet
    /// warned.
    async fn due_soon(
        &self,
        priority: Priority,
        now: Millis,
        until: Millis,
    ) -> Result<Vec<Handoff>, StoreError>;
    /// Marks a ticket as about to breach and queues the notices, once; false if it already
    /// was warned or breached.
    async fn record_warning(&self, id: i64, notify: &[usize]) -> Result<bool, StoreError>;

    /// What sink `sink` (index into `[[sinks]]`) made for the ticket, e.g. a Chatwoot
    /// conversation id.
    async fn sink_ref(&self, handoff: i64, sink: usize) -> Result<Option<String>, StoreError>;
    /// Remembers it; the first one stays if two race.
    async fn set_sink_ref(
        &self,
        handoff: i64,
        sink: usize,
        external_ref: &str,
    ) -> Result<(), StoreError>;

    async fn cursor(&self, shop: &str) -> Result<Option<String>, StoreError>;
    async fn set_cursor(&self, shop: &str, position: &str) -> Result<(), StoreError>;

    /// How many jobs there are by kind and status (queue depth for /metrics).
    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError>;

    /// Is the database reachable?
    async fn ping(&self) -> Result<(), StoreError>;
}
