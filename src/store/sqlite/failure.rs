//! SQLite's failures as the store's: rusqlite's errors become the sqlx errors the store
//! classifies everywhere (`StoreError::is_full`, `is_outage`, unique violations), and rusqlite
//! rows read through the shared `Fields`.

use crate::store::rows::Fields;
use crate::store::StoreError;

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

/// The same failure again, for each of the use cases a failed shared COMMIT answers (rusqlite's
/// error is not `Clone`); SQLite's code is kept, so a full disk still reads as one.
pub(super) fn copy_error(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            rusqlite::Error::SqliteFailure(*failure, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}
