//! Claiming jobs on PostgreSQL: several due jobs in one statement with `FOR UPDATE SKIP
//! LOCKED`, and now and then the jobs whose worker's lease ran out taken back first.

use super::{PgStore, REQUEUE_EVERY_MS};
use crate::store::rows::{is_unique_violation, job_from};
use crate::store::{now_ms, Job, Millis, StoreError};
use std::sync::atomic::Ordering;

static CLAIM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::store::queue::claim_sql("FOR UPDATE SKIP LOCKED"));

impl PgStore {
    /// Claims up to `max` due jobs (`Store::claim_jobs`), taking back expired leases now
    /// and then.
    pub(super) async fn claim(&self, lease_ms: Millis, max: usize) -> Result<Vec<Job>, StoreError> {
        let now = now_ms();
        if now - self.last_requeue.load(Ordering::Relaxed) >= REQUEUE_EVERY_MS {
            self.last_requeue.store(now, Ordering::Relaxed);
            // A processing job may start waiting between the two updates; requeueing its
            // conversation's expired one then breaks the unique index: take back again.
            let mut tries = 0;
            while let Err(e) = self.requeue_expired(now).await {
                tries += 1;
                match &e {
                    StoreError::Db(db) if is_unique_violation(db) && tries < 3 => continue,
                    // Claiming due jobs need not wait for this; the next round tries again.
                    _ => tracing::warn!(error = %e, "taking back expired jobs failed"),
                }
                break;
            }
        }
        // SKIP LOCKED: a job another instance is claiming right now is passed over, never
        // claimed twice. Jobs of a conversation being processed wait.
        let mut jobs = sqlx::query(&CLAIM)
            .bind(now + lease_ms)
            .bind(now)
            .bind(max as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(job_from)
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING has no order; the oldest first, as they were chosen.
        jobs.sort_by_key(|job| job.id);
        Ok(jobs)
    }

    /// Jobs whose worker's lease ran out go back to the queue. A processing job is redundant
    /// when another one already waits for its conversation (it will take the same messages):
    /// it is marked done instead, since requeueing it would break the one-pending index.
    /// Locked rows are skipped (another instance is taking them back).
    ///
    /// The expired jobs are looked up first, and usually there are none. Left to the planner,
    /// with the stale estimate a burst leaves, the first update went the other way: every
    /// pending job of the backlog, then its conversation's running one (60 ms a round with
    /// 6 800 waiting, once a second per instance; `auto_explain`).
    async fn requeue_expired(&self, now: Millis) -> Result<(), StoreError> {
        let expired: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1")
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
        if expired.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = $1
             WHERE id IN (
               SELECT j.id FROM jobs j
               WHERE j.id = ANY($2)
                 AND j.status = 'running' AND j.lease_until < $1 AND j.kind = 'process'
                 AND EXISTS (SELECT 1 FROM jobs p WHERE p.shop = j.shop
                   AND p.conversation_id = j.conversation_id AND p.kind = 'process'
                   AND p.status = 'pending')
               FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(&expired)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE jobs SET status = 'pending', run_at = $1, lease_until = NULL, updated_at = $1
             WHERE id IN (
               SELECT id FROM jobs WHERE id = ANY($2) AND status = 'running' AND lease_until < $1
               FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(&expired)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
