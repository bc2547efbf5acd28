//! `POST /v1/analyze`: the analyzer's record for a text, for shops tuning their dictionaries.

use crate::app::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/analyze", post(analyze))
}

#[derive(Deserialize)]
struct Request {
    text: String,
}

async fn analyze(
    State(state): State<AppState>,
    body: Result<Json<Request>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(req)) => Json(state.analyzer.analyze(&req.text)).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("expected {{\"text\": \"...\"}}: {}", e.body_text())})),
        )
            .into_response(),
    }
}
