//! A conversation already handed off: the bot stays quiet, the buyer's new messages join the
//! ticket's transcript, and the ticket's labels are re-read from the whole transcript, its
//! priority only rising.

use super::lines::MAX_TRANSCRIPT_LINES;
use super::process::rfc3339;
use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::handoff::{mood_rank, more_urgent};
use crate::domain::{Analysis, HandoffCard, TranscriptLine};
use crate::store::{Millis, StoredMessage};

/// A conversation already handed off: the messages join the ticket's transcript. Returns the
/// transcript's text, which is analysed again.
pub(super) fn append_lines(card: &mut HandoffCard, fresh: &[StoredMessage]) -> String {
    card.transcript.extend(fresh.iter().map(line));
    // The newest lines are what an agent reads; all messages stay in the store. Keeps each
    // re-analysis and each card bounded however long the buyer goes on.
    let excess = card.transcript.len().saturating_sub(MAX_TRANSCRIPT_LINES);
    card.transcript.drain(..excess);
    card.transcript
        .iter()
        .filter(|l| l.kind.is_analysed())
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bot stays quiet on a handed-off conversation; the ticket's labels are re-read from
/// the whole transcript (`a`) and its priority only rises.
pub(super) fn merge(
    state: &AppState,
    shop: &ShopConfig,
    mut card: HandoffCard,
    a: Analysis,
    fresh: &[StoredMessage],
    now: Millis,
) -> (HandoffCard, Millis) {
    if a.issue_type.is_some() {
        card.issue_type = a.issue_type;
    }
    for d in a.demands {
        if !card.demands.contains(&d) {
            card.demands.push(d);
        }
    }
    for t in a.threats {
        if !card.threats.contains(&t) {
            card.threats.push(t);
        }
    }
    if mood_rank(a.mood) > mood_rank(card.mood) {
        card.mood = a.mood;
    }
    card.intensity = card.intensity.max(a.intensity);
    card.order_id = card
        .order_id
        .or(a.order_id)
        .or_else(|| fresh.iter().find_map(|m| m.message.order_id.clone()));
    card.evidence = a.evidence;
    let before = card.priority;
    card.priority = more_urgent(card.priority, a.priority);
    let due_before = chrono::DateTime::parse_from_rfc3339(&card.sla_due)
        .map(|t| t.timestamp_millis())
        .unwrap_or(now);
    let mut due = due_before;
    if card.priority != before {
        let sla = state.config.sla.for_priority(card.priority).0;
        due = due_before.min(shop.sla_due(now, sla));
        tracing::info!(shop = %shop.id, conversation = %card.conversation_id, from = %before, to = %card.priority, "handoff priority raised");
    }
    card.sla_due = rfc3339(due);
    (card, due)
}

pub(super) fn line(m: &StoredMessage) -> TranscriptLine {
    TranscriptLine {
        message_key: m.message.message_key.clone(),
        text: m.message.text.clone(),
        sent_at: m.message.sent_at.clone(),
        kind: m.message.kind,
    }
}
