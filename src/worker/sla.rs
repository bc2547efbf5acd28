//! The SLA timer: finds tickets past their due time that nobody resolved, marks them (the
//! agent API and cards show it) and tells the routed sinks once.

use crate::app::AppState;
use crate::store::{now_ms, StoreError};
use tokio::sync::watch;

/// One pass; returns how many tickets were newly marked breached.
pub async fn check_once(state: &AppState) -> Result<usize, StoreError> {
    let mut marked = 0;
    for handoff in state.store.overdue(now_ms()).await? {
        let notify = crate::sink::routed(&state.config.sinks, &handoff.card);
        if state.store.record_breach(handoff.id, &notify).await? {
            marked += 1;
            state.announce("sla_breach", Some(handoff.id));
            tracing::warn!(handoff = handoff.id, shop = %handoff.card.shop, priority = %handoff.priority, due = %handoff.card.sla_due, "SLA breached");
        }
    }
    if marked > 0 {
        state.wake.notify_waiters();
    }
    Ok(marked)
}

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let every = state
        .config
        .sla
        .check_every
        .0
        .max(std::time::Duration::from_millis(50));
    loop {
        if let Err(e) = check_once(&state).await {
            tracing::error!(error = %e, "SLA check failed; next tick retries");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}
