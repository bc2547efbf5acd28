//! SQLite's one writer: a thread of its own that owns the write connection (rusqlite) and runs
//! each use case as one closure. sqlx-sqlite hands every statement to its connection's thread
//! and back (two thread switches per statement, a third of the CPU under load); here a use
//! case of many statements — a processing step, a claim, a group of webhooks — costs one.
//! Reads run on read-only connections of their own (`reads.rs`): WAL lets them run beside
//! the writer.
//!
//! Webhook groups go first: the thread takes the next group of webhooks waiting for their
//! acknowledgement before any worker's write. A platform retries a slow ack and stops pushing
//! to a slow endpoint, while a reply that waits a millisecond longer harms no one; in FIFO
//! order a burst of batch-claimed jobs' writes held the acks behind it (BENCHMARKS.md).

use crate::store::rows::Fields;
use crate::store::StoreError;
use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

type Work = Box<dyn FnOnce(&mut Connection) + Send>;

/// The way to the writer thread; the thread (and its connection) ends with the last clone.
#[derive(Clone)]
pub(super) struct Writer {
    /// Webhook groups, taken before anything in `other`.
    first: Sender<Work>,
    other: Sender<Work>,
}

/// Which queue a use case waits in.
#[derive(Clone, Copy)]
pub(super) enum Turn {
    /// Webhooks waiting for their acknowledgement.
    First,
    /// Everything else: processing steps, claims, the console's writes, retention.
    InOrder,
}

impl Writer {
    /// Opens the write connection on the (migrated) database at `path` and starts its thread.
    /// `max_pages` > 0 caps the file (SQLITE_FULL past it, as on a full disk).
    pub fn open(path: &Path, max_pages: u64) -> Result<Writer, StoreError> {
        let conn = Connection::open(path)?;
        // As the module comment of `sqlite/mod.rs` says: WAL, NORMAL (the webhooks' group
        // commit fsyncs the WAL itself), rare checkpoints, a long busy wait, foreign keys.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 20_000)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if max_pages > 0 {
            conn.pragma_update(None, "max_page_count", max_pages)?;
        }
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        let (first, first_rx) = crossbeam_channel::unbounded::<Work>();
        let (other, other_rx) = crossbeam_channel::unbounded::<Work>();
        std::thread::Builder::new()
            .name("anfu-sqlite-writer".into())
            .spawn(move || {
                let mut conn = conn;
                while let Some(work) = next_work(&first_rx, &other_rx) {
                    work(&mut conn);
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer { first, other })
    }

    /// Runs `work` on the writer thread and waits for its answer. A panic in `work` is a bug,
    /// not an outage of the whole store: it is caught, any transaction it left open is rolled
    /// back, the writer goes on with the next use case, and this caller gets an error.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        self.run_in(Turn::InOrder, work).await
    }

    /// [`Writer::run`] in the given queue.
    pub async fn run_in<R: Send + 'static>(
        &self,
        turn: Turn,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Work = Box::new(move |conn| {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)));
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if let Ok(value) = outcome {
                let _ = done.send(value);
            }
        });
        let gone = |why: &str| StoreError::Unavailable(format!("the SQLite writer {why}"));
        let queue = match turn {
            Turn::First => &self.first,
            Turn::InOrder => &self.other,
        };
        queue.send(job).map_err(|_| gone("has stopped"))?;
        answer
            .await
            .map_err(|_| gone("failed on this write (it panicked; see the log)"))
    }
}

/// The next use case: one waiting first if any, else whichever comes; `None` once every
/// [`Writer`] is gone (both queues close together) and both queues are empty: what was
/// queued before the close still runs, as a single queue did.
fn next_work(first: &Receiver<Work>, other: &Receiver<Work>) -> Option<Work> {
    if let Ok(work) = first.try_recv() {
        return Some(work);
    }
    crossbeam_channel::select_biased! {
        recv(first) -> work => work.ok().or_else(|| other.recv().ok()),
        recv(other) -> work => work.ok().or_else(|| first.recv().ok()),
    }
}

/// Runs a transaction's statements inside `work`: BEGIN IMMEDIATE (the write lock at once,
/// so a busy database waits here rather than failing a lock upgrade later), COMMIT when
/// `work` succeeds, ROLLBACK when it fails.
pub(super) fn in_transaction<R, E: From<rusqlite::Error>>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<R, E>,
) -> Result<R, E> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            conn.execute_batch("COMMIT")?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The output of a future that never waits: the shared async decisions (`processing.rs`)
/// run over this thread's synchronous SQL, so each of their awaits is ready at once.
pub(super) fn ready<F: Future>(future: F) -> Result<F::Output, StoreError> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => Ok(value),
        Poll::Pending => Err(StoreError::Unavailable(
            "a write on the SQLite writer thread waited on something (a bug)".into(),
        )),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Db(db_error(e))
    }
}

/// rusqlite's error as the sqlx error the store classifies everywhere (`StoreError::is_full`,
/// `is_outage`, unique violations): SQLite's failures keep their extended result code.
pub(super) fn db_error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            sqlx::Error::Database(Box::new(SqliteFailure {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        rusqlite::Error::QueryReturnedNoRows => sqlx::Error::RowNotFound,
        other => sqlx::Error::Decode(Box::new(other)),
    }
}

/// A failure SQLite reported, with its extended result code.
#[derive(Debug)]
struct SqliteFailure {
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }
    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }
    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }
    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }
    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        // SQLITE_CONSTRAINT's extended codes.
        match self.code {
            2067 | 1555 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

impl Fields for rusqlite::Row<'_> {
    fn text(&self, column: &str) -> Result<String, sqlx::Error> {
        self.get(column).map_err(db_error)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        self.get(column).map_err(db_error)
    }
    fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
        self.get(column).map_err(db_error)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.get(column).map_err(db_error)
    }
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
        self.get(column).map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_write_is_an_error_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::open(&dir.path().join("w.db"), 0).unwrap();
        writer
            .run(|c| c.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)"))
            .await
            .unwrap()
            .unwrap();
        let panicked = writer
            .run(|c| {
                c.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
                    .unwrap();
                panic!("a bug in a use case");
            })
            .await;
        assert!(panicked.unwrap_err().is_outage());
        // Its transaction was rolled back; the writer still writes, and a duplicate is a
        // unique violation the store recognises.
        let rows: i64 = writer
            .run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows, 0);
        let duplicate = writer
            .run(|c| {
                in_transaction(c, |c| {
                    c.execute("INSERT INTO t VALUES (2)", [])?;
                    c.execute("INSERT INTO t VALUES (2)", [])
                })
            })
            .await
            .unwrap()
            .unwrap_err();
        assert!(crate::store::rows::is_unique_violation(&db_error(
            duplicate
        )));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn webhooks_waiting_go_before_writes_queued_earlier() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::open(&dir.path().join("w.db"), 0).unwrap();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let queue = |turn: Turn, name: &'static str| {
            let (writer, order) = (writer.clone(), order.clone());
            let handle = tokio::spawn(async move {
                writer
                    .run_in(turn, move |_| order.lock().unwrap().push(name))
                    .await
            });
            // Long enough for the spawned task to have queued its work.
            std::thread::sleep(Duration::from_millis(50));
            handle
        };
        // Hold the writer thread while a worker's write and then a webhook group queue up.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (holding, hold) = std::sync::mpsc::channel::<()>();
        let busy = {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .run(move |_| {
                        holding.send(()).unwrap();
                        held.recv().unwrap()
                    })
                    .await
            })
        };
        hold.recv().unwrap();
        let worker = queue(Turn::InOrder, "worker write");
        let webhooks = queue(Turn::First, "webhook group");
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        worker.await.unwrap().unwrap();
        webhooks.await.unwrap().unwrap();
        assert_eq!(*order.lock().unwrap(), ["webhook group", "worker write"]);
    }

    #[test]
    fn work_queued_before_the_close_still_runs() {
        let (first, first_rx) = crossbeam_channel::unbounded::<Work>();
        let (other, other_rx) = crossbeam_channel::unbounded::<Work>();
        other.send(Box::new(|_| {})).unwrap();
        other.send(Box::new(|_| {})).unwrap();
        drop((first, other));
        assert!(next_work(&first_rx, &other_rx).is_some());
        assert!(next_work(&first_rx, &other_rx).is_some());
        assert!(next_work(&first_rx, &other_rx).is_none());
    }
}
