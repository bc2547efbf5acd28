//! Claiming several jobs in one query (`claim_jobs`): the oldest due first, each job once
//! across instances, and never a conversation that another worker is processing.

#![allow(clippy::unwrap_used)]

use crate::cases::{accept, claim, LEASE};
use crate::db::Db;
use anfu::store::Store;
use std::collections::HashSet;
use std::sync::Arc;

pub async fn batch_claims_take_the_oldest_due_first_and_skip_a_conversation_in_work(db: &Db) {
    let s = &db.store;
    for i in 0..6 {
        assert!(accept(s, &format!("m{i}"), &format!("c{i}")).await);
    }
    // c0 is being processed, and a new message queues it again: that job must wait.
    let c0 = claim(s).await;
    assert_eq!(c0.conversation_id, "c0");
    assert!(accept(s, "m0b", "c0").await);

    let first = s.claim_jobs(LEASE, 3).await.unwrap();
    let conversations: Vec<&str> = first.iter().map(|j| j.conversation_id.as_str()).collect();
    assert_eq!(
        conversations,
        ["c1", "c2", "c3"],
        "the oldest due, in order"
    );
    assert!(first
        .iter()
        .all(|j| j.status == "running" && j.attempts == 1));
    let rest = s.claim_jobs(LEASE, 50).await.unwrap();
    let conversations: Vec<&str> = rest.iter().map(|j| j.conversation_id.as_str()).collect();
    assert_eq!(
        conversations,
        ["c4", "c5"],
        "c0's waiting job waits: {rest:?}"
    );
    assert!(s.claim_jobs(LEASE, 50).await.unwrap().is_empty());

    // Once c0's first processing is done, its waiting job is claimable.
    s.complete_job(c0.lease()).await.unwrap();
    let after = s.claim_jobs(LEASE, 50).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].conversation_id, "c0");
    assert_ne!(after[0].id, c0.id);
}

/// `jobs` conversations, each with one message, accepted through `instances` store handles
/// in turn: the handles.
pub(crate) async fn jobs_through_instances(
    db: &Db,
    jobs: usize,
    instances: usize,
) -> Vec<Arc<dyn Store>> {
    let mut handles = vec![db.store.clone()];
    for _ in 1..instances {
        handles.push(db.another().await);
    }
    for i in 0..jobs {
        let store = &handles[i % handles.len()];
        assert!(accept(store, &format!("m{i}"), &format!("c{i}")).await);
    }
    handles
}

pub async fn concurrent_batch_claims_never_share_a_job(db: &Db) {
    const JOBS: usize = 150;
    let handles = jobs_through_instances(db, JOBS, 3).await;
    let mut tasks = Vec::new();
    for store in &handles {
        for batch in [1, 4, 7] {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let jobs = store.claim_jobs(LEASE, batch).await.unwrap();
                    if jobs.is_empty() {
                        break mine;
                    }
                    assert!(jobs.len() <= batch);
                    for job in jobs {
                        store.complete_job(job.lease()).await.unwrap();
                        mine.push(job.id);
                    }
                }
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
    let jobs = db.store.jobs(None).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == "done" && j.attempts == 1));
}
