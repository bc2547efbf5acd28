//! SQLite's group commit of webhooks: the shared batching (`store/group_commit.rs`) with one
//! multi-row insert per group and a WAL fsync before the acknowledgement.

use crate::store::group_commit::{self, AcceptRequest, Failed};
use crate::store::{now_ms, StoreError};
use sqlx::{Row, SqlitePool};
use std::path::{Path, PathBuf};

/// Group commit: every message that arrived while the previous batch was being written goes
/// into the next transaction. The transaction commits without waiting for the disk (the
/// connection is free for the workers at once); then the WAL file is fsynced — what
/// `synchronous = FULL` would do — and only then is the batch acknowledged. Batches overlap:
/// a later fsync covers earlier frames too.
pub(super) async fn group_commits(
    pool: SqlitePool,
    wal: PathBuf,
    mut queue: tokio::sync::mpsc::Receiver<AcceptRequest>,
) {
    while let Some(group) = group_commit::next_group(&mut queue).await {
        let committed = commit_group(&pool, &group).await;
        let wal = wal.clone();
        tokio::spawn(async move {
            let outcome = match committed {
                Ok(inserted) => match tokio::task::spawn_blocking(move || sync_wal(&wal)).await {
                    Ok(Ok(())) => Ok(inserted),
                    Ok(Err(e)) => Err(Failed {
                        full: e.kind() == std::io::ErrorKind::StorageFull,
                        message: format!("fsync: {e}"),
                    }),
                    Err(e) => Err(Failed {
                        full: false,
                        message: format!("fsync task: {e}"),
                    }),
                },
                Err(e) => Err(Failed::from(e)),
            };
            group_commit::answer(group, outcome);
        });
    }
}

/// Makes committed WAL frames durable. Without a WAL file everything was checkpointed into
/// the database file (SQLite syncs it before removing the WAL): sync that instead.
fn sync_wal(wal: &Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let wal = wal.to_string_lossy();
            let db = wal.strip_suffix("-wal").unwrap_or(&wal);
            std::fs::File::open(db)?.sync_data()
        }
        Err(e) => Err(e),
    }
}

/// The whole group is one multi-row INSERT (a trigger queues the processing jobs); the
/// rows it returns are the messages that were new.
async fn commit_group(pool: &SqlitePool, group: &[AcceptRequest]) -> Result<Vec<bool>, StoreError> {
    let now = now_ms();
    let mut sql = String::from(
        "INSERT INTO messages (shop, platform, message_key, conversation_id, buyer_id, buyer_nick, text, order_id, sent_at, received_at, kind) VALUES ",
    );
    for i in 0..group.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    }
    sql.push_str(" ON CONFLICT (shop, message_key) DO NOTHING RETURNING shop, message_key");
    let mut query = sqlx::query(&sql);
    for r in group {
        let m = &r.message;
        query = query
            .bind(&r.shop)
            .bind(&r.platform)
            .bind(&m.message_key)
            .bind(&m.conversation_id)
            .bind(&m.buyer_id)
            .bind(&m.buyer_nick)
            .bind(&m.text)
            .bind(&m.order_id)
            .bind(&m.sent_at)
            .bind(now)
            .bind(m.kind.as_str());
    }
    let rows = query.fetch_all(pool).await?;
    let inserted = rows
        .iter()
        .map(|row| Ok((row.try_get("shop")?, row.try_get("message_key")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(group_commit::new_ones(group, inserted, str::to_string))
}
