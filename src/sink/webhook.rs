//! Any endpoint: the ticket as JSON with Standard Webhooks headers.

use super::card::generic_event;
use super::{require, send, HandoffEvent};
use crate::config::SinkConfig;
use crate::platform::outbound::SendError;
use crate::platform::signing::{decode_whsec, standard_webhooks_sign};

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    let key =
        decode_whsec(require(&sink.secret, "secret")?).ok_or_else(|| SendError::Permanent {
            reason: "sink config: `secret` must be whsec_ followed by base64".into(),
        })?;
    let body = generic_event(event).to_string();
    let id = &event.idempotency_key;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = standard_webhooks_sign(&key, id, timestamp, body.as_bytes());
    let answer = send(
        client
            .post(&sink.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", format!("v1,{signature}"))
            .body(body),
    )
    .await?;
    answer.check_status()
}
