//! Delivering a stored reply through the platform's send API.

use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::{BuyerMessage, MessageKind};
use crate::outbound::{Reply, Sent};
use crate::store::{now_ms, Job, ReplyPayload, StoreError};

pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let payload: ReplyPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| StoreError::Corrupt(format!("reply job {}: {e}", job.id)))?;
    let Some(shop) = state.shop(&job.shop) else {
        let why = format!("shop `{}` is no longer configured", job.shop);
        return super::bury(state, job, &why).await;
    };
    let reply = Reply {
        conversation_id: &job.conversation_id,
        to_buyer: payload.to_buyer.as_deref(),
        buyer_id: payload.buyer_id.as_deref(),
        text: &payload.text,
        idempotency_key: &payload.idempotency_key,
        attempt: job.attempts,
        queued_at: payload.queued_at,
    };
    let started = std::time::Instant::now();
    let platform = crate::platform::of(shop.platform());
    let slot = state.outbound.send_slot(&shop.id).await;
    let sent = platform.send(&state.send_context(), &shop, &reply).await;
    drop(slot);
    state.metrics.observe(
        "anfu_reply_send_seconds",
        &[
            ("platform", shop.platform().as_str()),
            ("outcome", super::outcome(&sent)),
        ],
        started.elapsed().as_secs_f64(),
    );
    if let (Ok(_), Some(received_at)) = (&sent, payload.received_at) {
        let lag = (now_ms() - received_at).max(0) as f64 / 1000.0;
        state.metrics.observe("anfu_reply_lag_seconds", &[], lag);
    }
    if let Ok(Sent {
        message_id: Some(id),
    }) = &sent
    {
        record_own_line(state, &shop, job, id, &payload.text).await?;
    }
    super::settle(
        state,
        job,
        sent.map(drop),
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

/// A sent line the platform gave an id: kept as the shop's line of the conversation, so
/// that its echo (the same id pushed back) is dropped as a duplicate, never answered.
async fn record_own_line(
    state: &AppState,
    shop: &ShopConfig,
    job: &Job,
    message_id: &str,
    text: &str,
) -> Result<(), StoreError> {
    let line = BuyerMessage {
        message_key: message_id.to_string(),
        conversation_id: job.conversation_id.clone(),
        buyer_id: None,
        buyer_nick: None,
        text: text.to_string(),
        order_id: None,
        sent_at: Some(chrono::Utc::now().to_rfc3339()),
        kind: MessageKind::Seller,
    };
    state
        .store
        .accept(&shop.id, shop.platform().as_str(), &line)
        .await
        .map(drop)
}
