//! Drafts for an agent's answer (`replies/agent.toml`), filled for one ticket: the reply box
//! offers them, the agent edits one and sends it through `POST /v1/handoffs/{id}/reply`.

use super::agent::{authorize, ApiError};
use crate::app::AppState;
use crate::domain::hours::handoff_eta;
use crate::domain::Lang;
use crate::reply::{DraftTicket, Slots};
use crate::store::now_ms;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// How long a draft's `{promise}` gives the shop to act: the guides' 24-hour rule, counted in
/// the shop's business hours.
const PROMISE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/handoffs/{id}/drafts", get(drafts))
}

#[derive(Deserialize)]
struct DraftsQuery {
    /// Whose name `{agent}` takes ("客服" when not given).
    agent: Option<String>,
}

async fn drafts(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DraftsQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    let handoff = state.store.handoff(id).await?;
    let card = &handoff.card;
    let hant = card.lang == Lang::Hant;
    let now = now_ms();
    let shop = state.shop(&card.shop);
    // A shop removed from the config since keeps its card's name and an all-hours clock.
    let (name, due, offset) = match &shop {
        Some(shop) => (
            shop.display_name(),
            shop.sla_due(now, PROMISE),
            shop.utc_offset,
        ),
        None => (
            card.shop_label(),
            now + PROMISE.as_millis() as i64,
            Default::default(),
        ),
    };
    let promise = handoff_eta(now, due, PROMISE.as_millis() as i64, offset, hant);
    let agent = q
        .agent
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("客服");
    let slots = Slots {
        buyer: card.buyer_nick.as_deref(),
        order_id: card.order_id.as_deref(),
        shop: name,
        agent,
        promise: &promise,
        ..Slots::default()
    };
    let ticket = DraftTicket {
        lang: card.lang,
        issue: card.issue_type,
        demands: &card.demands,
        mood: card.mood,
    };
    let drafts = state.replies.get().drafts(&ticket, &slots);
    Ok(Json(json!({ "drafts": drafts })).into_response())
}
