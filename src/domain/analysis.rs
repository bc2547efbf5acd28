//! The analyzer's output record: the same JSON shape in the CLI, over HTTP and in tickets.

use super::labels::{Demand, Intent, IssueType, Lang, Mood, Priority, Threat};
use serde::{Deserialize, Serialize};

/// What one buyer message (or burst) says, with the words that decided each label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub intent: Intent,
    /// Set only when `intent` is a complaint.
    pub issue_type: Option<IssueType>,
    /// Most prominent first.
    pub demands: Vec<Demand>,
    pub mood: Mood,
    /// 0 when calm, else 1 (mild) ..= 3 (extreme).
    pub intensity: u8,
    pub threats: Vec<Threat>,
    /// Exactly as written in the text.
    pub order_id: Option<String>,
    pub lang: Lang,
    pub priority: Priority,
    pub evidence: Vec<Evidence>,
}

/// A span of the original text that supports a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `category:value`, e.g. `issue_type:quality`, `threat:bad_review`, `rule:negation`.
    pub label: String,
    /// The original characters of the span (not the normalised form).
    pub text: String,
    /// Character offsets into the original text, end exclusive.
    pub start: usize,
    pub end: usize,
}
