//! Retention (`storage.keep`): old finished jobs and the messages of settled conversations
//! go, in bounded batches; open tickets, their messages and waiting work stay, and so do the
//! tickets themselves.

use crate::cases::{accept, open_ticket, ticket, SHOP};
use crate::db::Db;
use anfu::domain::Priority;
use anfu::store::{now_ms, HandoffChange, Purged};

pub async fn retention_deletes_settled_rows_in_batches_and_keeps_open_work(db: &Db) {
    let s = &db.store;
    let due = now_ms() + 3_600_000;
    ticket(s, "settled-1", "settled", |_| HandoffChange::None).await;
    let resolved = open_ticket(s, "resolved", Priority::P2, due).await;
    s.resolve_handoff(resolved).await.expect("resolve");
    let open = open_ticket(s, "open", Priority::P1, due).await;
    assert!(accept(s, "waiting-1", "waiting").await);
    let messages = |conversation: &'static str| async move {
        s.messages_since(SHOP, conversation, 0, 500)
            .await
            .expect("messages")
            .len()
    };
    let open_lines = messages("open").await;
    assert!(open_lines > 0);

    // Nothing is old enough yet.
    let an_hour_ago = now_ms() - 3_600_000;
    assert_eq!(
        s.purge(an_hour_ago, 500).await.expect("purge"),
        Purged::default()
    );

    // Everything is, a moment from now: one row of each a batch, until none is left.
    let cutoff = now_ms() + 1_000;
    let first = s.purge(cutoff, 1).await.expect("purge");
    assert_eq!((first.jobs, first.messages), (1, 1), "batches are bounded");
    let mut rounds = 0;
    while s.purge(cutoff, 1).await.expect("purge") != Purged::default() {
        rounds += 1;
        assert!(rounds < 50, "purging ends");
    }
    s.reclaim().await.expect("reclaim");

    assert_eq!(messages("settled").await, 0);
    assert_eq!(messages("resolved").await, 0);
    assert_eq!(
        messages("open").await,
        open_lines,
        "an open ticket keeps its messages"
    );
    assert_eq!(
        messages("waiting").await,
        1,
        "waiting processing keeps its message"
    );
    assert_eq!(s.handoff(resolved).await.expect("kept").status, "resolved");
    assert_eq!(s.handoff(open).await.expect("kept").status, "open");
    let jobs = s.job_counts().await.expect("counts");
    let count = |kind: &str, status: &str| {
        jobs.iter()
            .filter(|(k, st, _)| k == kind && st == status)
            .map(|(_, _, n)| *n)
            .sum::<i64>()
    };
    assert_eq!(count("process", "done"), 0, "{jobs:?}");
    assert_eq!(count("process", "pending"), 1, "{jobs:?}");
}
