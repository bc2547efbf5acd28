//! Delivering a stored reply through the platform's send API.

use crate::app::AppState;
use crate::outbound::Reply;
use crate::store::{now_ms, Job, ReplyPayload, StoreError};

pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let payload: ReplyPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| StoreError::Corrupt(format!("reply job {}: {e}", job.id)))?;
    let Some(shop) = state.config.shop(&job.shop) else {
        let why = format!("shop `{}` is no longer configured", job.shop);
        return super::bury(state, job, &why).await;
    };
    let reply = Reply {
        conversation_id: &job.conversation_id,
        to_buyer: payload.to_buyer.as_deref(),
        text: &payload.text,
        idempotency_key: &payload.idempotency_key,
    };
    let started = std::time::Instant::now();
    let platform = crate::platform::of(shop.platform());
    let sent = platform.send(state.outbound.client(), shop, &reply).await;
    state.metrics.observe(
        "anfu_reply_send_seconds",
        &[
            ("platform", shop.platform().as_str()),
            ("outcome", super::outcome(&sent)),
        ],
        started.elapsed().as_secs_f64(),
    );
    if let (Ok(()), Some(received_at)) = (&sent, payload.received_at) {
        let lag = (now_ms() - received_at).max(0) as f64 / 1000.0;
        state.metrics.observe("anfu_reply_lag_seconds", &[], lag);
    }
    super::settle(
        state,
        job,
        sent,
        &job.shop,
        "send API rejected the shop's credentials",
    )
    .await?;
    // An agent's line: the consoles show its delivery (sent, retrying, failed) at once.
    if let Some(handoff) = payload.handoff_id {
        state.announce("agent_reply", Some(handoff));
    }
    Ok(())
}
