//! Slack incoming webhook: blocks plus fallback text; success is HTTP 200 `ok`.

use super::card::{slack_message, view};
use super::{post_json, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::SendError;

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    post(client, sink, &slack_message(&view(event))).await
}

/// Posts one message; Slack answers `ok`.
pub async fn post(
    client: &reqwest::Client,
    sink: &SinkConfig,
    message: &serde_json::Value,
) -> Result<(), SendError> {
    let answer = post_json(client, &sink.url, message).await?;
    answer.check_status()?;
    if answer.body.trim() == "ok" {
        Ok(())
    } else {
        Err(SendError::Permanent {
            reason: answer.reason(),
        })
    }
}
