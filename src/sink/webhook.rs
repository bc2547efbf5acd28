//! Any endpoint: the ticket as JSON with Standard Webhooks headers.

use super::card::generic_event;
use super::{require, send, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::{standard_webhooks_post, SendError};
use crate::signing::decode_whsec;

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
    let request = standard_webhooks_post(client, &sink.url, &key, &event.idempotency_key, body);
    let answer = send(request).await?;
    answer.check_status()
}
