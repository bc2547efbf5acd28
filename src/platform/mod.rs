//! The platforms anfu speaks (platforms.md): verify and parse their webhooks into
//! [`BuyerMessage`]s, and send replies through their APIs.

pub mod generic;
pub mod outbound;
pub mod rakuten;
pub mod signing;
pub mod taobao;

use crate::domain::BuyerMessage;

/// Why a webhook was refused; rendered in the platform's own error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    pub status: u16,
    /// A stable machine-readable code (`invalid-signature`, `stale-timestamp`, …).
    pub code: &'static str,
    pub message: String,
    /// For 429/503: when to come back (seconds), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl WebhookError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> WebhookError {
        WebhookError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Too many requests for this shop: come back in `seconds`.
    pub fn rate_limited(seconds: u64) -> WebhookError {
        WebhookError {
            retry_after: Some(seconds),
            ..WebhookError::new(
                429,
                "rate-limited",
                format!("too many webhooks for this shop; retry in {seconds} s"),
            )
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> WebhookError {
        WebhookError::new(400, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> WebhookError {
        WebhookError::new(401, code, message)
    }
}

/// What a verified webhook carried: buyer messages to store (none for ignored events).
pub type Parsed = Vec<BuyerMessage>;

/// A JSON value that must be an id: strings stay as written, integers are printed exactly
/// (never through an f64), anything else is refused.
pub fn id_string(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}
