//! The agent API: handoff tickets and dead-lettered jobs, behind the configured bearer token.

use crate::app::AppState;
use crate::signing::same;
use crate::store::{HandoffFilter, StoreError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/handoffs", get(list))
        .route("/v1/handoffs/{id}", get(show))
        .route("/v1/handoffs/{id}/claim", post(claim))
        .route("/v1/handoffs/{id}/resolve", post(resolve))
        .route("/v1/handoffs/{id}/notes", post(note))
        .route("/v1/handoffs/{id}/reply", post(reply))
        .route("/v1/jobs", get(jobs))
        .route("/v1/alerts", get(alerts))
}

/// An agent API failure, as `{"error": "..."}` with a fitting status.
pub struct ApiError(StatusCode, String);

impl ApiError {
    pub fn new(status: StatusCode, why: impl Into<String>) -> ApiError {
        ApiError(status, why.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => {
                ApiError(StatusCode::NOT_FOUND, format!("{what} not found"))
            }
            StoreError::Conflict(why) => ApiError(StatusCode::CONFLICT, why),
            other => {
                tracing::error!(error = %other, "agent API store failure");
                ApiError(StatusCode::SERVICE_UNAVAILABLE, "store unavailable".into())
            }
        }
    }
}

/// The bearer token, or the console's session cookie (set by logging in with the token).
pub fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if super::console::has_session(state, headers) {
        return Ok(());
    }
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if given.is_empty() || !same(given, &state.config.server.agent_token) {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token".into(),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    priority: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    // An empty value means "any", as HTML forms send it.
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if !["open", "claimed", "resolved"].contains(&s) {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("status `{s}`: expected open, claimed or resolved"),
            ));
        }
    }
    let priority = match q.priority.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse().map_err(|e: crate::domain::UnknownLabel| {
            ApiError(StatusCode::BAD_REQUEST, e.to_string())
        })?),
        None => None,
    };
    let filter = HandoffFilter {
        status: q.status.filter(|s| !s.is_empty()),
        priority,
    };
    let handoffs = state.store.handoffs(&filter).await?;
    Ok(Json(json!({ "handoffs": handoffs })).into_response())
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    Ok(Json(state.store.handoff(id).await?).into_response())
}

/// What an operator must fix (rejected credentials of a shop or robot), by shop or sink.
async fn alerts(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    Ok(Json(json!({ "alerts": state.health.alerts() })).into_response())
}

#[derive(Deserialize)]
struct ClaimBody {
    agent: String,
}

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Result<Json<ClaimBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let Json(body) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    if body.agent.trim().is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "agent is empty".into()));
    }
    let handoff = state.store.claim_handoff(id, body.agent.trim()).await?;
    state.announce("claimed", Some(id));
    Ok(Json(handoff).into_response())
}

async fn resolve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let mut handoff = state.store.resolve_handoff(id).await?;
    // The follow-up (回访), where the shop wants one: asked once, later, in business hours.
    let after = state
        .shop(&handoff.card.shop)
        .and_then(|shop| shop.followup_after);
    if let Some(after) = after {
        let at = crate::store::now_ms() + after.0.as_millis() as i64;
        state.store.schedule_followup(id, at).await?;
        handoff = state.store.handoff(id).await?;
    }
    state.announce("resolved", Some(id));
    Ok(Json(handoff).into_response())
}

#[derive(Deserialize)]
struct NoteBody {
    author: String,
    text: String,
}

async fn note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Result<Json<NoteBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let Json(body) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    if body.text.trim().is_empty() || body.author.trim().is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "author and text are required".into(),
        ));
    }
    let handoff = state
        .store
        .add_note(id, body.author.trim(), &body.text)
        .await?;
    state.announce("noted", Some(id));
    Ok((StatusCode::CREATED, Json(handoff)).into_response())
}

/// The longest line an agent may send (platforms.md §8); Rakuten's send fits it further.
pub const MAX_REPLY_CHARS: usize = 2000;

#[derive(Deserialize)]
struct ReplyBody {
    text: String,
    agent: String,
}

/// An agent answers the buyer: the line is stored and queued (202); the worker sends it
/// through the shop's platform like a bot reply, and the consoles see its delivery live.
async fn reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Result<Json<ReplyBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let Json(body) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let (text, agent) = (body.text.trim(), body.agent.trim());
    if agent.is_empty() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "agent is empty".into()));
    }
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_REPLY_CHARS {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("text must have 1 to {MAX_REPLY_CHARS} characters (it has {chars})"),
        ));
    }
    let line = state.store.queue_agent_reply(id, agent, text).await?;
    state.wake.notify_waiters();
    state.announce("agent_reply", Some(id));
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message_id": line.message_id, "status": line.status})),
    )
        .into_response())
}

#[derive(Deserialize)]
struct JobsQuery {
    status: Option<String>,
}

async fn jobs(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<JobsQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let jobs = state
        .store
        .jobs(q.status.as_deref().filter(|s| !s.is_empty()))
        .await?;
    Ok(Json(json!({ "jobs": jobs })).into_response())
}
