//! PostgreSQL's SQL for a processing step; what is written is decided in `processing.rs`.
//! Texts go through `t` (PostgreSQL text cannot hold NUL).

use super::t;
use crate::domain::HandoffCard;
use crate::store::processing::StepSql;
use crate::store::rows::{card_json, open_failed};
use crate::store::{ConversationState, JobLease, Millis, StoreError};
use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

/// A processing step's transaction.
pub(super) struct PgStep(pub(super) Transaction<'static, Postgres>);

#[async_trait]
impl StepSql for PgStep {
    async fn finish_claimed(&mut self, job: JobLease, now: Millis) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = $1
             WHERE id = $2 AND claims = $3 AND status = 'running'",
        )
        .bind(now)
        .bind(job.id)
        .bind(job.claim)
        .execute(&mut *self.0)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    async fn mark_processed(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        sqlx::query("UPDATE messages SET processed = TRUE WHERE id = ANY($1)")
            .bind(ids)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn queue_reply(
        &mut self,
        shop: &str,
        conversation: &str,
        payload: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO jobs (kind, shop, conversation_id, payload, status, attempts, claims, lease_until, run_at, created_at, updated_at)
             VALUES ('reply', $1, $2, $3, 'running', 1, 1, $4, $5, $5, $5) RETURNING id",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .bind(payload)
        .bind(lease_until)
        .bind(now)
        .fetch_one(&mut *self.0)
        .await?)
    }

    async fn queue_notice(
        &mut self,
        shop: &str,
        conversation: &str,
        payload: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
             VALUES ('notify', $1, $2, $3, 'pending', $4, $4, $4)",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .bind(payload)
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn open_handoff(
        &mut self,
        shop: &str,
        conversation: &str,
        card: &HandoffCard,
        sla_due_at: Millis,
        reply_job: Option<i64>,
        now: Millis,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO handoffs (shop, conversation_id, status, priority, sla_due_at, reply_job, card, created_at, updated_at)
             VALUES ($1, $2, 'open', $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .bind(card.priority.as_str())
        .bind(sla_due_at)
        .bind(reply_job)
        .bind(card_json(card))
        .bind(now)
        .fetch_one(&mut *self.0)
        .await
        .map_err(|e| open_failed(e, shop, conversation))
    }

    async fn handoff_status(&mut self, id: i64) -> Result<String, StoreError> {
        // Locked: an agent's resolve waits for this step to commit, or went first.
        Ok(
            sqlx::query_scalar("SELECT status FROM handoffs WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_one(&mut *self.0)
                .await?,
        )
    }

    async fn update_handoff(
        &mut self,
        id: i64,
        card: &HandoffCard,
        sla_due_at: Millis,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE handoffs SET priority = $1, sla_due_at = $2, card = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(card.priority.as_str())
        .bind(sla_due_at)
        .bind(card_json(card))
        .bind(now)
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn save_conversation(
        &mut self,
        shop: &str,
        conversation: &str,
        state: &ConversationState,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO conversations (shop, conversation_id, last_reply_at, last_mood_rank, last_intensity, open_handoff)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (shop, conversation_id) DO UPDATE SET last_reply_at = excluded.last_reply_at,
               last_mood_rank = excluded.last_mood_rank, last_intensity = excluded.last_intensity,
               open_handoff = excluded.open_handoff",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .bind(state.last_reply_at)
        .bind(state.last_mood_rank as i64)
        .bind(state.last_intensity as i64)
        .bind(state.open_handoff)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn queue_process(
        &mut self,
        shop: &str,
        conversation: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        // As accepting a message does: the partial unique index keeps one pending job.
        sqlx::query(
            "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
             VALUES ('process', $1, $2, '{}', 'pending', $3, $3, $3)
             ON CONFLICT (shop, conversation_id) WHERE kind = 'process' AND status = 'pending' DO NOTHING",
        )
        .bind(t(shop))
        .bind(t(conversation))
        .bind(now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }
}
