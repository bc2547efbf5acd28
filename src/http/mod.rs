//! The HTTP surface; each module owns its `router()`.

pub mod agent;
pub mod analyze;
pub mod console;
pub mod health;
pub mod webhooks;

use crate::app::AppState;
use axum::Router;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(webhooks::router())
        .merge(agent::router())
        .merge(analyze::router())
        .merge(health::router())
        .merge(console::router())
        .with_state(state)
}
