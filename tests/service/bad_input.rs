//! Bad input gets a clear 4xx in the platform's error shape, and nothing is stored.

use crate::support::*;
use anfu::config::TopSignMethod;
use anfu::standin::sign;
use serde_json::json;

fn signed(body: &[u8]) -> String {
    sign::taobao_query(APP_KEY, TB_SECRET, TopSignMethod::Md5, body)
}

#[tokio::test]
async fn taobao_bad_inputs_are_refused_in_the_platform_shape_and_nothing_is_stored() {
    let app = spawn_app_with(Options {
        max_body: 4096,
        ..Options::default()
    })
    .await;
    let malformed = b"{\"topic\": \"taobao_im_BuyerMessage\", ".to_vec();
    let content_object =
        json!({"topic": "taobao_im_BuyerMessage", "msg_id": "1", "content": {"text": "hi"}})
            .to_string()
            .into_bytes();
    let content_not_json =
        json!({"topic": "taobao_im_BuyerMessage", "msg_id": "1", "content": "not json"})
            .to_string()
            .into_bytes();
    let mut invalid_utf8 = envelope("2950000000001", "c", "好", None);
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    let huge = envelope("2950000000002", "c", &"太差了".repeat(2000), None);
    let ok = envelope("2950000000003", "c", COMPLAINT, None);
    let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        ("malformed JSON", format!("/webhooks/taobao/tb?{}", signed(&malformed)), malformed.clone(), 400, "isv.invalid-body"),
        ("content is an object", format!("/webhooks/taobao/tb?{}", signed(&content_object)), content_object.clone(), 400, "isv.invalid-content"),
        ("content is not JSON", format!("/webhooks/taobao/tb?{}", signed(&content_not_json)), content_not_json.clone(), 400, "isv.invalid-content"),
        ("invalid UTF-8", format!("/webhooks/taobao/tb?{}", signed(&invalid_utf8)), invalid_utf8.clone(), 400, "invalid-utf8"),
        ("body over the limit", format!("/webhooks/taobao/tb?{}", signed(&huge)), huge.clone(), 413, "body-too-large"),
        ("missing signature", format!("/webhooks/taobao/tb?app_key={APP_KEY}&sign_method=md5&timestamp=2026-01-01%2000:00:00"), ok.clone(), 400, "isv.missing-parameter"),
        ("unknown sign method", signed(&ok).replace("sign_method=md5", "sign_method=sha1").replacen("", "/webhooks/taobao/tb?", 1), ok.clone(), 400, "isv.invalid-sign-method"),
        ("unknown shop", format!("/webhooks/taobao/nosuchshop?{}", signed(&ok)), ok.clone(), 404, "unknown-shop"),
        ("shop of another platform", format!("/webhooks/taobao/gen?{}", signed(&ok)), ok.clone(), 404, "unknown-shop"),
    ];
    for (name, path, body, status, code) in cases {
        let (got, ack) = app.post_raw(&path, body, &[]).await;
        assert_eq!(got, status, "{name}: {ack}");
        assert_eq!(ack["success"], false, "{name}: {ack}");
        assert_eq!(ack["error_code"], code, "{name}: {ack}");
    }
    let (status, body) = app
        .post_raw(
            &format!("/webhooks/shopify/x?{}", signed(&ok)),
            ok.clone(),
            &[],
        )
        .await;
    assert_eq!(status, 404, "unknown platform: {body}");
    assert_eq!(body["error"]["code"], "unknown-platform");
    assert!(
        app.all_jobs().await.is_empty(),
        "nothing refused may be stored"
    );
    assert!(app.handoffs().await.is_empty());
}

#[tokio::test]
async fn other_topics_are_acknowledged_and_ignored() {
    let app = spawn_app().await;
    let body = br#"{"topic":"taobao_trade_TradeCreate","msg_id":"1","content":"{\"tid\":3721458805123456789}"}"#;
    let (status, ack) = app.taobao_push("tb", body, TopSignMethod::Md5).await;
    assert_eq!((status, ack), (200, json!({"success": true})));
    assert!(app.all_jobs().await.is_empty());
}

#[tokio::test]
async fn rakuten_and_generic_bad_bodies_use_their_own_error_shapes() {
    let app = spawn_app().await;
    let auth = sign::rakuten_authorization(RK_SERVICE, RK_LICENSE);
    let (status, body) = app
        .post_raw(
            "/webhooks/rakuten/rk",
            b"[1,2".to_vec(),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["resultCode"], "E400");
    let (status, body) = app
        .post_raw(
            "/webhooks/rakuten/rkpoll",
            b"{}".to_vec(),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(status, 404, "a poll-mode shop takes no pushes: {body}");
    let (status, body) = app.generic_push(b"{\"text\": 5}", "bad-1").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid-body");
    let (status, _) = app.generic_push(&[0xff, 0x00], "bad-2").await;
    assert_eq!(status, 400);
    assert!(app.all_jobs().await.is_empty());
}
