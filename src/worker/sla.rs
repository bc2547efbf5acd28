//! The SLA timer: finds tickets about to breach (within `sla.warn_before` of their due time)
//! and overdue ones that nobody answered or resolved, marks them (the agent API, console and
//! cards show it) and tells the routed sinks once each. The same tick runs the escalation
//! ladder and the follow-ups (`ladder.rs`).

use crate::app::AppState;
use crate::domain::Priority;
use crate::store::{now_ms, StoreError};
use tokio::sync::watch;

/// What one pass marked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Marked {
    pub warned: usize,
    pub breached: usize,
    pub escalated: usize,
    /// Follow-up questions queued.
    pub followed_up: usize,
}

/// One pass: overdue tickets first, then the ones about to breach.
pub async fn check_once(state: &AppState) -> Result<Marked, StoreError> {
    state.faults.fire("sla");
    let now = now_ms();
    let mut marked = Marked::default();
    for handoff in state.store.overdue(now).await? {
        let notify = crate::sink::routed(&state.config.sinks, &handoff.card);
        if state.store.record_breach(handoff.id, &notify).await? {
            marked.breached += 1;
            state.metrics.inc("anfu_sla_breaches_total", &[]);
            state.announce("sla_breach", Some(handoff.id));
            tracing::warn!(handoff = handoff.id, shop = %handoff.card.shop, priority = %handoff.priority, due = %handoff.card.sla_due, "SLA breached");
        }
    }
    let mut soon = Vec::new();
    for priority in [Priority::P1, Priority::P2, Priority::P3] {
        let until = now + state.config.sla.warn_lead(priority).as_millis() as i64;
        soon.extend(state.store.due_soon(priority, now, until).await?);
    }
    for handoff in soon {
        let notify = crate::sink::routed(&state.config.sinks, &handoff.card);
        if state.store.record_warning(handoff.id, &notify).await? {
            marked.warned += 1;
            state.metrics.inc("anfu_sla_warnings_total", &[]);
            state.announce("sla_warning", Some(handoff.id));
            tracing::info!(handoff = handoff.id, shop = %handoff.card.shop, priority = %handoff.priority, due = %handoff.card.sla_due, "SLA about to breach");
        }
    }
    marked.escalated = super::ladder::escalate_once(state).await?;
    marked.followed_up = super::ladder::follow_up_once(state).await?;
    if marked != Marked::default() {
        state.wake.notify_waiters();
    }
    Ok(marked)
}

pub async fn run(state: AppState, shutdown: watch::Receiver<bool>) {
    let every = state
        .config
        .sla
        .check_every
        .0
        .max(std::time::Duration::from_millis(50));
    super::every(&state, "sla", every, shutdown, || async {
        if let Err(e) = check_once(&state).await {
            tracing::error!(error = %e, "SLA check failed; next tick retries");
        }
    })
    .await;
}
