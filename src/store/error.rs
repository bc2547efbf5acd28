//! What can go wrong in the store, and which failures are the database's (an outage: the
//! same work succeeds later unchanged) rather than the data's.

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
    /// The claim a write was made under is no longer the job's current one (its lease ran
    /// out and another worker took it over): nothing was written.
    #[error("lease lost: {0}")]
    LeaseLost(String),
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
            StoreError::Corrupt(_)
            | StoreError::NotFound(_)
            | StoreError::Conflict(_)
            | StoreError::LeaseLost(_) => false,
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
