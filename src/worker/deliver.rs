//! Delivering a stored reply through the platform's send API.

use crate::app::AppState;
use crate::platform::outbound::{Reply, SendError};
use crate::store::{Job, ReplyPayload, StoreError};

pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let payload: ReplyPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| StoreError::Corrupt(format!("reply job {}: {e}", job.id)))?;
    let Some(shop) = state.config.shop(&job.shop) else {
        return state
            .store
            .bury_job(
                job.id,
                &format!("shop `{}` is no longer configured", job.shop),
            )
            .await;
    };
    let reply = Reply {
        conversation_id: &job.conversation_id,
        to_buyer: payload.to_buyer.as_deref(),
        text: &payload.text,
        idempotency_key: &payload.idempotency_key,
    };
    match state.outbound.send_reply(shop, &reply).await {
        Ok(()) => {
            state.clear_alert(&job.shop);
            state.store.complete_job(job.id).await
        }
        Err(SendError::Retryable {
            reason,
            retry_after,
        }) => super::fail(state, job, &reason, retry_after).await,
        Err(SendError::Permanent { reason }) => {
            tracing::error!(job = job.id, shop = %job.shop, %reason, "reply refused for good: dead-lettered");
            state.store.bury_job(job.id, &reason).await
        }
        Err(SendError::AuthExpired { reason }) => {
            state.raise_alert(
                &job.shop,
                format!("send API rejected the shop's credentials: {reason}"),
            );
            state.store.bury_job(job.id, &reason).await
        }
    }
}
