//! The shop's side of a conversation where the platform reports it: Rakuten's merchant
//! replies join the ticket's transcript as seller lines, are never answered, and anfu's own
//! replies coming back that way are not listed twice.

use crate::support::*;
use serde_json::{json, Value};
use std::time::Duration;

const NUMBER: &str = "338276-20261105-8s";

fn transcript(ticket: &Value) -> Vec<(String, String)> {
    ticket["card"]["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| {
            let field = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (field("kind"), field("text"))
        })
        .collect()
}

#[tokio::test]
async fn rakuten_merchant_replies_are_seller_lines_and_never_answered() {
    let app = spawn_app().await;
    let complaint = "收到的杯子破了一個，請問可以補寄嗎？";
    let (status, _) = app
        .rakuten_push(&inquiry(NUMBER, complaint, json!([])))
        .await;
    assert_eq!(status, 200);
    let sent = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;
    let bot = sent.last().expect("the bot's reply").text.clone();

    // The relay pushes the inquiry again: anfu's reply (reply 1, from the merchant), the
    // staff's own line (2), and the buyer's follow-up (3).
    let replies = json!([
        {"id": 1, "message": bot, "replyFrom": "merchant", "regDate": "2026-11-05T14:04:00+09:00"},
        {"id": 2, "message": "您好，請提供破損照片", "replyFrom": "merchant", "regDate": "2026-11-05T14:10:00+09:00"},
        {"id": 3, "message": "照片已經上傳了，請盡快處理", "replyFrom": "user", "regDate": "2026-11-05T14:20:00+09:00"},
    ]);
    let (status, _) = app.rakuten_push(&inquiry(NUMBER, complaint, replies)).await;
    assert_eq!(status, 200);
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.settle().await;

    let ticket = app
        .handoffs()
        .await
        .into_iter()
        .find(|h| h["card"]["conversation_id"] == NUMBER)
        .expect("a ticket");
    let lines = transcript(&ticket);
    let line = |kind: &str, text: &str| (kind.to_string(), text.to_string());
    assert_eq!(
        lines,
        [
            line("buyer_text", complaint),
            line("seller", "您好，請提供破損照片"),
            line("buyer_text", "照片已經上傳了，請盡快處理"),
        ],
        "anfu's own reply is not listed again: {ticket}"
    );
    assert_eq!(
        app.standin.delivered().len(),
        1,
        "the handed-off conversation gets no second bot reply"
    );
}
