//! PostgreSQL's schema: the migrations in order, applied under an advisory lock.

use crate::store::{now_ms, StoreError};
use sqlx::PgPool;

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../migrations/postgres/0002_sla_warning.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/postgres/0003_sink_refs.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/postgres/0004_one_open_handoff.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/postgres/0005_job_claims.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/postgres/0006_sink_names.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/postgres/0007_poll_leases.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/postgres/0008_agent_replies.sql"),
    ),
    (
        9,
        include_str!("../../../migrations/postgres/0009_ladder.sql"),
    ),
    (
        10,
        include_str!("../../../migrations/postgres/0010_platform_tokens.sql"),
    ),
    (
        11,
        include_str!("../../../migrations/postgres/0011_message_kinds.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/postgres/0012_claim_order.sql"),
    ),
];

/// The advisory lock held while migrating ("anfu" in ASCII), so that instances starting
/// together apply each migration once.
const MIGRATION_LOCK: i64 = 0x616e_6675;

pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    // Everything in one transaction under a transaction-scoped advisory lock: a second
    // instance waits here and then finds the migrations applied; an error rolls all back and
    // releases the lock (PostgreSQL's DDL is transactional).
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS anfu_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM anfu_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        // (Through Executor: `raw_sql(..).execute(&mut *tx)` makes this future not Send.)
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(sql)).await?;
        sqlx::query("INSERT INTO anfu_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
