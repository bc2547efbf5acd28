//! Telling the agents' tools (DingTalk, WeCom, Feishu, Slack, Chatwoot, a signed webhook)
//! about a ticket. Robots that allow 20 messages a minute get their jobs deferred to the next
//! free slot: queued, never dropped.

use crate::app::AppState;
use crate::outbound::SendError;
use crate::sink::{self, EventKind, HandoffEvent};
use crate::store::{now_ms, Job, NotifyPayload, StoreError};
use std::time::Instant;

pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let payload: NotifyPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| StoreError::Corrupt(format!("notify job {}: {e}", job.id)))?;
    let Some(sink) = state.config.sinks.iter().find(|s| s.name == payload.sink) else {
        let why = format!("sink `{}` is no longer configured", payload.sink);
        return super::bury(state, job, &why).await;
    };
    if let Some(wait) = state.sinks_rate.next_slot_for(sink, Instant::now()) {
        let run_at = super::retry::due_at(now_ms(), wait).saturating_add(1);
        return state.store.defer_job(job.lease(), run_at).await.map(drop);
    }
    let handoff = state.store.handoff(payload.handoff_id).await?;
    let mut event = HandoffEvent {
        external_ref: state.store.sink_ref(handoff.id, &sink.name).await?,
        ticket_id: handoff.id,
        kind: match payload.event.as_str() {
            "created" => EventKind::Created,
            "sla_warning" => EventKind::SlaWarning,
            "sla_breach" => EventKind::SlaBreach,
            "escalated" => EventKind::Escalated,
            "reopened" => EventKind::Reopened,
            _ => EventKind::Updated,
        },
        card: handoff.card,
        console_base: Some(state.config.server.public_url.clone()).filter(|u| !u.is_empty()),
        idempotency_key: format!("anfu-notify-{}", job.id),
    };
    let started = std::time::Instant::now();
    let sent = prepare_and_deliver(state, sink, &mut event).await;
    state.metrics.observe(
        "anfu_sink_send_seconds",
        &[
            (
                "kind",
                sink::SinkKind::parse(&sink.kind).map_or("unknown", |k| k.as_str()),
            ),
            ("outcome", super::outcome(&sent)),
        ],
        started.elapsed().as_secs_f64(),
    );
    super::settle(
        state,
        job,
        sent,
        &sink_key(sink),
        "the robot rejected anfu's credentials",
    )
    .await
}

/// Makes what the sink needs first (a Chatwoot conversation), remembering it at once so a
/// retry reuses it, then delivers.
async fn prepare_and_deliver(
    state: &AppState,
    sink: &crate::config::SinkConfig,
    event: &mut HandoffEvent,
) -> Result<(), SendError> {
    let client = state.outbound.client();
    if let Some(made) = sink::prepare(client, sink, event).await? {
        state
            .store
            .set_sink_ref(event.ticket_id, &sink.name, &made)
            .await
            .map_err(|e| SendError::Retryable {
                reason: format!("storing the sink's reference: {e}"),
                retry_after: None,
            })?;
        event.external_ref = Some(made);
    }
    sink::deliver(client, sink, event).await
}

/// How a sink is named in alerts: by its name.
fn sink_key(sink: &crate::config::SinkConfig) -> String {
    format!("sink {}", sink.name)
}
