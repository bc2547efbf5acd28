//! PostgreSQL, for several anfu instances sharing one database. The semantics are SQLite's
//! (see `sqlite/` and the `Store` docs); what differs is how they hold with concurrent
//! writers: unique indexes with `ON CONFLICT` make redeliveries and the one pending
//! processing job per conversation safe, claims lock their job with `FOR UPDATE SKIP LOCKED`
//! so two instances never take the same one, and migrations run under an advisory lock.

mod accept;
mod claim;
mod migrate;
mod sql;
mod step;

use super::queue::Sql;
use super::rows::*;
use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

/// How often claiming also takes back jobs whose worker's lease ran out (as in SQLite).
const REQUEUE_EVERY_MS: i64 = 1_000;

/// Connections per instance: workers, the HTTP handlers and the SLA timer share them.
const POOL_SIZE: u32 = 10;

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    accepts: super::group_commit::Accepts,
    last_requeue: Arc<AtomicI64>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/db`) and migrates the database.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("anfu");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            // Platforms wait a few seconds for an ack: better a quick 503 (they retry) than a
            // timeout on their side.
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await?;
        migrate::migrate(&pool).await?;
        let (accepts, queue) = super::group_commit::channel();
        tokio::spawn(accept::committer(pool.clone(), queue));
        Ok(PgStore {
            pool,
            accepts,
            last_requeue: Default::default(),
        })
    }

    async fn load_handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        let row = sqlx::query(&format!("{HANDOFF_SELECT} WHERE h.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("handoff {id}")))?;
        let notes = sqlx::query(
            "SELECT author, text, created_at FROM handoff_notes WHERE handoff_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(note_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let replies = sqlx::query(agent_reply::LINES)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(agent_reply::line_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut handoff = handoff_from(&row, notes)?;
        handoff.replies = Some(replies);
        Ok(handoff)
    }
}

/// PostgreSQL's text cannot hold U+0000, which JSON (and so a webhook) can: it is stored as
/// U+FFFD rather than refusing the message. Every string bound to a query goes through here,
/// so lookups match what was stored.
pub(super) fn t(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn opt_t(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(t)
}

#[async_trait]
impl Store for PgStore {
    fn is_shared(&self) -> bool {
        true
    }

    async fn publish_event(&self, payload: &str) -> Result<(), StoreError> {
        super::pg_events::publish(&self.pool, payload).await
    }

    async fn event_feed(&self) -> Result<Option<tokio::sync::mpsc::Receiver<String>>, StoreError> {
        super::pg_events::feed(&self.pool).await.map(Some)
    }

    async fn accept(
        &self,
        shop: &str,
        platform: &str,
        m: &BuyerMessage,
    ) -> Result<bool, StoreError> {
        self.accepts.accept(shop, platform, m).await
    }

    async fn claim_jobs(&self, lease_ms: Millis, max: usize) -> Result<Vec<Job>, StoreError> {
        self.claim(lease_ms, max).await
    }

    fn sql(&self) -> &dyn Sql {
        self
    }

    async fn jobs(&self, status: Option<&str>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE $1::text IS NULL OR status = $1 ORDER BY id DESC LIMIT 500"
        );
        sqlx::query(&sql)
            .bind(status.map(t))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(job_from)
            .collect()
    }

    async fn next_due(&self) -> Result<Option<Millis>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn unprocessed(
        &self,
        shop: &str,
        conversation: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = $1 AND conversation_id = $2 AND NOT processed ORDER BY received_at, id LIMIT $3"
        );
        sqlx::query(&sql)
            .bind(t(shop))
            .bind(t(conversation))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message_from)
            .collect()
    }

    async fn messages_since(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = $1 AND conversation_id = $2 AND received_at >= $3
               ORDER BY received_at DESC, id DESC LIMIT $4) AS newest ORDER BY received_at, id"
        );
        sqlx::query(&sql)
            .bind(t(shop))
            .bind(t(conversation))
            .bind(since)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(message_from)
            .collect()
    }

    async fn conversation(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<ConversationState, StoreError> {
        let row = sqlx::query(
            "SELECT last_reply_at, last_mood_rank, last_intensity, open_handoff FROM conversations WHERE shop = $1 AND conversation_id = $2",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(conversation_from)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    async fn commit_processing(
        &self,
        o: ProcessOutcome,
        lease_ms: Millis,
    ) -> Result<Option<JobLease>, StoreError> {
        let mut step = step::PgStep(self.pool.begin().await?);
        let lease = super::processing::commit(&mut step, &o, lease_ms).await?;
        step.0.commit().await?;
        Ok(lease)
    }

    async fn handoffs(&self, f: &HandoffFilter) -> Result<Vec<Handoff>, StoreError> {
        let rows = sqlx::query(&format!(
            "{HANDOFF_SELECT}
             WHERE ($1::text IS NULL OR h.status = $1) AND ($2::text IS NULL OR h.priority = $2)
             ORDER BY h.priority, h.sla_due_at, h.id LIMIT 500"
        ))
        .bind(opt_t(&f.status))
        .bind(f.priority.map(|p| p.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| handoff_from(r, Vec::new())).collect()
    }

    async fn handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        self.load_handoff(id).await
    }

    async fn sink_ref(&self, handoff: i64, sink: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT external_ref FROM sink_refs WHERE handoff_id = $1 AND sink = $2",
        )
        .bind(handoff)
        .bind(t(sink))
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn set_sink_ref(
        &self,
        handoff: i64,
        sink: &str,
        external_ref: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sink_refs (handoff_id, sink, external_ref, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (handoff_id, sink) DO NOTHING",
        )
        .bind(handoff)
        .bind(t(sink))
        .bind(t(external_ref))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn cursor(&self, shop: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT position FROM cursors WHERE shop = $1")
                .bind(t(shop))
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_cursor(&self, shop: &str, position: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cursors (shop, position) VALUES ($1, $2) ON CONFLICT (shop) DO UPDATE SET position = excluded.position",
        )
        .bind(t(shop))
        .bind(t(position))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status <> 'done' GROUP BY kind, status",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.text("kind")?, r.text("status")?, r.int("n")?)))
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
