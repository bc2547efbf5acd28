//! Inbound webhooks: verify the signature on the raw body, parse into domain messages, store
//! (dedupe + job, one transaction), and only then acknowledge in the platform's own shape.

use crate::app::AppState;
use crate::config::{PlatformKind, ShopConfig};
use crate::domain::BuyerMessage;
use crate::platform::{self, Ack, Inbound, WebhookError};
use crate::store::StoreError;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/{platform}/{shop}", post(push))
}

/// Every platform's webhook: the path names the platform (`platform::REGISTRY`), which
/// verifies, parses and answers in its own shape; storing is the same for all.
async fn push(
    State(state): State<AppState>,
    Path((platform, shop)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(p) = platform::named(&platform) else {
        let names: Vec<&str> = platform::REGISTRY.iter().map(|p| p.name()).collect();
        let e = WebhookError::new(
            404,
            "unknown-platform",
            format!("no platform `{platform}` ({})", names.join(", ")),
        );
        let body = json!({"error": {"code": e.code, "message": e.message}});
        return refuse(&state, "unknown", &shop, &e, body);
    };
    let result = async {
        let shop = shop_for(&state, &shop, p.kind())?;
        admit(&state, shop)?;
        p.accepts_push(shop)?;
        let body = read(&state, body).await?;
        let request = Inbound {
            query: query.as_deref().unwrap_or_default(),
            headers: &headers,
            body: &body,
        };
        p.verify(shop, &request)?;
        utf8(&body)?;
        let messages = p.parse(shop, &body)?;
        store(&state, shop, messages).await
    }
    .await;
    match result {
        Ok(()) => match p.ack() {
            Ack::Json(body) => Json(body).into_response(),
            Ack::NoContent => StatusCode::NO_CONTENT.into_response(),
            Ack::Empty => StatusCode::OK.into_response(),
        },
        Err(e) => refuse(&state, p.name(), &shop, &e, p.refusal(&e)),
    }
}

fn shop_for<'a>(
    state: &'a AppState,
    id: &str,
    platform: PlatformKind,
) -> Result<&'a ShopConfig, WebhookError> {
    state
        .config
        .shop(id)
        .filter(|s| s.platform() == platform)
        .ok_or_else(|| {
            WebhookError::new(
                404,
                "unknown-shop",
                format!("no {} shop `{id}` is configured", platform.as_str()),
            )
        })
}

async fn read(state: &AppState, body: Body) -> Result<Bytes, WebhookError> {
    let limit = state.config.server.max_body;
    to_bytes(body, limit).await.map_err(|_| {
        WebhookError::new(413, "body-too-large", format!("body exceeds {limit} bytes"))
    })
}

fn utf8(body: &[u8]) -> Result<(), WebhookError> {
    std::str::from_utf8(body)
        .map(|_| ())
        .map_err(|e| WebhookError::bad_request("invalid-utf8", format!("body is not UTF-8 ({e})")))
}

/// How long a webhook waits for the database before answering 503. Platforms give up on a
/// webhook after a few seconds; a 503 in time makes them redeliver rather than guess. If the
/// write completes after all, the redelivery is a duplicate and is answered as one.
const ACCEPT_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Stores every message (dedupe in the database), then wakes the workers.
async fn store(
    state: &AppState,
    shop: &ShopConfig,
    messages: Vec<BuyerMessage>,
) -> Result<(), WebhookError> {
    let mut new = false;
    for message in messages {
        let key = format!("{}\u{0}{}", shop.id, message.message_key);
        if state.seen.contains_key(&key) {
            count_message(state, shop, false);
            continue;
        }
        let _waiting = Waiting::new(&state.webhooks_waiting);
        let accepted = tokio::time::timeout(
            ACCEPT_WAIT,
            state
                .store
                .accept(&shop.id, shop.platform().as_str(), &message),
        )
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "no answer from the database within {ACCEPT_WAIT:?}"
            )))
        });
        let inserted = accepted.map_err(|e| {
            tracing::error!(shop = %shop.id, error = %e, "cannot store a webhook message");
            state.store_failed(&e);
            let (code, text) = if e.is_full() {
                ("store-full", "the database is full; retry later")
            } else {
                ("store-unavailable", "cannot store the message now; retry")
            };
            WebhookError {
                retry_after: Some(5),
                ..WebhookError::new(503, code, text)
            }
        })?;
        state.store_wrote();
        new |= inserted;
        count_message(state, shop, inserted);
        state.seen.insert(key, ());
    }
    if new {
        state.wake.notify_waiters();
    }
    Ok(())
}

/// Counts a webhook as waiting for the store while it lives (a dropped request included).
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a std::sync::atomic::AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

pub(crate) fn count_message(state: &AppState, shop: &ShopConfig, new: bool) {
    state.metrics.inc(
        "anfu_webhook_messages_total",
        &[
            ("platform", shop.platform().as_str()),
            ("result", if new { "new" } else { "duplicate" }),
        ],
    );
}

/// The shop's webhook budget (`limits.webhooks_per_shop_per_minute`).
fn admit(state: &AppState, shop: &ShopConfig) -> Result<(), WebhookError> {
    state
        .webhook_limit
        .hit(&shop.id, std::time::Instant::now())
        .map_err(|wait| WebhookError::rate_limited(wait.as_secs().max(1)))
}

/// Logs a refusal (never the signature or secrets) and answers in the platform's shape.
fn refuse(
    state: &AppState,
    platform: &'static str,
    shop: &str,
    e: &WebhookError,
    body: serde_json::Value,
) -> Response {
    tracing::warn!(platform, shop, status = e.status, code = e.code, reason = %e.message, "webhook refused");
    // `platform` is a registered name or "unknown": the path is the sender's choice, and
    // only known names become label values.
    state.metrics.inc(
        "anfu_webhook_refused_total",
        &[("platform", platform), ("code", e.code)],
    );
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(body)).into_response();
    if let Some(seconds) = e.retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    response
}
