//! Generic: Standard Webhooks signed JSON, for platforms without a dedicated adapter.

use super::{id_string, Ack, Inbound, Parsed, Platform, SendContext, WebhookError};
use crate::config::{PlatformKind, ShopConfig};
use crate::domain::{BuyerMessage, MessageKind};
use crate::outbound::{send, standard_webhooks_post, Reply, SendError, Sent};
use crate::signing::standard_webhooks_verify;
use async_trait::async_trait;
use serde::Deserialize;

pub const TOLERANCE_SECS: i64 = 300;

/// The three Standard Webhooks headers, as received.
pub struct SignatureHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// The longest `webhook-id` taken.
const MAX_ID_LEN: usize = 256;

pub fn verify(
    shop: &ShopConfig,
    headers: &SignatureHeaders,
    body: &[u8],
) -> Result<(), WebhookError> {
    let missing = |name: &str| {
        WebhookError::bad_request("missing-header", format!("missing header `{name}`"))
    };
    let id = headers.id.ok_or_else(|| missing("webhook-id"))?;
    // Ids are short tokens (msg_…); a long one is abuse, whatever it signs.
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(WebhookError::bad_request(
            "invalid-header",
            format!("webhook-id must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    let timestamp = headers
        .timestamp
        .ok_or_else(|| missing("webhook-timestamp"))?;
    let signature = headers
        .signature
        .ok_or_else(|| missing("webhook-signature"))?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
        WebhookError::bad_request(
            "invalid-timestamp",
            "webhook-timestamp must be unix seconds",
        )
    })?;
    // abs_diff: a timestamp near i64::MIN must be refused, not overflow the subtraction.
    if chrono::Utc::now().timestamp().abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return Err(WebhookError::unauthorized(
            "stale-timestamp",
            "webhook-timestamp is more than 5 minutes from now",
        ));
    }
    let key = shop.generic().map(|k| k.key.as_slice()).ok_or_else(|| {
        WebhookError::new(
            404,
            "unknown-shop",
            format!("`{}` is not a generic shop", shop.id),
        )
    })?;
    if !standard_webhooks_verify(key, id, timestamp, body, signature) {
        return Err(WebhookError::unauthorized(
            "invalid-signature",
            "webhook-signature does not match",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Body {
    message_id: serde_json::Value,
    conversation_id: serde_json::Value,
    buyer: Option<Buyer>,
    text: String,
    order_id: Option<serde_json::Value>,
    sent_at: Option<String>,
}

#[derive(Deserialize)]
struct Buyer {
    id: Option<serde_json::Value>,
    nick: Option<String>,
}

pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let b: Body = serde_json::from_slice(body)
        .map_err(|e| WebhookError::bad_request("invalid-body", format!("body: {e}")))?;
    let message_key = id_string(&b.message_id)
        .ok_or_else(|| WebhookError::bad_request("invalid-body", "message_id is missing"))?;
    let conversation_id = id_string(&b.conversation_id)
        .ok_or_else(|| WebhookError::bad_request("invalid-body", "conversation_id is missing"))?;
    Ok(vec![BuyerMessage {
        message_key,
        conversation_id,
        buyer_id: b
            .buyer
            .as_ref()
            .and_then(|x| x.id.as_ref())
            .and_then(id_string),
        buyer_nick: b.buyer.and_then(|x| x.nick),
        text: b.text,
        order_id: b.order_id.as_ref().and_then(id_string),
        sent_at: b.sent_at,
        kind: MessageKind::BuyerText,
    }])
}

/// Standard Webhooks both ways: signed pushes in, signed `POST {api_base}/messages` out.
pub struct Generic;

#[async_trait]
impl Platform for Generic {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Generic
    }

    fn verify(&self, shop: &ShopConfig, request: &Inbound<'_>) -> Result<(), WebhookError> {
        let headers = SignatureHeaders {
            id: request.header("webhook-id"),
            timestamp: request.header("webhook-timestamp"),
            signature: request.header("webhook-signature"),
        };
        verify(shop, &headers, request.body)
    }

    fn parse(&self, _shop: &ShopConfig, body: &[u8]) -> Result<Parsed, WebhookError> {
        parse(body)
    }

    fn ack(&self) -> Ack {
        Ack::NoContent
    }

    async fn send(
        &self,
        ctx: &SendContext<'_>,
        shop: &ShopConfig,
        r: &Reply<'_>,
    ) -> Result<Sent, SendError> {
        let url = shop.api_url("/messages");
        let body = serde_json::json!({
            "conversation_id": r.conversation_id,
            "text": r.text,
            "idempotency_key": r.idempotency_key,
        })
        .to_string();
        let key = shop.generic().ok_or_else(|| SendError::Permanent {
            reason: format!("`{}` is not a generic shop", shop.id),
        })?;
        let request = standard_webhooks_post(ctx.client, &url, &key.key, r.idempotency_key, body);
        send(request)
            .await?
            .check_status()
            .map(|()| Sent::default())
    }
}
