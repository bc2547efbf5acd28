//! Processing a conversation's new messages: analyse, decide whether to answer (burst,
//! cooldown, handoff silence), and open or update the handoff ticket — all written in one
//! transaction with the reply job, so a crash repeats the step rather than half of it.

use super::budget::within_buyer_budget;
use super::ladder::Resolved;
use super::lines::{
    context, echo_texts, joined, relabel_echoes, sent_since, CONTEXT_WINDOW_MS,
    MAX_TRANSCRIPT_LINES,
};
use super::ticket_update::{append_lines, line, merge};
use crate::analysis::Turn;
use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::handoff::mood_rank;
use crate::domain::hours::handoff_eta;
use crate::domain::{Analysis, HandoffCard, Intent, Lang, MessageKind};
use crate::reply::Slots;
use crate::store::{
    now_ms, ConversationState, HandoffChange, Job, JobKind, JobLease, Millis, ProcessOutcome,
    ReplyPayload, StoreError, StoredMessage,
};

/// How often a step whose view of the conversation went stale (a ticket opened by another
/// worker, or resolved by an agent meanwhile) is done again at once with a fresh read.
const STALE_RETRIES: usize = 2;

/// Messages one step takes at most, the oldest waiting: a flood into one conversation is
/// worked through in steps of bounded memory, each queueing the conversation again.
const MAX_STEP_MESSAGES: usize = 200;

pub async fn run(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let Some(shop) = state.shop(&job.shop) else {
        let why = format!("shop `{}` is no longer configured", job.shop);
        return super::bury(state, job, &why).await;
    };
    let mut stale = 0;
    let reply = loop {
        match commit_step(state, &shop, job).await {
            Err(StoreError::Conflict(why)) if stale < STALE_RETRIES => {
                stale += 1;
                tracing::info!(job = job.id, shop = %job.shop, conversation = %job.conversation_id, %why, "conversation changed under its processing: processing again");
            }
            Err(StoreError::LeaseLost(why)) => {
                tracing::warn!(job = job.id, shop = %job.shop, %why, "processing dropped: another worker has taken the job over");
                return Ok(());
            }
            done => break done?,
        }
    };
    // Deliver at once rather than queueing behind other work: the buyer is waiting.
    let Some((lease, reply)) = reply else {
        return Ok(());
    };
    let job = Job {
        id: lease.id,
        kind: JobKind::Reply,
        shop: job.shop.clone(),
        conversation_id: job.conversation_id.clone(),
        payload: serde_json::to_value(reply).expect("payload serialises"),
        status: "running".into(),
        attempts: 1,
        last_error: None,
        claim: lease.claim,
    };
    match super::deliver::run(state, &job).await {
        Ok(()) => Ok(()),
        // The store failed (most likely recording the send), not the job: put it back
        // without spending the attempt; a resend carries the same idempotency key.
        Err(e) if e.is_outage() => {
            state.store_failed(&e);
            tracing::warn!(job = job.id, error = %e, "store unavailable after the reply: put back");
            let run_at = now_ms() + super::OUTAGE_PAUSE_MS;
            state.store.defer_job(lease, run_at).await.map(drop)
        }
        Err(e) => super::fail(state, &job, &e.to_string(), None).await,
    }
}

/// Reads the conversation, decides, and commits it all: the reply to deliver now, if any.
async fn commit_step(
    state: &AppState,
    shop: &ShopConfig,
    job: &Job,
) -> Result<Option<(JobLease, ReplyPayload)>, StoreError> {
    let store = &state.store;
    let mut fresh = store
        .unprocessed(&job.shop, &job.conversation_id, MAX_STEP_MESSAGES)
        .await?;
    let more = fresh.len() == MAX_STEP_MESSAGES;
    if fresh.is_empty() {
        store.complete_job(job.lease()).await?;
        return Ok(None);
    }
    let burst_ms = state.config.conversation.burst_window.0.as_millis() as i64;
    let since = fresh[0].received_at - burst_ms;
    // What anfu sent, read once: for a platform that echoes it, at once; else only when a
    // new burst needs it as context.
    let read_sent = || store.reply_texts(&job.shop, &job.conversation_id, sent_since(since));
    let mut sent = match crate::platform::of(shop.platform()).echoes_sends() {
        true => Some(read_sent().await?),
        false => None,
    };
    let echoes = sent.as_deref().map(echo_texts).unwrap_or_default();
    relabel_echoes(&mut fresh, &echoes);
    let mut conversation = store.conversation(&job.shop, &job.conversation_id).await?;
    let ticket = match conversation.open_handoff {
        Some(id) => Some(store.handoff(id).await?),
        None => None,
    };
    // Resolved after the conversation was read: the conversation has no ticket any more,
    // and these messages are decided afresh (a reply, a new ticket).
    let ticket = ticket.filter(|h| h.status != "resolved");
    if ticket.is_none() {
        conversation.open_handoff = None;
    }
    let now = now_ms();
    let processed: Vec<i64> = fresh.iter().map(|m| m.id).collect();
    let buyer_wrote = fresh.iter().any(|m| m.message.kind.is_analysed());
    let outcome = match ticket {
        Some(handoff) => {
            let mut card = handoff.card;
            let theirs: Vec<StoredMessage> = fresh
                .iter()
                .filter(|m| {
                    !(m.message.kind == MessageKind::Seller && echoes.contains(&m.message.text))
                })
                .cloned()
                .collect();
            let text = append_lines(&mut card, &theirs);
            let analysis = analyze(state, text, Vec::new()).await;
            let (card, sla_due_at) = merge(state, shop, card, analysis, &fresh, now);
            ProcessOutcome {
                // The shop's own lines and placeholders change nothing an agent must hear of.
                notify: if buyer_wrote {
                    routed(state, &card)
                } else {
                    Vec::new()
                },
                handoff: HandoffChange::Update {
                    id: handoff.id,
                    card: Box::new(card),
                    sla_due_at,
                },
                ..quiet(job, processed, conversation)
            }
        }
        // Only placeholders and seller lines: nothing to read or answer (no reply loops).
        None if !buyer_wrote => quiet(job, processed, conversation),
        None => {
            let mut recent = store
                .messages_since(
                    &job.shop,
                    &job.conversation_id,
                    since - CONTEXT_WINDOW_MS,
                    MAX_STEP_MESSAGES + MAX_TRANSCRIPT_LINES,
                )
                .await?;
            relabel_echoes(&mut recent, &echoes);
            let first_of_burst = recent.partition_point(|m| m.received_at < since);
            let (earlier, burst) = recent.split_at(first_of_burst);
            // A flood into one conversation must not make one analysis (or card) without
            // bound.
            let burst = &burst[burst.len().saturating_sub(MAX_TRANSCRIPT_LINES)..];
            // What anfu said before the burst is context too ("请提供订单号" → a bare
            // number; "已为您催促快递" → "还是没动").
            let sent: Vec<(Millis, String)> = match sent.take() {
                Some(sent) => sent,
                None => read_sent().await?,
            }
            .into_iter()
            .filter(|(at, _)| *at < since)
            .collect();
            let mut analysis = analyze(state, joined(burst), context(earlier, &sent)).await;
            // An order the platform named earlier (a Shopee order card the buyer sent before
            // complaining) is still the conversation's order.
            if analysis.order_id.is_none() && burst.iter().all(|m| m.message.order_id.is_none()) {
                analysis.order_id = earlier
                    .iter()
                    .rev()
                    .find_map(|m| m.message.order_id.clone());
            }
            let step = match conversation.open_handoff {
                None => super::ladder::after_resolution(state, job, &analysis, burst, now).await?,
                Some(_) => None,
            };
            match step {
                // Answered by the follow-up's own thanks (if any), not the bot's reply.
                Some(Resolved::Answered) => quiet(job, processed, conversation),
                step => {
                    // Reopened (and announced as such): the messages join the reopened
                    // ticket, and the buyer is answered as for a new complaint.
                    let reopened = match step {
                        Some(Resolved::Reopened(id, card, due)) => {
                            let mut card = *card;
                            append_lines(&mut card, &fresh);
                            let (card, sla_due_at) =
                                merge(state, shop, card, analysis.clone(), &fresh, now);
                            Some((id, card, sla_due_at.min(due)))
                        }
                        _ => None,
                    };
                    let mut outcome = decide(
                        state,
                        shop,
                        job,
                        conversation,
                        burst,
                        analysis,
                        processed,
                        now,
                    );
                    if let Some((id, card, sla_due_at)) = reopened {
                        outcome.handoff = HandoffChange::Update {
                            id,
                            card: Box::new(card),
                            sla_due_at,
                        };
                        outcome.notify = Vec::new();
                        outcome.state.open_handoff = Some(id);
                    }
                    outcome
                }
            }
        }
    };
    let outcome = ProcessOutcome { more, ..outcome };
    let reply = outcome.reply.clone();
    let handoff_changed = !matches!(outcome.handoff, HandoffChange::None);
    let opened = match &outcome.handoff {
        HandoffChange::Open { card, .. } => Some(card.priority),
        _ => None,
    };
    let lease = state.config.worker.lease.0.as_millis() as i64;
    let reply_job = store.commit_processing(outcome, lease).await?;
    if handoff_changed {
        state.announce("handoff", None);
    }
    if let Some(priority) = opened {
        state.metrics.inc(
            "anfu_handoffs_opened_total",
            &[("priority", priority.as_str())],
        );
    }
    Ok(reply_job.zip(reply))
}

/// Processing that changes nothing but marks the messages processed.
fn quiet(job: &Job, processed: Vec<i64>, state: ConversationState) -> ProcessOutcome {
    ProcessOutcome {
        job: job.lease(),
        shop: job.shop.clone(),
        conversation_id: job.conversation_id.clone(),
        processed,
        state,
        reply: None,
        handoff: HandoffChange::None,
        notify: Vec::new(),
        more: false,
    }
}

/// Runs the analyzer off the runtime. Should it panic, the panic goes on in this job, which
/// then fails like any panicking job: retried, then dead-lettered with the message.
pub(super) async fn analyze(state: &AppState, text: String, context: Vec<Turn>) -> Analysis {
    match state.analysis.analyze_in_context(text, context).await {
        Ok(analysis) => analysis,
        Err(e) => std::panic::resume_unwind(Box::new(e.to_string())),
    }
}

/// A conversation nobody has taken over yet: maybe answer, and open a ticket for a complaint.
#[allow(clippy::too_many_arguments)]
fn decide(
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

/// The configured sinks whose routing rules take this card.
pub(super) fn routed(state: &AppState, card: &HandoffCard) -> Vec<String> {
    crate::sink::routed(&state.config.sinks, card)
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

pub fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
