//! Retention (`storage.keep`): now and then, finished jobs and the messages of settled
//! conversations older than the limit are deleted in small batches with pauses between
//! them, so webhooks and workers keep the database; then SQLite gives the pages back.

use crate::app::AppState;
use crate::store::{now_ms, Purged, StoreError};
use std::time::Duration;
use tokio::sync::watch;

/// Rows per delete statement: a few milliseconds of the writer each.
const BATCH: u32 = 500;
/// At most this many batches a round; the next round goes on.
const MAX_BATCHES: usize = 200;
const PAUSE: Duration = Duration::from_millis(20);
/// How often a round runs.
const EVERY: Duration = Duration::from_secs(600);

/// One round: everything due, batch by batch. What it deleted.
pub async fn purge_once(state: &AppState) -> Result<Purged, StoreError> {
    let keep = state.config.storage.keep.0;
    let mut total = Purged::default();
    if keep.is_zero() {
        return Ok(total);
    }
    let cutoff = now_ms() - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    for _ in 0..MAX_BATCHES {
        let done = state.store.purge(cutoff, BATCH).await?;
        total.jobs += done.jobs;
        total.messages += done.messages;
        if done.jobs < u64::from(BATCH) && done.messages < u64::from(BATCH) {
            break;
        }
        tokio::time::sleep(PAUSE).await;
    }
    if total.jobs + total.messages > 0 {
        state.store.reclaim().await?;
        tracing::info!(
            jobs = total.jobs,
            messages = total.messages,
            "retention: old rows deleted"
        );
    }
    Ok(total)
}

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    super::every(&state, "retention", EVERY, shutdown, || async {
        if let Err(e) = purge_once(&state).await {
            tracing::warn!(error = %e, "retention failed; next round retries");
        }
    })
    .await;
}
