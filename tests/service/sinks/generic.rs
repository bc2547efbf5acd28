//! The generic webhook (Standard Webhooks signed) and sinks that cannot be reached.

use super::*;

#[tokio::test]
async fn generic_webhook_is_standard_webhooks_signed() {
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let fake = Fake::start(204, "").await;
    let mut s = sink("webhook", format!("{}/hooks/anfu", fake.base));
    s.secret = Some(secret.into());
    let mut e = event(card());
    deliver(&client(), &s, &e).await.unwrap();
    let seen = fake.last();
    assert_eq!(seen.path, "/hooks/anfu");
    assert_eq!(seen.header("content-type"), "application/json");
    let id = seen.header("webhook-id");
    assert_eq!(id, "handoff-42-created");
    let ts = seen.header("webhook-timestamp");
    assert!((chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap()).abs() < 60);
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&seen.body);
    assert_eq!(
        seen.header("webhook-signature"),
        format!("v1,{}", hmac_b64(&key, &signed))
    );
    let body = seen.json();
    assert_eq!(body["type"], "handoff.created");
    assert_eq!(body["ticket"]["id"], 42);
    assert_eq!(body["ticket"]["order_id"], ORDER);
    assert_eq!(body["ticket"]["priority"], "P1");
    assert_eq!(
        body["ticket"]["console_url"],
        "https://anfu.example/console#/handoffs/42"
    );
    assert_masked(&body.to_string());

    e.kind = EventKind::Updated;
    deliver(&client(), &s, &e).await.unwrap();
    assert_eq!(fake.last().json()["type"], "handoff.updated");

    fake.then(500, vec![], "");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
    fake.then(422, vec![], "nope");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    fake.then(401, vec![], "");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::AuthExpired { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_sinks_are_retryable() {
    // Bind then drop: nothing listens on the port any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    for kind in ["dingtalk", "wecom", "feishu", "slack"] {
        let e = deliver(&client(), &sink(kind, url.clone()), &event(card()))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Retryable { .. }), "{kind}: {e:?}");
    }
}
