//! Conversation rules: redelivery, bursts, cooldown, silence after handoff.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use std::time::Duration;

#[tokio::test]
async fn a_redelivered_message_is_acknowledged_again_and_processed_once() {
    let app = spawn_app().await;
    let body = envelope(
        "2841093376812",
        "cnv-dup",
        COMPLAINT,
        Some("3721458805123456789"),
    );
    for _ in 0..3 {
        let (status, _) = app.taobao_push("tb", &body, HmacSha256).await;
        assert_eq!(status, 200);
    }
    app.settle().await;
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.standin.delivered().len(), 1, "{delivered:?}");
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs.len(), 1);
    let card = &handoffs[0]["card"];
    assert_eq!(card["order_id"], "3721458805123456789");
    assert_eq!(card["issue_type"], "quality");
    assert_eq!(card["transcript"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_burst_is_answered_once_and_makes_one_ticket() {
    let app = spawn_app().await;
    let texts = ["在吗", "衣服收到了 开线了", "质量太差了,我要退货退款"];
    for (i, text) in texts.iter().enumerate() {
        let body = envelope(&format!("28410000000{i}"), "cnv-burst", text, None);
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.standin.delivered().len(),
        1,
        "{:?}",
        app.standin.delivered()
    );
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs.len(), 1, "{handoffs:?}");
}

#[tokio::test]
async fn cooldown_allows_one_reply_unless_the_mood_escalates() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"1h\"",
        ..Options::default()
    })
    .await;
    let push = |i: u32, text: &'static str| {
        let body = envelope(&format!("29000000000{i}"), "cnv-cool", text, None);
        let app = &app;
        async move { assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200) }
    };
    push(1, INQUIRY).await;
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    push(2, "那大概几号能到呢").await;
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.standin.delivered().len(),
        1,
        "calm follow-up within cooldown stays unanswered"
    );
    push(3, "怎么还不发货!!!气死了,骗子店铺").await;
    let delivered = app.standin.wait_delivered(2, Duration::from_secs(10)).await;
    assert_eq!(
        delivered.len(),
        2,
        "an angry escalation is answered despite the cooldown"
    );
}

#[tokio::test]
async fn after_handoff_the_bot_is_silent_and_the_ticket_grows_and_escalates() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        ..Options::default()
    })
    .await;
    let first = envelope("2910000000001", "cnv-hand", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &first, HmacSha256).await.0, 200);
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;
    let before = app.handoffs().await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["priority"], "P2");
    tokio::time::sleep(Duration::from_millis(150)).await;

    let second = envelope("2910000000002", "cnv-hand", THREAT, None);
    assert_eq!(app.taobao_push("tb", &second, HmacSha256).await.0, 200);
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        app.standin.delivered().len(),
        1,
        "handed off: no second auto-reply"
    );
    let after = app.handoffs().await;
    assert_eq!(after.len(), 1, "appended to the open ticket");
    assert_eq!(after[0]["priority"], "P1", "a threat raises the priority");
    let card = &after[0]["card"];
    assert_eq!(card["transcript"].as_array().unwrap().len(), 2);
    let threats: Vec<&str> = card["threats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(
        threats.contains(&"bad_review") && threats.contains(&"regulator"),
        "{threats:?}"
    );
    assert!(card["sla_due"].as_str().unwrap() <= before[0]["card"]["sla_due"].as_str().unwrap());
}

#[tokio::test]
async fn a_ticket_keeps_the_newest_fifty_lines_however_long_the_buyer_goes_on() {
    let app = spawn_app().await;
    let first = envelope("2960000100000", "cnv-long", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &first, HmacSha256).await.0, 200);
    app.standin
        .wait_delivered(1, std::time::Duration::from_secs(10))
        .await;
    for i in 1..=80 {
        let body = envelope(
            &format!("29600001{i:05}"),
            "cnv-long",
            &format!("第{i}条：还没处理吗"),
            None,
        );
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
    app.settle().await;
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs.len(), 1);
    let transcript = handoffs[0]["card"]["transcript"].as_array().expect("lines");
    assert_eq!(transcript.len(), 50, "bounded");
    assert_eq!(
        transcript[49]["text"], "第80条：还没处理吗",
        "the newest kept"
    );
}

/// An agent resolves the ticket while the worker takes in the buyer's next message: the
/// worker has read that the conversation has a ticket, then finds it resolved (the database
/// is put into that state directly: the ticket resolved, the conversation still pointing at
/// it). The buyer is answered and gets a new ticket; the message must not vanish into the
/// closed one.
#[tokio::test]
async fn a_message_meeting_a_ticket_resolved_meanwhile_gets_a_reply_and_a_new_ticket() {
    use sqlx::Connection;
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        ..Options::default()
    })
    .await;
    let first = envelope("2910000000101", "cnv-race", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &first, HmacSha256).await.0, 200);
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;
    let ticket = app.handoffs().await[0]["id"].as_i64().expect("a ticket");
    let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db.display()))
        .await
        .expect("the test database");
    sqlx::query("UPDATE handoffs SET status = 'resolved' WHERE id = ?")
        .bind(ticket)
        .execute(&mut db)
        .await
        .expect("resolve behind the worker's back");
    tokio::time::sleep(Duration::from_millis(150)).await;

    let second = envelope("2910000000102", "cnv-race", THREAT, None);
    assert_eq!(app.taobao_push("tb", &second, HmacSha256).await.0, 200);
    let delivered = app.standin.wait_delivered(2, Duration::from_secs(10)).await;
    app.settle().await;
    assert_eq!(
        delivered.len(),
        2,
        "the new message is answered: {delivered:?}"
    );
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs.len(), 2, "{handoffs:?}");
    let old = handoffs
        .iter()
        .find(|h| h["id"] == ticket)
        .expect("the old ticket");
    assert_eq!(old["status"], "resolved");
    assert_eq!(
        old["card"]["transcript"].as_array().unwrap().len(),
        1,
        "left alone"
    );
    let new = handoffs
        .iter()
        .find(|h| h["id"] != ticket)
        .expect("a new ticket");
    assert_eq!(new["status"], "open");
    let lines = new["card"]["transcript"].to_string();
    assert!(
        lines.contains("12315"),
        "the new ticket holds the new message: {lines}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_into_one_conversation_is_worked_through_in_bounded_steps() {
    use anfu::domain::{BuyerMessage, MessageKind};
    let app = spawn_app().await;
    // 450 messages stored together (as one group commit would) wait for one processing
    // job: a step takes 200 at most and queues the conversation again for the rest.
    let store = &app.state.store;
    let accepts = (0..450).map(|i| {
        let message = BuyerMessage {
            message_key: format!("flood-{i}"),
            conversation_id: "cnv-flood".into(),
            buyer_id: Some("b_flood".into()),
            buyer_nick: None,
            text: format!("第{i}次问了,快递到底什么时候到"),
            order_id: None,
            sent_at: None,
            kind: MessageKind::BuyerText,
        };
        async move { store.accept("tb", "taobao", &message).await }
    });
    for accepted in futures_util::future::join_all(accepts).await {
        assert!(accepted.expect("stored"));
    }
    let processed = wait_until(Duration::from_secs(30), || async {
        store
            .unprocessed("tb", "cnv-flood", 500)
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    assert!(processed, "every message of the flood is processed");
    app.settle().await;
    let steps = store
        .jobs(Some("done"))
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.conversation_id == "cnv-flood" && j.kind.as_str() == "process")
        .count();
    assert!(
        steps >= 3,
        "450 messages take at least three steps, not {steps}"
    );
    assert_eq!(
        app.handoffs().await.len(),
        1,
        "one ticket for the conversation"
    );
}
