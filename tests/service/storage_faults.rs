//! The database failing under a running service (SQLite here; PostgreSQL outages are in the
//! cluster tests): locked by another process, and full. Webhooks get 503 with Retry-After in
//! time for the platform to redeliver, nothing half-written is kept, no job uses up its
//! attempts on it, and once the database is back every acknowledged message is answered once.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use serde_json::{json, Value};
use sqlx::{Connection, SqliteConnection};
use std::time::Duration;

async fn open(app: &TestApp) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", app.db.display()))
        .await
        .expect("a second connection to the test database")
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let mut c = open(app).await;
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut c)
        .await
        .expect("count");
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_answers_503_in_time_and_the_redelivery_is_answered_once() {
    let app = spawn_app().await;
    let before = envelope("2920000000301", "cnv-lock-1", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &before, HmacSha256).await.0, 200);
    app.settle().await;

    // Another process (a backup, an sqlite3 shell) holds the write lock for 6 s: longer than
    // a webhook may wait (3 s), shorter than SQLite's busy timeout (10 s). Without the
    // webhook's own limit the push below would hang for 6 s and then succeed.
    let mut holder = open(&app).await;
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("take the write lock");
    let release = async {
        tokio::time::sleep(Duration::from_secs(6)).await;
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut holder)
            .await
            .expect("release the write lock");
    };
    let during = envelope("2920000000302", "cnv-lock-2", COMPLAINT, None);
    let push = async {
        let answer = app.taobao_push("tb", &during, HmacSha256).await;
        let health = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .expect("healthz")
            .status();
        (answer, health)
    };
    let (((status, body), health), ()) = tokio::join!(push, release);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "store-unavailable", "{body}");
    assert_eq!(health, 200, "the service stays up");

    // The platform redelivers; whether the first try was written after all (the lock was
    // released before SQLite gave up) or not, the message is stored and answered once.
    let redelivered = wait_until(Duration::from_secs(15), || async {
        app.taobao_push("tb", &during, HmacSha256).await.0 == 200
    })
    .await;
    assert!(redelivered, "accepted once the lock is gone");
    app.settle().await;
    assert_eq!(count(&app, "messages").await, 2);
    let to_second: Vec<_> = app
        .standin
        .delivered()
        .into_iter()
        .filter(|d| d.conversation_id == "cnv-lock-2")
        .collect();
    assert_eq!(to_second.len(), 1, "one reply: {to_second:?}");
    assert!(app.jobs("dead").await.is_empty());
}

fn generic_message(n: usize) -> Vec<u8> {
    // Long complaints (about 6 KB each) fill the capped file in a few dozen messages.
    let text = format!(
        "{COMPLAINT}{}",
        "质量太差了，做工粗糙，完全不能用。".repeat(110)
    );
    json!({"message_id": format!("full-{n}"), "conversation_id": format!("cnv-full-{n}"),
           "buyer": {"id": format!("buyer-full-{n}"), "nick": "Lin"},
           "text": text, "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes()
}

async fn ready(app: &TestApp) -> (u16, Value) {
    app.agent(reqwest::Method::GET, "/readyz", None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_webhooks_with_503_and_an_alert_then_catches_up_once_there_is_room()
{
    let app = spawn_app().await;
    let mut db = open(&app).await;
    let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
        .fetch_one(&mut db)
        .await
        .expect("page_count");
    drop(db);
    // Room for about 160 KB more than the migrated, empty database.
    let capped = Options {
        storage: format!("max_size = {}", (pages + 40) * 4096),
        ..Options::default()
    };
    let app = app.restart_with(capped).await;

    let mut acked = 0;
    let mut refused = None;
    for n in 0..300 {
        let body = generic_message(n);
        let (status, answer) = app.generic_push(&body, &format!("wh-full-{n}")).await;
        match status {
            204 => acked += 1,
            503 => {
                assert_eq!(answer["error"]["code"], "store-full", "{answer}");
                refused = Some((n, body));
                break;
            }
            other => panic!("push {n}: {other} {answer}"),
        }
    }
    let (n, body) = refused.expect("the capped database fills up");
    assert!(acked > 0, "some messages fit before it filled");

    let (status, readiness) = ready(&app).await;
    assert_eq!(status, 503, "{readiness}");
    assert!(
        readiness["alerts"]["storage"]
            .as_str()
            .is_some_and(|a| a.contains("full")),
        "{readiness}"
    );
    // Nothing half-written: exactly the acknowledged messages are stored.
    assert_eq!(count(&app, "messages").await, acked);
    // Jobs that cannot write wait; they do not burn their 3 attempts and die.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.jobs("dead").await.is_empty(), "no dead letters");

    // The operator makes room (here: lifts the cap) and restarts; the platform redelivers.
    let app = app.restart_with(Options::default()).await;
    assert_eq!(
        app.generic_push(&body, &format!("wh-full-{n}")).await.0,
        204
    );
    let everyone = acked as usize + 1;
    let delivered = app
        .standin
        .wait_delivered(everyone, Duration::from_secs(60))
        .await;
    app.settle().await;
    assert_eq!(
        delivered.len(),
        everyone,
        "every acknowledged message answered"
    );
    assert_eq!(app.standin.delivered().len(), everyone, "and answered once");
    assert!(app.jobs("dead").await.is_empty());
    assert_eq!(ready(&app).await.0, 200);
}

/// The reply is sent at once after processing. The store failing right after that send (here
/// the disk fills up as the reply job is marked done) must put the reply back without
/// counting the attempt: with `max_attempts = 1`, a counted attempt dead-letters the reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_right_after_the_inline_reply_spends_no_attempt() {
    let app = spawn_app_with(Options {
        storage: "max_size = 8388608".into(),
        max_attempts: 1,
        ..Options::default()
    })
    .await;
    let mut db = open(&app).await;
    sqlx::raw_sql(
        "CREATE TABLE fault (on_ INTEGER);
         INSERT INTO fault VALUES (1);
         CREATE TABLE filler (b BLOB);
         CREATE TRIGGER full_when_a_reply_is_done BEFORE UPDATE OF status ON jobs
         WHEN NEW.kind = 'reply' AND NEW.status = 'done' AND EXISTS (SELECT 1 FROM fault)
         BEGIN INSERT INTO filler VALUES (zeroblob(16000000)); END;",
    )
    .execute(&mut db)
    .await
    .expect("the fault");
    let body = envelope("2920000000401", "cnv-inline-full", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let sent = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert_eq!(sent.len(), 1);
    // Marking it done keeps failing for a while: the reply waits, it does not die.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        app.jobs("dead").await.is_empty(),
        "{:?}",
        app.jobs("dead").await
    );
    sqlx::raw_sql("DELETE FROM fault")
        .execute(&mut db)
        .await
        .expect("lift the fault");
    app.settle().await;
    let replies: Vec<Value> = app
        .all_jobs()
        .await
        .into_iter()
        .filter(|j| j["kind"] == "reply")
        .collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["status"], "done", "{replies:?}");
    assert_eq!(replies[0]["attempts"], 1, "the outage spent no attempt");
    assert_eq!(app.standin.delivered().len(), 1, "shown to the buyer once");
}
