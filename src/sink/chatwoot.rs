//! Chatwoot: the card as a private note on the buyer's conversation, then its attributes,
//! priority and status `open` (handed to the agents). Only for conversations that live in
//! Chatwoot (`card.platform == "chatwoot"`, the card's `conversation_id`); [`super::routes`]
//! keeps other cards away and this refuses them permanently.
//!
//! Config: `url` = the Chatwoot base URL, `token` = an agent's or bot's `api_access_token`,
//! `account_id`.

use super::card::{chatwoot_attributes, chatwoot_note, chatwoot_priority, view};
use super::{require, send, HandoffEvent};
use crate::config::SinkConfig;
use crate::platform::outbound::SendError;
use serde_json::{json, Value};

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    let token = require(&sink.token, "token")?;
    let account = require(&sink.account_id, "account_id")?;
    if event.card.platform != "chatwoot" {
        return Err(SendError::Permanent {
            reason: format!(
                "chatwoot sink takes only chatwoot conversations, not {}",
                event.card.platform
            ),
        });
    }
    let conversation = format!(
        "{}/api/v1/accounts/{account}/conversations/{}",
        sink.url.trim_end_matches('/'),
        event.card.conversation_id
    );
    let post = |path: &str, body: Value| {
        send(
            client
                .post(format!("{conversation}/{path}"))
                .header("api_access_token", token)
                .header("content-type", "application/json; charset=utf-8")
                .body(body.to_string()),
        )
    };
    let note = chatwoot_note(&view(event));
    post(
        "messages",
        json!({"content": note, "message_type": "outgoing", "private": true}),
    )
    .await?
    .check_status()?;
    post(
        "custom_attributes",
        json!({"custom_attributes": chatwoot_attributes(event)}),
    )
    .await?
    .check_status()?;
    post(
        "toggle_priority",
        json!({"priority": chatwoot_priority(event.card.priority)}),
    )
    .await?
    .check_status()?;
    post("toggle_status", json!({"status": "open"}))
        .await?
        .check_status()
}
