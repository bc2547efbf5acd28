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
    let answer = post_json(client, &sink.url, &slack_message(&view(event))).await?;
    answer.check_status()?;
    if answer.body.trim() == "ok" {
        Ok(())
    } else {
        Err(SendError::Permanent {
            reason: answer.reason(),
        })
    }
}
