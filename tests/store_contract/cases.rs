//! The cases, written once against `dyn Store`. Each `pub async fn` is a test body (the
//! `contract!` macro wraps it in a `#[tokio::test]` per backend), so it may unwrap as tests
//! do; the helpers say what they expected. Times are real (`now_ms`): lease expiry is
//! seen by the next claim at most a second later (both backends take expired jobs back
//! once a second), so those cases sleep a little over a second.

#![allow(clippy::unwrap_used)]

use anfu::domain::{BuyerMessage, HandoffCard, Lang, MessageKind, Mood, Priority};
use anfu::store::{
    now_ms, ConversationState, HandoffChange, Job, JobKind, Millis, NotifyPayload, ProcessOutcome,
    Store,
};
use std::sync::Arc;
use std::time::Duration;

pub use crate::agent_cases::*;
pub use crate::claim_cases::*;
pub use crate::deadline_cases::*;
pub use crate::job_cases::*;
pub use crate::message_cases::*;
pub use crate::race_cases::*;
pub use crate::report_cases::*;
pub use crate::retention_cases::*;
pub use crate::ticket_cases::*;
pub use crate::token_cases::*;

pub(crate) const SHOP: &str = "xiaoyu";
pub(crate) const LEASE: Millis = 60_000;

pub fn msg(key: &str, conversation: &str, text: &str) -> BuyerMessage {
    BuyerMessage {
        message_key: key.into(),
        conversation_id: conversation.into(),
        buyer_id: Some("buyer-1".into()),
        buyer_nick: Some("小王".into()),
        text: text.into(),
        order_id: Some("4012345678901234".into()),
        sent_at: Some("2024-05-01 10:00:00".into()),
        kind: MessageKind::BuyerText,
    }
}

pub fn card(conversation: &str, priority: Priority) -> HandoffCard {
    HandoffCard {
        shop: SHOP.into(),
        shop_name: None,
        platform: "taobao".into(),
        conversation_id: conversation.into(),
        buyer_id: Some("buyer-1".into()),
        buyer_nick: Some("小王".into()),
        order_id: None,
        issue_type: None,
        demands: vec![],
        mood: Mood::Angry,
        intensity: 2,
        threats: vec![],
        priority,
        lang: Lang::Hans,
        sla_due: "2024-05-01T12:00:00.000Z".into(),
        next_steps: vec!["核实物流".into()],
        transcript: vec![],
        evidence: vec![],
        auto_reply: None,
    }
}

/// Processing `job` decided nothing but to mark `processed`.
pub fn quiet(job: &Job, processed: Vec<i64>) -> ProcessOutcome {
    ProcessOutcome {
        job: job.lease(),
        shop: job.shop.clone(),
        conversation_id: job.conversation_id.clone(),
        processed,
        state: ConversationState::default(),
        reply: None,
        handoff: HandoffChange::None,
        notify: vec![],
        more: false,
    }
}

pub(crate) fn open(job: &Job, priority: Priority, sla_due_at: Millis) -> HandoffChange {
    HandoffChange::Open {
        card: Box::new(card(&job.conversation_id, priority)),
        sla_due_at,
    }
}

pub(crate) async fn accept(store: &Arc<dyn Store>, key: &str, conversation: &str) -> bool {
    store
        .accept(SHOP, "taobao", &msg(key, conversation, "质量太差了"))
        .await
        .expect("accept")
}

pub(crate) async fn claim(store: &Arc<dyn Store>) -> Job {
    store
        .claim_job(LEASE)
        .await
        .expect("claim_job")
        .expect("a job to claim")
}

pub(crate) async fn nothing_to_claim(store: &Arc<dyn Store>) {
    if let Some(job) = store.claim_job(LEASE).await.expect("claim_job") {
        panic!("claimed {job:?}, expected nothing");
    }
}

pub(crate) async fn unprocessed_ids(store: &Arc<dyn Store>, conversation: &str) -> Vec<i64> {
    let messages = store
        .unprocessed(SHOP, conversation, 500)
        .await
        .expect("unprocessed");
    messages.iter().map(|m| m.id).collect()
}

/// Accepts a message to `conversation`, claims its job and commits `handoff` for it:
/// the ticket's id (for Open) and the job.
pub(crate) async fn ticket(
    store: &Arc<dyn Store>,
    key: &str,
    conversation: &str,
    handoff: impl FnOnce(&Job) -> HandoffChange,
) -> (Option<i64>, Job) {
    assert!(accept(store, key, conversation).await);
    // Other due jobs go back as they were.
    let mut others = Vec::new();
    let job = loop {
        let job = claim(store).await;
        if job.kind == JobKind::Process && job.conversation_id == conversation {
            break job;
        }
        others.push(job.lease());
    };
    for lease in others {
        store.defer_job(lease, now_ms()).await.expect("defer_job");
    }
    let mut outcome = quiet(&job, unprocessed_ids(store, conversation).await);
    outcome.handoff = handoff(&job);
    store
        .commit_processing(outcome, LEASE)
        .await
        .expect("commit_processing");
    let state = store
        .conversation(SHOP, conversation)
        .await
        .expect("conversation");
    (state.open_handoff, job)
}

pub(crate) async fn open_ticket(
    store: &Arc<dyn Store>,
    conversation: &str,
    priority: Priority,
    due: Millis,
) -> i64 {
    let key = format!("{conversation}-open-{}", now_ms());
    let (id, _) = ticket(store, &key, conversation, |job| open(job, priority, due)).await;
    id.expect("the conversation's ticket")
}

pub(crate) fn notices(jobs: &[Job], handoff: i64) -> Vec<NotifyPayload> {
    let mut notices: Vec<NotifyPayload> = jobs
        .iter()
        .filter(|j| j.kind == JobKind::Notify)
        .map(|j| serde_json::from_value::<NotifyPayload>(j.payload.clone()).expect("a notice"))
        .filter(|n| n.handoff_id == handoff)
        .collect();
    notices.sort_by(|a, b| a.sink.cmp(&b.sink));
    notices
}

pub(crate) fn notice(sink: &str, handoff_id: i64, event: &str) -> NotifyPayload {
    NotifyPayload {
        sink: sink.into(),
        handoff_id,
        event: event.into(),
    }
}

/// Sink names.
pub(crate) fn sinks(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

pub(crate) fn find(jobs: &[Job], id: i64) -> &Job {
    jobs.iter().find(|j| j.id == id).expect("the job is listed")
}

/// A lease short enough to run out in a test.
pub(crate) const SHORT: Millis = 200;
/// Long enough for a lease of `SHORT` to run out and for the once-a-second take-back.
pub(crate) const EXPIRE: Duration = Duration::from_millis(1_300);

pub(crate) fn job_status(jobs: &[Job], id: i64) -> &str {
    &find(jobs, id).status
}
