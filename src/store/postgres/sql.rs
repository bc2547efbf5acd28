//! PostgreSQL's side of the SQL written once for both backends (`store/queue.rs`), and its
//! report dialect. Texts go through `t` (PostgreSQL text cannot hold NUL).

use super::{t, PgStore};
use crate::store::queue::{Arg, Sql, Statement};
use crate::store::rows::*;
use crate::store::*;

/// PostgreSQL's jsonb operators and `percentile_disc` (the lower median, as SQLite's).
static DIALECT: reports::Dialect = reports::Dialect {
    issue: "(h.card::jsonb ->> 'issue_type')",
    mood: "(h.card::jsonb ->> 'mood')",
    threats: "jsonb_array_elements_text(h.card::jsonb -> 'threats') AS t(value)",
    evidence: "jsonb_array_elements(h.card::jsonb -> 'evidence') AS e(value)",
    evidence_label: "(e.value ->> 'label')",
    evidence_text: "(e.value ->> 'text')",
    median: "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY {expr})
             FROM handoffs h WHERE {range}",
};

/// A query with the shared layer's arguments bound (NULs in texts replaced, see [`t`]).
fn bound<'q>(
    sql: &'q str,
    args: &[Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    args.iter().fold(sqlx::query(sql), |query, arg| match *arg {
        Arg::Int(v) => query.bind(v),
        Arg::Text(v) => query.bind(t(v)),
        Arg::OptText(v) => query.bind(v.map(t)),
    })
}

#[async_trait]
impl Sql for PgStore {
    async fn transaction(
        &self,
        statements: &[Statement<'_>],
        guarded: bool,
    ) -> Result<Option<Vec<u64>>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
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
        let rows = bound(sql, args).fetch_all(&self.pool).await?;
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
        let rows = bound(&sql, args).fetch_all(&self.pool).await?;
        rows.iter().map(|r| handoff_from(r, Vec::new())).collect()
    }
}
