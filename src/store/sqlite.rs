//! The embedded default: one SQLite file in WAL mode with full fsync, so an acknowledged
//! message survives a crash or power loss. All writes go through one connection (SQLite
//! serialises writers anyway, and this avoids lock-upgrade failures); reads use a pool.

use super::group_commit::{self, AcceptRequest, Accepts, Failed};
use super::queue::{Arg, Sql, Statement};
use super::rows::*;
use super::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_job_indexes.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_enqueue_trigger.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_sla_breach.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_sla_warning.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_sink_refs.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_one_open_handoff.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_job_claims.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_sink_names.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_poll_leases.sql"),
    ),
    (
        11,
        include_str!("../../migrations/sqlite/0011_agent_replies.sql"),
    ),
    (12, include_str!("../../migrations/sqlite/0012_ladder.sql")),
    (
        13,
        include_str!("../../migrations/sqlite/0013_platform_tokens.sql"),
    ),
    (
        14,
        include_str!("../../migrations/sqlite/0014_message_kinds.sql"),
    ),
];

/// How often claiming also takes back jobs whose worker's lease ran out.
const REQUEUE_EVERY_MS: i64 = 1_000;

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
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
        if max_bytes > 0 {
            // New files get SQLite's default 4 KiB pages; the cap is counted in them.
            let pages = (max_bytes / 4096).max(1);
            options = options.pragma("max_page_count", pages.to_string());
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // Takes effect on a new file only (before its first table): retention's deletes
            // then give space back with `incremental_vacuum`.
            .connect_with(options.clone().pragma("auto_vacuum", "INCREMENTAL"))
            .await?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await?;
        let mut wal = options.get_filename().as_os_str().to_owned();
        wal.push("-wal");
        let (accepts, queue) = group_commit::channel();
        tokio::spawn(group_commits(writer.clone(), PathBuf::from(wal), queue));
        Ok(SqliteStore {
            writer,
            reader,
            accepts,
            last_requeue: Default::default(),
        })
    }
}

/// Group commit: every message that arrived while the previous batch was being written goes
/// into the next transaction. The transaction commits without waiting for the disk (the
/// connection is free for the workers at once); then the WAL file is fsynced — what
/// `synchronous = FULL` would do — and only then is the batch acknowledged. Batches overlap:
/// a later fsync covers earlier frames too.
async fn group_commits(
    pool: SqlitePool,
    wal: PathBuf,
    mut queue: tokio::sync::mpsc::Receiver<AcceptRequest>,
) {
    while let Some(group) = group_commit::next_group(&mut queue).await {
        let committed = commit_group(&pool, &group).await;
        let wal = wal.clone();
        tokio::spawn(async move {
            let outcome = match committed {
                Ok(inserted) => match tokio::task::spawn_blocking(move || sync_wal(&wal)).await {
                    Ok(Ok(())) => Ok(inserted),
                    Ok(Err(e)) => Err(Failed {
                        full: e.kind() == std::io::ErrorKind::StorageFull,
                        message: format!("fsync: {e}"),
                    }),
                    Err(e) => Err(Failed {
                        full: false,
                        message: format!("fsync task: {e}"),
                    }),
                },
                Err(e) => Err(Failed::from(e)),
            };
            group_commit::answer(group, outcome);
        });
    }
}

/// Makes committed WAL frames durable. Without a WAL file everything was checkpointed into
/// the database file (SQLite syncs it before removing the WAL): sync that instead.
fn sync_wal(wal: &Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let wal = wal.to_string_lossy();
            let db = wal.strip_suffix("-wal").unwrap_or(&wal);
            std::fs::File::open(db)?.sync_data()
        }
        Err(e) => Err(e),
    }
}

/// The whole group is one multi-row INSERT (a trigger queues the processing jobs); the
/// rows it returns are the messages that were new.
async fn commit_group(pool: &SqlitePool, group: &[AcceptRequest]) -> Result<Vec<bool>, StoreError> {
    let now = now_ms();
    let mut sql = String::from(
        "INSERT INTO messages (shop, platform, message_key, conversation_id, buyer_id, buyer_nick, text, order_id, sent_at, received_at, kind) VALUES ",
    );
    for i in 0..group.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" ON CONFLICT (shop, message_key) DO NOTHING RETURNING shop, message_key");
    let mut query = sqlx::query(&sql);
    for r in group {
        let m = &r.message;
        query = query
            .bind(&r.shop)
            .bind(&r.platform)
            .bind(&m.message_key)
            .bind(&m.conversation_id)
            .bind(&m.buyer_id)
            .bind(&m.buyer_nick)
            .bind(&m.text)
            .bind(&m.order_id)
            .bind(&m.sent_at)
            .bind(now)
            .bind(m.kind.as_str());
    }
    let rows = query.fetch_all(pool).await?;
    let inserted = rows
        .iter()
        .map(|row| Ok((row.try_get("shop")?, row.try_get("message_key")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(group_commit::new_ones(group, inserted, str::to_string))
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS anfu_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .execute(pool)
        .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM anfu_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(pool)
                .await?;
        if done.is_some() {
            continue;
        }
        // One script, one transaction: a migration applies whole or not at all. (raw_sql on
        // the single-connection pool: a Transaction executor trips a Send bound in sqlx.)
        let script = format!(
            "BEGIN;\n{sql}\nINSERT INTO anfu_migrations (version, applied_at) VALUES ({version}, {});\nCOMMIT;",
            now_ms()
        );
        sqlx::raw_sql(&script).execute(pool).await?;
    }
    Ok(())
}

impl SqliteStore {
    async fn load_handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        let row = sqlx::query(&format!("{HANDOFF_SELECT} WHERE h.id = ?"))
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("handoff {id}")))?;
        let notes = sqlx::query(
            "SELECT author, text, created_at FROM handoff_notes WHERE handoff_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(note_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
        let replies = sqlx::query(agent_reply::LINES)
            .bind(id)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(agent_reply::line_from)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut handoff = handoff_from(&row, notes)?;
        handoff.replies = Some(replies);
        Ok(handoff)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn reclaim(&self) -> Result<(), StoreError> {
        // Files made with incremental auto-vacuum give their free pages back; older files
        // (auto_vacuum off) reuse them for new rows instead, and this does nothing there.
        sqlx::query("PRAGMA incremental_vacuum(2000)")
            .execute(&self.writer)
            .await?;
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

    async fn claim_job(&self, lease_ms: Millis) -> Result<Option<Job>, StoreError> {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        // Expired leases (a worker died mid-job) go back to the queue, checked now and then
        // rather than in every claim so that the claim itself stays an index lookup.
        if now - self.last_requeue.load(Ordering::Relaxed) >= REQUEUE_EVERY_MS {
            self.last_requeue.store(now, Ordering::Relaxed);
            // A processing job is redundant when another one already waits for its
            // conversation (it will take the same messages); requeueing it would break the
            // one-pending-per-conversation index.
            sqlx::query(
                "UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = ?1
                 WHERE status = 'running' AND lease_until < ?1 AND kind = 'process'
                   AND EXISTS (SELECT 1 FROM jobs p WHERE p.shop = jobs.shop
                     AND p.conversation_id = jobs.conversation_id AND p.kind = 'process'
                     AND p.status = 'pending')",
            )
            .bind(now)
            .execute(&self.writer)
            .await?;
            sqlx::query(
                "UPDATE jobs SET status = 'pending', run_at = ?1, lease_until = NULL, updated_at = ?1
                 WHERE status = 'running' AND lease_until < ?1",
            )
            .bind(now)
            .execute(&self.writer)
            .await?;
        }
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, claims = claims + 1, lease_until = ?1, updated_at = ?2
             WHERE id = (
               SELECT j.id FROM jobs j
               WHERE j.status = 'pending' AND j.run_at <= ?2
                 AND NOT (j.kind = 'process' AND EXISTS (
                   SELECT 1 FROM jobs r WHERE r.shop = j.shop AND r.conversation_id = j.conversation_id
                     AND r.kind = 'process' AND r.status = 'running' AND r.id <> j.id))
               ORDER BY j.run_at, j.id LIMIT 1)
             RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(now)
            .fetch_optional(&self.writer)
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    fn sql(&self) -> &dyn Sql {
        self
    }

    async fn jobs(&self, status: Option<&str>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT 500"
        );
        sqlx::query(&sql)
            .bind(status)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(job_from)
            .collect()
    }

    async fn next_due(&self) -> Result<Option<Millis>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE status = 'pending'")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn unprocessed(
        &self,
        shop: &str,
        conversation: &str,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = ? AND conversation_id = ? AND processed = 0 ORDER BY received_at, id"
        );
        sqlx::query(&sql)
            .bind(shop)
            .bind(conversation)
            .fetch_all(&self.reader)
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
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE shop = ? AND conversation_id = ? AND received_at >= ? ORDER BY received_at, id"
        );
        sqlx::query(&sql)
            .bind(shop)
            .bind(conversation)
            .bind(since)
            .fetch_all(&self.reader)
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
            "SELECT last_reply_at, last_mood_rank, last_intensity, open_handoff FROM conversations WHERE shop = ? AND conversation_id = ?",
        )
        .bind(shop)
        .bind(conversation)
        .fetch_optional(&self.reader)
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
        let mut step = super::sqlite_step::SqliteStep(self.writer.begin().await?);
        let lease = super::processing::commit(&mut step, &o, lease_ms).await?;
        step.0.commit().await?;
        Ok(lease)
    }

    async fn handoffs(&self, f: &HandoffFilter) -> Result<Vec<Handoff>, StoreError> {
        let rows = sqlx::query(&format!(
            "{HANDOFF_SELECT}
             WHERE (?1 IS NULL OR h.status = ?1) AND (?2 IS NULL OR h.priority = ?2)
             ORDER BY h.priority, h.sla_due_at, h.id LIMIT 500"
        ))
        .bind(&f.status)
        .bind(f.priority.map(|p| p.as_str()))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| handoff_from(r, Vec::new())).collect()
    }

    async fn handoff(&self, id: i64) -> Result<Handoff, StoreError> {
        self.load_handoff(id).await
    }

    async fn sink_ref(&self, handoff: i64, sink: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT external_ref FROM sink_refs WHERE handoff_id = ? AND sink = ?",
        )
        .bind(handoff)
        .bind(sink)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn set_sink_ref(
        &self,
        handoff: i64,
        sink: &str,
        external_ref: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sink_refs (handoff_id, sink, external_ref, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (handoff_id, sink) DO NOTHING",
        )
        .bind(handoff)
        .bind(sink)
        .bind(external_ref)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn job_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n FROM jobs WHERE status != 'done' GROUP BY kind, status",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    async fn cursor(&self, shop: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT position FROM cursors WHERE shop = ?")
                .bind(shop)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    async fn set_cursor(&self, shop: &str, position: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cursors (shop, position) VALUES (?, ?) ON CONFLICT (shop) DO UPDATE SET position = excluded.position",
        )
        .bind(shop)
        .bind(position)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }
}

/// SQLite's JSON functions (`json_extract`, `json_each`) and a median by OFFSET.
static DIALECT: reports::Dialect = reports::Dialect {
    issue: "json_extract(h.card, '$.issue_type')",
    mood: "json_extract(h.card, '$.mood')",
    threats: "json_each(h.card, '$.threats') t",
    evidence: "json_each(h.card, '$.evidence') e",
    evidence_label: "json_extract(e.value, '$.label')",
    evidence_text: "json_extract(e.value, '$.text')",
    median: "SELECT d FROM (SELECT {expr} AS d FROM handoffs h WHERE {range}) ORDER BY d
             LIMIT 1 OFFSET (SELECT (COUNT(*) - 1) / 2 FROM handoffs h WHERE {range})",
};

/// A query with the shared layer's arguments bound.
fn bound<'q>(
    sql: &'q str,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    args.iter().fold(sqlx::query(sql), |query, arg| match *arg {
        Arg::Int(v) => query.bind(v),
        Arg::Text(v) => query.bind(v),
        Arg::OptText(v) => query.bind(v),
    })
}

#[async_trait]
impl Sql for SqliteStore {
    async fn transaction(
        &self,
        statements: &[Statement<'_>],
        guarded: bool,
    ) -> Result<Option<Vec<u64>>, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let mut changed = Vec::with_capacity(statements.len());
        for statement in statements {
            let query = bound(statement.sql, &statement.args);
            changed.push(query.execute(&mut *tx).await?.rows_affected());
            if guarded && changed == [0] {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        tx.commit().await?;
        Ok(Some(changed))
    }

    async fn cells(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Vec<reports::Cell>>, StoreError> {
        let rows = bound(sql, args).fetch_all(&self.reader).await?;
        rows.iter().map(reports::cells_of).collect()
    }

    fn dialect(&self) -> &'static reports::Dialect {
        &DIALECT
    }

    async fn handoffs_where(
        &self,
        filter: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Handoff>, StoreError> {
        let sql = format!("{HANDOFF_SELECT} {filter}");
        let rows = bound(&sql, args).fetch_all(&self.reader).await?;
        rows.iter().map(|r| handoff_from(r, Vec::new())).collect()
    }
}
