//! Processing steps and handoff tickets: one commit writes everything, one open ticket per
//! conversation, updates, reopening, claims and notes.

#![allow(clippy::unwrap_used)]

use crate::cases::*;
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{
    now_ms, ConversationState, HandoffChange, HandoffFilter, JobKind, ProcessOutcome, ReplyPayload,
    StoreError,
};

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
