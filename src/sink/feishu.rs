//! Feishu / Lark custom bot: an interactive card, signed in the body.

use super::card::{feishu_card, view};
use super::{check_code, post_json, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::SendError;
use crate::signing::hmac_sha256;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::json;

/// 11232: frequency limited; 9499: too many requests.
const RETRY: &[i64] = &[11232, 9499];
/// 19021: signature mismatch or stale timestamp; 19001: invalid webhook.
const AUTH: &[i64] = &[19021, 19001];

/// base64(HMAC-SHA256(key = "{timestamp}\n{secret}", message = empty)).
pub fn sign(secret: &str, timestamp_s: i64) -> String {
    B64.encode(hmac_sha256(
        format!("{timestamp_s}\n{secret}").as_bytes(),
        b"",
    ))
}

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    let card = feishu_card(&view(event), event.card.priority);
    post(
        client,
        sink,
        json!({"msg_type": "interactive", "card": card}),
    )
    .await
}

/// Posts one message (`msg_type` and its content), signed when the bot has a secret.
pub async fn post(
    client: &reqwest::Client,
    sink: &SinkConfig,
    mut body: serde_json::Value,
) -> Result<(), SendError> {
    if let Some(secret) = sink.secret.as_deref().filter(|s| !s.is_empty()) {
        let ts = chrono::Utc::now().timestamp();
        body["timestamp"] = json!(ts.to_string());
        body["sign"] = json!(sign(secret, ts));
    }
    let answer = post_json(client, &sink.url, &body).await?;
    check_code(&answer, "code", RETRY, AUTH)
}
