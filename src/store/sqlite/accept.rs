//! SQLite's group commit of webhooks: the shared batching (`store/group_commit.rs`) with one
//! transaction per group and a WAL fsync before the acknowledgement.

use super::writer::{in_transaction, Turn, Writer};
use crate::store::group_commit::{self, AcceptRequest, Failed};
use crate::store::{now_ms, StoreError};
use rusqlite::{params, Connection};
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
            .run_in(Turn::First, move |conn| {
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

/// The group in one transaction, one cached single-row INSERT per message (a trigger
/// queues the processing jobs): whether each was new. A multi-row INSERT was parsed afresh
/// for every group size, which cost more than it saved; a message twice in one group is new
/// the first time only.
fn commit_group(conn: &mut Connection, group: &[AcceptRequest]) -> Result<Vec<bool>, StoreError> {
    let now = now_ms();
    let inserted = in_transaction(conn, |conn| {
        let mut insert = conn.prepare_cached(
            "INSERT INTO messages (shop, platform, message_key, conversation_id, buyer_id, buyer_nick, text, order_id, sent_at, received_at, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (shop, message_key) DO NOTHING",
        )?;
        group
            .iter()
            .map(|r| {
                let m = &r.message;
                let changed = insert.execute(params![
                    r.shop,
                    r.platform,
                    m.message_key,
                    m.conversation_id,
                    m.buyer_id,
                    m.buyer_nick,
                    m.text,
                    m.order_id,
                    m.sent_at,
                    now,
                    m.kind.as_str(),
                ])?;
                Ok(changed == 1)
            })
            .collect::<Result<Vec<bool>, rusqlite::Error>>()
    })?;
    Ok(inserted)
}
