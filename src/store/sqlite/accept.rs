//! SQLite's group commit of webhooks: the shared batching (`store/group_commit.rs`) with one
//! multi-row insert per group and a WAL fsync before the acknowledgement.

use super::writer::{in_transaction, Writer};
use crate::store::group_commit::{self, AcceptRequest, Failed};
use crate::store::{now_ms, StoreError};
use rusqlite::{params_from_iter, Connection, ToSql};
use std::path::{Path, PathBuf};

/// Group commit: every message that arrived while the previous batch was being written goes
/// into the next transaction. The transaction commits without waiting for the disk (the
/// connection is free for the workers at once); then the WAL file is fsynced — what
/// `synchronous = FULL` would do — and only then is the batch acknowledged. Batches overlap:
/// a later fsync covers earlier frames too.
pub(super) async fn group_commits(
    writer: Writer,
    wal: PathBuf,
    mut queue: tokio::sync::mpsc::Receiver<AcceptRequest>,
) {
    while let Some(group) = group_commit::next_group(&mut queue).await {
        // The group goes to the writer thread and comes back with its outcome; if the writer
        // is gone the requests are dropped with it, and their webhooks are refused.
        let written = writer
            .run(move |conn| {
                let inserted = commit_group(conn, &group);
                (group, inserted)
            })
            .await;
        let (group, committed) = match written {
            Ok(written) => written,
            Err(e) => {
                tracing::error!(error = %e, "group commit lost; the platform will redeliver");
                continue;
            }
        };
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
fn commit_group(conn: &mut Connection, group: &[AcceptRequest]) -> Result<Vec<bool>, StoreError> {
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
    let kinds: Vec<&str> = group.iter().map(|r| r.message.kind.as_str()).collect();
    let mut args: Vec<&dyn ToSql> = Vec::with_capacity(11 * group.len());
    for (r, kind) in group.iter().zip(&kinds) {
        let m = &r.message;
        args.extend([
            &r.shop as &dyn ToSql,
            &r.platform,
            &m.message_key,
            &m.conversation_id,
            &m.buyer_id,
            &m.buyer_nick,
            &m.text,
            &m.order_id,
            &m.sent_at,
            &now,
            kind,
        ]);
    }
    let inserted = in_transaction(conn, |conn| {
        let mut statement = conn.prepare(&sql)?;
        let rows = statement.query_map(params_from_iter(args), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        rows.collect::<Result<_, rusqlite::Error>>()
    })?;
    Ok(group_commit::new_ones(group, inserted, str::to_string))
}
