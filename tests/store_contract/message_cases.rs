//! Messages: accepting them once, whatever the duplicates, and reading them back.

#![allow(clippy::unwrap_used)]

use crate::cases::*;
use crate::db::Db;
use anfu::store::{now_ms, ConversationState, HandoffFilter, JobKind, ProcessOutcome, StoreError};
use std::time::Duration;

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
