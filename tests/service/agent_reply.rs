//! Agents answer the buyer from anfu (platforms.md §8), on every platform and both stores:
//! the line goes out through the shop's send API, a failed send is retried, and the ticket
//! shows each line's delivery and its first response.

use crate::pg::TestDb;
use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use anfu::standin::Scripted;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

fn fast() -> Options {
    Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        ..Options::default()
    }
}

/// A complaint to `shop` that opens a ticket; its id once the bot's reply went out.
async fn ticket_of(app: &TestApp, shop: &str) -> i64 {
    let before = app.standin.delivered().len();
    let status = match shop {
        "tb" => {
            let body = envelope("2990000000001", "cnv-reply", THREAT, None);
            app.taobao_push("tb", &body, HmacSha256).await.0
        }
        "rk" => {
            let first = inquiry(
                "338276-20261105-9t",
                "包裹一直没到,再不处理我就投诉到乐天!",
                json!([]),
            );
            app.rakuten_push(&first).await.0
        }
        _ => {
            let body = json!({"message_id": "m-reply", "conversation_id": "c-reply",
                              "buyer": {"id": "u", "nick": "Lin"}, "text": THREAT,
                              "order_id": null, "sent_at": null});
            app.generic_push(body.to_string().as_bytes(), "wh-reply")
                .await
                .0
        }
    };
    assert!(
        (200..300).contains(&status),
        "{shop}: push answered {status}"
    );
    app.standin.wait_delivered(before + 1, WAIT).await;
    app.settle().await;
    let tickets = app.handoffs().await;
    let ticket = tickets
        .iter()
        .find(|h| h["card"]["shop"] == shop)
        .unwrap_or_else(|| panic!("{shop}: no ticket in {tickets:?}"));
    ticket["id"].as_i64().expect("ticket id")
}

async fn reply(app: &TestApp, id: i64, body: Value) -> (u16, Value) {
    app.agent(
        Method::POST,
        &format!("/v1/handoffs/{id}/reply"),
        Some(body),
    )
    .await
}

async fn answers_on_every_platform(storage_url: Option<String>) {
    let app = spawn_app_with(Options {
        storage_url,
        ..fast()
    })
    .await;
    for shop in ["tb", "rk", "gen"] {
        let id = ticket_of(&app, shop).await;
        let (_, fresh) = app
            .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
            .await;
        assert_eq!(fresh["first_response_at"], Value::Null, "{fresh}");

        // The first send fails; the retry delivers it.
        let delivered = app.standin.delivered().len();
        let calls = app.standin.call_count();
        app.standin.script([Scripted::status(503)]);
        let text = format!("您好，我是客服王敏，{shop}的问题已为您加急处理。");
        let (status, queued) = reply(&app, id, json!({"agent": "王敏", "text": text})).await;
        assert_eq!(status, 202, "{shop}: {queued}");
        assert_eq!(queued["status"], "queued");
        let message_id = queued["message_id"]
            .as_str()
            .expect("message_id")
            .to_string();

        let sent = app.standin.wait_delivered(delivered + 1, WAIT).await;
        let line = sent.last().expect("a delivery");
        assert_eq!(line.text, text, "{shop}");
        if shop == "gen" {
            assert_eq!(line.key, message_id, "the line's id is the idempotency key");
        }
        assert_eq!(
            app.standin.call_count(),
            calls + 2,
            "{shop}: one failure, one success"
        );
        app.settle().await;

        let (_, ticket) = app
            .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
            .await;
        let lines = ticket["replies"].as_array().expect("replies");
        assert_eq!(lines.len(), 1, "{ticket}");
        assert_eq!(lines[0]["message_id"], message_id.as_str());
        assert_eq!(lines[0]["agent"], "王敏");
        assert_eq!(lines[0]["status"], "sent", "{ticket}");
        assert_eq!(lines[0]["attempts"], 2);
        assert!(ticket["first_response_at"].is_string(), "{ticket}");
    }
}

#[tokio::test]
async fn agents_answer_on_every_platform_with_a_retried_send_on_sqlite() {
    answers_on_every_platform(None).await;
}

#[tokio::test]
async fn agents_answer_on_every_platform_with_a_retried_send_on_postgres() {
    let db = TestDb::create().await;
    answers_on_every_platform(Some(db.url.clone())).await;
}

#[tokio::test]
async fn bad_replies_are_refused_and_a_refused_send_shows_failed_with_its_reason() {
    let app = spawn_app_with(fast()).await;
    let id = ticket_of(&app, "gen").await;
    for (body, why) in [
        (json!({"agent": "王敏", "text": "   "}), "empty text"),
        (
            json!({"agent": "王敏", "text": "好".repeat(2001)}),
            "over-long text",
        ),
        (json!({"agent": "", "text": "您好"}), "no agent"),
        (json!({"text": "您好"}), "agent missing"),
    ] {
        let (status, error) = reply(&app, id, body).await;
        assert_eq!(status, 400, "{why}: {error}");
        assert!(error["error"].is_string(), "{why}: {error}");
    }
    let (status, _) = reply(&app, id + 100, json!({"agent": "王敏", "text": "您好"})).await;
    assert_eq!(status, 404);
    let unauthorised = app
        .client
        .post(format!("{}/v1/handoffs/{id}/reply", app.base))
        .json(&json!({"agent": "王敏", "text": "您好"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);

    // 2 000 characters is the limit, not over it.
    let delivered = app.standin.delivered().len();
    let (status, _) = reply(
        &app,
        id,
        json!({"agent": "王敏", "text": "好".repeat(2000)}),
    )
    .await;
    assert_eq!(status, 202);
    app.standin.wait_delivered(delivered + 1, WAIT).await;

    // A send refused for good: the line shows failed, with the platform's reason.
    app.standin.script([Scripted::status(400)]);
    let (status, _) = reply(&app, id, json!({"agent": "王敏", "text": "再次致歉"})).await;
    assert_eq!(status, 202);
    let failed = wait_until(WAIT, || async {
        let (_, t) = app
            .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
            .await;
        t["replies"][1]["status"] == "failed"
    })
    .await;
    let (_, ticket) = app
        .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
        .await;
    assert!(failed, "{ticket}");
    assert!(
        ticket["replies"][1]["error"]
            .as_str()
            .unwrap()
            .contains("400"),
        "{ticket}"
    );
    assert_eq!(ticket["replies"][0]["status"], "sent");

    let (status, _) = app
        .agent(Method::POST, &format!("/v1/handoffs/{id}/resolve"), None)
        .await;
    assert_eq!(status, 200);
    let (status, error) = reply(&app, id, json!({"agent": "王敏", "text": "还在吗"})).await;
    assert_eq!(status, 409, "{error}");
}

#[tokio::test]
async fn a_long_agent_reply_to_rakuten_is_fitted_to_its_limits() {
    let app = spawn_app_with(fast()).await;
    let id = ticket_of(&app, "rk").await;
    let delivered = app.standin.delivered().len();
    let text = "非常抱歉给您带来不便".repeat(150);
    let (status, _) = reply(&app, id, json!({"agent": "王敏", "text": text})).await;
    assert_eq!(status, 202);
    let sent = app.standin.wait_delivered(delivered + 1, WAIT).await;
    let call = app.standin.calls().pop().unwrap();
    assert_eq!(call.platform, "rakuten");
    let message = &call.fields["message"];
    assert!(message.chars().count() <= 2000);
    assert!(
        message.lines().all(|l| l.chars().count() <= 300),
        "{message}"
    );
    assert_eq!(sent.len(), delivered + 1);
}

#[tokio::test]
async fn buyers_and_agents_read_the_shops_name_not_its_id() {
    let app = spawn_app_with(Options {
        gen_shop: "name = \"小鱼家旗舰店\"".into(),
        ..fast()
    })
    .await;
    for i in 0..4 {
        let body = json!({"message_id": format!("m-hi-{i}"), "conversation_id": format!("c-hi-{i}"),
                          "buyer": {"id": "u", "nick": "Lin"}, "text": "在吗",
                          "order_id": null, "sent_at": null});
        let status = app
            .generic_push(body.to_string().as_bytes(), &format!("wh-hi-{i}"))
            .await
            .0;
        assert_eq!(status, 204);
    }
    let replies = app.standin.wait_delivered(4, WAIT).await;
    let texts: Vec<&str> = replies.iter().map(|d| d.text.as_str()).collect();
    assert!(
        texts.iter().any(|t| t.contains("小鱼家旗舰店")),
        "{texts:?}"
    );
    assert!(texts.iter().all(|t| !t.contains("gen")), "{texts:?}");

    let id = ticket_of(&app, "gen").await;
    let (_, ticket) = app
        .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
        .await;
    assert_eq!(ticket["card"]["shop_name"], "小鱼家旗舰店", "{ticket}");
    assert_eq!(ticket["card"]["shop"], "gen");
}

#[tokio::test]
async fn the_reply_box_offers_drafts_for_the_ticket_filled_for_the_shop_and_agent() {
    let app = spawn_app_with(Options {
        gen_shop: "name = \"小鱼家旗舰店\"".into(),
        ..fast()
    })
    .await;
    let id = ticket_of(&app, "gen").await;
    let path = format!("/v1/handoffs/{id}/drafts?agent=%E7%8E%8B%E6%95%8F");
    let (status, body) = app.agent(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let drafts: Vec<&str> = body["drafts"]
        .as_array()
        .expect("drafts")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!((2..=3).contains(&drafts.len()), "{drafts:?}");
    assert!(drafts.iter().all(|d| !d.contains('{')), "{drafts:?}");
    // The buyer threatened: the angry draft, with the agent's name, comes first.
    assert!(drafts[0].contains("王敏"), "{drafts:?}");
    let (status, _) = app
        .agent(
            Method::GET,
            &format!("/v1/handoffs/{}/drafts", id + 100),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let anonymous = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
}
