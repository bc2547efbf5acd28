//! `/healthz`: the process answers. `/readyz`: this instance can work — the store is
//! reachable and has room, and the workers are alive.
//!
//! Operator alerts (a shop's rejected credentials, a robot refusing anfu, a caught panic) are
//! listed in the body but do not fail readiness: they concern one shop or sink, and taking
//! every instance out of the load balancer for them would stop every other shop too. A full
//! store is the exception: this instance cannot accept work.

use crate::app::AppState;
use crate::store::now_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// A worker that has not looked for work for this long is considered stuck.
const WORKER_STALE_MS: i64 = 30_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> Response {
    let store = match state.store.ping().await {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("unreachable: {e}"),
    };
    let beat_age = now_ms() - state.health.last_beat();
    let worker = if beat_age <= WORKER_STALE_MS {
        "ok".to_string()
    } else {
        format!("no heartbeat for {} s", beat_age / 1000)
    };
    let alerts = state.health.alerts();
    let full = alerts.contains_key(crate::app::STORAGE_ALERT);
    let ready = store == "ok" && worker == "ok" && !full;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"ready": ready, "store": store, "worker": worker, "alerts": alerts})),
    )
        .into_response()
}
