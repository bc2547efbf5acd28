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

pub async fn an_unclaimed_p1_is_escalated_once(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let p1 = open_ticket(s, "c-esc", Priority::P1, now_ms() + 3_600_000).await;
    let p2 = open_ticket(s, "c-esc2", Priority::P2, now_ms() + 3_600_000).await;
    let claimed = open_ticket(s, "c-esc3", Priority::P1, now_ms() + 3_600_000).await;
    s.claim_handoff(claimed, "amy").await.unwrap();
    let ids = |hs: Vec<anfu::store::Handoff>| hs.iter().map(|h| h.id).collect::<Vec<_>>();
    assert!(
        ids(s.unclaimed_p1(now_ms() - 60_000).await.unwrap()).is_empty(),
        "too young"
    );
    assert_eq!(ids(s.unclaimed_p1(now_ms() + 1).await.unwrap()), [p1]);
    let sinks = vec!["boss".to_string()];
    let (a, b) = tokio::join!(s.escalate(p1, &sinks), other.escalate(p1, &sinks));
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(),
        1,
        "once"
    );
    assert!(!s.escalate(p1, &sinks).await.unwrap());
    assert!(s.handoff(p1).await.unwrap().escalated);
    assert!(!s.handoff(p2).await.unwrap().escalated);
    assert!(s.unclaimed_p1(now_ms() + 1).await.unwrap().is_empty());
    let notices: Vec<_> = s
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == JobKind::Notify && j.payload["event"] == "escalated")
        .map(|j| (j.payload["sink"].clone(), j.payload["handoff_id"].clone()))
        .collect();
    assert_eq!(
        notices,
        [(serde_json::json!("boss"), serde_json::json!(p1))]
    );
}

pub async fn a_resolved_ticket_reopens_once_as_a_repeat(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let id = open_ticket(s, "c-rep", Priority::P2, now_ms() + 3_600_000).await;
    assert!(s.queue_agent_reply(id, "amy", "您好").await.is_ok());
    let resolved = s.resolve_handoff(id).await.unwrap();
    assert!(resolved.resolved_at.is_some());
    let latest = s.latest_handoff(SHOP, "c-rep").await.unwrap().unwrap();
    assert_eq!((latest.id, latest.status.as_str()), (id, "resolved"));

    let mut card = latest.card.clone();
    card.priority = Priority::P1;
    let due = now_ms() + 600_000;
    let sinks = vec!["team".to_string()];
    let (a, b) = tokio::join!(
        s.reopen_handoff(id, &card, due, &sinks),
        other.reopen_handoff(id, &card, due, &sinks)
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count(),
        1,
        "once"
    );
    let h = s.handoff(id).await.unwrap();
    assert_eq!(
        (h.status.as_str(), h.priority, h.repeat_count),
        ("open", Priority::P1, 1)
    );
    assert_eq!(
        (h.resolved_at, h.first_response_at, h.claimed_by),
        (None, None, None)
    );
    assert_eq!(h.card.priority, Priority::P1);
    assert_eq!(
        s.conversation(SHOP, "c-rep").await.unwrap().open_handoff,
        Some(id)
    );
    let reopened = s
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == JobKind::Notify && j.payload["event"] == "reopened")
        .count();
    assert_eq!(reopened, 1);
    let again = s.reopen_handoff(id, &card, due, &sinks).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

pub async fn a_followup_is_asked_once_and_answered_once(db: &Db) {
    let (s, other) = (&db.store, db.another().await);
    let id = open_ticket(s, "c-fu", Priority::P2, now_ms() + 3_600_000).await;
    s.resolve_handoff(id).await.unwrap();
    let now = now_ms();
    s.schedule_followup(id, now + 60_000).await.unwrap();
    assert!(s.followups_due(now).await.unwrap().is_empty(), "not yet");
    s.schedule_followup(id, now - 1).await.unwrap();
    assert_eq!(s.followups_due(now).await.unwrap().len(), 1);
    let question = ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: Some("小王".into()),
        text: "问题解决了吗？".into(),
        idempotency_key: "anfu-followup-1".into(),
        received_at: None,
        handoff_id: Some(id),
    };
    let (a, b) = tokio::join!(
        s.ask_followup(id, &question),
        other.ask_followup(id, &question)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(),
        1,
        "asked once"
    );
    assert!(s.followups_due(now_ms()).await.unwrap().is_empty());
    let job = claim(s).await;
    assert_eq!(job.kind, JobKind::Reply);
    assert_eq!(job.payload["text"], "问题解决了吗？");
    let h = s.handoff(id).await.unwrap();
    assert!(h.followup.sent_at.is_some() && h.followup.answer.is_none());

    let thanks = ReplyPayload {
        buyer_id: None,
        queued_at: None,
        text: "谢谢您".into(),
        idempotency_key: "anfu-invite-1".into(),
        ..question.clone()
    };
    assert!(s.followup_satisfied(id, Some(&thanks)).await.unwrap());
    assert!(
        !s.followup_satisfied(id, Some(&thanks)).await.unwrap(),
        "once"
    );
    let h = s.handoff(id).await.unwrap();
    assert_eq!(
        h.followup.answer,
        Some(anfu::store::FollowupAnswer::Satisfied)
    );
    assert!(h.followup.review_invited);
    let invitations = s
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.payload["text"] == "谢谢您")
        .count();
    assert_eq!(invitations, 1);
}

pub async fn a_complaint_after_an_unanswered_followup_reopens_it_unhappy(db: &Db) {
    let s = &db.store;
    let id = open_ticket(s, "c-fu2", Priority::P3, now_ms() + 3_600_000).await;
    s.resolve_handoff(id).await.unwrap();
    s.schedule_followup(id, now_ms() - 1).await.unwrap();
    let question = ReplyPayload {
        buyer_id: None,
        queued_at: None,
        to_buyer: None,
        text: "问题解决了吗？".into(),
        idempotency_key: "anfu-followup-2".into(),
        received_at: None,
        handoff_id: Some(id),
    };
    assert!(s.ask_followup(id, &question).await.unwrap());
    let card = s.handoff(id).await.unwrap().card;
    s.reopen_handoff(id, &card, now_ms() + 60_000, &[])
        .await
        .unwrap();
    let h = s.handoff(id).await.unwrap();
    assert_eq!(
        h.followup.answer,
        Some(anfu::store::FollowupAnswer::Unhappy)
    );
    assert!(!h.followup.review_invited);
    assert!(
        !s.followup_satisfied(id, None).await.unwrap(),
        "open again: no answer"
    );
}
