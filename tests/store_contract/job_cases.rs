//! Jobs: claim order, leases that run out, one worker per conversation, retry and burial.

#![allow(clippy::unwrap_used)]

use crate::cases::*;
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{now_ms, JobKind, ReplyPayload, Settled};
use std::time::Duration;

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
