//! SQLite's reads: a few read-only rusqlite connections, and each read runs on the thread
//! that asks. In WAL mode a reader never waits for the writer (or for another process
//! holding the write lock), and the hot reads are index lookups of tens of microseconds:
//! less than what sqlx-sqlite spent on the two thread switches of every statement (to its
//! connection's thread and back), which under load were a sixth of the CPU, plus the
//! wake-ups. A read that may scan many rows (a report) runs on a blocking thread instead,
//! so that it never holds up the webhooks sharing the runtime's threads.

use super::failure::db_error;
use super::sql::numbered;
use crate::store::queue::Arg;
use crate::store::reports::Cell;
use crate::store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Params, Row};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle connections kept for the next reads; more are opened when more read at once.
const KEEP_IDLE: usize = 4;

/// How long a read waits on a busy database (a WAL recovery, a checkpoint that must reset
/// the log) before it fails as an outage.
const READ_BUSY: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub(super) struct Readers(Arc<Pool>);

struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Read-only connections to the (migrated) database at `path`; one is opened now, so a
    /// file that cannot be read fails at start.
    pub fn open(path: &Path) -> Result<Readers, StoreError> {
        let pool = Pool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        };
        let first = pool.connect()?;
        pool.idle().push(first);
        Ok(Readers(Arc::new(pool)))
    }

    /// Runs `read` on an idle connection, here and now.
    pub fn read<R>(
        &self,
        read: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let taken = self.0.idle().pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.0.connect()?,
        };
        let answer = read(&conn);
        let mut idle = self.0.idle();
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
        answer
    }

    /// Runs `read` on a blocking thread: for a read that may scan many rows.
    pub async fn read_apart<R: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.read(read))
            .await
            .map_err(|e| StoreError::Unavailable(format!("a SQLite read failed: {e}")))?
    }
}

impl Pool {
    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(READ_BUSY)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// The idle list; a panic elsewhere while it was held cannot have left it half-changed.
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every row of `sql`, each turned into a `T` by `map`.
pub(super) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The first row of `sql`, if any.
pub(super) fn first<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    rows.next()?.map(map).transpose()
}

/// The value of the first column of the first row (None: no row, or NULL).
pub(super) fn scalar<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Option<T>, StoreError> {
    Ok(first(conn, sql, params, |row| {
        Ok(row.get::<_, Option<T>>(0).map_err(db_error)?)
    })?
    .flatten())
}

/// The shared layer's arguments, for rusqlite.
pub(super) fn bound(args: &[Arg<'_>]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    args.iter()
        .map(|arg| match *arg {
            Arg::Int(v) => Value::Integer(v),
            Arg::Text(v) => Value::Text(v.to_string()),
            Arg::OptText(v) => v.map_or(Value::Null, |v| Value::Text(v.to_string())),
        })
        .collect()
}

/// The rows of a shared-layer query (`$n` parameters), each cell an integer, a text or NULL.
pub(super) fn cells(
    conn: &Connection,
    sql: &str,
    args: &[rusqlite::types::Value],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    all(
        conn,
        &numbered(sql),
        rusqlite::params_from_iter(args),
        |row| {
            let columns = row.as_ref().column_count();
            (0..columns).map(|i| cell(row, i)).collect()
        },
    )
}

fn cell(row: &Row<'_>, i: usize) -> Result<Cell, StoreError> {
    Ok(match row.get_ref(i)? {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        // Reports count and sum; an average or a difference of REALs reads as whole units.
        ValueRef::Real(v) => Cell::Int(v as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into()),
    })
}
