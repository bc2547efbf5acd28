//! Deadlines and bookkeeping: overdue tickets, SLA warnings and breaches, cursors, sink
//! references, job counts, and claims and processing under concurrency.

#![allow(clippy::unwrap_used)]

use crate::cases::*;
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{now_ms, HandoffFilter, JobKind};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

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
