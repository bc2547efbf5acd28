//! `POST /v1/admin/reload` (agent token): reloads the data and the shops' reply settings as
//! SIGHUP does. 200 with what was loaded (and what in the config only a restart applies), or 422 with every problem (file and line) while the previous set keeps running.

use super::agent::authorize;
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/admin/reload", post(reload))
}

async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = authorize(&state, &headers) {
        return e.into_response();
    }
    match crate::reload::reload(&state).await {
        Ok(done) => Json(
            json!({"reloaded": true, "terms": done.terms, "model": done.model,
                                "shops": done.shops, "restart_needed": done.restart_needed}),
        )
        .into_response(),
        Err(problems) => {
            let listed: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
            let body = json!({"error": "the data was not reloaded; the previous set keeps running",
                              "problems": listed});
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
    }
}
