//! WeCom group robot: markdown of at most 4096 bytes.

use super::card::{markdown_within, view, WECOM_MAX_BYTES};
use super::{check_code, post_json, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::SendError;
use serde_json::json;

/// 45009: over the rate limit; -1: system busy.
const RETRY: &[i64] = &[45009, -1];
/// 93000: invalid webhook URL (robot removed).
const AUTH: &[i64] = &[93000];

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    post(
        client,
        sink,
        &markdown_within(&view(event), WECOM_MAX_BYTES),
    )
    .await
}

/// Posts one markdown message.
pub async fn post(
    client: &reqwest::Client,
    sink: &SinkConfig,
    content: &str,
) -> Result<(), SendError> {
    let body = json!({"msgtype": "markdown", "markdown": {"content": content}});
    let answer = post_json(client, &sink.url, &body).await?;
    check_code(&answer, "errcode", RETRY, AUTH)
}
