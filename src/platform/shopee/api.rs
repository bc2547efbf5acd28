//! Shopee's shop API calls (platforms.md §7): the signed query, sending a chat message,
//! reading a conversation back, renewing the access token, and Shopee's verdicts on them.

use super::sign;
use crate::config::{ShopConfig, ShopeeKeys};
use crate::outbound::{send, snippet, Answer, SendError};
use crate::store::TokenPair;
use serde_json::{json, Value};

pub const SEND_PATH: &str = "/api/v2/sellerchat/send_message";
pub const GET_MESSAGE_PATH: &str = "/api/v2/sellerchat/get_message";
pub const TOKEN_PATH: &str = "/api/v2/auth/access_token/get";
pub const SHOP_INFO_PATH: &str = "/api/v2/shop/get_shop_info";

/// Why a call failed: the access token (renew it and try once more), or anything else.
#[derive(Debug)]
pub enum CallError {
    TokenExpired(String),
    Failed(SendError),
}

impl From<SendError> for CallError {
    fn from(e: SendError) -> CallError {
        CallError::Failed(e)
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The common query of a shop API call, signed over `path` and the access token.
fn shop_query(keys: &ShopeeKeys, path: &str, access_token: &str) -> Vec<(&'static str, String)> {
    let timestamp = now();
    let sign = sign::shop_api(
        &keys.partner_key,
        keys.partner_id,
        path,
        timestamp,
        access_token,
        keys.shop_id,
    );
    vec![
        ("partner_id", keys.partner_id.to_string()),
        ("timestamp", timestamp.to_string()),
        ("sign", sign),
        ("access_token", access_token.to_string()),
        ("shop_id", keys.shop_id.to_string()),
    ]
}

/// Shopee's verdict: HTTP 429, 5xx and errors naming a rate limit or a system error are
/// retried; `invalid_access_token` / `error_auth` mean the token expired; any other `error`
/// is final. A success is the answer's `response`.
fn verdict(answer: &Answer) -> Result<Value, CallError> {
    let json: Option<Value> = serde_json::from_str(&answer.body).ok();
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if error.is_empty() {
        answer.check_status()?;
        return json.ok_or_else(|| {
            CallError::Failed(SendError::Retryable {
                reason: format!(
                    "HTTP {}: unreadable answer {}",
                    answer.status,
                    snippet(&answer.body)
                ),
                retry_after: answer.retry_after,
            })
        });
    }
    let message = json
        .as_ref()
        .and_then(|j| j.get("message"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reason = format!("HTTP {}: {error} {message}", answer.status);
    let lower = error.to_ascii_lowercase();
    if lower == "invalid_access_token" || lower == "error_auth" {
        return Err(CallError::TokenExpired(reason));
    }
    let transient = [
        "rate", "limit", "system", "server", "inner", "busy", "timeout",
    ];
    if answer.status == 429 || answer.status >= 500 || transient.iter().any(|w| lower.contains(w)) {
        return Err(CallError::Failed(SendError::Retryable {
            reason,
            retry_after: answer.retry_after,
        }));
    }
    Err(CallError::Failed(SendError::Permanent { reason }))
}

/// Sends `text` to the buyer `to_id`: the new message's id, when Shopee gives it.
pub async fn send_message(
    client: &reqwest::Client,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    access_token: &str,
    to_id: u64,
    text: &str,
) -> Result<Option<String>, CallError> {
    let body = json!({"to_id": to_id, "message_type": "text", "content": {"text": text}});
    let request = client
        .post(shop.api_url(SEND_PATH))
        .query(&shop_query(keys, SEND_PATH, access_token))
        .header("content-type", "application/json")
        .body(body.to_string());
    let answer = send(request).await?;
    let json = verdict(&answer)?;
    Ok(json
        .pointer("/response/message_id")
        .and_then(crate::platform::id_string))
}

/// The shop's name as Shopee has it (`get_shop_info`, a read: the credentials' probe).
pub async fn shop_name(
    client: &reqwest::Client,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    access_token: &str,
) -> Result<String, CallError> {
    let query = shop_query(keys, SHOP_INFO_PATH, access_token);
    let answer = send(client.get(shop.api_url(SHOP_INFO_PATH)).query(&query)).await?;
    let json = verdict(&answer)?;
    // Shopee puts this call's fields at the top level (others answer under `response`).
    Ok(json
        .get("shop_name")
        .or_else(|| json.pointer("/response/shop_name"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string())
}

/// One message of a conversation as Shopee reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub message_id: String,
    pub to_id: Option<String>,
    pub text: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// The newest messages of a conversation.
pub async fn get_messages(
    client: &reqwest::Client,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    access_token: &str,
    conversation_id: &str,
) -> Result<Vec<Said>, CallError> {
    let mut query = shop_query(keys, GET_MESSAGE_PATH, access_token);
    query.push(("conversation_id", conversation_id.to_string()));
    query.push(("page_size", "50".to_string()));
    let request = client.get(shop.api_url(GET_MESSAGE_PATH)).query(&query);
    let answer = send(request).await?;
    let json = verdict(&answer)?;
    let messages = json
        .pointer("/response/messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(messages
        .iter()
        .filter_map(|m| {
            Some(Said {
                message_id: crate::platform::id_string(m.get("message_id")?)?,
                to_id: m.get("to_id").and_then(crate::platform::id_string),
                text: m
                    .pointer("/content/text")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                created: m.get("created_timestamp").and_then(Value::as_i64)?,
            })
        })
        .collect())
}

/// Buys a new pair with `refresh_token` (which Shopee then retires). A refusal other than a
/// transient one is final: the shop must be authorised again, so it surfaces as rejected
/// credentials (an operator alert).
pub async fn renew(
    client: &reqwest::Client,
    shop: &ShopConfig,
    keys: &ShopeeKeys,
    refresh_token: &str,
) -> Result<TokenPair, SendError> {
    let timestamp = now();
    let sign = sign::public_api(&keys.partner_key, keys.partner_id, TOKEN_PATH, timestamp);
    let body = json!({"refresh_token": refresh_token, "partner_id": keys.partner_id,
                      "shop_id": keys.shop_id});
    let request = client
        .post(shop.api_url(TOKEN_PATH))
        .query(&[
            ("partner_id", keys.partner_id.to_string()),
            ("timestamp", timestamp.to_string()),
            ("sign", sign),
        ])
        .header("content-type", "application/json")
        .body(body.to_string());
    let answer = send(request).await?;
    let refused = |reason: String| SendError::AuthExpired {
        reason: format!(
            "Shopee refused to renew the access token ({reason}); authorise the shop again"
        ),
    };
    let json = match verdict(&answer) {
        Ok(json) => json,
        Err(CallError::TokenExpired(reason)) => return Err(refused(reason)),
        Err(CallError::Failed(SendError::Permanent { reason })) => return Err(refused(reason)),
        Err(CallError::Failed(e)) => return Err(e),
    };
    let text = |key: &str| {
        json.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(access_token), Some(refresh_token)) = (text("access_token"), text("refresh_token"))
    else {
        return Err(SendError::Retryable {
            reason: format!("token answer without a pair: {}", snippet(&answer.body)),
            retry_after: None,
        });
    };
    let expire_in = json
        .get("expire_in")
        .and_then(Value::as_i64)
        .unwrap_or(14_400);
    Ok(TokenPair {
        access_token,
        refresh_token,
        expires_at: crate::store::now_ms() + expire_in * 1000,
    })
}
