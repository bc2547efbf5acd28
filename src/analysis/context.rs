//! Conversation context: the turns before the message being analysed.
//!
//! Buyers write follow-ups that mean nothing alone: "已经三天了" after asking where a parcel
//! is, "那我退了吧" after a refusal. The analyzer reads the earlier turns with the same rules
//! (dictionary hits after negation, the rules' decision) and gives them to the model as
//! features prefixed `xb:` (buyer turns) and `xs:` (shop turns), repeated under `xf…:` when the
//! message is short enough to be a follow-up, so the model can learn what a follow-up
//! inherits; and each turn's words, `xbw:` and `xsw:`, which tell the intent and issue heads
//! what the conversation is about (see `model::train::blocked`).

use serde::{Deserialize, Serialize};

/// At most this many earlier turns are read (the newest ones).
pub const MAX_TURNS: usize = 6;
/// Each earlier turn is read up to this many characters (its newest ones).
pub const MAX_TURN_CHARS: usize = 400;
/// A message of at most this many characters is read as a possible follow-up.
pub const FOLLOW_UP_CHARS: usize = 16;

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Buyer,
    Shop,
}

/// One earlier turn of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub from: Speaker,
    pub text: String,
}

impl Turn {
    pub fn buyer(text: impl Into<String>) -> Turn {
        Turn {
            from: Speaker::Buyer,
            text: text.into(),
        }
    }

    pub fn shop(text: impl Into<String>) -> Turn {
        Turn {
            from: Speaker::Shop,
            text: text.into(),
        }
    }
}

/// The newest `MAX_TURNS` turns, each cut to its newest `MAX_TURN_CHARS` characters.
pub fn recent(context: &[Turn]) -> impl Iterator<Item = (Speaker, &str)> {
    let skip = context.len().saturating_sub(MAX_TURNS);
    context[skip..].iter().map(|t| {
        let len = t.text.chars().count();
        let start = t
            .text
            .char_indices()
            .nth(len.saturating_sub(MAX_TURN_CHARS))
            .map_or(0, |(i, _)| i);
        (t.from, &t.text[start..])
    })
}
