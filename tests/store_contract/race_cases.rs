//! Races between workers, agents and instances: a ticket resolved mid-step, a worker whose
//! lease ran out, retries meeting a waiting job, the poll lease, sinks renamed once.

#![allow(clippy::unwrap_used)]

use crate::cases::*;
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{
    now_ms, HandoffChange, Job, JobKind, NotifyPayload, ReplyPayload, Settled, StoreError,
};
use std::time::Duration;

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
