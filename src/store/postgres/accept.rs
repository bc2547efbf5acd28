//! PostgreSQL's group commit of webhooks (see `group_commit.rs`): a whole group is one
//! statement over its columns (`UNNEST`), one transaction, one WAL flush, instead of one
//! round trip and one commit per message. It stores the messages whose key is new and queues
//! one processing job per conversation that has none waiting; where one waits, a no-op
//! update locks it until the commit, so a worker cannot claim it (and read the conversation)
//! between the insert and the commit and miss the message.
//!
//! Acks rose by a third on one instance (BENCHMARKS.md). A first try on 2026-12-03 was
//! reverted because the workers' drain fell to a third; the cause was the claim's plan, not
//! this statement (see `migrations/postgres/0012_claim_order.sql`).

use super::t;
use crate::store::group_commit::{self, AcceptRequest, Failed};
use crate::store::{now_ms, StoreError};
use sqlx::{PgPool, Row};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

const ACCEPT_GROUP: &str = "WITH input AS (
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS i(shop, platform, message_key, conversation_id, buyer_id, buyer_nick, text,
              order_id, sent_at, kind)
     ), m AS (
       INSERT INTO messages (shop, platform, message_key, conversation_id, buyer_id,
         buyer_nick, text, order_id, sent_at, received_at, kind)
       SELECT shop, platform, message_key, conversation_id, buyer_id, buyer_nick, text,
         order_id, sent_at, $11, kind FROM input
       ON CONFLICT (shop, message_key) DO NOTHING
       RETURNING shop, message_key, conversation_id, received_at
     ), queued AS (
       INSERT INTO jobs (kind, shop, conversation_id, payload, status, run_at, created_at,
         updated_at)
       SELECT DISTINCT ON (shop, conversation_id) 'process', shop, conversation_id, '{}',
         'pending', received_at, received_at, received_at
       FROM m ORDER BY shop, conversation_id
       ON CONFLICT (shop, conversation_id) WHERE kind = 'process' AND status = 'pending'
       DO UPDATE SET updated_at = jobs.updated_at
     )
     SELECT shop, message_key FROM m";

/// A group waits at most this long for the database. The webhooks behind it stop waiting
/// sooner (`http/webhooks.rs`, 3 s, then 503); this keeps a statement stuck on a dead
/// connection from holding every later group. If it commits after all, the redeliveries are
/// told apart as duplicates.
const GROUP_WAIT: Duration = Duration::from_secs(5);

/// Commits groups, one at a time, until the store is dropped.
pub(super) async fn committer(pool: PgPool, mut queue: mpsc::Receiver<AcceptRequest>) {
    while let Some(group) = group_commit::next_group(&mut queue).await {
        let outcome = match tokio::time::timeout(GROUP_WAIT, commit_group(&pool, &group)).await {
            Ok(committed) => committed.map_err(Failed::from),
            Err(_) => Err(Failed {
                full: false,
                message: format!("no answer from PostgreSQL within {GROUP_WAIT:?}"),
            }),
        };
        group_commit::answer(group, outcome);
    }
}

async fn commit_group(pool: &PgPool, group: &[AcceptRequest]) -> Result<Vec<bool>, StoreError> {
    // In key order: two instances' groups then take the unique keys' locks in the same
    // order and cannot deadlock on them.
    let mut rows: Vec<&AcceptRequest> = group.iter().collect();
    rows.sort_by(|a, b| (&a.shop, &a.message.message_key).cmp(&(&b.shop, &b.message.message_key)));
    let text = |f: fn(&AcceptRequest) -> &str| -> Vec<String> {
        rows.iter().map(|r| t(f(r)).into_owned()).collect()
    };
    let maybe = |f: fn(&AcceptRequest) -> Option<&str>| -> Vec<Option<String>> {
        rows.iter()
            .map(|r| f(r).map(|v| t(v).into_owned()))
            .collect()
    };
    let found = sqlx::query(ACCEPT_GROUP)
        .bind(text(|r| &r.shop))
        .bind(text(|r| &r.platform))
        .bind(text(|r| &r.message.message_key))
        .bind(text(|r| &r.message.conversation_id))
        .bind(maybe(|r| r.message.buyer_id.as_deref()))
        .bind(maybe(|r| r.message.buyer_nick.as_deref()))
        .bind(text(|r| &r.message.text))
        .bind(maybe(|r| r.message.order_id.as_deref()))
        .bind(maybe(|r| r.message.sent_at.as_deref()))
        .bind(text(|r| r.message.kind.as_str()))
        .bind(now_ms())
        .fetch_all(pool)
        .await?;
    let mut inserted: HashSet<(String, String)> = found
        .iter()
        .map(|row| Ok((row.try_get("shop")?, row.try_get("message_key")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    // A message twice in one group is new the first time only.
    Ok(group
        .iter()
        .map(|r| {
            let key = (
                t(&r.shop).into_owned(),
                t(&r.message.message_key).into_owned(),
            );
            inserted.remove(&key)
        })
        .collect())
}
