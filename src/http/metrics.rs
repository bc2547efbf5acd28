//! `GET /metrics`: OpenMetrics when the scraper asks for it (`Accept`), else the classic
//! Prometheus text format. On the main listener unless
//! `server.metrics_listen` gives it a listener of its own (keep it off the internet).

use crate::app::AppState;
use crate::metrics::Format;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let mut gauges: Vec<_> = match state.store.job_counts().await {
        Ok(counts) => counts
            .into_iter()
            .map(|(kind, status, n)| {
                (
                    "anfu_queue_jobs",
                    vec![("kind", kind), ("status", status)],
                    n as f64,
                )
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count jobs");
            return (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response();
        }
    };
    gauges.extend(
        state
            .health
            .alerts()
            .into_keys()
            .map(|key| ("anfu_operator_alerts", vec![("key", key)], 1.0)),
    );
    (
        [(header::CONTENT_TYPE, format.content_type())],
        state.metrics.render(&gauges, format),
    )
        .into_response()
}
