//! The embedded default: one SQLite file in WAL mode with full fsync, so an acknowledged
//! message survives a crash or power loss. All writes go through one connection on a thread
//! of its own (`writer.rs`: SQLite serialises writers anyway, this avoids lock-upgrade
//! failures, and a use case costs one thread hop); reads run on read-only connections on
//! the caller's thread (`reads.rs`).

mod accept;
mod failure;
mod migrate;
mod reads;
mod sql;
mod step;
mod writer;

use super::group_commit::{self, Accepts};
use super::queue::Sql;
use super::rows::*;
use super::*;
use reads::{all, first, scalar, Readers};
use rusqlite::params;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use writer::Writer;

/// How often claiming also takes back jobs whose worker's lease ran out.
const REQUEUE_EVERY_MS: i64 = 1_000;

/// The shared claim (`queue::claim_sql`); SQLite's one writer needs no row locks.
static CLAIM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| sql::numbered(&super::queue::claim_sql("")));

#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    accepts: Accepts,
    last_requeue: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_capped(url, 0).await
    }

    /// [`SqliteStore::open`], with the file capped at about `max_bytes` (0: no cap). Past
    /// the cap writes fail with SQLITE_FULL, as on a full disk.
    pub async fn open_capped(url: &str, max_bytes: u64) -> Result<SqliteStore, StoreError> {
        let mut options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Worker bookkeeping may lose its last steps on power loss (they are redone, and
            // sends are idempotent); accepted messages may not: their group commit fsyncs the
            // WAL before acknowledging (see `group_commits`).
            .synchronous(SqliteSynchronous::Normal)
            // Checkpoints fsync the database; every job update writes a few pages, so the
            // default (1000 pages) would checkpoint every few messages under load.
            .pragma("wal_autocheckpoint", "20000")
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // New files get SQLite's default 4 KiB pages; the cap is counted in them.
        let max_pages = if max_bytes > 0 {
            (max_bytes / 4096).max(1)
        } else {
            0
        };
        if max_pages > 0 {
            options = options.pragma("max_page_count", max_pages.to_string());
        }
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            // Takes effect on a new file only (before its first table): retention's deletes
            // then give space back with `incremental_vacuum`.
            .connect_with(options.clone().pragma("auto_vacuum", "INCREMENTAL"))
            .await?;
        migrate::migrate(&migrator).await?;
        migrator.close().await;
        let writer = Writer::open(options.get_filename(), max_pages)?;
        let readers = Readers::open(options.get_filename())?;
        let mut wal = options.get_filename().as_os_str().to_owned();
        wal.push("-wal");
        let (accepts, queue) = group_commit::channel();
        tokio::spawn(accept::group_commits(
            writer.clone(),
            PathBuf::from(wal),
            queue,
        ));
        Ok(SqliteStore {
            writer,
            readers,
            accepts,
            last_requeue: Default::default(),
        })
    }
}

/// A handoff with its notes and agent lines.
fn load_handoff(conn: &rusqlite::Connection, id: i64) -> Result<Handoff, StoreError> {
    let sql = format!("{HANDOFF_SELECT} WHERE h.id = ?1");
    let mut handoff = first(conn, &sql, [id], |row| handoff_from(row, Vec::new()))?
        .ok_or_else(|| StoreError::NotFound(format!("handoff {id}")))?;
    handoff.notes = all(
        conn,
        "SELECT author, text, created_at FROM handoff_notes WHERE handoff_id = ?1 ORDER BY id",
        [id],
        |row| note_from(row),
    )?;
    let lines = sql::numbered(agent_reply::LINES);
    handoff.replies = Some(all(conn, &lines, [id], |row| agent_reply::line_from(row))?);
    Ok(handoff)
}

#[async_trait]
impl Store for SqliteStore {
    async fn reclaim(&self) -> Result<(), StoreError> {
        // Files made with incremental auto-vacuum give their free pages back; older files
        // (auto_vacuum off) reuse them for new rows instead, and this does nothing there.
        self.writer
            .run_in(writer::Turn::Alone, |conn| {
                conn.execute_batch("PRAGMA incremental_vacuum(2000)")
            })
            .await??;
        Ok(())
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
        use std::sync::atomic::Ordering;
        let now = now_ms();
        // Expired leases (a worker died mid-job) go back to the queue, checked now and then
        // rather than in every claim so that the claim itself stays an index lookup.
        let requeue = now - self.last_requeue.load(Ordering::Relaxed) >= REQUEUE_EVERY_MS;
        if requeue {
            self.last_requeue.store(now, Ordering::Relaxed);
        }
        self.writer
            .run(move |conn| {
                if requeue {
                    requeue_expired(conn, now)?;
                }
                let mut claim = conn.prepare_cached(&CLAIM)?;
                let mut rows = claim.query(params![now + lease_ms, now, max as i64])?;
                let mut jobs = Vec::new();
                while let Some(row) = rows.next()? {
                    jobs.push(job_from(row)?);
                }
                // RETURNING has no order; the oldest first, as they were chosen.
                jobs.sort_by_key(|job| job.id);
                Ok(jobs)
            })
            .await?
    }

    fn sql(&self) -> &dyn Sql {
        self
    }

    async fn jobs(&self, status: Option<&str>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT 500"
        );
        let status = status.map(str::to_string);
        self.readers
            .read_apart(move |c| all(c, &sql, [status], |row| job_from(row)))
            .await
    }

    async fn next_due(&self) -> Result<Option<Millis>, StoreError> {
        let sql = "SELECT MIN(run_at) FROM jobs WHERE status = 'pending'";
        self.readers.read(|c| scalar(c, sql, []))
    }

    async fn unprocessed(
        &self,
        shop: &str,
        conversation: &str,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = ?1 AND conversation_id = ?2 AND processed = 0 ORDER BY received_at, id LIMIT ?3"
        );
        let args = params![shop, conversation, limit as i64];
        self.readers
            .read(|c| all(c, &sql, args, |row| message_from(row)))
    }

    async fn messages_since(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT * FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = ?1 AND conversation_id = ?2 AND received_at >= ?3
               ORDER BY received_at DESC, id DESC LIMIT ?4) ORDER BY received_at, id"
        );
        let args = params![shop, conversation, since, limit as i64];
        self.readers
            .read(|c| all(c, &sql, args, |row| message_from(row)))
    }

    async fn conversation(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<ConversationState, StoreError> {
        let sql = "SELECT last_reply_at, last_mood_rank, last_intensity, open_handoff FROM conversations WHERE shop = ?1 AND conversation_id = ?2";
        self.readers
            .read(|c| first(c, sql, [shop, conversation], |row| conversation_from(row)))
            .map(Option::unwrap_or_default)
    }

    /// Read here rather than by the shared layer: it is on every processing step's path.
    async fn reply_texts(
        &self,
        shop: &str,
        conversation: &str,
        since: Millis,
    ) -> Result<Vec<(Millis, String)>, StoreError> {
        let args = reads::bound(&sent::args(shop, conversation, since));
        let rows = self.readers.read(|c| reads::cells(c, sent::TEXTS, &args))?;
        sent::texts_from(&rows)
    }

    async fn commit_processing(
        &self,
        o: ProcessOutcome,
        lease_ms: Millis,
    ) -> Result<Option<JobLease>, StoreError> {
        self.writer
            .run(move |conn| {
                writer::in_transaction(conn, |conn| {
                    let mut step = step::SqliteStep(conn);
                    writer::ready(super::processing::commit(&mut step, &o, lease_ms))?
                })
            })
            .await?
    }

    async fn handoffs(&self, f: &HandoffFilter) -> Result<Vec<Handoff>, StoreError> {
        let sql = format!(
            "{HANDOFF_SELECT}
             WHERE (?1 IS NULL OR h.status = ?1) AND (?2 IS NULL OR h.priority = ?2)
             ORDER BY h.priority, h.sla_due_at, h.id LIMIT 500"
        );
        let args = (f.status.clone(), f.priority.map(|p| p.as_str()));
        self.readers
            .read_apart(move |c| all(c, &sql, args, |row| handoff_from(row, Vec::new())))
            .await
    }

    async fn handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        self.readers.read(|c| load_handoff(c, id))
    }

    async fn sink_ref(&self, handoff: i64, sink: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT external_ref FROM sink_refs WHERE handoff_id = ?1 AND sink = ?2";
        self.readers
            .read(|c| scalar(c, sql, params![handoff, sink]))
    }

    async fn set_sink_ref(
        &self,
        handoff: i64,
        sink: &str,
        external_ref: &str,
    ) -> Result<(), StoreError> {
        let (sink, external_ref) = (sink.to_string(), external_ref.to_string());
        self.writer
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO sink_refs (handoff_id, sink, external_ref, created_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (handoff_id, sink) DO NOTHING",
                    params![handoff, sink, external_ref, now_ms()],
                )
            })
            .await??;
        Ok(())
    }

    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status != 'done' GROUP BY kind, status";
        let count = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?, row.get(2)?));
        self.readers
            .read_apart(move |c| all(c, sql, [], count))
            .await
    }

    async fn cursor(&self, shop: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT position FROM cursors WHERE shop = ?1";
        self.readers.read(|c| scalar(c, sql, [shop]))
    }

    async fn set_cursor(&self, shop: &str, position: &str) -> Result<(), StoreError> {
        let (shop, position) = (shop.to_string(), position.to_string());
        self.writer
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO cursors (shop, position) VALUES (?, ?) ON CONFLICT (shop) DO UPDATE SET position = excluded.position",
                    params![shop, position],
                )
            })
            .await??;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|c| scalar::<i64>(c, "SELECT 1", []).map(drop))
    }
}

/// Jobs whose worker's lease ran out go back to the queue. A processing job is redundant
/// when another one already waits for its conversation (it will take the same messages):
/// it is done instead, as requeueing it would break the one-pending-per-conversation index.
fn requeue_expired(conn: &mut rusqlite::Connection, now: Millis) -> Result<(), StoreError> {
    writer::in_transaction(conn, |conn| {
        conn.prepare_cached(
            "UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = ?1
             WHERE status = 'running' AND lease_until < ?1 AND kind = 'process'
               AND EXISTS (SELECT 1 FROM jobs p WHERE p.shop = jobs.shop
                 AND p.conversation_id = jobs.conversation_id AND p.kind = 'process'
                 AND p.status = 'pending')",
        )?
        .execute([now])?;
        conn.prepare_cached(
            "UPDATE jobs SET status = 'pending', run_at = ?1, lease_until = NULL, updated_at = ?1
             WHERE status = 'running' AND lease_until < ?1",
        )?
        .execute([now])?;
        Ok(())
    })
}
