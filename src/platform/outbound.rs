//! Replies leave through each platform's send API. Each call classifies its failure so the
//! worker knows whether to retry (and when) or to give up.

use super::signing::{decode_whsec, standard_webhooks_sign};
use super::{rakuten, taobao};
use crate::config::{PlatformKind, ShopConfig};
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
}

/// One reply to deliver.
pub struct Reply<'a> {
    pub conversation_id: &'a str,
    pub to_buyer: Option<&'a str>,
    pub text: &'a str,
    pub idempotency_key: &'a str,
}

impl Outbound {
    pub fn new(timeout: Duration) -> Outbound {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("anfu/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("TLS backend initialises");
        Outbound { client }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn send_reply(&self, shop: &ShopConfig, reply: &Reply<'_>) -> Result<(), SendError> {
        match shop.platform {
            PlatformKind::Taobao => self.taobao(shop, reply).await,
            PlatformKind::Rakuten => self.rakuten(shop, reply).await,
            PlatformKind::Generic => self.generic(shop, reply).await,
        }
    }

    async fn taobao(&self, shop: &ShopConfig, r: &Reply<'_>) -> Result<(), SendError> {
        let params = taobao::send_params(
            shop,
            r.conversation_id,
            r.to_buyer.unwrap_or_default(),
            r.text,
            r.idempotency_key,
        );
        let url = format!("{}/router/rest", shop.api_base.trim_end_matches('/'));
        let Answer {
            status,
            retry_after,
            body,
        } = send(self.client.post(url).form(&params)).await?;
        if status >= 500 || status == 429 {
            return Err(SendError::Retryable {
                reason: format!("HTTP {status}: {}", snippet(&body)),
                retry_after,
            });
        }
        let json: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| SendError::Retryable {
                reason: format!("HTTP {status}: unreadable answer {}", snippet(&body)),
                retry_after,
            })?;
        if json.get("im_message_send_response").is_some() {
            return Ok(());
        }
        let Some(error) = json.get("error_response") else {
            return Err(SendError::Permanent {
                reason: format!("HTTP {status}: unexpected answer {}", snippet(&body)),
            });
        };
        let code = error.get("code").and_then(|c| c.as_i64()).unwrap_or(0);
        let sub_code = error
            .get("sub_code")
            .and_then(|c| c.as_str())
            .unwrap_or_default();
        let reason = format!(
            "code {code} {} ({sub_code}) {}",
            error
                .get("msg")
                .and_then(|c| c.as_str())
                .unwrap_or_default(),
            error
                .get("sub_msg")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
        );
        // Code 7 (call limit) and isp.* (platform side) pass; isv.* are our caller errors.
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

    async fn rakuten(&self, shop: &ShopConfig, r: &Reply<'_>) -> Result<(), SendError> {
        let url = format!(
            "{}/es/1.0/inquirymng-api/inquiry/reply",
            shop.api_base.trim_end_matches('/')
        );
        let body = serde_json::json!({
            "inquiryNumber": r.conversation_id,
            "shopId": rakuten::shop_id_of(r.conversation_id),
            "message": rakuten::fit_reply(r.text),
        });
        let answer = send(
            self.client
                .post(url)
                .header("Authorization", rakuten::authorization(shop))
                .header("Content-Type", "application/json; charset=utf-8")
                .body(body.to_string()),
        )
        .await?;
        let reason = answer.reason();
        // Rakuten's own verdicts differ from the common ones: 409 is "already posted" (what
        // we wanted), 403 is final, and 401 means the 90-day licenseKey ran out.
        match answer.status {
            200..=299 | 409 => Ok(()),
            401 => Err(SendError::AuthExpired {
                reason: format!("{reason} (licenseKey expired? Rakuten keys last 90 days)"),
            }),
            429 | 500..=599 => Err(SendError::Retryable {
                reason,
                retry_after: answer.retry_after,
            }),
            _ => Err(SendError::Permanent { reason }),
        }
    }

    async fn generic(&self, shop: &ShopConfig, r: &Reply<'_>) -> Result<(), SendError> {
        let url = format!("{}/messages", shop.api_base.trim_end_matches('/'));
        let body = serde_json::json!({
            "conversation_id": r.conversation_id,
            "text": r.text,
            "idempotency_key": r.idempotency_key,
        })
        .to_string();
        let key = decode_whsec(shop.secret.as_deref().unwrap_or_default()).unwrap_or_default();
        let request = standard_webhooks_post(&self.client, &url, &key, r.idempotency_key, body);
        send(request).await?.check_status()
    }
}

/// Transport failures (refused, timeout, reset) are worth retrying.
pub fn transport(e: reqwest::Error) -> SendError {
    SendError::Retryable {
        reason: format!("transport: {e}"),
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

fn snippet(body: &str) -> String {
    body.chars().take(200).collect()
}
