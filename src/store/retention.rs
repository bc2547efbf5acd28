//! Retention, written once for both backends: finished jobs (delivered replies and notices,
//! processing done) and the messages of conversations no open ticket needs are deleted once
//! older than `storage.keep`, in small batches, so webhooks never wait behind a big delete.
//! Tickets stay (the reports count them), and so do the jobs their delivery statuses are read
//! from, and everything of a conversation whose ticket is still open or whose processing is
//! still waiting.

use super::queue::{Arg, Sql, Statement};
use super::{Millis, StoreError};

/// What one batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub jobs: u64,
    pub messages: u64,
}

const JOBS: &str = "DELETE FROM jobs WHERE id IN (
       SELECT j.id FROM jobs j
       WHERE j.status = 'done' AND j.updated_at < $1
         AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.reply_job = j.id)
         AND NOT EXISTS (SELECT 1 FROM agent_replies a WHERE a.job_id = j.id)
       LIMIT $2)";

const MESSAGES: &str = "DELETE FROM messages WHERE id IN (
       SELECT m.id FROM messages m
       WHERE m.received_at < $1
         AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.shop = m.shop
             AND h.conversation_id = m.conversation_id AND h.status <> 'resolved')
         AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.kind = 'process' AND p.shop = m.shop
             AND p.conversation_id = m.conversation_id AND p.status IN ('pending', 'running'))
       LIMIT $2)";

/// Deletes at most `batch` jobs and `batch` messages older than `cutoff`.
pub(super) async fn purge(sql: &dyn Sql, cutoff: Millis, batch: u32) -> Result<Purged, StoreError> {
    let limit = i64::from(batch);
    let changed = sql
        .write(&[
            Statement {
                sql: JOBS,
                args: vec![Arg::Int(cutoff), Arg::Int(limit)],
            },
            Statement {
                sql: MESSAGES,
                args: vec![Arg::Int(cutoff), Arg::Int(limit)],
            },
        ])
        .await?;
    Ok(Purged {
        jobs: changed.first().copied().unwrap_or(0),
        messages: changed.get(1).copied().unwrap_or(0),
    })
}
