//! Every adapter's signature schemes are accepted; forged ones and stale timestamps are not.

use crate::support::*;
use anfu::config::TopSignMethod;
use anfu::standin::sign;
use serde_json::json;

#[tokio::test]
async fn taobao_accepts_md5_hmac_and_hmac_sha256() {
    let app = spawn_app().await;
    for (i, method) in [
        TopSignMethod::Md5,
        TopSignMethod::HmacMd5,
        TopSignMethod::HmacSha256,
    ]
    .into_iter()
    .enumerate()
    {
        let body = envelope(
            &format!("28410933768{i}0"),
            &format!("sig-{i}"),
            INQUIRY,
            None,
        );
        let (status, ack) = app.taobao_push("tb", &body, method).await;
        assert_eq!((status, ack), (200, json!({"success": true})), "{method:?}");
    }
}

#[tokio::test]
async fn taobao_refuses_forged_signatures_other_app_keys_and_stale_timestamps() {
    let app = spawn_app().await;
    let body = envelope("2841093376001", "forged", COMPLAINT, None);
    let forged = sign::taobao_query(APP_KEY, "not-the-secret", TopSignMethod::HmacSha256, &body);
    let other_key = sign::taobao_query("87654321", TB_SECRET, TopSignMethod::Md5, &body);
    let stale = sign::taobao_query_at(
        APP_KEY,
        TB_SECRET,
        TopSignMethod::Md5,
        &body,
        "2020-01-01 00:00:00",
    );
    let future = {
        let t = (chrono::Utc::now() + chrono::Duration::minutes(11))
            .with_timezone(&anfu::platform::taobao::china())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        sign::taobao_query_at(APP_KEY, TB_SECRET, TopSignMethod::Md5, &body, &t)
    };
    let cases = [
        ("forged signature", forged, 401, "isv.invalid-signature"),
        ("another app key", other_key, 403, "isv.appkey-mismatch"),
        ("stale timestamp", stale, 401, "isv.stale-timestamp"),
        (
            "timestamp from the future",
            future,
            401,
            "isv.stale-timestamp",
        ),
    ];
    for (name, query, want_status, want_code) in cases {
        let (status, ack) = app
            .post_raw(&format!("/webhooks/taobao/tb?{query}"), body.clone(), &[])
            .await;
        assert_eq!(status, want_status, "{name}: {ack}");
        assert_eq!(ack["success"], false, "{name}");
        assert_eq!(ack["error_code"], want_code, "{name}");
        assert!(
            ack["error_msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    // A body changed after signing is a forgery too.
    let query = sign::taobao_query(APP_KEY, TB_SECRET, TopSignMethod::Md5, &body);
    let tampered = envelope("2841093376001", "forged", "改过的内容", None);
    let (status, _) = app
        .post_raw(&format!("/webhooks/taobao/tb?{query}"), tampered, &[])
        .await;
    assert_eq!(status, 401);
    assert!(
        app.all_jobs().await.is_empty(),
        "nothing refused may be stored"
    );
}

#[tokio::test]
async fn rakuten_push_checks_the_esa_authorization() {
    let app = spawn_app().await;
    let body = inquiry(
        "338276-20261105-1t",
        "收到的杯子破了一個,請問可以補寄嗎?",
        json!([]),
    );
    let (status, ack) = app.rakuten_push(&body).await;
    assert_eq!((status, ack), (200, json!({"resultCode": "N000"})));
    let wrong = sign::rakuten_authorization(RK_SERVICE, "SL338276_expired");
    let cases = [
        ("wrong licenseKey", Some(wrong.as_str())),
        ("no header", None),
    ];
    for (name, auth) in cases {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let (status, ack) = app
            .post_raw(
                "/webhooks/rakuten/rk",
                body.to_string().into_bytes(),
                &headers,
            )
            .await;
        assert_eq!(status, 401, "{name}");
        assert_eq!(ack["resultCode"], "E401", "{name}");
    }
}

#[tokio::test]
async fn generic_standard_webhooks_signature_and_tolerance() {
    let app = spawn_app().await;
    let body = json!({"message_id": "m-1", "conversation_id": "c-1", "buyer": {"id": "u-1", "nick": "Lin"},
                      "text": INQUIRY, "order_id": null, "sent_at": "2026-11-05T06:03:22Z"})
    .to_string()
    .into_bytes();
    let (status, _) = app.generic_push(&body, "msg-1").await;
    assert_eq!(status, 204);

    let now = chrono::Utc::now().timestamp();
    let forged = sign::generic_headers("whsec_b3RoZXIta2V5LW90aGVyLWtleQ==", "msg-2", now, &body);
    let stale = sign::generic_headers(GEN_SECRET, "msg-3", now - 301, &body);
    for (name, headers, code) in [
        ("forged", forged, "invalid-signature"),
        ("stale", stale, "stale-timestamp"),
    ] {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, ack) = app
            .post_raw("/webhooks/generic/gen", body.clone(), &headers)
            .await;
        assert_eq!(status, 401, "{name}: {ack}");
        assert_eq!(ack["error"]["code"], code, "{name}");
    }
}
