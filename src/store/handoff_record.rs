//! A handoff ticket as the agent API, the console and the sinks read it.

use super::AgentLine;
use crate::domain::{HandoffCard, Priority};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
pub struct Handoff {
    pub id: i64,
    pub status: String,
    pub priority: Priority,
    pub claimed_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Delivery of the auto-reply: pending, running, done or dead (None: no reply).
    pub reply_status: Option<String>,
    /// Passed its SLA due time while open or claimed.
    pub sla_breached: bool,
    /// Close to its SLA due time (`sla.warn_before`) and not breached yet.
    pub sla_warning: bool,
    /// When an agent first answered the buyer from anfu (the SLA's first-response mark).
    pub first_response_at: Option<String>,
    /// When it was last resolved (None while unresolved).
    pub resolved_at: Option<String>,
    /// How often the buyer complained again after it was resolved (each time it reopened).
    pub repeat_count: u32,
    /// An unclaimed P1 announced to the escalation sinks (once per opening).
    pub escalated: bool,
    /// The follow-up (回访) after it was resolved.
    pub followup: Followup,
    pub card: HandoffCard,
    pub notes: Vec<Note>,
    /// What agents wrote to the buyer, with each line's delivery: in a single ticket's read
    /// (`handoff`), left out of lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<Vec<AgentLine>>,
}

/// The follow-up (回访) of a resolved ticket: asked once after `followup_after`, the buyer's
/// answer read by the analyzer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Followup {
    /// When it is to be sent (None: not scheduled, or sent).
    pub due_at: Option<String>,
    pub sent_at: Option<String>,
    pub answer: Option<FollowupAnswer>,
    /// Only a satisfied buyer is ever invited to review, and only where the shop allows it.
    pub review_invited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowupAnswer {
    Satisfied,
    Unhappy,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub author: String,
    pub text: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HandoffFilter {
    pub status: Option<String>,
    pub priority: Option<Priority>,
}
