//! The HTTP surface; each module owns its `router()`.

pub mod admin;
pub mod agent;
pub mod analyze;
pub mod console;
pub mod drafts;
pub mod health;
pub mod metrics;
pub mod reports;
pub mod request_id;
pub mod webhooks;

use crate::app::AppState;
use axum::Router;

/// Everything on the main listener; `/metrics` too unless it has a listener of its own.
pub fn router(state: AppState) -> Router {
    let separate_metrics = !state.config.server.metrics_listen.is_empty();
    let main = Router::new()
        .merge(webhooks::router())
        .merge(admin::router())
        .merge(agent::router())
        .merge(drafts::router())
        .merge(reports::router())
        .merge(analyze::router())
        .merge(health::router())
        .merge(console::router());
    let main = if separate_metrics {
        main
    } else {
        main.merge(metrics::router())
    };
    main.layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}
