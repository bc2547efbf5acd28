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

use super::failure::copy_error;
use crate::store::StoreError;
use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// At most this many use cases share one transaction. Each is a fraction of a millisecond;
/// the bound keeps the first of them from waiting long for its answer.
const MAX_SHARED: usize = 16;

/// A use case on the writer thread. It runs, then returns how to answer its caller once the
/// fate of the transaction it ran in is known.
type Work = Box<dyn FnOnce(&mut Connection) -> Answer + Send>;
type Answer = Box<dyn for<'a> FnOnce(Fate<'a>) + Send>;

/// What became of the transaction a use case ran in.
enum Fate<'a> {
    /// Committed (or the use case ran alone and ended its own transaction): its own result.
    Returned,
    /// The shared COMMIT failed: nothing of it was written.
    CommitFailed(&'a rusqlite::Error),
    /// A later use case in the same transaction failed in a way that made SQLite roll back
    /// the whole transaction (a full disk, an I/O error): nothing of this one was written.
    RolledBack,
}

/// A use case and whether it may share a transaction with the ones queued beside it.
struct Queued {
    work: Work,
    shares: bool,
}

/// The way to the writer thread; the thread (and its connection) ends with the last clone.
#[derive(Clone)]
pub(super) struct Writer {
    /// Webhook groups, taken before anything in `other`.
    first: Sender<Queued>,
    other: Sender<Queued>,
}

/// Which queue a use case waits in, and with whom it may share a transaction.
#[derive(Clone, Copy)]
pub(super) enum Turn {
    /// Webhooks waiting for their acknowledgement: ahead of the rest, in a transaction of
    /// their own (their group commit fsyncs the WAL after it).
    First,
    /// Everything else (processing steps, claims, the console's writes, retention): in
    /// order, and in one transaction with the others of its kind queued at the same time.
    /// One BEGIN and COMMIT for a batch of steps instead of one each: with the statement
    /// journals in memory the drain rose from about 2.7 k to 3.5–4.3 k replies/s
    /// (BENCHMARKS.md). The pages written barely change: a step's are mostly its own
    /// conversation's index leaves.
    InOrder,
    /// In order, in no transaction but its own (a PRAGMA that cannot run inside one).
    Alone,
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
        // The savepoints of a shared transaction copy each page before its first change into
        // a statement journal; on disk (the default past 64 KiB) those copies were pwrites
        // and a tenth of the drain's CPU. In memory they are a memcpy, at most a transaction's
        // worth of pages (MAX_SHARED use cases).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        if max_pages > 0 {
            conn.pragma_update(None, "max_page_count", max_pages)?;
        }
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        let (first, first_rx) = crossbeam_channel::unbounded::<Queued>();
        let (other, other_rx) = crossbeam_channel::unbounded::<Queued>();
        std::thread::Builder::new()
            .name("anfu-sqlite-writer".into())
            .spawn(move || serve(conn, &first_rx, &other_rx))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer { first, other })
    }

    /// Runs `work` on the writer thread and waits for its answer, which comes only once what
    /// it wrote is committed. A panic in `work` is a bug, not an outage of the whole store:
    /// it is caught, what it wrote is rolled back, the writer goes on with the next use case,
    /// and this caller gets an error.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        self.run_in(Turn::InOrder, work).await
    }

    /// [`Writer::run`] in the given turn.
    pub async fn run_in<R: Send + 'static>(
        &self,
        turn: Turn,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let (done, answer) = tokio::sync::oneshot::channel::<Result<R, StoreError>>();
        let work: Work = Box::new(move |conn| {
            let value = run_guarded(conn, work);
            Box::new(move |fate| {
                let outcome = match (value, fate) {
                    (Ok(value), Fate::Returned) => Ok(value),
                    (Err(e), _) => Err(e),
                    (Ok(_), Fate::CommitFailed(e)) => Err(copy_error(e).into()),
                    (Ok(_), Fate::RolledBack) => Err(StoreError::Unavailable(
                        "the SQLite transaction this write shared was rolled back".into(),
                    )),
                };
                let _ = done.send(outcome);
            })
        });
        let (queue, shares) = match turn {
            Turn::First => (&self.first, false),
            Turn::InOrder => (&self.other, true),
            Turn::Alone => (&self.other, false),
        };
        let queued = queue.send(Queued { work, shares });
        let gone = || StoreError::Unavailable("the SQLite writer has stopped".into());
        queued.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// Runs `work` inside a savepoint when a shared transaction is open, else as it is; a panic
/// rolls back what `work` wrote (and nothing before it) and becomes an error.
fn run_guarded<R>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> R,
) -> Result<R, StoreError> {
    let shared = !conn.is_autocommit();
    if shared {
        conn.execute_batch("SAVEPOINT use_case")?;
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)));
    let panicked = outcome.is_err();
    if !conn.is_autocommit() {
        let end = match (shared, panicked) {
            (true, false) => "RELEASE use_case",
            (true, true) => "ROLLBACK TO use_case; RELEASE use_case",
            // Alone, a transaction left open is a bug: it must not swallow the next writes.
            (false, _) => "ROLLBACK",
        };
        let _ = conn.execute_batch(end);
    }
    outcome.map_err(|_| {
        StoreError::Unavailable(
            "the SQLite writer failed on this write (it panicked; see the log)".into(),
        )
    })
}

/// The writer thread: runs use cases until every [`Writer`] is gone.
fn serve(mut conn: Connection, first: &Receiver<Queued>, other: &Receiver<Queued>) {
    let mut next = None;
    while let Some(queued) = next.take().or_else(|| next_work(first, other)) {
        if queued.shares {
            next = run_shared(&mut conn, queued, first, other);
        } else {
            (queued.work)(&mut conn)(Fate::Returned);
        }
    }
}

/// Runs `queued` and the sharing use cases queued behind it in one transaction, each in a
/// savepoint of its own, and answers them after the COMMIT. It stops at [`MAX_SHARED`], when
/// webhooks are waiting, or at a use case that must run alone: that one is returned to run
/// next.
fn run_shared(
    conn: &mut Connection,
    queued: Queued,
    first: &Receiver<Queued>,
    other: &Receiver<Queued>,
) -> Option<Queued> {
    if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
        // The database is busy or failing: the use case meets that in its own transaction
        // and answers with the error.
        (queued.work)(conn)(Fate::Returned);
        return None;
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut queued = queued;
    let after = loop {
        let answer = (queued.work)(conn);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back: the earlier use cases lost their
            // writes; this one reports the failure it met.
            answers.into_iter().for_each(|a| a(Fate::RolledBack));
            answer(Fate::Returned);
            return None;
        }
        answers.push(answer);
        if answers.len() >= MAX_SHARED || !first.is_empty() {
            break None;
        }
        match other.try_recv() {
            Ok(next) if next.shares => queued = next,
            Ok(next) => break Some(next),
            Err(_) => break None,
        }
    };
    match conn.execute_batch("COMMIT") {
        Ok(()) => answers.into_iter().for_each(|a| a(Fate::Returned)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            answers.into_iter().for_each(|a| a(Fate::CommitFailed(&e)));
        }
    }
    after
}

/// The next use case: one waiting first if any, else whichever comes; `None` once every
/// [`Writer`] is gone (both queues close together) and both queues are empty: what was
/// queued before the close still runs, as a single queue did.
fn next_work(first: &Receiver<Queued>, other: &Receiver<Queued>) -> Option<Queued> {
    if let Ok(work) = first.try_recv() {
        return Some(work);
    }
    crossbeam_channel::select_biased! {
        recv(first) -> work => work.ok().or_else(|| other.recv().ok()),
        recv(other) -> work => work.ok().or_else(|| first.recv().ok()),
    }
}

/// Runs a transaction's statements inside `work`, as one unit: alone, BEGIN IMMEDIATE (the
/// write lock at once, so a busy database waits here rather than failing a lock upgrade
/// later), COMMIT when `work` succeeds, ROLLBACK when it fails; inside a shared transaction,
/// a savepoint released or rolled back to the same way.
pub(super) fn in_transaction<R, E: From<rusqlite::Error>>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<R, E>,
) -> Result<R, E> {
    let (begin, commit, rollback) = if conn.is_autocommit() {
        ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
    } else {
        (
            "SAVEPOINT unit",
            "RELEASE unit",
            "ROLLBACK TO unit; RELEASE unit",
        )
    };
    conn.execute_batch(begin)?;
    match work(conn) {
        Ok(value) => {
            conn.execute_batch(commit)?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.execute_batch(rollback);
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

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
