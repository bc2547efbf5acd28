//! The cases, written once against `dyn Store`. Each `pub async fn` is a test body (the
//! `contract!` macro wraps it in a `#[tokio::test]` per backend), so it may unwrap as tests
//! do; the helpers say what they expected. Times are real (`now_ms`): lease expiry is
//! seen by the next claim at most a second later (both backends take expired jobs back
//! once a second), so those cases sleep a little over a second.

#![allow(clippy::unwrap_used)]

use crate::db::Db;
use anfu::domain::{BuyerMessage, HandoffCard, Lang, MessageKind, Mood, Priority};
use anfu::store::{
    now_ms, ConversationState, HandoffChange, HandoffFilter, Job, JobKind, Millis, NotifyPayload,
    ProcessOutcome, ReplyPayload, Settled, Store, StoreError,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub use crate::agent_cases::*;
pub use crate::claim_cases::*;
pub use crate::report_cases::*;
pub use crate::retention_cases::*;
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

fn open(job: &Job, priority: Priority, sla_due_at: Millis) -> HandoffChange {
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

async fn nothing_to_claim(store: &Arc<dyn Store>) {
    if let Some(job) = store.claim_job(LEASE).await.expect("claim_job") {
        panic!("claimed {job:?}, expected nothing");
    }
}

async fn unprocessed_ids(store: &Arc<dyn Store>, conversation: &str) -> Vec<i64> {
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

fn notices(jobs: &[Job], handoff: i64) -> Vec<NotifyPayload> {
    let mut notices: Vec<NotifyPayload> = jobs
        .iter()
        .filter(|j| j.kind == JobKind::Notify)
        .map(|j| serde_json::from_value::<NotifyPayload>(j.payload.clone()).expect("a notice"))
        .filter(|n| n.handoff_id == handoff)
        .collect();
    notices.sort_by(|a, b| a.sink.cmp(&b.sink));
    notices
}

fn notice(sink: &str, handoff_id: i64, event: &str) -> NotifyPayload {
    NotifyPayload {
        sink: sink.into(),
        handoff_id,
        event: event.into(),
    }
}

/// Sink names.
fn sinks(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn find(jobs: &[Job], id: i64) -> &Job {
    jobs.iter().find(|j| j.id == id).expect("the job is listed")
}

pub async fn ping_and_empty_store(db: &Db) {
    let s = &db.store;
    s.ping().await.unwrap();
    nothing_to_claim(s).await;
    assert_eq!(s.next_due().await.unwrap(), None);
    assert!(s.jobs(None).await.unwrap().is_empty());
    assert!(s
        .handoffs(&HandoffFilter::default())
        .await
        .unwrap()
        .is_empty());
    assert!(s.overdue(now_ms()).await.unwrap().is_empty());
    assert_eq!(
        s.conversation(SHOP, "nobody").await.unwrap(),
        ConversationState::default()
    );
    assert!(matches!(s.handoff(1).await, Err(StoreError::NotFound(_))));
    assert!(s.unprocessed(SHOP, "nobody", 500).await.unwrap().is_empty());
}

pub async fn accept_is_idempotent(db: &Db) {
    let s = &db.store;
    let first = msg("m1", "c1", "到现在还没发货");
    assert!(s.accept(SHOP, "taobao", &first).await.unwrap());
    assert!(!s.accept(SHOP, "taobao", &first).await.unwrap());
    // A redelivery changes nothing, even when the platform sends other content.
    let altered = msg("m1", "c1", "changed");
    assert!(!s.accept(SHOP, "taobao", &altered).await.unwrap());
    // The key is unique per shop.
    assert!(s.accept("other-shop", "taobao", &first).await.unwrap());
    assert!(s
        .accept(SHOP, "taobao", &msg("m2", "c1", "人呢"))
        .await
        .unwrap());

    let stored = s.unprocessed(SHOP, "c1", 500).await.unwrap();
    let texts: Vec<&str> = stored.iter().map(|m| m.message.text.as_str()).collect();
    assert_eq!(texts, ["到现在还没发货", "人呢"]);
    assert_eq!(stored[0].message, first);
    assert!(stored[0].received_at > 0 && stored[0].received_at <= stored[1].received_at);

    // One pending processing job per conversation: the burst shares it.
    let pending = s.jobs(Some("pending")).await.unwrap();
    let mut queued: Vec<(&str, &str, JobKind)> = pending
        .iter()
        .map(|j| (j.shop.as_str(), j.conversation_id.as_str(), j.kind))
        .collect();
    queued.sort_by_key(|q| q.0);
    assert_eq!(
        queued,
        [
            ("other-shop", "c1", JobKind::Process),
            (SHOP, "c1", JobKind::Process)
        ]
    );
    assert!(pending
        .iter()
        .all(|j| j.attempts == 0 && j.status == "pending"));
    assert!(s.next_due().await.unwrap().is_some());
}

pub async fn concurrent_duplicate_accepts_store_once(db: &Db) {
    let (a, b) = (db.store.clone(), db.another().await);
    for i in 0..20 {
        let m = msg(&format!("dup-{i}"), &format!("c{}", i % 3), "退款");
        let (x, y, z) = tokio::join!(
            a.accept(SHOP, "taobao", &m),
            b.accept(SHOP, "taobao", &m),
            a.accept(SHOP, "taobao", &m),
        );
        let new = [x.unwrap(), y.unwrap(), z.unwrap()];
        assert_eq!(
            new.iter().filter(|n| **n).count(),
            1,
            "delivery {i}: {new:?}"
        );
    }
    let mut stored = 0;
    for c in ["c0", "c1", "c2"] {
        stored += a.unprocessed(SHOP, c, 500).await.unwrap().len();
    }
    assert_eq!(stored, 20);
    assert_eq!(a.jobs(Some("pending")).await.unwrap().len(), 3);
}

pub async fn nul_characters_are_accepted(db: &Db) {
    // JSON can carry U+0000; PostgreSQL's text cannot hold it and stores U+FFFD instead.
    let s = &db.store;
    let m = msg("nul\0key", "c\0nul", "坏了\0吗");
    assert!(s.accept(SHOP, "taobao", &m).await.unwrap());
    assert!(!s.accept(SHOP, "taobao", &m).await.unwrap());
    let stored = s.unprocessed(SHOP, "c\0nul", 500).await.unwrap();
    assert_eq!(stored.len(), 1);
    let job = claim(s).await;
    let back = |t: &str| t.replace('\u{FFFD}', "\0");
    assert_eq!(back(&stored[0].message.text), "坏了\0吗");
    assert_eq!(back(&stored[0].message.message_key), "nul\0key");
    assert_eq!(back(&job.conversation_id), "c\0nul");
    s.retry_job(job.lease(), now_ms(), "bad\0byte")
        .await
        .unwrap();
    let listed = s.jobs(Some("pending")).await.unwrap();
    assert_eq!(back(listed[0].last_error.as_deref().unwrap()), "bad\0byte");
    s.set_cursor("rk\0", "pos\0").await.unwrap();
    let cursor = s.cursor("rk\0").await.unwrap().unwrap();
    assert_eq!(back(&cursor), "pos\0");
}

pub async fn messages_since_and_unprocessed(db: &Db) {
    let s = &db.store;
    for key in ["a", "b", "c"] {
        assert!(accept(s, key, "conv").await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(accept(s, "elsewhere", "other").await);
    let all = s.messages_since(SHOP, "conv", 0, 500).await.unwrap();
    let keys: Vec<&str> = all.iter().map(|m| m.message.message_key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    let later = s
        .messages_since(SHOP, "conv", all[1].received_at, 500)
        .await
        .unwrap();
    assert_eq!(later.len(), 2);
    assert_eq!(later[0].id, all[1].id);

    let job = claim(s).await;
    s.commit_processing(quiet(&job, vec![all[0].id]), LEASE)
        .await
        .unwrap();
    assert_eq!(
        unprocessed_ids(s, "conv").await,
        [all[1].id, all[2].id],
        "processed messages are not new"
    );
    assert_eq!(
        s.messages_since(SHOP, "conv", 0, 500).await.unwrap().len(),
        3
    );

    // Limits: the oldest waiting messages, the newest recent ones (still oldest first).
    let oldest = s.unprocessed(SHOP, "conv", 1).await.unwrap();
    assert_eq!(oldest.len(), 1);
    assert_eq!(oldest[0].id, all[1].id);
    let newest = s.messages_since(SHOP, "conv", 0, 2).await.unwrap();
    let ids: Vec<i64> = newest.iter().map(|m| m.id).collect();
    assert_eq!(ids, [all[1].id, all[2].id]);

    // A step that took only some of the waiting messages queues the conversation again.
    let other = claim(s).await;
    assert_eq!(other.conversation_id, "other");
    s.commit_processing(quiet(&other, vec![]), LEASE)
        .await
        .unwrap();
    nothing_to_claim(s).await;
    assert!(accept(s, "d", "conv").await);
    let job = claim(s).await;
    assert_eq!(job.conversation_id, "conv");
    let step = ProcessOutcome {
        more: true,
        ..quiet(&job, vec![all[1].id])
    };
    s.commit_processing(step, LEASE).await.unwrap();
    let again = claim(s).await;
    assert_eq!(again.kind, JobKind::Process);
    assert_eq!(again.conversation_id, "conv");
    let rest = unprocessed_ids(s, "conv").await;
    assert_eq!(rest.len(), 2, "the rest still waits: {rest:?}");
    s.commit_processing(quiet(&again, rest), LEASE)
        .await
        .unwrap();
    assert!(unprocessed_ids(s, "conv").await.is_empty());
    nothing_to_claim(s).await;
}

pub async fn claims_follow_run_at_then_id(db: &Db) {
    let s = &db.store;
    for c in ["a", "b", "c"] {
        assert!(accept(s, c, c).await);
    }
    let a = claim(s).await;
    assert_eq!(
        (a.conversation_id.as_str(), a.kind),
        ("a", JobKind::Process)
    );
    assert_eq!((a.status.as_str(), a.attempts), ("running", 1));
    assert_eq!(a.payload, serde_json::json!({}));
    assert_eq!(a.shop, SHOP);
    let later = now_ms() + 60_000;
    s.retry_job(a.lease(), later, "platform busy")
        .await
        .unwrap();
    let b = claim(s).await;
    let c = claim(s).await;
    assert_eq!(
        (b.conversation_id.as_str(), c.conversation_id.as_str()),
        ("b", "c")
    );
    nothing_to_claim(s).await;
    assert_eq!(s.next_due().await.unwrap(), Some(later));

    // Earlier run_at first, whatever the id.
    let now = now_ms();
    s.retry_job(b.lease(), now - 10_000, "b failed")
        .await
        .unwrap();
    s.retry_job(c.lease(), now - 20_000, "c failed")
        .await
        .unwrap();
    assert_eq!(s.next_due().await.unwrap(), Some(now - 20_000));
    let first = claim(s).await;
    let second = claim(s).await;
    assert_eq!((first.id, second.id), (c.id, b.id));
    assert_eq!(first.attempts, 2);
    assert_eq!(first.last_error.as_deref(), Some("c failed"));
    nothing_to_claim(s).await;
    let pending = s.jobs(Some("pending")).await.unwrap();
    assert_eq!(pending.iter().map(|j| j.id).collect::<Vec<_>>(), [a.id]);
    let all = s.jobs(None).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|j| j.id).collect();
    assert_eq!(ids, [c.id, b.id, a.id], "newest first");
}

/// Long enough for a lease of `SHORT` to run out and for the once-a-second take-back.
const SHORT: Millis = 200;
const EXPIRE: Duration = Duration::from_millis(1_300);

pub async fn expired_lease_is_claimable_again(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    let job = s.claim_job(SHORT).await.unwrap().unwrap();
    nothing_to_claim(s).await;
    tokio::time::sleep(EXPIRE).await;
    // Any handle (instance) takes it back.
    let other = db.another().await;
    let again = other
        .claim_job(LEASE)
        .await
        .unwrap()
        .expect("the expired job");
    assert_eq!((again.id, again.attempts), (job.id, 2));
    assert_eq!(again.status, "running");
    // So is a reply job whose worker died delivering it.
    let mut outcome = quiet(&again, unprocessed_ids(s, "c1").await);
    outcome.reply = Some(ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: None,
        text: "抱歉".into(),
        idempotency_key: "k".into(),
        received_at: None,
        handoff_id: None,
    });
    let reply = other
        .commit_processing(outcome, SHORT)
        .await
        .unwrap()
        .unwrap();
    nothing_to_claim(s).await;
    tokio::time::sleep(EXPIRE).await;
    let retried = claim(s).await;
    assert_eq!(
        (retried.id, retried.kind, retried.attempts),
        (reply.id, JobKind::Reply, 2)
    );
    nothing_to_claim(s).await;
}

pub async fn expired_processing_job_gives_way_to_a_waiting_one(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    let first = s.claim_job(SHORT).await.unwrap().unwrap();
    assert!(accept(s, "m2", "c1").await);
    nothing_to_claim(s).await;
    tokio::time::sleep(EXPIRE).await;
    // The waiting job takes the expired one's messages too; the expired one is done.
    let second = claim(s).await;
    assert_ne!(second.id, first.id);
    assert_eq!(second.attempts, 1);
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(find(&jobs, first.id).status, "done");
    assert_eq!(s.unprocessed(SHOP, "c1", 500).await.unwrap().len(), 2);
    nothing_to_claim(s).await;
}

pub async fn conversation_being_processed_waits(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    let p1 = claim(s).await;
    assert!(accept(s, "m2", "c1").await);
    assert!(accept(s, "m3", "c2").await);
    let q = claim(s).await;
    assert_eq!(q.conversation_id, "c2", "c1 waits while it is processed");
    nothing_to_claim(s).await;
    // Notices and replies of a conversation being processed do not wait.
    let mut outcome = quiet(&q, unprocessed_ids(s, "c2").await);
    outcome.handoff = open(&q, Priority::P2, now_ms() + 3_600_000);
    outcome.notify = sinks(&["a"]);
    s.commit_processing(outcome, LEASE).await.unwrap();
    assert!(accept(s, "m4", "c2").await);
    let notify = claim(s).await;
    assert_eq!(notify.kind, JobKind::Notify);
    let p2_c2 = claim(s).await;
    assert_eq!(
        (p2_c2.kind, p2_c2.conversation_id.as_str()),
        (JobKind::Process, "c2")
    );
    nothing_to_claim(s).await;

    s.complete_job(p1.lease()).await.unwrap();
    let p2 = claim(s).await;
    assert_eq!(
        (p2.conversation_id.as_str(), p2.kind),
        ("c1", JobKind::Process)
    );
    assert_ne!(p2.id, p1.id);
    for job in [&p2, &p2_c2, &notify] {
        s.complete_job(job.lease()).await.unwrap();
    }
    nothing_to_claim(s).await;
    assert!(s
        .jobs(None)
        .await
        .unwrap()
        .iter()
        .all(|j| j.status == "done"));
}

pub async fn retry_bury_and_defer(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    let job = claim(s).await;
    s.retry_job(job.lease(), now_ms() - 1, "boom")
        .await
        .unwrap();
    let listed = s.jobs(Some("pending")).await.unwrap();
    assert_eq!(listed[0].last_error.as_deref(), Some("boom"));
    assert_eq!(listed[0].attempts, 1, "a retry keeps the attempt count");
    let job = claim(s).await;
    assert_eq!(job.attempts, 2);

    // A deferral does not count the attempt.
    assert_eq!(
        s.defer_job(job.lease(), now_ms() + 300).await.unwrap(),
        Settled::Applied
    );
    let listed = s.jobs(Some("pending")).await.unwrap();
    assert_eq!(
        (listed[0].attempts, listed[0].last_error.as_deref()),
        (1, Some("boom"))
    );
    nothing_to_claim(s).await;
    // A job waiting again is nobody's to settle: its last claim changes nothing.
    assert_eq!(
        s.retry_job(job.lease(), now_ms() - 1, "late")
            .await
            .unwrap(),
        Settled::LeaseLost
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    let job = claim(s).await;
    assert_eq!(job.attempts, 2);

    s.bury_job(job.lease(), "gave up").await.unwrap();
    let dead = s.jobs(Some("dead")).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id, dead[0].status.as_str()), (job.id, "dead"));
    assert_eq!(dead[0].last_error.as_deref(), Some("gave up"));
    assert!(s.jobs(Some("pending")).await.unwrap().is_empty());
    assert!(s.jobs(Some("running")).await.unwrap().is_empty());
    nothing_to_claim(s).await;
    assert_eq!(s.next_due().await.unwrap(), None);
    // A new message queues the conversation again.
    assert!(accept(s, "m2", "c1").await);
    assert_eq!(claim(s).await.attempts, 1);
}

pub async fn commit_processing_writes_everything(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    assert!(accept(s, "m2", "c1").await);
    let job = claim(s).await;
    let ids = unprocessed_ids(s, "c1").await;
    assert_eq!(ids.len(), 2);
    let now = now_ms();
    let reply = ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: Some("buyer-1".into()),
        text: "非常抱歉，马上为您处理".into(),
        idempotency_key: "anfu-c1-1".into(),
        received_at: Some(now - 1_500),
        handoff_id: None,
    };
    let the_card = card("c1", Priority::P2);
    let outcome = ProcessOutcome {
        job: job.lease(),
        shop: SHOP.into(),
        conversation_id: "c1".into(),
        processed: ids,
        state: ConversationState {
            last_reply_at: Some(now),
            last_mood_rank: 3,
            last_intensity: 2,
            open_handoff: None,
        },
        reply: Some(reply.clone()),
        handoff: HandoffChange::Open {
            card: Box::new(the_card.clone()),
            sla_due_at: now + 3_600_000,
        },
        notify: sinks(&["c", "a"]),
        more: false,
    };
    let reply_id = s
        .commit_processing(outcome, LEASE)
        .await
        .unwrap()
        .expect("a reply job");

    assert!(s.unprocessed(SHOP, "c1", 500).await.unwrap().is_empty());
    let state = s.conversation(SHOP, "c1").await.unwrap();
    let handoff_id = state.open_handoff.expect("the new ticket");
    assert_eq!(
        state,
        ConversationState {
            last_reply_at: Some(now),
            last_mood_rank: 3,
            last_intensity: 2,
            open_handoff: Some(handoff_id),
        }
    );
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(job_status(&jobs, job.id), "done");
    let r = find(&jobs, reply_id.id);
    assert_eq!(
        (r.kind, r.status.as_str(), r.attempts),
        (JobKind::Reply, "running", 1)
    );
    assert_eq!(r.payload, serde_json::to_value(&reply).unwrap());
    assert_eq!((r.shop.as_str(), r.conversation_id.as_str()), (SHOP, "c1"));
    assert_eq!(
        notices(&jobs, handoff_id),
        [
            notice("a", handoff_id, "created"),
            notice("c", handoff_id, "created")
        ]
    );

    let h = s.handoff(handoff_id).await.unwrap();
    assert_eq!((h.status.as_str(), h.priority), ("open", Priority::P2));
    assert_eq!(h.reply_status.as_deref(), Some("running"));
    assert_eq!(h.card, the_card);
    assert!(!h.sla_breached && h.claimed_by.is_none() && h.notes.is_empty());
    assert!(h.created_at.ends_with('Z') && h.created_at == h.updated_at);

    // The reply job is leased to the caller: only the notices are claimable.
    let first = claim(s).await;
    let second = claim(s).await;
    assert_eq!(
        (first.kind, second.kind),
        (JobKind::Notify, JobKind::Notify)
    );
    nothing_to_claim(s).await;
    s.complete_job(reply_id).await.unwrap();
    let h = s.handoff(handoff_id).await.unwrap();
    assert_eq!(h.reply_status.as_deref(), Some("done"));

    // Nothing decided: no reply job, no notices without a ticket change.
    assert!(accept(s, "m3", "c1").await);
    let job = claim(s).await;
    let mut outcome = quiet(&job, unprocessed_ids(s, "c1").await);
    outcome.state = state.clone();
    outcome.notify = sinks(&["a"]);
    assert_eq!(s.commit_processing(outcome, LEASE).await.unwrap(), None);
    let after = s.jobs(None).await.unwrap();
    assert_eq!(after.len(), jobs.len() + 1);
    assert_eq!(s.conversation(SHOP, "c1").await.unwrap(), state);
}

fn job_status(jobs: &[Job], id: i64) -> &str {
    &find(jobs, id).status
}

pub async fn second_open_ticket_is_refused_whole(db: &Db) {
    let s = &db.store;
    let first = open_ticket(s, "c1", Priority::P3, now_ms() + 3_600_000).await;
    let before = s.jobs(None).await.unwrap().len();
    // A worker whose view is stale (it missed the open ticket) opens another one.
    assert!(accept(s, "m2", "c1").await);
    let job = claim(s).await;
    let pending = unprocessed_ids(s, "c1").await;
    let mut outcome = quiet(&job, pending.clone());
    outcome.handoff = open(&job, Priority::P1, now_ms());
    outcome.reply = Some(ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: None,
        text: "抱歉".into(),
        idempotency_key: "k2".into(),
        received_at: None,
        handoff_id: None,
    });
    outcome.notify = sinks(&["a"]);
    match s.commit_processing(outcome, LEASE).await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("c1"), "{why}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // All or nothing: the messages are still new, the job still running, no reply or notice.
    assert_eq!(unprocessed_ids(s, "c1").await, pending);
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(
        jobs.len(),
        before + 1,
        "only the processing job itself is new"
    );
    assert_eq!(job_status(&jobs, job.id), "running");
    assert!(jobs.iter().all(|j| j.kind != JobKind::Reply));
    let tickets = s.handoffs(&HandoffFilter::default()).await.unwrap();
    assert_eq!(tickets.iter().map(|h| h.id).collect::<Vec<_>>(), [first]);
    assert_eq!(
        s.conversation(SHOP, "c1").await.unwrap().open_handoff,
        Some(first)
    );
    // Processing again with the ticket in view updates it.
    let mut outcome = quiet(&job, pending);
    outcome.state.open_handoff = Some(first);
    outcome.handoff = HandoffChange::Update {
        id: first,
        card: Box::new(card("c1", Priority::P1)),
        sla_due_at: now_ms(),
    };
    s.commit_processing(outcome, LEASE).await.unwrap();
    assert_eq!(s.handoff(first).await.unwrap().priority, Priority::P1);
    assert!(s.unprocessed(SHOP, "c1", 500).await.unwrap().is_empty());
}

pub async fn concurrent_opens_make_one_ticket(db: &Db) {
    let (a, b) = (db.store.clone(), db.another().await);
    assert!(accept(&a, "m1", "c1").await);
    assert!(accept(&a, "m2", "c2").await);
    let j1 = claim(&a).await;
    let j2 = claim(&b).await;
    // Two workers racing to open a ticket for c1 (the second job is c2's, which does not
    // matter to the store).
    let mut o1 = quiet(&j1, vec![]);
    o1.handoff = open(&j1, Priority::P2, now_ms());
    let mut o2 = quiet(&j2, vec![]);
    o2.conversation_id = "c1".into();
    o2.handoff = HandoffChange::Open {
        card: Box::new(card("c1", Priority::P1)),
        sla_due_at: now_ms(),
    };
    let (r1, r2) = tokio::join!(
        a.commit_processing(o1, LEASE),
        b.commit_processing(o2, LEASE)
    );
    let refused = [&r1, &r2]
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
        .count();
    assert_eq!(refused, 1, "{r1:?} {r2:?}");
    assert!(r1.is_ok() || r2.is_ok());
    let tickets = a.handoffs(&HandoffFilter::default()).await.unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(
        a.conversation(SHOP, "c1").await.unwrap().open_handoff,
        Some(tickets[0].id)
    );
}

pub async fn update_and_reopen_after_resolve(db: &Db) {
    let s = &db.store;
    let first = open_ticket(s, "c1", Priority::P3, now_ms() + 3_600_000).await;
    let due = now_ms() + 600_000;
    let (_, _) = ticket(s, "m2", "c1", |_| HandoffChange::Update {
        id: first,
        card: Box::new(card("c1", Priority::P1)),
        sla_due_at: due,
    })
    .await;
    // The notify list came empty: no notices. With sinks:
    assert!(accept(s, "m3", "c1").await);
    let job = claim(s).await;
    let mut outcome = quiet(&job, unprocessed_ids(s, "c1").await);
    outcome.state.open_handoff = Some(first);
    outcome.handoff = HandoffChange::Update {
        id: first,
        card: Box::new(card("c1", Priority::P1)),
        sla_due_at: due,
    };
    outcome.notify = sinks(&["b"]);
    assert_eq!(s.commit_processing(outcome, LEASE).await.unwrap(), None);
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(notices(&jobs, first), [notice("b", first, "updated")]);
    let h = s.handoff(first).await.unwrap();
    assert_eq!((h.priority, h.card.priority), (Priority::P1, Priority::P1));
    assert_eq!(h.reply_status, None);

    let resolved = s.resolve_handoff(first).await.unwrap();
    assert_eq!(resolved.status, "resolved");
    assert_eq!(s.conversation(SHOP, "c1").await.unwrap().open_handoff, None);
    // The bot may open a new ticket for the conversation now.
    let second = open_ticket(s, "c1", Priority::P2, now_ms() + 3_600_000).await;
    assert_ne!(second, first);
    assert_eq!(s.handoff(second).await.unwrap().status, "open");
}

pub async fn handoff_claim_resolve_notes_and_filters(db: &Db) {
    let s = &db.store;
    let now = now_ms();
    let h1 = open_ticket(s, "a", Priority::P3, now + 36_000_000).await;
    let h2 = open_ticket(s, "b", Priority::P1, now + 3_600_000).await;
    let h3 = open_ticket(s, "c", Priority::P1, now + 1_800_000).await;
    let ids = |hs: Vec<anfu::store::Handoff>| hs.iter().map(|h| h.id).collect::<Vec<_>>();
    let all = s.handoffs(&HandoffFilter::default()).await.unwrap();
    assert_eq!(ids(all), [h3, h2, h1], "by priority, then SLA due time");
    let p1 = HandoffFilter {
        status: None,
        priority: Some(Priority::P1),
    };
    assert_eq!(ids(s.handoffs(&p1).await.unwrap()), [h3, h2]);
    let status = |st: &str| HandoffFilter {
        status: Some(st.into()),
        priority: None,
    };
    assert_eq!(s.handoffs(&status("open")).await.unwrap().len(), 3);

    let claimed = s.claim_handoff(h2, "amy").await.unwrap();
    assert_eq!(claimed.status, "claimed");
    assert_eq!(claimed.claimed_by.as_deref(), Some("amy"));
    assert_eq!(s.claim_handoff(h2, "amy").await.unwrap().status, "claimed");
    match s.claim_handoff(h2, "bob").await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("amy"), "{why}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(matches!(
        s.claim_handoff(999_999, "amy").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(ids(s.handoffs(&status("claimed")).await.unwrap()), [h2]);
    let both = HandoffFilter {
        status: Some("open".into()),
        priority: Some(Priority::P1),
    };
    assert_eq!(ids(s.handoffs(&both).await.unwrap()), [h3]);

    s.add_note(h2, "amy", "已致电买家").await.unwrap();
    let noted = s.add_note(h2, "bob", "补发中").await.unwrap();
    let notes: Vec<(&str, &str)> = noted
        .notes
        .iter()
        .map(|n| (n.author.as_str(), n.text.as_str()))
        .collect();
    assert_eq!(notes, [("amy", "已致电买家"), ("bob", "补发中")]);
    assert!(noted.notes[0].created_at.ends_with('Z'));
    assert_eq!(s.handoff(h2).await.unwrap().notes.len(), 2);
    assert!(matches!(
        s.add_note(999_999, "amy", "x").await,
        Err(StoreError::NotFound(_))
    ));

    let resolved = s.resolve_handoff(h2).await.unwrap();
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.notes.len(), 2);
    assert_eq!(s.conversation(SHOP, "b").await.unwrap().open_handoff, None);
    assert!(matches!(
        s.claim_handoff(h2, "bob").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.resolve_handoff(999_999).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(ids(s.handoffs(&status("resolved")).await.unwrap()), [h2]);
    // Resolving leaves other conversations' tickets alone.
    assert_eq!(
        s.conversation(SHOP, "a").await.unwrap().open_handoff,
        Some(h1)
    );
}

pub async fn overdue_and_breach_recorded_once(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let now = now_ms();
    let late = open_ticket(s, "late", Priority::P1, now - 1_000).await;
    let later = open_ticket(s, "later", Priority::P2, now + 3_600_000).await;
    let gone = open_ticket(s, "gone", Priority::P2, now - 5_000).await;
    s.resolve_handoff(gone).await.unwrap();
    let ids = |hs: Vec<anfu::store::Handoff>| hs.iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(ids(s.overdue(now).await.unwrap()), [late]);

    assert!(s.record_breach(late, &sinks(&["a", "b"])).await.unwrap());
    assert!(!s.record_breach(late, &sinks(&["a", "b"])).await.unwrap());
    assert!(!other.record_breach(late, &sinks(&["a"])).await.unwrap());
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(
        notices(&jobs, late),
        [
            notice("a", late, "sla_breach"),
            notice("b", late, "sla_breach")
        ]
    );
    let breach_job = jobs
        .iter()
        .find(|j| j.kind == JobKind::Notify && j.payload["handoff_id"] == late)
        .unwrap();
    assert_eq!(
        (
            breach_job.shop.as_str(),
            breach_job.conversation_id.as_str()
        ),
        (SHOP, "late")
    );
    assert!(s.handoff(late).await.unwrap().sla_breached);
    assert!(s.overdue(now).await.unwrap().is_empty());

    // Claimed tickets still count; two instances' timers announce a breach once.
    s.claim_handoff(later, "amy").await.unwrap();
    let future = now + 7_200_000;
    assert_eq!(ids(s.overdue(future).await.unwrap()), [later]);
    let d = sinks(&["d"]);
    let (x, y) = tokio::join!(s.record_breach(later, &d), other.record_breach(later, &d));
    assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|b| **b).count(), 1);
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(notices(&jobs, later), [notice("d", later, "sla_breach")]);
    assert!(s.overdue(future).await.unwrap().is_empty());
    // A breach without sinks is recorded all the same.
    let quiet_one = open_ticket(s, "quiet", Priority::P3, now - 1).await;
    assert!(s.record_breach(quiet_one, &[]).await.unwrap());
    assert!(s.handoff(quiet_one).await.unwrap().sla_breached);
}

pub async fn cursors(db: &Db) {
    let s = &db.store;
    assert_eq!(s.cursor("rk").await.unwrap(), None);
    s.set_cursor("rk", "2024-05-01T10:00:00+09:00")
        .await
        .unwrap();
    assert_eq!(
        s.cursor("rk").await.unwrap().as_deref(),
        Some("2024-05-01T10:00:00+09:00")
    );
    s.set_cursor("rk", "2024-05-01T11:00:00+09:00")
        .await
        .unwrap();
    assert_eq!(
        s.cursor("rk").await.unwrap().as_deref(),
        Some("2024-05-01T11:00:00+09:00")
    );
    assert_eq!(s.cursor("rk2").await.unwrap(), None);
}

pub async fn concurrent_claims_never_share_a_job(db: &Db) {
    const JOBS: usize = 120;
    let handles = crate::claim_cases::jobs_through_instances(db, JOBS, 4).await;
    let mut tasks = Vec::new();
    for store in &handles {
        for _ in 0..3 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(job) = store.claim_job(LEASE).await.unwrap() {
                    store.complete_job(job.lease()).await.unwrap();
                    mine.push(job.id);
                }
                mine
            }));
        }
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a job was claimed twice");
    assert_eq!(claimed.len(), JOBS);
    nothing_to_claim(&db.store).await;
    let jobs = db.store.jobs(None).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == "done" && j.attempts == 1));
}

/// Messages stream into one conversation through several instances while several workers
/// process it: every message ends processed, none waits without a job.
pub async fn every_message_is_processed_under_concurrency(db: &Db) {
    const MESSAGES: usize = 80;
    let handles = [db.store.clone(), db.another().await, db.another().await];
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for store in &handles {
        let (store, done) = (store.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                match store.claim_job(LEASE).await.unwrap() {
                    Some(job) => {
                        let ids = unprocessed_ids(&store, &job.conversation_id).await;
                        store
                            .commit_processing(quiet(&job, ids), LEASE)
                            .await
                            .unwrap();
                    }
                    None if finished => break,
                    None => tokio::time::sleep(Duration::from_millis(2)).await,
                }
            }
        }));
    }
    let mut senders = Vec::new();
    for (n, store) in handles.iter().enumerate() {
        let store = store.clone();
        senders.push(tokio::spawn(async move {
            for i in (n..MESSAGES).step_by(3) {
                assert!(accept(&store, &format!("m{i}"), "busy").await);
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    let s = &db.store;
    assert_eq!(
        unprocessed_ids(s, "busy").await,
        Vec::<i64>::new(),
        "messages left without a job"
    );
    assert_eq!(
        s.messages_since(SHOP, "busy", 0, 500).await.unwrap().len(),
        MESSAGES
    );
    nothing_to_claim(s).await;
}

pub async fn reopening_keeps_the_data(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    s.set_cursor("rk", "p1").await.unwrap();
    let h = open_ticket(s, "c2", Priority::P2, now_ms() + 1_000).await;
    // Opening again (a restart, another instance) migrates nothing and loses nothing.
    let again = db.another().await;
    assert!(!accept(&again, "m1", "c1").await);
    assert_eq!(again.cursor("rk").await.unwrap().as_deref(), Some("p1"));
    assert_eq!(again.unprocessed(SHOP, "c1", 500).await.unwrap().len(), 1);
    assert_eq!(again.handoff(h).await.unwrap().status, "open");
    assert!(!db.url().is_empty());
}

pub async fn sla_warning_once_and_breach_implies_it(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let now = now_ms();
    let soon = open_ticket(s, "soon", Priority::P2, now + 600_000).await;
    let far = open_ticket(s, "far", Priority::P2, now + 18_000_000).await;
    let urgent = open_ticket(s, "urgent", Priority::P1, now + 600_000).await;
    let late = open_ticket(s, "late", Priority::P2, now - 1).await;
    let ids = |hs: Vec<anfu::store::Handoff>| hs.iter().map(|h| h.id).collect::<Vec<_>>();
    let window = now + 1_800_000;
    // Of its priority, due after now and by the end of the window.
    assert_eq!(
        ids(s.due_soon(Priority::P2, now, window).await.unwrap()),
        [soon]
    );
    assert_eq!(
        ids(s.due_soon(Priority::P1, now, window).await.unwrap()),
        [urgent]
    );
    assert!(s
        .due_soon(Priority::P3, now, window)
        .await
        .unwrap()
        .is_empty());

    assert!(s.record_warning(soon, &sinks(&["a", "c"])).await.unwrap());
    assert!(!s.record_warning(soon, &sinks(&["a", "c"])).await.unwrap());
    assert!(!other.record_warning(soon, &sinks(&["a"])).await.unwrap());
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(
        notices(&jobs, soon),
        [
            notice("a", soon, "sla_warning"),
            notice("c", soon, "sla_warning")
        ]
    );
    let h = s.handoff(soon).await.unwrap();
    assert!(h.sla_warning && !h.sla_breached);
    assert!(s
        .due_soon(Priority::P2, now, window)
        .await
        .unwrap()
        .is_empty());
    let listed = s.handoffs(&HandoffFilter::default()).await.unwrap();
    assert!(listed.iter().all(|h| h.sla_warning == (h.id == soon)));

    // A breach implies the warning: the breached ticket shows as breached only, and is not
    // warned afterwards.
    assert!(s.record_breach(soon, &[]).await.unwrap());
    let h = s.handoff(soon).await.unwrap();
    assert!(h.sla_breached && !h.sla_warning);
    assert!(s.record_breach(late, &[]).await.unwrap());
    assert!(!s.record_warning(late, &sinks(&["a"])).await.unwrap());
    let jobs = s.jobs(None).await.unwrap();
    assert!(notices(&jobs, late).is_empty());

    // Two instances' timers warn once; claimed tickets count, resolved ones do not.
    let b = sinks(&["b"]);
    let (x, y) = tokio::join!(
        s.record_warning(urgent, &b),
        other.record_warning(urgent, &b)
    );
    assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|b| **b).count(), 1);
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(notices(&jobs, urgent), [notice("b", urgent, "sla_warning")]);
    s.claim_handoff(far, "amy").await.unwrap();
    let later = now + 36_000_000;
    assert_eq!(
        ids(s.due_soon(Priority::P2, now, later).await.unwrap()),
        [far]
    );
    s.resolve_handoff(far).await.unwrap();
    assert!(s
        .due_soon(Priority::P2, now, later)
        .await
        .unwrap()
        .is_empty());
    assert!(!s.record_warning(999_999, &sinks(&["a"])).await.unwrap());

    // Soonest first.
    let second = open_ticket(s, "p3-b", Priority::P3, now + 900_000).await;
    let first = open_ticket(s, "p3-a", Priority::P3, now + 300_000).await;
    assert_eq!(
        ids(s.due_soon(Priority::P3, now, window).await.unwrap()),
        [first, second]
    );
}

pub async fn sink_refs_keep_the_first(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let h = open_ticket(s, "c1", Priority::P2, now_ms() + 3_600_000).await;
    assert_eq!(s.sink_ref(h, "a").await.unwrap(), None);
    s.set_sink_ref(h, "a", "cw-101").await.unwrap();
    s.set_sink_ref(h, "a", "cw-102").await.unwrap();
    assert_eq!(s.sink_ref(h, "a").await.unwrap().as_deref(), Some("cw-101"));
    assert_eq!(s.sink_ref(h, "b").await.unwrap(), None);
    s.set_sink_ref(h, "b", "cw-7").await.unwrap();
    assert_eq!(
        other.sink_ref(h, "b").await.unwrap().as_deref(),
        Some("cw-7")
    );

    let g = open_ticket(s, "c2", Priority::P2, now_ms() + 3_600_000).await;
    let (x, y) = tokio::join!(s.set_sink_ref(g, "a", "a"), other.set_sink_ref(g, "a", "b"));
    x.unwrap();
    y.unwrap();
    let kept = s.sink_ref(g, "a").await.unwrap().unwrap();
    assert!(kept == "a" || kept == "b", "{kept}");
    assert_eq!(other.sink_ref(g, "a").await.unwrap(), Some(kept));
    assert_eq!(s.sink_ref(h, "a").await.unwrap().as_deref(), Some("cw-101"));
}

pub async fn job_counts_by_kind_and_status(db: &Db) {
    let s = &db.store;
    let counts = || async {
        let mut counts = s.job_counts().await.unwrap();
        counts.sort();
        counts
    };
    assert!(counts().await.is_empty());
    for c in ["a", "b", "c"] {
        assert!(accept(s, c, c).await);
    }
    let a = claim(s).await;
    let b = claim(s).await;
    let row = |kind: &str, status: &str, n: i64| (kind.to_string(), status.to_string(), n);
    assert_eq!(
        counts().await,
        [row("process", "pending", 1), row("process", "running", 2)]
    );
    s.complete_job(a.lease()).await.unwrap();
    s.bury_job(b.lease(), "no").await.unwrap();
    // Done jobs are not counted.
    assert_eq!(
        counts().await,
        [row("process", "dead", 1), row("process", "pending", 1)]
    );
}

/// An agent resolves the ticket while a worker is appending the buyer's new messages to it.
/// The worker's commit must not make the resolved ticket the conversation's open one again
/// (the bot would stay silent for good), and must not swallow the messages either: appended
/// to a closed ticket they would get neither a reply nor a ticket anyone looks at. It is
/// refused whole; processed again, the conversation has no open ticket and is decided afresh.
pub async fn a_ticket_resolved_during_processing_leaves_the_messages_for_a_fresh_step(db: &Db) {
    let s = &db.store;
    let first = open_ticket(s, "c9", Priority::P2, now_ms() + 3_600_000).await;
    let resolved_card = s.handoff(first).await.unwrap().card;
    assert!(accept(s, "m9b", "c9").await);
    let job = claim(s).await;
    let fresh = unprocessed_ids(s, "c9").await;
    // The worker read the conversation (ticket open) before the agent resolved it.
    let mut outcome = quiet(&job, fresh.clone());
    outcome.state.open_handoff = Some(first);
    outcome.notify = sinks(&["a"]);
    outcome.handoff = HandoffChange::Update {
        id: first,
        card: Box::new(card("c9", Priority::P1)),
        sla_due_at: now_ms() + 3_600_000,
    };
    s.resolve_handoff(first).await.expect("resolve");
    match s.commit_processing(outcome, LEASE).await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("resolved"), "{why}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Nothing written: the messages are still new, the closed ticket untouched, no notice.
    assert_eq!(unprocessed_ids(s, "c9").await, fresh);
    let closed = s.handoff(first).await.unwrap();
    assert_eq!(
        (closed.status.as_str(), closed.card),
        ("resolved", resolved_card)
    );
    assert!(notices(&s.jobs(None).await.unwrap(), first).is_empty());
    assert_eq!(job_status(&s.jobs(None).await.unwrap(), job.id), "running");
    let state = s.conversation(SHOP, "c9").await.unwrap();
    assert_eq!(state.open_handoff, None, "the resolved ticket stays closed");
    // Processed again with a fresh view: a new ticket for the new messages.
    let mut outcome = quiet(&job, fresh);
    outcome.handoff = open(&job, Priority::P2, now_ms() + 3_600_000);
    s.commit_processing(outcome, LEASE).await.unwrap();
    let second = s.conversation(SHOP, "c9").await.unwrap().open_handoff;
    assert!(
        second.is_some_and(|id| id != first),
        "a new ticket: {second:?}"
    );
    assert!(s.unprocessed(SHOP, "c9", 500).await.unwrap().is_empty());
}

/// A worker whose lease ran out (it stalled) comes back after another worker claimed the job:
/// whatever it reports, the job stays with the other worker, who settles it.
pub async fn a_worker_whose_lease_ran_out_changes_nothing(db: &Db) {
    let s = &db.store;
    assert!(accept(s, "m1", "c1").await);
    let stale = s.claim_job(SHORT).await.unwrap().unwrap();
    tokio::time::sleep(EXPIRE).await;
    let current = claim(s).await;
    assert_eq!((current.id, current.attempts), (stale.id, 2));
    let running = |jobs: &[Job]| {
        let j = find(jobs, stale.id).clone();
        (j.status, j.attempts, j.last_error)
    };
    let expected = ("running".to_string(), 2, None);
    let lost = Settled::LeaseLost;
    assert_eq!(s.complete_job(stale.lease()).await.unwrap(), lost);
    assert_eq!(running(&s.jobs(None).await.unwrap()), expected, "complete");
    let retried = s.retry_job(stale.lease(), now_ms() - 1, "stale retry");
    assert_eq!(retried.await.unwrap(), lost);
    assert_eq!(running(&s.jobs(None).await.unwrap()), expected, "retry");
    assert_eq!(s.bury_job(stale.lease(), "stale bury").await.unwrap(), lost);
    assert_eq!(running(&s.jobs(None).await.unwrap()), expected, "bury");
    assert_eq!(
        s.defer_job(stale.lease(), now_ms() - 1).await.unwrap(),
        lost
    );
    assert_eq!(running(&s.jobs(None).await.unwrap()), expected, "defer");
    // Nor does its processing step land, reply and all.
    let mut outcome = quiet(&stale, unprocessed_ids(s, "c1").await);
    outcome.reply = Some(ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: None,
        text: "抱歉".into(),
        idempotency_key: "stale".into(),
        received_at: None,
        handoff_id: None,
    });
    match s.commit_processing(outcome, LEASE).await {
        Err(StoreError::LeaseLost(_)) => {}
        other => panic!("expected the lease lost, got {other:?}"),
    }
    assert_eq!(running(&s.jobs(None).await.unwrap()), expected, "commit");
    assert_eq!(unprocessed_ids(s, "c1").await.len(), 1);
    assert_eq!(s.jobs(None).await.unwrap().len(), 1, "no reply job");
    nothing_to_claim(s).await;
    // The current worker's own update lands.
    let ids = unprocessed_ids(s, "c1").await;
    assert_eq!(
        s.commit_processing(quiet(&current, ids), LEASE)
            .await
            .unwrap(),
        None
    );
    assert_eq!(find(&s.jobs(None).await.unwrap(), stale.id).status, "done");
    assert_eq!(s.complete_job(current.lease()).await.unwrap(), lost, "once");
}

/// A processing job that fails (or is put back) after a new message queued its conversation
/// again merges with the waiting job: one pending job, due at the earlier of the two times,
/// no error and no job left running.
pub async fn retrying_or_deferring_a_processing_job_merges_with_the_waiting_one(db: &Db) {
    let s = &db.store;
    // A retry due later than the waiting job: the waiting job keeps its time and takes over
    // the attempt count and the error.
    assert!(accept(s, "m1", "c1").await);
    let first = claim(s).await;
    assert!(accept(s, "m2", "c1").await);
    let waiting = s.jobs(Some("pending")).await.unwrap()[0].clone();
    let retried = s.retry_job(first.lease(), now_ms() + 60_000, "boom").await;
    assert_eq!(
        retried.expect("a retry merges, it does not collide"),
        Settled::Merged
    );
    let jobs = s.jobs(None).await.unwrap();
    assert_eq!(job_status(&jobs, first.id), "done");
    assert!(s.jobs(Some("running")).await.unwrap().is_empty());
    let pending = s.jobs(Some("pending")).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, waiting.id);
    assert_eq!(pending[0].attempts, 1, "the failed attempt still counts");
    assert_eq!(pending[0].last_error.as_deref(), Some("boom"));
    let next = claim(s).await;
    assert_eq!(next.id, waiting.id, "due as before, not a minute later");
    assert_eq!(next.attempts, 2);
    assert_eq!(unprocessed_ids(s, "c1").await.len(), 2);

    // A deferral due earlier than the waiting job: the waiting job moves up, and the
    // deferred attempt is not counted.
    assert!(accept(s, "m3", "c1").await);
    let third = s.jobs(Some("pending")).await.unwrap()[0].clone();
    let earlier = now_ms() - 10_000;
    let deferred = s.defer_job(next.lease(), earlier).await;
    assert_eq!(
        deferred.expect("a deferral merges, it does not collide"),
        Settled::Merged
    );
    assert_eq!(job_status(&s.jobs(None).await.unwrap(), next.id), "done");
    assert!(s.jobs(Some("running")).await.unwrap().is_empty());
    assert_eq!(s.next_due().await.unwrap(), Some(earlier));
    let last = claim(s).await;
    assert_eq!((last.id, last.attempts), (third.id, 2));
    nothing_to_claim(s).await;
}

/// Of several instances, one polls a shop: the holder of its lease, which it renews; another
/// takes it once it has run out, or at once when the holder gives it up.
pub async fn one_instance_holds_a_shops_poll_lease(db: &Db) {
    let (a, b) = (db.store.clone(), db.another().await);
    assert!(a.take_poll_lease("rk", "a", 500).await.unwrap());
    assert!(!b.take_poll_lease("rk", "b", 500).await.unwrap());
    assert!(a.take_poll_lease("rk", "a", 500).await.unwrap(), "renewed");
    assert!(
        b.take_poll_lease("other", "b", 500).await.unwrap(),
        "per shop"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.take_poll_lease("rk", "a", 500).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !b.take_poll_lease("rk", "b", 500).await.unwrap(),
        "the renewal counts from the renewal"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(b.take_poll_lease("rk", "b", 500).await.unwrap(), "ran out");
    assert!(!a.take_poll_lease("rk", "a", 500).await.unwrap());
    // Giving it up: only the holder can, and then anyone takes it at once.
    a.release_poll_lease("rk", "a").await.unwrap();
    assert!(!a.take_poll_lease("rk", "a", 500).await.unwrap());
    b.release_poll_lease("rk", "b").await.unwrap();
    assert!(a.take_poll_lease("rk", "a", 60_000).await.unwrap());
    // Many asking at once: one yes.
    let mut asking = Vec::new();
    for i in 0..8 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        asking.push(tokio::spawn(async move {
            store
                .take_poll_lease("fresh", &format!("h{i}"), 60_000)
                .await
        }));
    }
    let mut granted = 0;
    for ask in asking {
        granted += usize::from(ask.await.unwrap().unwrap());
    }
    assert_eq!(granted, 1);
}

/// Notices queued, and sink references kept, before sinks had names hold positions in
/// `[[sinks]]`: starting with today's sinks renames them once, by today's position.
pub async fn sinks_named_by_position_are_renamed_once(db: &Db) {
    let s = &db.store;
    let h = open_ticket(s, "c1", Priority::P2, now_ms() + 3_600_000).await;
    // As an older version left them (the migration kept the positions, as text).
    let now = now_ms();
    db.raw(&format!(
        "INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at, updated_at) VALUES
           ('notify', '{SHOP}', 'c1', '{{\"sink\":1,\"handoff_id\":{h},\"event\":\"created\"}}', 'pending', {now}, {now}, {now}),
           ('notify', '{SHOP}', 'c1', '{{\"sink\":7,\"handoff_id\":{h},\"event\":\"updated\"}}', 'pending', {now}, {now}, {now});
         INSERT INTO sink_refs (handoff_id, sink, external_ref, created_at) VALUES ({h}, '1', 'cw-9', {now})"
    ))
    .await;
    let names = sinks(&["team", "cw"]);
    assert_eq!(s.adopt_sink_names(&names).await.unwrap(), 2);
    let payloads: Vec<NotifyPayload> = s
        .jobs(Some("pending"))
        .await
        .unwrap()
        .iter()
        .filter(|j| j.kind == JobKind::Notify)
        .map(|j| serde_json::from_value(j.payload.clone()).unwrap())
        .collect();
    let mut named: Vec<&str> = payloads.iter().map(|p| p.sink.as_str()).collect();
    named.sort();
    assert_eq!(
        named,
        ["7", "cw"],
        "no sink at position 7 today: left as it was"
    );
    assert_eq!(s.sink_ref(h, "cw").await.unwrap().as_deref(), Some("cw-9"));
    assert_eq!(s.sink_ref(h, "1").await.unwrap(), None);
    // Once: the same names (or the sinks reordered) change nothing more.
    assert_eq!(s.adopt_sink_names(&names).await.unwrap(), 0);
    assert_eq!(
        s.adopt_sink_names(&sinks(&["cw", "team"])).await.unwrap(),
        0
    );
    assert_eq!(s.sink_ref(h, "cw").await.unwrap().as_deref(), Some("cw-9"));
}
