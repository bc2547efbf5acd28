//! `POST /v1/analyze`: the analyzer's record for a text, for shops tuning their dictionaries.
//! Behind the agent token (or the console's session), like the rest of the agent API. The
//! analysis runs off the async runtime on at most `limits.max_analysis_chars` of the newest
//! text, so no caller can hold up webhooks or health checks; evidence offsets index the whole
//! text sent. An optional `context` (the conversation's earlier turns) is read as the worker
//! reads a conversation.

use crate::analysis::Turn;
use crate::app::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/analyze", post(analyze))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    text: String,
    /// Earlier turns of the conversation, oldest first: `{"from": "buyer"|"shop", "text"}`.
    #[serde(default)]
    context: Vec<Turn>,
}

async fn analyze(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Request>, JsonRejection>,
) -> Response {
    if let Err(refused) = super::agent::authorize(&state, &headers) {
        return refused.into_response();
    }
    let req =
        match body {
            Ok(Json(req)) => req,
            Err(e) => return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"error": format!("expected {{\"text\": \"...\", \"context\": [{{\"from\": \"buyer\"|\"shop\", \"text\": \"...\"}}]}}: {}", e.body_text())}),
                ),
            )
                .into_response(),
        };
    match state
        .analysis
        .analyze_in_context(req.text, req.context)
        .await
    {
        Ok(record) => Json(record).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "analysis failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": e.to_string()})),
            )
                .into_response()
        }
    }
}
