//! Taobao-style: TOP-signed pushes carrying a TMC envelope whose `content` is a JSON string.

use super::{id_string, Ack, Inbound, Parsed, Platform, Probe, SendContext, WebhookError};
use crate::config::{PlatformKind, ShopConfig, TaobaoKeys, TopSignMethod};
use crate::domain::{BuyerMessage, MessageKind};
use crate::outbound::{send, snippet, Answer, Reply, SendError, Sent};
use crate::signing::{same, top_sign};
use async_trait::async_trait;
use chrono::{FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

pub const CHAT_TOPIC: &str = "taobao_im_BuyerMessage";
/// Pushes signed further than this from now (either side) are refused.
pub const TIMESTAMP_WINDOW_SECS: i64 = 600;

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// China time as TOP writes it.
pub fn timestamp_now() -> String {
    Utc::now()
        .with_timezone(&china())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The shop's Taobao keys (a shop of another platform is not one).
fn keys(shop: &ShopConfig) -> Result<&TaobaoKeys, WebhookError> {
    shop.taobao().ok_or_else(|| {
        WebhookError::new(
            404,
            "unknown-shop",
            format!("`{}` is not a taobao shop", shop.id),
        )
    })
}

/// Checks `app_key`, the timestamp window and the signature over query + raw body.
pub fn verify(shop: &ShopConfig, query: &str, body: &[u8]) -> Result<(), WebhookError> {
    let keys = keys(shop)?;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| WebhookError::bad_request("isv.invalid-parameter", format!("query: {e}")))?;
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                WebhookError::bad_request(
                    "isv.missing-parameter",
                    format!("missing query parameter `{name}`"),
                )
            })
    };
    let app_key = get("app_key")?;
    let sign = get("sign")?;
    let method = get("sign_method")?;
    let timestamp = get("timestamp")?;
    let method = TopSignMethod::parse(method).ok_or_else(|| {
        WebhookError::bad_request(
            "isv.invalid-sign-method",
            format!("sign_method `{method}` is not md5, hmac or hmac-sha256"),
        )
    })?;
    if !same(app_key, &keys.app_key) {
        return Err(WebhookError::new(
            403,
            "isv.appkey-mismatch",
            "app_key is not this shop's",
        ));
    }
    let sent = NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d %H:%M:%S").map_err(|_| {
        WebhookError::bad_request(
            "isv.invalid-timestamp",
            "timestamp must be YYYY-MM-DD HH:MM:SS (China time)",
        )
    })?;
    let sent = china()
        .from_local_datetime(&sent)
        .single()
        .map(|t| t.timestamp())
        .unwrap_or_default();
    if (Utc::now().timestamp() - sent).abs() > TIMESTAMP_WINDOW_SECS {
        return Err(WebhookError::unauthorized(
            "isv.stale-timestamp",
            "timestamp is more than 10 minutes from now",
        ));
    }
    let expected = top_sign(method, &keys.secret, &params, body);
    if !same(&sign.to_ascii_uppercase(), &expected) {
        return Err(WebhookError::unauthorized(
            "isv.invalid-signature",
            "signature does not match",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Envelope {
    topic: String,
    msg_id: serde_json::Value,
    content: serde_json::Value,
}

#[derive(Deserialize)]
struct ChatContent {
    conversation_id: serde_json::Value,
    buyer_nick: Option<String>,
    buyer_id: Option<serde_json::Value>,
    text: String,
    tid: Option<serde_json::Value>,
    sent_at: Option<String>,
}

/// Parses the envelope; topics other than buyer chat are acknowledged and ignored.
pub fn parse(body: &[u8]) -> Result<Parsed, WebhookError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| WebhookError::bad_request("isv.invalid-body", format!("body: {e}")))?;
    if envelope.topic != CHAT_TOPIC {
        return Ok(Vec::new());
    }
    let msg_id = id_string(&envelope.msg_id)
        .ok_or_else(|| WebhookError::bad_request("isv.invalid-body", "msg_id is missing"))?;
    let serde_json::Value::String(content) = envelope.content else {
        return Err(WebhookError::bad_request(
            "isv.invalid-content",
            "content must be a JSON string holding the message object",
        ));
    };
    let chat: ChatContent = serde_json::from_str(&content)
        .map_err(|e| WebhookError::bad_request("isv.invalid-content", format!("content: {e}")))?;
    let conversation_id = id_string(&chat.conversation_id).ok_or_else(|| {
        WebhookError::bad_request("isv.invalid-content", "content.conversation_id is missing")
    })?;
    Ok(vec![BuyerMessage {
        message_key: msg_id,
        conversation_id,
        buyer_id: chat.buyer_id.as_ref().and_then(id_string),
        buyer_nick: chat.buyer_nick,
        text: chat.text,
        order_id: chat.tid.as_ref().and_then(id_string),
        sent_at: chat.sent_at,
        kind: MessageKind::BuyerText,
    }])
}

/// A TOP call's form parameters: the common ones, then the method's, signed over all.
fn signed(keys: &TaobaoKeys, method: &str, own: &[(&str, &str)]) -> Vec<(String, String)> {
    let timestamp = timestamp_now();
    let common = [
        ("method", method),
        ("app_key", &keys.app_key),
        ("session", &keys.session),
        ("timestamp", &timestamp),
        ("v", "2.0"),
        ("format", "json"),
        ("sign_method", keys.sign_method.as_str()),
    ];
    let mut params: Vec<(String, String)> = common
        .iter()
        .chain(own)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sign = top_sign(keys.sign_method, &keys.secret, &params, b"");
    params.push(("sign".into(), sign));
    params
}

/// The send call's form parameters, signed (platforms.md §1 Send API).
pub fn send_params(
    keys: &TaobaoKeys,
    conversation_id: &str,
    to_nick: &str,
    text: &str,
    request_id: &str,
) -> Vec<(String, String)> {
    signed(
        keys,
        "taobao.im.message.send",
        &[
            ("conversation_id", conversation_id),
            ("to_nick", to_nick),
            ("text", text),
            ("request_id", request_id),
        ],
    )
}

/// Posts one TOP call and returns its `{answer}` object, the failure classified: code 7
/// (call limit), `isp.*` and HTTP 5xx/429 pass; code 27 or an invalid session is expired
/// credentials; other `isv.*` are our caller errors.
async fn call(
    ctx: &SendContext<'_>,
    shop: &ShopConfig,
    params: &[(String, String)],
    answer: &str,
) -> Result<serde_json::Value, SendError> {
    let Answer {
        status,
        retry_after,
        body,
    } = send(ctx.client.post(shop.api_url("/router/rest")).form(params)).await?;
    if status >= 500 || status == 429 {
        return Err(SendError::Retryable {
            reason: format!("HTTP {status}: {}", snippet(&body)),
            retry_after,
        });
    }
    let mut json: serde_json::Value =
        serde_json::from_str(&body).map_err(|_| SendError::Retryable {
            reason: format!("HTTP {status}: unreadable answer {}", snippet(&body)),
            retry_after,
        })?;
    if let Some(found) = json.get_mut(answer) {
        return Ok(found.take());
    }
    let Some(error) = json.get("error_response") else {
        return Err(SendError::Permanent {
            reason: format!("HTTP {status}: unexpected answer {}", snippet(&body)),
        });
    };
    let text = |field: &str| {
        error
            .get(field)
            .and_then(|c| c.as_str())
            .unwrap_or_default()
    };
    let code = error.get("code").and_then(|c| c.as_i64()).unwrap_or(0);
    let sub_code = text("sub_code");
    let reason = format!(
        "code {code} {} ({sub_code}) {}",
        text("msg"),
        text("sub_msg")
    );
    if code == 7 || sub_code.starts_with("isp.") {
        Err(SendError::Retryable {
            reason,
            retry_after,
        })
    } else if code == 27 || sub_code.contains("invalid-session") {
        Err(SendError::AuthExpired { reason })
    } else {
        Err(SendError::Permanent { reason })
    }
}

/// Taobao-style pushes and `taobao.im.message.send`.
pub struct Taobao;

#[async_trait]
impl Platform for Taobao {
    fn kind(&self) -> PlatformKind {
        PlatformKind::Taobao
    }

    fn verify(&self, shop: &ShopConfig, request: &Inbound<'_>) -> Result<(), WebhookError> {
        verify(shop, request.query, request.body)
    }

    fn parse(&self, _shop: &ShopConfig, body: &[u8]) -> Result<Parsed, WebhookError> {
        parse(body)
    }

    fn ack(&self) -> Ack {
        Ack::Json(serde_json::json!({"success": true}))
    }

    fn refusal(&self, e: &WebhookError) -> serde_json::Value {
        serde_json::json!({"success": false, "error_code": e.code, "error_msg": e.message})
    }

    /// Code 7 (call limit) and isp.* (platform side) are retried; isv.* are our caller
    /// errors; code 27 or an invalid session means the seller's token expired.
    /// `taobao.user.seller.get`: reads the seller's nick with the session.
    async fn probe(&self, ctx: &SendContext<'_>, shop: &ShopConfig) -> Probe {
        let Some(keys) = shop.taobao() else {
            return Probe::Fails(format!("`{}` is not a taobao shop", shop.id));
        };
        let params = signed(keys, "taobao.user.seller.get", &[("fields", "nick")]);
        Probe::of(
            call(ctx, shop, &params, "user_seller_get_response").await,
            |answer| {
                let nick = answer["user"]["nick"].as_str().unwrap_or("?");
                format!("the session is the seller `{nick}`'s")
            },
        )
    }

    async fn send(
        &self,
        ctx: &SendContext<'_>,
        shop: &ShopConfig,
        r: &Reply<'_>,
    ) -> Result<Sent, SendError> {
        let keys = shop.taobao().ok_or_else(|| SendError::Permanent {
            reason: format!("`{}` is not a taobao shop", shop.id),
        })?;
        let params = send_params(
            keys,
            r.conversation_id,
            r.to_buyer.unwrap_or_default(),
            r.text,
            r.idempotency_key,
        );
        call(ctx, shop, &params, "im_message_send_response").await?;
        Ok(Sent::default())
    }
}
