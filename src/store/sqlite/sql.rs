//! SQLite's side of the SQL written once for both backends (`store/queue.rs`): statements in
//! one transaction on the writer, reads on the read-only connections (`reads.rs`), and its
//! report dialect.

use super::{failure, reads, writer, SqliteStore};
use crate::store::queue::{Arg, Sql, Statement};
use crate::store::rows::*;
use crate::store::*;
use rusqlite::{params_from_iter, types::ToSqlOutput, ToSql};

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

#[async_trait]
impl Sql for SqliteStore {
    async fn transaction(
        &self,
        statements: &[Statement<'_>],
        guarded: bool,
    ) -> Result<Option<Vec<u64>>, sqlx::Error> {
        // Owned, for the writer thread.
        let statements: Vec<(&'static str, Vec<Owned>)> = statements
            .iter()
            .map(|s| (s.sql, s.args.iter().map(Owned::from).collect()))
            .collect();
        let written = self
            .writer
            .run(move |conn| {
                writer::in_transaction(conn, |conn| {
                    let mut changed = Vec::with_capacity(statements.len());
                    for (sql, args) in &statements {
                        let mut statement = conn.prepare_cached(&numbered(sql))?;
                        changed.push(statement.execute(params_from_iter(args))? as u64);
                        if guarded && changed == [0] {
                            // Nothing to do: the transaction ends without a change.
                            return Ok(None);
                        }
                    }
                    Ok(Some(changed))
                })
            })
            .await;
        match written {
            Ok(outcome) => outcome.map_err(failure::db_error),
            // A shared COMMIT that failed keeps SQLite's code (a full disk stays one).
            Err(StoreError::Db(e)) => Err(e),
            Err(_) => Err(sqlx::Error::WorkerCrashed),
        }
    }

    /// On a blocking thread: a report may scan many rows.
    async fn cells(
        &self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Vec<reports::Cell>>, StoreError> {
        let (sql, args) = (sql.to_string(), reads::bound(args));
        self.readers
            .read_apart(move |c| reads::cells(c, &sql, &args))
            .await
    }

    fn dialect(&self) -> &'static reports::Dialect {
        &DIALECT
    }

    async fn handoffs_where(
        &self,
        filter: &'static str,
        args: &[Arg<'_>],
    ) -> Result<Vec<Handoff>, StoreError> {
        let sql = numbered(&format!("{HANDOFF_SELECT} {filter}"));
        let args = reads::bound(args);
        self.readers.read(|c| {
            reads::all(c, &sql, rusqlite::params_from_iter(&args), |row| {
                handoff_from(row, Vec::new())
            })
        })
    }
}

/// An argument of the shared layer, owned so that it can go to the writer thread.
enum Owned {
    Int(i64),
    Text(Option<String>),
}

impl From<&Arg<'_>> for Owned {
    fn from(arg: &Arg<'_>) -> Owned {
        match *arg {
            Arg::Int(v) => Owned::Int(v),
            Arg::Text(v) => Owned::Text(Some(v.to_string())),
            Arg::OptText(v) => Owned::Text(v.map(str::to_string)),
        }
    }
}

impl ToSql for Owned {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Owned::Int(v) => v.to_sql(),
            Owned::Text(v) => v.to_sql(),
        }
    }
}

/// The shared layer's `$n` parameters as SQLite's `?n`: SQLite numbers `$`-names in order of
/// appearance (so `$3` written first would take the first argument), `?n` by their number.
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let digit_next = chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if c == '$' && digit_next { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dollar_parameters_become_numbered_question_marks() {
        assert_eq!(
            super::numbered("UPDATE t SET a = $3 WHERE id = $1 AND j = '$.x'"),
            "UPDATE t SET a = ?3 WHERE id = ?1 AND j = '$.x'"
        );
    }
}
