//! SQLite's schema: the migrations in order, each applied once in its own transaction.

use crate::store::{now_ms, StoreError};
use sqlx::SqlitePool;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../../migrations/sqlite/0002_job_indexes.sql"),
    ),
    (
        3,
        include_str!("../../../migrations/sqlite/0003_enqueue_trigger.sql"),
    ),
    (
        4,
        include_str!("../../../migrations/sqlite/0004_sla_breach.sql"),
    ),
    (
        5,
        include_str!("../../../migrations/sqlite/0005_sla_warning.sql"),
    ),
    (
        6,
        include_str!("../../../migrations/sqlite/0006_sink_refs.sql"),
    ),
    (
        7,
        include_str!("../../../migrations/sqlite/0007_one_open_handoff.sql"),
    ),
    (
        8,
        include_str!("../../../migrations/sqlite/0008_job_claims.sql"),
    ),
    (
        9,
        include_str!("../../../migrations/sqlite/0009_sink_names.sql"),
    ),
    (
        10,
        include_str!("../../../migrations/sqlite/0010_poll_leases.sql"),
    ),
    (
        11,
        include_str!("../../../migrations/sqlite/0011_agent_replies.sql"),
    ),
    (
        12,
        include_str!("../../../migrations/sqlite/0012_ladder.sql"),
    ),
    (
        13,
        include_str!("../../../migrations/sqlite/0013_platform_tokens.sql"),
    ),
    (
        14,
        include_str!("../../../migrations/sqlite/0014_message_kinds.sql"),
    ),
];

pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
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
