//! `/healthz`: the process answers. `/readyz`: the store is reachable, the worker is alive and
//! no shop's credentials have been rejected (an expired Rakuten licenseKey shows here).

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
    let ready = store == "ok" && worker == "ok" && alerts.is_empty();
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
