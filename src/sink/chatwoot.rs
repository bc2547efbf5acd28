//! Chatwoot: the card as a private note on a Chatwoot conversation, then its attributes,
//! priority and status `open` (handed to the agents).
//!
//! Which conversation: a card of a conversation that lives in Chatwoot (`card.platform ==
//! "chatwoot"`) goes onto that very conversation. Cards from the marketplaces get a
//! conversation of their own in the sink's `inbox_id` (an API-channel inbox): the buyer
//! becomes a contact, identified as `anfu:{shop}:{buyer}` so a returning buyer is one
//! contact, and [`open_conversation`] returns the new conversation's id, which the caller
//! stores so the ticket's later events (updates, SLA warnings) land on the same conversation.
//!
//! Config: `url` = the Chatwoot base URL, `token` = an agent's or bot's `api_access_token`,
//! `account_id`, and `inbox_id` for marketplace cards.

use super::card::{chatwoot_attributes, chatwoot_note, chatwoot_priority, view};
use super::{require, send, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::{Answer, SendError};
use serde_json::{json, Value};

/// Whether this sink can carry the card: native Chatwoot conversations always, marketplace
/// ones when an inbox is configured to open conversations in.
pub fn takes(sink: &SinkConfig, platform: &str) -> bool {
    platform == "chatwoot" || sink.inbox_id.is_some()
}

/// Whether the card needs a Chatwoot conversation opened before it can be delivered.
pub fn needs_conversation(event: &HandoffEvent) -> bool {
    event.card.platform != "chatwoot" && event.external_ref.is_none()
}

struct Api<'a> {
    client: &'a reqwest::Client,
    account: String,
    token: &'a str,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.account)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Answer, SendError> {
        let answer = send(
            self.client
                .post(self.url(path))
                .header("api_access_token", self.token)
                .header("content-type", "application/json; charset=utf-8")
                .body(body.to_string()),
        )
        .await?;
        answer.check_status()?;
        Ok(answer)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer, SendError> {
        let answer = send(
            self.client
                .get(self.url(path))
                .query(query)
                .header("api_access_token", self.token),
        )
        .await?;
        answer.check_status()?;
        Ok(answer)
    }
}

fn api<'a>(client: &'a reqwest::Client, sink: &'a SinkConfig) -> Result<Api<'a>, SendError> {
    let token = require(&sink.token, "token")?;
    let account = require(&sink.account_id, "account_id")?;
    Ok(Api {
        client,
        account: format!(
            "{}/api/v1/accounts/{account}",
            sink.url.trim_end_matches('/')
        ),
        token,
    })
}

/// Lists the account's inboxes (a read): whether the token opens the account, and whether
/// the configured `inbox_id` is one of them.
pub async fn probe(client: &reqwest::Client, sink: &SinkConfig) -> Result<String, SendError> {
    let answer = api(client, sink)?.get("inboxes", &[]).await?;
    let listed: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    let ids: Vec<String> = listed["payload"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|inbox| crate::platform::id_string(&inbox["id"]))
        .collect();
    match sink.inbox_id.as_deref() {
        Some(inbox) if !ids.iter().any(|id| id == inbox) => Err(SendError::Permanent {
            reason: format!(
                "the account has no inbox {inbox} (it has {})",
                ids.join(", ")
            ),
        }),
        Some(inbox) => Ok(format!(
            "the token opens the account; inbox {inbox} is there"
        )),
        None => Ok(format!(
            "the token opens the account ({} inboxes)",
            ids.len()
        )),
    }
}

fn parsed(answer: &Answer, what: &str) -> Result<Value, SendError> {
    serde_json::from_str(&answer.body).map_err(|e| SendError::Permanent {
        reason: format!("chatwoot {what}: not JSON ({e}): {}", answer.reason()),
    })
}

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// Opens a Chatwoot conversation for a marketplace card in the sink's inbox (finding or
/// creating the buyer's contact) and returns its id.
pub async fn open_conversation(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<String, SendError> {
    let api = api(client, sink)?;
    let inbox = require(&sink.inbox_id, "inbox_id")?;
    let inbox_number: Value = inbox
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(inbox));
    let card = &event.card;
    // Without a buyer id, the marketplace conversation stands for the buyer.
    let buyer = card
        .buyer_id
        .clone()
        .unwrap_or_else(|| format!("conversation-{}", card.conversation_id));
    let identifier = format!("anfu:{}:{buyer}", card.shop);
    // The contact's inbox address; chosen by us so it is the same on every retry.
    let source_id = identifier.clone();
    let name = card.buyer_nick.clone().unwrap_or_else(|| buyer.clone());

    let found = parsed(
        &api.get("contacts/search", &[("q", identifier.as_str())])
            .await?,
        "contact search",
    )?;
    let existing = found["payload"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["identifier"].as_str() == Some(identifier.as_str()));
    let contact_id = match existing {
        Some(contact) => {
            let id = id_of(&contact["id"]).ok_or_else(|| SendError::Permanent {
                reason: "chatwoot contact search: a contact without an id".into(),
            })?;
            let in_inbox = contact["contact_inboxes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|ci| ci["source_id"].as_str() == Some(source_id.as_str()));
            if !in_inbox {
                api.post(
                    &format!("contacts/{id}/contact_inboxes"),
                    json!({"inbox_id": inbox_number, "source_id": source_id}),
                )
                .await?;
            }
            id
        }
        None => {
            let created = parsed(
                &api.post(
                    "contacts",
                    json!({"inbox_id": inbox_number, "name": name, "identifier": identifier,
                           "source_id": source_id}),
                )
                .await?,
                "contact",
            )?;
            let contact = &created["payload"]["contact"];
            id_of(&contact["id"])
                .or_else(|| id_of(&created["payload"]["id"]))
                .or_else(|| id_of(&created["id"]))
                .ok_or_else(|| SendError::Permanent {
                    reason: format!(
                        "chatwoot contact: no id in the answer: {}",
                        created.to_string().chars().take(200).collect::<String>()
                    ),
                })?
        }
    };
    let contact_number: Value = contact_id
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(contact_id.clone()));
    let conversation = parsed(
        &api.post(
            "conversations",
            json!({"source_id": source_id, "inbox_id": inbox_number, "contact_id": contact_number,
                   "status": "open", "custom_attributes": chatwoot_attributes(event)}),
        )
        .await?,
        "conversation",
    )?;
    id_of(&conversation["id"]).ok_or_else(|| SendError::Permanent {
        reason: "chatwoot conversation: no id in the answer".into(),
    })
}

/// Posts the note, attributes, priority and status onto the card's Chatwoot conversation
/// (its own, or the one [`open_conversation`] opened: `event.external_ref`).
pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    let api = api(client, sink)?;
    let conversation = if event.card.platform == "chatwoot" {
        event.card.conversation_id.clone()
    } else {
        event
            .external_ref
            .clone()
            .ok_or_else(|| SendError::Permanent {
                reason: format!(
                    "chatwoot sink: a {} card needs inbox_id to open a Chatwoot conversation",
                    event.card.platform
                ),
            })?
    };
    let on = |path: &str| format!("conversations/{conversation}/{path}");
    let note = chatwoot_note(&view(event));
    api.post(
        &on("messages"),
        json!({"content": note, "message_type": "outgoing", "private": true}),
    )
    .await?;
    api.post(
        &on("custom_attributes"),
        json!({"custom_attributes": chatwoot_attributes(event)}),
    )
    .await?;
    api.post(
        &on("toggle_priority"),
        json!({"priority": chatwoot_priority(event.card.priority)}),
    )
    .await?;
    api.post(&on("toggle_status"), json!({"status": "open"}))
        .await?;
    Ok(())
}
