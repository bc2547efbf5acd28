//! Processing a conversation's new messages: analyse, decide whether to answer (burst,
//! cooldown, handoff silence), and open or update the handoff ticket — all written in one
//! transaction with the reply job, so a crash repeats the step rather than half of it.

use super::ladder::Resolved;
use super::lines::{
    context, echo_texts, joined, relabel_echoes, sent_since, CONTEXT_WINDOW_MS,
    MAX_TRANSCRIPT_LINES,
};
use super::ticket_update::{append_lines, merge};
use crate::analysis::Turn;
use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::{Analysis, HandoffCard, MessageKind};
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
                    let mut outcome = super::first_answer::decide(
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

/// The configured sinks whose routing rules take this card.
pub(super) fn routed(state: &AppState, card: &HandoffCard) -> Vec<String> {
    crate::sink::routed(&state.config.sinks, card)
}

pub fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
