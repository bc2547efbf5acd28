//! The column of a complaint table: the buyer's mood, the careful angry-with-a-threat cell,
//! or the issue's `default`.

use crate::domain::{Analysis, Mood};

/// Which cell of an issue's table fits the buyer's tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tone {
    /// The fallback when its table has no cell for the mood.
    Default,
    Mood(Mood),
    /// Angry and threatening escalation: the most careful, de-escalating wording.
    AngryThreat,
}

impl Tone {
    /// The cell keys as written in `replies/*.toml`.
    pub const KEYS: &'static [&'static str] = &[
        "default",
        "calm",
        "anxious",
        "disappointed",
        "angry",
        "angry_threat",
    ];

    pub fn parse(key: &str) -> Option<Tone> {
        match key {
            "default" => Some(Tone::Default),
            "angry_threat" => Some(Tone::AngryThreat),
            other => other.parse().ok().map(Tone::Mood),
        }
    }

    pub fn of(analysis: &Analysis) -> Tone {
        if analysis.mood == Mood::Angry && !analysis.threats.is_empty() {
            Tone::AngryThreat
        } else {
            Tone::Mood(analysis.mood)
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Tone::Default => "default",
            Tone::Mood(m) => m.as_str(),
            Tone::AngryThreat => "angry_threat",
        }
    }
}
