//! The step for a conversation nobody has taken over yet: answer the buyer (unless inside a
//! burst, a cooldown or the buyer's budget) and open a handoff ticket for a complaint.

use super::budget::within_buyer_budget;
use super::lines::joined;
use super::process::{rfc3339, routed};
use super::ticket_update::line;
use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::handoff::mood_rank;
use crate::domain::hours::handoff_eta;
use crate::domain::{Analysis, HandoffCard, Intent, Lang, MessageKind};
use crate::reply::Slots;
use crate::store::{
    ConversationState, HandoffChange, Job, Millis, ProcessOutcome, ReplyPayload, StoredMessage,
};

/// A conversation nobody has taken over yet: maybe answer, and open a ticket for a complaint.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide(
    state: &AppState,
    shop: &ShopConfig,
    job: &Job,
    conversation: ConversationState,
    burst: &[StoredMessage],
    analysis: Analysis,
    processed: Vec<i64>,
    now: Millis,
) -> ProcessOutcome {
    let rules = &state.config.conversation;
    let text = joined(burst);
    state.metrics.count_analysis(&analysis);
    let since_reply = conversation.last_reply_at.map(|t| now - t);
    let in_burst = since_reply.is_some_and(|d| d < rules.burst_window.0.as_millis() as i64);
    let in_cooldown = since_reply.is_some_and(|d| d < rules.cooldown.0.as_millis() as i64);
    let rank = mood_rank(analysis.mood);
    let escalated = rank > conversation.last_mood_rank
        || (rank > 0
            && rank == conversation.last_mood_rank
            && analysis.intensity > conversation.last_intensity);
    // The buyer's newest line (a seller line in the burst is not who is answered).
    let last = &burst
        .iter()
        .rev()
        .find(|m| m.message.kind != MessageKind::Seller)
        .unwrap_or(&burst[burst.len() - 1])
        .message;
    let may_reply =
        !in_burst && (!in_cooldown || escalated) && within_buyer_budget(state, job, last);
    let order_id = analysis
        .order_id
        .clone()
        .or_else(|| burst.iter().rev().find_map(|m| m.message.order_id.clone()));
    let lang = reply_lang(&analysis, shop, &text);
    let sla = state.config.sla.for_priority(analysis.priority).0;
    let sla_due_at = shop.sla_due(now, sla);
    let eta = handoff_eta(
        now,
        sla_due_at,
        sla.as_millis() as i64,
        shop.utc_offset,
        lang == Lang::Hant,
    );
    let reply_text = if may_reply {
        let slots = Slots {
            buyer: last.buyer_nick.as_deref(),
            order_id: order_id.as_deref(),
            shop: shop.display_name(),
            handoff_eta: &eta,
            ..Slots::default()
        };
        state
            .replies
            .get()
            .reply(&analysis, lang, &slots, &job.conversation_id)
    } else {
        None
    };
    let mut next = conversation.clone();
    if reply_text.is_some() {
        next.last_reply_at = Some(now);
        next.last_mood_rank = rank;
        next.last_intensity = analysis.intensity;
    }
    let answered = burst
        .iter()
        .rev()
        .find(|m| processed.contains(&m.id) && m.message.kind.is_analysed())
        .unwrap_or(&burst[burst.len() - 1]);
    let reply = reply_text.as_ref().map(|text| ReplyPayload {
        to_buyer: last.buyer_nick.clone(),
        buyer_id: last.buyer_id.clone(),
        queued_at: Some(now),
        received_at: Some(answered.received_at),
        text: text.clone(),
        idempotency_key: format!("anfu-{}-{}", job.shop, answered.message.message_key),
        handoff_id: None,
    });
    let mut notify = Vec::new();
    let handoff = if analysis.intent == Intent::Complaint {
        let card = HandoffCard {
            shop: shop.id.clone(),
            shop_name: shop.name.clone(),
            platform: shop.platform().as_str().to_string(),
            conversation_id: job.conversation_id.clone(),
            buyer_id: last.buyer_id.clone(),
            buyer_nick: last.buyer_nick.clone(),
            order_id,
            issue_type: analysis.issue_type,
            demands: analysis.demands.clone(),
            mood: analysis.mood,
            intensity: analysis.intensity,
            threats: analysis.threats.clone(),
            priority: analysis.priority,
            lang: analysis.lang,
            sla_due: rfc3339(sla_due_at),
            next_steps: state.replies.get().next_steps(&analysis),
            transcript: burst.iter().map(line).collect(),
            evidence: analysis.evidence.clone(),
            auto_reply: reply_text,
        };
        notify = routed(state, &card);
        HandoffChange::Open {
            card: Box::new(card),
            sla_due_at,
        }
    } else {
        HandoffChange::None
    };
    ProcessOutcome {
        job: job.lease(),
        shop: job.shop.clone(),
        conversation_id: job.conversation_id.clone(),
        processed,
        state: next,
        reply,
        handoff,
        notify,
        more: false,
    }
}

/// Answer in the buyer's script. A short text ("在吗", "ok") shows none, so the shop's
/// configured language decides there.
fn reply_lang(analysis: &Analysis, shop: &ShopConfig, text: &str) -> Lang {
    const TOO_SHORT_TO_TELL: usize = 8;
    let cjk = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    if analysis.lang == Lang::Hans && cjk < TOO_SHORT_TO_TELL {
        shop.lang
    } else {
        analysis.lang
    }
}
