//! What the jobs carry: the reply to send and the notice to give a sink.

use super::{now_ms, Handoff, Millis};
use serde::{Deserialize, Serialize};

/// What a reply job sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    pub to_buyer: Option<String>,
    /// The buyer's platform id (Shopee's numeric `to_id`), when the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<String>,
    /// When the reply was queued: a send whose outcome is unknown is looked up in the
    /// conversation from then on (Shopee has no idempotency key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Millis>,
    pub text: String,
    /// Sent with every attempt so the platform delivers it once.
    pub idempotency_key: String,
    /// When the message answered was received (for the reply-lag metric).
    #[serde(default)]
    pub received_at: Option<Millis>,
    /// The ticket an agent's line answers (None: the bot's auto-reply), so its delivery is
    /// announced to the consoles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_id: Option<i64>,
}

impl ReplyPayload {
    /// A message to a ticket's buyer that no buyer message prompted (an agent's line, a
    /// follow-up): its idempotency key is fresh, `{what}-{ticket}-{random}`, and every retry
    /// keeps it (a ticket may be followed up again after it reopens).
    pub fn to_ticket(handoff: &Handoff, what: &str, text: String) -> ReplyPayload {
        ReplyPayload {
            to_buyer: handoff.card.buyer_nick.clone(),
            buyer_id: handoff.card.buyer_id.clone(),
            queued_at: Some(now_ms()),
            text,
            idempotency_key: format!("{what}-{}-{:016x}", handoff.id, fastrand::u64(..)),
            received_at: None,
            handoff_id: Some(handoff.id),
        }
    }
}

/// What a notify job tells a sink (the card is read from the ticket when it runs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPayload {
    /// The sink's `name`. Notices queued before sinks had names hold their position in
    /// `[[sinks]]`, read here as its digits (a name never is); starting renames them once
    /// (`Store::adopt_sink_names`).
    #[serde(deserialize_with = "name_or_position")]
    pub sink: String,
    pub handoff_id: i64,
    /// `created` or `updated`.
    pub event: String,
}

fn name_or_position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Sink {
        Name(String),
        Position(u64),
    }
    Ok(match Sink::deserialize(d)? {
        Sink::Name(name) => name,
        Sink::Position(p) => p.to_string(),
    })
}
