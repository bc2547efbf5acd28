//! The escalation ladder and the follow-up (回访), the guides' grading and closed loop:
//! - an unclaimed P1 is announced once to the supervisors' sinks after `sla.escalate_after`;
//! - a buyer who complains again within `sla.reopen_within` of the resolution reopens the
//!   ticket, marked repeat and one priority higher;
//! - a shop with `followup_after` asks once, in business hours, whether the problem is
//!   solved; an unhappy answer reopens the ticket, a satisfied one marks it satisfied and,
//!   only where the shop allows it, thanks the buyer and invites a review.
//!
//! The store decides each step once (guarded writes), so several instances may run these.

use crate::app::AppState;
use crate::domain::handoff::{more_urgent, raised};
use crate::domain::{Analysis, HandoffCard, Intent};
use crate::reply::{FollowupAnswer, Slots};
use crate::store::{now_ms, Handoff, Job, Millis, ReplyPayload, StoreError, StoredMessage};

/// A follow-up that may not go out now (shop closed, buyer's hourly budget used up) waits
/// at least this long before it is looked at again.
const FOLLOWUP_RETRY_MS: Millis = 3_600_000;

/// One escalation pass: how many tickets were escalated.
pub async fn escalate_once(state: &AppState) -> Result<usize, StoreError> {
    let after = state.config.sla.escalate_after.0.as_millis() as i64;
    let mut escalated = 0;
    for handoff in state.store.unclaimed_p1(now_ms() - after).await? {
        let sinks = crate::sink::escalation_sinks(&state.config.sinks, &handoff.card);
        if state.store.escalate(handoff.id, &sinks).await? {
            escalated += 1;
            state.metrics.inc("anfu_escalations_total", &[]);
            state.announce("escalated", Some(handoff.id));
            tracing::warn!(handoff = handoff.id, shop = %handoff.card.shop, "P1 unclaimed: escalated");
        }
    }
    Ok(escalated)
}

/// One follow-up pass: how many questions were queued.
pub async fn follow_up_once(state: &AppState) -> Result<usize, StoreError> {
    let now = now_ms();
    let mut asked = 0;
    for handoff in state.store.followups_due(now).await? {
        let card = &handoff.card;
        let Some(shop) = state.shop(&card.shop) else {
            continue;
        };
        // Business hours: a question at 3 a.m. is not soothing.
        let open_at = shop.sla_due(now, std::time::Duration::ZERO);
        if open_at > now {
            state.store.schedule_followup(handoff.id, open_at).await?;
            continue;
        }
        let buyer = card.buyer_id.as_deref();
        if !super::budget::buyer_budget_allows(state, &card.shop, buyer, &card.conversation_id) {
            state
                .store
                .schedule_followup(handoff.id, now + FOLLOWUP_RETRY_MS)
                .await?;
            continue;
        }
        let slots = slots(card, shop.display_name());
        let seed = format!("{}-followup", card.conversation_id);
        let Some(text) = state
            .replies
            .get()
            .followup_question(card.lang, &slots, &seed)
        else {
            continue;
        };
        if state
            .store
            .ask_followup(
                handoff.id,
                &ReplyPayload::to_ticket(&handoff, "anfu-followup", text),
            )
            .await?
        {
            asked += 1;
            state
                .metrics
                .inc("anfu_followups_total", &[("step", "asked")]);
            state.announce("followup", Some(handoff.id));
        }
    }
    if asked > 0 {
        state.wake.notify_waiters();
    }
    Ok(asked)
}

fn slots<'a>(card: &'a HandoffCard, shop: &'a str) -> Slots<'a> {
    Slots {
        buyer: card.buyer_nick.as_deref(),
        order_id: card.order_id.as_deref(),
        shop,
        ..Slots::default()
    }
}

/// What a message did to its conversation's resolved ticket.
pub(super) enum Resolved {
    /// Reopened: its id, its card (priority raised) and due time.
    Reopened(i64, Box<HandoffCard>, Millis),
    /// A satisfied answer to the follow-up: recorded, and answered by the follow-up's own
    /// thanks (if any) rather than the bot's reply.
    Answered,
}

/// A conversation without an open ticket: does the message reopen its newest, resolved one,
/// or answer its follow-up?
pub(super) async fn after_resolution(
    state: &AppState,
    job: &Job,
    analysis: &Analysis,
    burst: &[StoredMessage],
    now: Millis,
) -> Result<Option<Resolved>, StoreError> {
    let latest = state
        .store
        .latest_handoff(&job.shop, &job.conversation_id)
        .await?;
    let Some(latest) = latest.filter(|h| h.status == "resolved") else {
        return Ok(None);
    };
    // An answer to the follow-up is read on its own: with the conversation as context, "好了，
    // 解决了" would inherit the complaint it answers.
    let text = super::lines::joined(burst);
    let awaiting_answer = latest.followup.sent_at.is_some() && latest.followup.answer.is_none();
    let alone;
    let analysis = if awaiting_answer {
        alone = super::process::analyze(state, text.clone(), Vec::new()).await;
        &alone
    } else {
        analysis
    };
    match judge(state, &latest, analysis, &text, now) {
        AfterResolution::Nothing => Ok(None),
        AfterResolution::Satisfied => {
            record_satisfied(state, &latest).await?;
            Ok(Some(Resolved::Answered))
        }
        AfterResolution::Reopen(card, due) => {
            let mut notify = super::process::routed(state, &card);
            for sink in crate::sink::escalation_sinks(&state.config.sinks, &card) {
                if !notify.contains(&sink) {
                    notify.push(sink);
                }
            }
            state
                .store
                .reopen_handoff(latest.id, &card, due, &notify)
                .await?;
            state.metrics.inc(
                "anfu_handoffs_reopened_total",
                &[("priority", card.priority.as_str())],
            );
            state.announce("reopened", Some(latest.id));
            tracing::info!(handoff = latest.id, shop = %job.shop, conversation = %job.conversation_id, priority = %card.priority, "buyer complained again: ticket reopened");
            Ok(Some(Resolved::Reopened(latest.id, card, due)))
        }
    }
}

/// What a buyer's new message means for their conversation's resolved ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterResolution {
    /// Reopen it with this card (priority raised) and due time.
    Reopen(Box<HandoffCard>, Millis),
    /// A satisfied answer to the follow-up.
    Satisfied,
    /// Read the message as any other.
    Nothing,
}

/// Decides, for a conversation without an open ticket, from its newest ticket (`latest`, if
/// resolved) and the analysis of the new messages.
pub fn judge(
    state: &AppState,
    latest: &Handoff,
    analysis: &Analysis,
    text: &str,
    now: Millis,
) -> AfterResolution {
    let followup = &latest.followup;
    let awaiting_answer = followup.sent_at.is_some() && followup.answer.is_none();
    let answer = if awaiting_answer {
        match state.replies.get().followup_answer(text) {
            // A complaint is an unhappy answer whatever words it uses.
            _ if analysis.intent == Intent::Complaint => FollowupAnswer::Unhappy,
            answer => answer,
        }
    } else {
        FollowupAnswer::Unclear
    };
    let window = state.config.sla.reopen_within.0.as_millis() as i64;
    let recent = latest
        .resolved_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| now - t.timestamp_millis() <= window);
    let complaint_again = analysis.intent == Intent::Complaint && recent;
    if answer == FollowupAnswer::Satisfied {
        return AfterResolution::Satisfied;
    }
    if answer != FollowupAnswer::Unhappy && !complaint_again {
        return AfterResolution::Nothing;
    }
    let Some(shop) = state.shop(&latest.card.shop) else {
        return AfterResolution::Nothing;
    };
    let mut card = latest.card.clone();
    card.priority = raised(more_urgent(card.priority, analysis.priority));
    let sla = state.config.sla.for_priority(card.priority).0;
    let due = shop.sla_due(now, sla);
    card.sla_due = super::process::rfc3339(due);
    AfterResolution::Reopen(Box::new(card), due)
}

/// Records a satisfied answer; the thanks and review invitation go out only where the shop
/// allows it. A buyer is never asked for a review otherwise.
pub async fn record_satisfied(state: &AppState, latest: &Handoff) -> Result<(), StoreError> {
    let card = &latest.card;
    let shop = state.shop(&card.shop);
    let invitation = shop.filter(|s| s.invite_review).and_then(|s| {
        let seed = format!("{}-invite", card.conversation_id);
        state
            .replies
            .get()
            .review_invitation(card.lang, &slots(card, s.display_name()), &seed)
            .map(|text| ReplyPayload::to_ticket(latest, "anfu-invite", text))
    });
    if state
        .store
        .followup_satisfied(latest.id, invitation.as_ref())
        .await?
    {
        let step = if invitation.is_some() {
            "invited"
        } else {
            "satisfied"
        };
        state.metrics.inc("anfu_followups_total", &[("step", step)]);
        state.announce("followup", Some(latest.id));
        if invitation.is_some() {
            state.wake.notify_waiters();
        }
    }
    Ok(())
}
