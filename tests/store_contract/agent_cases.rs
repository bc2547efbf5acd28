//! Agents answering buyers from anfu (platforms.md §8): the line, its reply job and the
//! ticket's first-response mark.

#![allow(clippy::unwrap_used)]

use crate::cases::{claim, open_ticket, SHOP};
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{now_ms, Delivery, JobKind, ReplyPayload, StoreError};

pub async fn agent_replies_are_queued_stamped_and_follow_their_job(db: &Db) {
    let s = &db.store;
    let now = now_ms();
    let id = open_ticket(s, "c-agent", Priority::P1, now - 1_000).await;
    let fresh = s.handoff(id).await.unwrap();
    assert_eq!(fresh.first_response_at, None);
    assert_eq!(fresh.replies.as_deref(), Some(&[][..]));
    assert_eq!(
        s.overdue(now).await.unwrap().len(),
        1,
        "unanswered: overdue"
    );

    let first = s
        .queue_agent_reply(id, "王敏", "您好，马上为您补发")
        .await
        .unwrap();
    assert_eq!(first.status, Delivery::Queued);
    let answered = s.handoff(id).await.unwrap();
    let stamped = answered
        .first_response_at
        .clone()
        .expect("first response stamped");
    assert!(
        s.overdue(now).await.unwrap().is_empty(),
        "answered: not overdue"
    );

    // The reply job carries the line's id as its idempotency key and the ticket's id.
    let job = claim(s).await;
    assert_eq!(job.kind, JobKind::Reply);
    assert_eq!(
        (job.shop.as_str(), job.conversation_id.as_str()),
        (SHOP, "c-agent")
    );
    let payload: ReplyPayload = serde_json::from_value(job.payload.clone()).unwrap();
    assert_eq!(payload.idempotency_key, first.message_id);
    assert_eq!(payload.handoff_id, Some(id));
    assert_eq!(payload.text, "您好，马上为您补发");
    assert_eq!(payload.to_buyer.as_deref(), Some("小王"));

    // A failed send is still queued (with its reason) until it is given up on.
    s.retry_job(job.lease(), now_ms(), "HTTP 503")
        .await
        .unwrap();
    let line = &s.handoff(id).await.unwrap().replies.unwrap()[0];
    assert_eq!(
        (line.status, line.error.as_deref()),
        (Delivery::Queued, Some("HTTP 503"))
    );
    let again = claim(s).await;
    s.complete_job(again.lease()).await.unwrap();

    let second = s.queue_agent_reply(id, "李雷", "已经安排").await.unwrap();
    assert_ne!(second.message_id, first.message_id);
    let job = claim(s).await;
    s.bury_job(job.lease(), "refused: isv.invalid-parameter")
        .await
        .unwrap();

    let h = s.handoff(id).await.unwrap();
    assert_eq!(
        h.first_response_at,
        Some(stamped),
        "only the first line stamps"
    );
    let lines = h.replies.unwrap();
    let seen: Vec<_> = lines
        .iter()
        .map(|l| (l.agent.as_str(), l.status, l.attempts))
        .collect();
    assert_eq!(
        seen,
        [("王敏", Delivery::Sent, 2), ("李雷", Delivery::Failed, 1)]
    );
    assert_eq!(
        lines[1].error.as_deref(),
        Some("refused: isv.invalid-parameter")
    );
    // Lists leave the lines out.
    let listed = s.handoffs(&Default::default()).await.unwrap();
    assert!(listed.iter().all(|h| h.replies.is_none()));
}

pub async fn an_agent_reply_to_a_resolved_or_unknown_ticket_changes_nothing(db: &Db) {
    let s = &db.store;
    let id = open_ticket(s, "c-done", Priority::P2, now_ms() + 60_000).await;
    s.resolve_handoff(id).await.unwrap();
    let jobs_before = s.jobs(None).await.unwrap().len();
    let refused = s.queue_agent_reply(id, "王敏", "还在吗").await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let unknown = s.queue_agent_reply(id + 1000, "王敏", "还在吗").await;
    assert!(
        matches!(unknown, Err(StoreError::NotFound(_))),
        "{unknown:?}"
    );
    assert_eq!(s.jobs(None).await.unwrap().len(), jobs_before);
    let h = s.handoff(id).await.unwrap();
    assert_eq!((h.first_response_at, h.replies.unwrap().len()), (None, 0));
}
