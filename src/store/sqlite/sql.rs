//! SQLite's side of the SQL written once for both backends (`store/queue.rs`): statements in
//! one transaction on the writer, reads on the reader pool, and its report dialect.

use super::SqliteStore;
use crate::store::queue::{Arg, Sql, Statement};
use crate::store::rows::*;
use crate::store::*;

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
