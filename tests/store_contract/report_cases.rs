//! The complaint report, computed in SQL on each backend, checked against a seeded set.

#![allow(clippy::unwrap_used)]

use crate::cases::{card, ticket};
use crate::db::Db;
use anfu::domain::{Evidence, IssueType, Mood, Priority, Threat};
use anfu::store::{now_ms, Count, HandoffChange, ReportQuery};

fn evidence(label: &str, text: &str) -> Evidence {
    Evidence {
        label: label.into(),
        text: text.into(),
        start: 0,
        end: text.chars().count(),
    }
}

fn count(key: &str, n: i64) -> Count {
    Count {
        key: key.into(),
        count: n,
    }
}

pub async fn the_report_counts_a_seeded_set(db: &Db) {
    let s = &db.store;
    let seeded = [
        (
            "r1",
            IssueType::Quality,
            Mood::Angry,
            vec![Threat::BadReview],
            "开线",
        ),
        ("r2", IssueType::Quality, Mood::Disappointed, vec![], "开线"),
        ("r3", IssueType::Quality, Mood::Angry, vec![], "起球"),
        (
            "r4",
            IssueType::Logistics,
            Mood::Anxious,
            vec![Threat::BadReview, Threat::Regulator],
            "没到",
        ),
    ];
    let start = now_ms();
    let mut ids = Vec::new();
    for (conversation, issue, mood, threats, term) in seeded {
        let mut c = card(conversation, Priority::P2);
        c.issue_type = Some(issue);
        c.mood = mood;
        c.threats = threats;
        c.evidence = vec![
            evidence(&format!("issue_type:{issue}"), term),
            evidence("mood:angry", "气死"),
        ];
        let (id, _) = ticket(s, &format!("{conversation}-1"), conversation, move |_| {
            HandoffChange::Open {
                card: Box::new(c),
                sla_due_at: now_ms() + 3_600_000,
            }
        })
        .await;
        ids.push(id.unwrap());
    }
    // Two answered, one resolved; one breached; one a repeat.
    s.queue_agent_reply(ids[0], "amy", "您好").await.unwrap();
    s.queue_agent_reply(ids[1], "amy", "您好").await.unwrap();
    s.resolve_handoff(ids[0]).await.unwrap();
    s.record_breach(ids[3], &[]).await.unwrap();
    let resolved = s.resolve_handoff(ids[2]).await.unwrap();
    s.reopen_handoff(ids[2], &resolved.card, now_ms() + 60_000, &[])
        .await
        .unwrap();

    let q = ReportQuery {
        from: start - 1_000,
        to: now_ms() + 1_000,
        shop: None,
        utc_offset_ms: 8 * 3_600_000,
    };
    let r = s.report(&q).await.unwrap();
    assert_eq!(r.tickets, 4);
    let per_issue: i64 = r
        .daily
        .iter()
        .filter(|d| d.issue_type == "quality")
        .map(|d| d.count)
        .sum();
    assert_eq!(per_issue, 3, "{:?}", r.daily);
    assert_eq!(r.daily.iter().map(|d| d.count).sum::<i64>(), 4);
    let today = (now_ms() + q.utc_offset_ms) / 86_400_000;
    assert!(
        r.daily.iter().all(|d| d.day == today || d.day == today - 1),
        "{:?}",
        r.daily
    );
    assert_eq!(r.by_shop, [count("xiaoyu", 4)]);
    assert_eq!(
        r.moods,
        [
            count("angry", 2),
            count("anxious", 1),
            count("disappointed", 1)
        ]
    );
    assert_eq!(r.threats, [count("bad_review", 2), count("regulator", 1)]);
    assert_eq!((r.sla_breached, r.repeats), (1, 1));
    assert!(r.median_first_response_ms.is_some_and(|ms| ms >= 0));
    assert!(r.median_resolution_ms.is_some_and(|ms| ms >= 0));
    assert_eq!(r.top_terms.len(), 2, "{:?}", r.top_terms);
    let quality = r
        .top_terms
        .iter()
        .find(|t| t.issue_type == "quality")
        .unwrap();
    assert_eq!(quality.terms, [count("开线", 2), count("起球", 1)]);

    // Another shop, and a range before anything: nothing.
    let other = ReportQuery {
        shop: Some("elsewhere".into()),
        ..q.clone()
    };
    assert_eq!(s.report(&other).await.unwrap().tickets, 0);
    let before = ReportQuery {
        from: 0,
        to: start - 1_000,
        ..q
    };
    let empty = s.report(&before).await.unwrap();
    assert_eq!((empty.tickets, empty.median_first_response_ms), (0, None));
    assert!(empty.daily.is_empty() && empty.top_terms.is_empty());
}
