//! The platforms anfu speaks (platforms.md), one folder each behind [`Platform`]: verify and
//! parse their webhooks into [`BuyerMessage`]s, answer in their own shapes, and send replies
//! through their APIs. [`REGISTRY`] lists them; the webhook handler and the worker find a
//! platform there, so adding one is a folder and a line in the registry (and its
//! `PlatformKind`).

pub mod generic;
pub mod rakuten;
pub mod shopee;
pub mod taobao;

use crate::config::{PlatformKind, ShopConfig};
use crate::domain::BuyerMessage;
use crate::outbound::{Reply, SendError, Sent};
use crate::store::Store;
use async_trait::async_trait;

/// A webhook as received: what a platform verifies and parses.
pub struct Inbound<'a> {
    pub query: &'a str,
    pub headers: &'a axum::http::HeaderMap,
    pub body: &'a [u8],
}

impl Inbound<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a platform acknowledges a stored webhook.
pub enum Ack {
    Json(serde_json::Value),
    NoContent,
    /// HTTP 200 with an empty body (Shopee).
    Empty,
}

/// What a send may use besides the shop's config: the HTTP client, and the store (for
/// tokens that rotate, shared by every instance).
pub struct SendContext<'a> {
    pub client: &'a reqwest::Client,
    pub store: &'a dyn Store,
}

/// One marketplace: its inbound webhook contract and its send call.
#[async_trait]
pub trait Platform: Send + Sync {
    fn kind(&self) -> PlatformKind;

    /// The path segment of its webhooks (`/webhooks/{name}/{shop}`) and its metrics label.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Refuses pushes for a shop that does not take them (Rakuten in poll mode).
    fn accepts_push(&self, _shop: &ShopConfig) -> Result<(), WebhookError> {
        Ok(())
    }

    /// Checks the signature (and its freshness) on the request as received.
    fn verify(&self, shop: &ShopConfig, request: &Inbound<'_>) -> Result<(), WebhookError>;

    /// The messages of a verified body (none for ignored events).
    fn parse(&self, shop: &ShopConfig, body: &[u8]) -> Result<Parsed, WebhookError>;

    /// Whether the platform pushes the shop's own messages back, anfu's sends included: then
    /// an echo is told from the buyer's text before anything is answered.
    fn echoes_sends(&self) -> bool {
        false
    }

    /// The acknowledgement of a stored webhook, in the platform's shape.
    fn ack(&self) -> Ack;

    /// The body of a refusal, in the platform's shape.
    fn refusal(&self, e: &WebhookError) -> serde_json::Value {
        serde_json::json!({"error": {"code": e.code, "message": e.message}})
    }

    /// How often the shop's credentials need upkeep (Shopee's rotating tokens), if ever.
    fn upkeep_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// One round of credential upkeep (renewing a token before it expires).
    async fn upkeep(&self, _ctx: &SendContext<'_>, _shop: &ShopConfig) -> Result<(), SendError> {
        Ok(())
    }

    /// One harmless authenticated call (it reads, and sends a buyer nothing): whether the
    /// shop's credentials work (`anfu check --probe`). The default: the contract has none.
    async fn probe(&self, _ctx: &SendContext<'_>, _shop: &ShopConfig) -> Probe {
        Probe::NotProbed("its contract has no call that reads without sending")
    }

    /// Sends one reply through the platform's API, its failure classified.
    async fn send(
        &self,
        ctx: &SendContext<'_>,
        shop: &ShopConfig,
        reply: &Reply<'_>,
    ) -> Result<Sent, SendError>;
}

/// What one probe found out about a set of credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The call was accepted; what it answered, in a few words.
    Works(String),
    /// The call was refused or failed; why.
    Fails(String),
    /// Nothing was called; why not.
    NotProbed(&'static str),
}

impl Probe {
    /// A send's outcome as a probe's: its success described, its failure explained.
    pub fn of<T>(result: Result<T, SendError>, works: impl FnOnce(T) -> String) -> Probe {
        match result {
            Ok(value) => Probe::Works(works(value)),
            Err(e) => Probe::Fails(e.to_string()),
        }
    }
}

/// Every platform anfu speaks.
pub static REGISTRY: [&dyn Platform; 4] = [
    &taobao::Taobao,
    &rakuten::Rakuten,
    &generic::Generic,
    &shopee::Shopee,
];

/// The platform of a configured shop.
pub fn of(kind: PlatformKind) -> &'static dyn Platform {
    REGISTRY
        .iter()
        .copied()
        .find(|p| p.kind() == kind)
        .expect("every PlatformKind is in the registry")
}

/// The platform a webhook path names.
pub fn named(name: &str) -> Option<&'static dyn Platform> {
    REGISTRY.iter().copied().find(|p| p.name() == name)
}

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

/// What a verified webhook carried: messages to store (none for ignored events): the
/// buyer's, and the shop's own where the platform reports them.
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
