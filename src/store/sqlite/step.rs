//! SQLite's SQL for a processing step; what is written is decided in `processing.rs`. It
//! runs on the writer thread inside one transaction (`writer::in_transaction`): each method
//! is synchronous, so the shared async decisions complete without waiting (`writer::ready`).

use super::failure::db_error;
use crate::domain::HandoffCard;
use crate::store::processing::StepSql;
use crate::store::rows::{card_json, open_failed};
use crate::store::{ConversationState, JobLease, Millis, StoreError};
use async_trait::async_trait;
use rusqlite::{params, Connection};

/// A processing step's statements on the writer connection, in its open transaction.
pub(super) struct SqliteStep<'c>(pub(super) &'c mut Connection);

impl SqliteStep<'_> {
    fn execute(&mut self, sql: &str, args: impl rusqlite::Params) -> Result<usize, StoreError> {
        Ok(self.0.prepare_cached(sql)?.execute(args)?)
    }

    /// The first column of the one row `sql` returns (an id, a status).
    fn one<T: rusqlite::types::FromSql>(
        &mut self,
        sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<T, rusqlite::Error> {
        self.0
            .prepare_cached(sql)?
            .query_row(args, |row| row.get(0))
    }
}

#[async_trait]
impl StepSql for SqliteStep<'_> {
    async fn finish_claimed(&mut self, job: JobLease, now: Millis) -> Result<bool, StoreError> {
        let changed = self.execute(
            "UPDATE jobs SET status = 'done', lease_until = NULL, updated_at = ?
             WHERE id = ? AND claims = ? AND status = 'running'",
            params![now, job.id, job.claim],
        )?;
        Ok(changed > 0)
    }

    async fn mark_processed(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            self.execute("UPDATE messages SET processed = 1 WHERE id = ?", [id])?;
        }
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
        Ok(self.one(
            "INSERT INTO jobs (kind, shop, conversation_id, payload, status, attempts, claims, lease_until, run_at, created_at, updated_at)
             VALUES ('reply', ?, ?, ?, 'running', 1, 1, ?, ?, ?, ?) RETURNING id",
            params![shop, conversation, payload, lease_until, now, now, now],
        )?)
    }

    async fn queue_notice(
        &mut self,
        shop: &str,
        conversation: &str,
        payload: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
             VALUES ('notify', ?, ?, ?, 'pending', ?, ?, ?)",
            params![shop, conversation, payload, now, now, now],
        )?;
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
        self.one(
            "INSERT INTO handoffs (shop, conversation_id, status, priority, sla_due_at, reply_job, card, created_at, updated_at)
             VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?) RETURNING id",
            params![
                shop,
                conversation,
                card.priority.as_str(),
                sla_due_at,
                reply_job,
                card_json(card),
                now,
                now
            ],
        )
        .map_err(|e| open_failed(db_error(e), shop, conversation))
    }

    async fn handoff_status(&mut self, id: i64) -> Result<String, StoreError> {
        Ok(self.one("SELECT status FROM handoffs WHERE id = ?", [id])?)
    }

    async fn update_handoff(
        &mut self,
        id: i64,
        card: &HandoffCard,
        sla_due_at: Millis,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE handoffs SET priority = ?, sla_due_at = ?, card = ?, updated_at = ? WHERE id = ?",
            params![card.priority.as_str(), sla_due_at, card_json(card), now, id],
        )?;
        Ok(())
    }

    async fn save_conversation(
        &mut self,
        shop: &str,
        conversation: &str,
        state: &ConversationState,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO conversations (shop, conversation_id, last_reply_at, last_mood_rank, last_intensity, open_handoff)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (shop, conversation_id) DO UPDATE SET last_reply_at = excluded.last_reply_at,
               last_mood_rank = excluded.last_mood_rank, last_intensity = excluded.last_intensity,
               open_handoff = excluded.open_handoff",
            params![
                shop,
                conversation,
                state.last_reply_at,
                state.last_mood_rank as i64,
                state.last_intensity as i64,
                state.open_handoff
            ],
        )?;
        Ok(())
    }

    async fn queue_process(
        &mut self,
        shop: &str,
        conversation: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        // As the messages' trigger does: the partial unique index keeps one pending job.
        self.execute(
            "INSERT OR IGNORE INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at)
             VALUES ('process', ?, ?, '{}', 'pending', ?, ?, ?)",
            params![shop, conversation, now, now, now],
        )?;
        Ok(())
    }
}
