//! The handoff card: everything an agent needs to take over a conversation.

use super::labels::{Demand, IssueType, Lang, Mood, Priority, Threat};
use super::{Evidence, MessageKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffCard {
    /// The shop's config id (routing, filters).
    pub shop: String,
    /// The shop's `name` as buyers read it, when it has one (cards before names lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_name: Option<String>,
    pub platform: String,
    pub conversation_id: String,
    pub buyer_id: Option<String>,
    pub buyer_nick: Option<String>,
    /// From the text, else from the platform's order field.
    pub order_id: Option<String>,
    pub issue_type: Option<IssueType>,
    pub demands: Vec<Demand>,
    pub mood: Mood,
    pub intensity: u8,
    pub threats: Vec<Threat>,
    pub priority: Priority,
    pub lang: Lang,
    /// RFC 3339, when an agent must have answered.
    pub sla_due: String,
    pub next_steps: Vec<String>,
    pub transcript: Vec<TranscriptLine>,
    pub evidence: Vec<Evidence>,
    /// The auto-reply sent before the handoff (None when the bot stayed quiet).
    pub auto_reply: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub message_key: String,
    pub text: String,
    pub sent_at: Option<String>,
    /// The buyer's text, a placeholder, or the shop's own line (cards before seller lines
    /// hold buyer text only).
    #[serde(default)]
    pub kind: MessageKind,
}

impl TranscriptLine {
    /// The line as a person reads it on a card: the shop's lines marked as such.
    pub fn shown(&self) -> String {
        match self.kind {
            MessageKind::Seller => format!("【商家】{}", self.text),
            _ => self.text.clone(),
        }
    }
}

impl HandoffCard {
    /// The shop as people read it: its name, else its id.
    pub fn shop_label(&self) -> &str {
        self.shop_name.as_deref().unwrap_or(&self.shop)
    }
}

/// Orders moods by how upset they are; escalation compares ranks.
pub fn mood_rank(mood: Mood) -> u8 {
    match mood {
        Mood::Calm => 0,
        Mood::Anxious => 1,
        Mood::Disappointed => 2,
        Mood::Angry => 3,
    }
}

/// P1 is the most urgent.
pub fn more_urgent(a: Priority, b: Priority) -> Priority {
    if priority_rank(a) >= priority_rank(b) {
        a
    } else {
        b
    }
}

/// One step more urgent (a repeat complaint); P1 stays P1.
pub fn raised(p: Priority) -> Priority {
    match p {
        Priority::P3 => Priority::P2,
        Priority::P2 | Priority::P1 => Priority::P1,
    }
}

fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::P1 => 3,
        Priority::P2 => 2,
        Priority::P3 => 1,
    }
}
