//! The outbound HTTP layer shared by the platforms' send calls and the sinks: one client
//! (timeouts, user agent), and the classification of failures so that the worker knows
//! whether to retry (and when) or to give up. Neutral: it depends on nothing above it.

use crate::signing::standard_webhooks_sign;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (throttled, 5xx, timeout); `retry_after` when the platform said.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The platform refused for good; retrying cannot help.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// Credentials expired or revoked (Rakuten's 90-day licenseKey): an operator must act.
    #[error("credentials rejected: {reason}")]
    AuthExpired { reason: String },
}

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    /// Sends in flight per shop at most (`worker.sends_per_shop`), so that a batch of
    /// replies to one shop does not open a burst of connections to its platform.
    per_shop: usize,
    slots: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Slots>>>,
}

type Slots = std::sync::Arc<tokio::sync::Semaphore>;

/// One reply to deliver.
pub struct Reply<'a> {
    pub conversation_id: &'a str,
    /// The buyer's nickname (Taobao's `to_nick`).
    pub to_buyer: Option<&'a str>,
    /// The buyer's platform id (Shopee's `to_id`).
    pub buyer_id: Option<&'a str>,
    pub text: &'a str,
    pub idempotency_key: &'a str,
    /// Which attempt this is (1 = the first): a retry of a send whose outcome is unknown is
    /// checked first where the platform has no idempotency key.
    pub attempt: u32,
    /// When the reply was queued (unix ms), if known.
    pub queued_at: Option<i64>,
}

/// A delivered reply: the platform's id of the message, when it returns one (a platform that
/// pushes the shop's messages back echoes it under that id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    pub message_id: Option<String>,
}

impl Outbound {
    /// One client (keep-alive connections reused across sends) and `per_shop` sends in
    /// flight per shop.
    pub fn new(timeout: Duration, per_shop: usize) -> Outbound {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("anfu/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        Outbound {
            client,
            per_shop: per_shop.max(1),
            slots: Default::default(),
        }
    }

    /// Waits for one of `shop`'s send slots; the slot is free again when the permit drops.
    pub async fn send_slot(&self, shop: &str) -> tokio::sync::OwnedSemaphorePermit {
        let slots = {
            let mut all = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            all.entry(shop.to_string())
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(self.per_shop)))
                .clone()
        };
        slots
            .acquire_owned()
            .await
            .expect("a shop's send slots are never closed")
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Transport failures (refused, timeout, reset) are worth retrying. The reason leaves the
/// URL out: query strings carry signatures and tokens (Shopee's `sign`, `access_token`), and
/// reasons are logged and shown.
pub fn transport(e: reqwest::Error) -> SendError {
    SendError::Retryable {
        reason: format!("transport: {}", e.without_url()),
        retry_after: None,
    }
}

/// What an outbound call got back: status, `Retry-After`, body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

impl Answer {
    pub fn reason(&self) -> String {
        format!(
            "HTTP {}: {}",
            self.status,
            self.body.chars().take(200).collect::<String>()
        )
    }

    /// The common HTTP-level verdict: `Ok` for 2xx (the caller may then read the body), else
    /// 401/403 → credentials, 408/429/5xx → retry, other → permanent.
    pub fn check_status(&self) -> Result<(), SendError> {
        match self.status {
            200..=299 => Ok(()),
            401 | 403 => Err(SendError::AuthExpired {
                reason: self.reason(),
            }),
            408 | 429 | 500..=599 => Err(SendError::Retryable {
                reason: self.reason(),
                retry_after: self.retry_after,
            }),
            _ => Err(SendError::Permanent {
                reason: self.reason(),
            }),
        }
    }
}

/// Sends a request and reads the whole answer; transport failures are retryable.
pub async fn send(request: reqwest::RequestBuilder) -> Result<Answer, SendError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status().as_u16();
    let retry_after = retry_after(&response);
    let body = response.text().await.map_err(transport)?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

/// A JSON POST signed with Standard Webhooks headers (`webhook-id` = `id`).
pub fn standard_webhooks_post(
    client: &reqwest::Client,
    url: &str,
    key: &[u8],
    id: &str,
    body: String,
) -> reqwest::RequestBuilder {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = standard_webhooks_sign(key, id, timestamp, body.as_bytes());
    client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", format!("v1,{signature}"))
        .body(body)
}

/// `Retry-After` in seconds (the HTTP-date form is rare on these APIs and treated as absent).
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

pub fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}
