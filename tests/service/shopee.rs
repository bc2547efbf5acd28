//! Shopee (platforms.md §7) against the stand-in's Shopee: signed pushes acknowledged with an
//! empty 200, forged ones refused; the shop's own messages, anfu's echoed replies and
//! placeholders never answered; access tokens renewed with the rotated refresh token, across
//! a restart and between two instances on PostgreSQL; a send whose answer was lost is looked
//! up rather than sent twice.

use crate::support::*;
use anfu::standin::{sign, Scripted, ShopeeAccount};
use serde_json::{json, Value};
use std::time::Duration;

pub const PARTNER_ID: u64 = 2001887;
pub const PARTNER_KEY: &str = "shpk-service-test-key";
pub const SHOP_ID: u64 = 14701711;
pub const SELLER: u64 = 947151379;
pub const FIRST_REFRESH: &str = "refresh-first-from-the-console";
pub const WAIT: Duration = Duration::from_secs(10);

/// The push URL as registered in Shopee's console (not the URL anfu listens on).
pub fn callback(shop: &str) -> String {
    format!("https://anfu.example/webhooks/shopee/{shop}")
}

/// Two shops on the stand-in's one Shopee shop: `sp` knows nothing of its seller account
/// (its echoes are told by the ids its sends return), `sp-own` names it.
pub fn options(storage_url: Option<String>) -> Options {
    let shop = |id: &str, extra: &str| {
        format!(
            "[[shops]]\nid = \"{id}\"\nplatform = \"shopee\"\nname = \"台灣小舖\"\n\
             api_base = \"{{base}}\"\npartner_id = {PARTNER_ID}\npartner_key = \"{PARTNER_KEY}\"\n\
             shop_id = {SHOP_ID}\ncallback_url = \"{}\"\nrefresh_token = \"{FIRST_REFRESH}\"\n{extra}\n",
            callback(id)
        )
    };
    Options {
        conversation: "burst_window = \"200ms\"\ncooldown = \"10m\"",
        extra: shop("sp", "") + &shop("sp-own", &format!("seller_user_id = \"{SELLER}\"")),
        storage_url,
        ..Options::default()
    }
}

pub async fn start(storage_url: Option<String>) -> TestApp {
    let app = spawn_app_with(options(storage_url)).await;
    authorise(&app, "sp");
    app
}

/// Authorises the app; the shop's own messages are pushed back to `echo_shop`'s webhook.
pub fn authorise(app: &TestApp, echo_shop: &str) {
    app.standin.shopee_account(ShopeeAccount {
        partner_id: PARTNER_ID,
        partner_key: PARTNER_KEY.into(),
        shop_id: SHOP_ID,
        seller_user_id: SELLER,
        first_refresh_token: FIRST_REFRESH.into(),
    });
    app.standin.shopee_echo_to(
        &format!("{}/webhooks/shopee/{echo_shop}", app.base),
        &callback(echo_shop),
    );
}

/// Posts a push to `shop`, signed over `signed_url`: the status and the raw answer.
pub async fn post(app: &TestApp, shop: &str, body: &[u8], signed_url: &str) -> (u16, String) {
    let authorization = sign::shopee_push(PARTNER_KEY, signed_url, body);
    post_with(app, shop, body, &authorization).await
}

pub async fn post_with(
    app: &TestApp,
    shop: &str,
    body: &[u8],
    authorization: &str,
) -> (u16, String) {
    let response = app
        .client
        .post(format!("{}/webhooks/shopee/{shop}", app.base))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("push");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// A buyer's text in a conversation of their own, pushed to `shop`; its body.
pub async fn buyer_says(app: &TestApp, shop: &str, buyer: u64, text: &str) -> Vec<u8> {
    let (body, _) = app.standin.shopee_push(
        &conversation(buyer),
        buyer,
        SELLER,
        "text",
        json!({"text": text}),
    );
    let (status, answer) = post(app, shop, &body, &callback(shop)).await;
    assert_eq!(
        (status, answer.as_str()),
        (200, ""),
        "a good push is acked empty"
    );
    body
}

pub fn conversation(buyer: u64) -> String {
    format!("70912209247668{buyer}")
}

/// What anfu sent into the buyer's conversation (not the staff's own messages).
pub fn sends_to(app: &TestApp, buyer: u64) -> Vec<String> {
    let conversation = conversation(buyer);
    app.standin
        .delivered()
        .into_iter()
        .filter(|d| d.platform == "shopee" && d.conversation_id == conversation)
        .map(|d| d.text)
        .collect()
}

pub async fn wait_sends(app: &TestApp, buyer: u64, n: usize) -> Vec<String> {
    wait_until(WAIT, || async { sends_to(app, buyer).len() >= n }).await;
    app.settle().await;
    // Echoes and redeliveries have had their chance to (wrongly) cause more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.settle().await;
    sends_to(app, buyer)
}

pub async fn ticket(app: &TestApp, buyer: u64) -> Value {
    let conversation = conversation(buyer);
    app.handoffs()
        .await
        .into_iter()
        .find(|h| h["card"]["conversation_id"] == conversation.as_str())
        .expect("a ticket for the conversation")
}

#[tokio::test]
async fn a_signed_push_is_answered_once_and_forged_pushes_are_refused() {
    let app = start(None).await;
    let buyer = 165105353;
    let body = buyer_says(&app, "sp", buyer, "收到的杯子破了，請問可以補寄嗎？").await;
    let sent = wait_sends(&app, buyer, 1).await;
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    for simplified in ['们', '这', '请', '时', '发', '货', '东', '么'] {
        assert!(!sent[0].contains(simplified), "zh-Hant reply: {}", sent[0]);
    }
    assert_eq!(app.standin.shopee_refreshes(), [FIRST_REFRESH]);

    // Redelivered: acknowledged, not answered again. The echo of the reply neither.
    let (status, _) = post(&app, "sp", &body, &callback("sp")).await;
    assert_eq!(status, 200);
    assert_eq!(wait_sends(&app, buyer, 2).await.len(), 1);
    let card = ticket(&app, buyer).await["card"].clone();
    let kinds: Vec<&str> = card["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| l["kind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["buyer_text"], "anfu's own echo stays out: {card}");
    assert_eq!(card["buyer_id"], buyer.to_string());

    // Forged, signed over the URL anfu sees rather than the registered one, or for another
    // Shopee shop: refused, nothing stored.
    let jobs = app.all_jobs().await.len();
    let other = 88888888;
    let (forged, _) = app.standin.shopee_push(
        &conversation(other),
        other,
        SELLER,
        "text",
        json!({"text": "退款！"}),
    );
    let genuine = sign::shopee_push(PARTNER_KEY, &callback("sp"), &forged);
    let mut tampered = forged.clone();
    tampered.extend_from_slice(b" ");
    let url_seen = format!("{}/webhooks/shopee/sp", app.base);
    for (body, authorization) in [
        (&tampered, genuine.clone()),
        (&forged, sign::shopee_push(PARTNER_KEY, &url_seen, &forged)),
        (
            &forged,
            sign::shopee_push(PARTNER_KEY, &callback("sp-own"), &forged),
        ),
        (
            &forged,
            sign::shopee_push("another-partner-key", &callback("sp"), &forged),
        ),
    ] {
        let (status, answer) = post_with(&app, "sp", body, &authorization).await;
        assert_eq!(status, 401, "{answer}");
        assert!(answer.contains("invalid-signature"), "{answer}");
    }
    let foreign = String::from_utf8(forged.clone())
        .expect("utf-8")
        .replace(&format!("\"shop_id\":{SHOP_ID}"), "\"shop_id\":5550001");
    let (status, _) = post(&app, "sp", foreign.as_bytes(), &callback("sp")).await;
    assert_eq!(status, 404);
    app.settle().await;
    assert_eq!(app.all_jobs().await.len(), jobs, "nothing stored");
    assert!(sends_to(&app, other).is_empty());
}

#[tokio::test]
async fn the_shops_own_messages_and_placeholders_are_kept_and_never_answered() {
    let app = spawn_app_with(options(None)).await;
    authorise(&app, "sp-own");
    let buyer = 200300400;
    let say = |from: u64, to: u64, kind: &str, content: Value| {
        app.standin
            .shopee_push(&conversation(buyer), from, to, kind, content)
            .0
    };
    // The shop's staff greets first (sp-own knows its seller account), then the buyer sends
    // a sticker, an order card and a notification arrives: nothing to answer.
    let greeting = say(
        SELLER,
        buyer,
        "text",
        json!({"text": "您好，請問有什麼可以幫您？"}),
    );
    let sticker = say(buyer, SELLER, "sticker", json!({"sticker_id": "7"}));
    let order = say(
        buyer,
        SELLER,
        "order",
        json!({"order_sn": "240911ABCDEF12", "shop_id": SHOP_ID}),
    );
    let note = json!({"shop_id": SHOP_ID, "code": 10, "data": {"type": "notification"}})
        .to_string()
        .into_bytes();
    for body in [&greeting, &sticker, &order, &note] {
        assert_eq!(post(&app, "sp-own", body, &callback("sp-own")).await.0, 200);
    }
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = sends_to(&app, buyer);
    assert!(
        sent.is_empty(),
        "no reply to a seller line or a placeholder: {sent:?}"
    );
    assert!(app.handoffs().await.is_empty());

    // The complaint names no order: the order card's number is the ticket's.
    buyer_says(&app, "sp-own", buyer, "東西到了是壞的，氣死了，我要退款").await;
    assert_eq!(wait_sends(&app, buyer, 1).await.len(), 1);
    let card = ticket(&app, buyer).await["card"].clone();
    assert_eq!(card["order_id"], "240911ABCDEF12", "{card}");
    assert!(
        !card["evidence"].as_array().expect("evidence").is_empty(),
        "{card}"
    );

    // The staff answers in Shopee's own chat, the buyer sends a photo: both join the
    // ticket's transcript, neither is answered by the bot.
    let staff = say(SELLER, buyer, "text", json!({"text": "抱歉，麻煩提供照片"}));
    let photo = say(
        buyer,
        SELLER,
        "image",
        json!({"url": "https://cf.shopee.tw/file/x"}),
    );
    for body in [&staff, &photo] {
        assert_eq!(post(&app, "sp-own", body, &callback("sp-own")).await.0, 200);
    }
    assert_eq!(wait_sends(&app, buyer, 2).await.len(), 1);
    let card = ticket(&app, buyer).await["card"].clone();
    let lines: Vec<(&str, &str)> = card["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap_or_default(),
                l["text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        lines[lines.len() - 3..],
        [
            ("buyer_text", "東西到了是壞的，氣死了，我要退款"),
            ("seller", "抱歉，麻煩提供照片"),
            ("buyer_other", "[图片]"),
        ],
        "{card}"
    );
}

#[tokio::test]
async fn a_send_whose_answer_was_lost_is_looked_up_not_sent_twice() {
    let app = start(None).await;
    // Delivered, then the connection drops before the answer: the outcome is unknown.
    app.standin.script([Scripted::cut_off(0)]);
    buyer_says(&app, "sp", 401, "衣服開線了，品質太差，我要退貨").await;
    let sent = wait_sends(&app, 401, 1).await;
    assert_eq!(sent.len(), 1, "the buyer sees one reply: {sent:?}");
    app.settle().await;
    assert!(
        app.jobs("dead").await.is_empty(),
        "the retry found the first attempt"
    );
    let replies: Vec<Value> = app
        .all_jobs()
        .await
        .into_iter()
        .filter(|j| j["kind"] == "reply")
        .collect();
    assert!(replies.iter().all(|j| j["status"] == "done"), "{replies:?}");
    assert!(
        replies.iter().any(|j| j["attempts"] == 2),
        "it was retried: {replies:?}"
    );
}
