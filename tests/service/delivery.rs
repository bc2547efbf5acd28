//! Outbound replies: retries, Retry-After, dead letters, idempotency keys.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use anfu::standin::Scripted;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn platform_500_then_200_delivers_the_reply_once_with_the_same_request_id() {
    let app = spawn_app().await;
    app.standin.script([Scripted::status(500)]);
    let body = envelope("2920000000001", "cnv-500", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;
    assert_eq!(delivered.len(), 1);
    let calls = app.standin.calls();
    assert_eq!(calls.len(), 2, "one failure, one success");
    assert_eq!(calls[0].fields["request_id"], calls[1].fields["request_id"]);
    assert!(!calls[0].fields["sign"].is_empty());
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs[0]["reply_status"], "done");
}

#[tokio::test]
async fn a_429_retry_after_is_honoured() {
    let app = spawn_app().await;
    app.standin.script([Scripted::retry_after(429, 1)]);
    let body = json!({"message_id": "m-429", "conversation_id": "c-429", "buyer": {"id": "u", "nick": "Lin"},
                      "text": COMPLAINT, "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes();
    assert_eq!(app.generic_push(&body, "wh-429").await.0, 204);
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    let calls = app.standin.calls();
    assert_eq!(calls.len(), 2);
    let waited = calls[1].at - calls[0].at;
    assert!(
        waited >= Duration::from_millis(990),
        "retried after {waited:?}, asked for 1 s"
    );
    assert_eq!(
        calls[0].fields["idempotency_key"],
        calls[1].fields["idempotency_key"]
    );
}

#[tokio::test]
async fn a_permanent_error_dead_letters_the_job_visibly() {
    let app = spawn_app().await;
    app.standin
        .script([Scripted::taobao_error(15, "isv.invalid-parameter:to_nick")]);
    let body = envelope("2930000000001", "cnv-perm", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    app.settle().await;
    assert_eq!(
        app.standin.calls().len(),
        1,
        "a permanent error is not retried"
    );
    let dead = app.jobs("dead").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["kind"], "reply");
    assert!(dead[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("isv.invalid-parameter"));
    assert_eq!(app.handoffs().await[0]["reply_status"], "dead");
}

#[tokio::test]
async fn throttling_is_retried_until_attempts_run_out_then_dead_lettered() {
    let app = spawn_app().await;
    app.standin.script([
        Scripted::taobao_error(7, "accesscontrol.limited-by-app-access-count"),
        Scripted::taobao_error(7, "accesscontrol.limited-by-app-access-count"),
        Scripted::status(503),
    ]);
    let body = envelope("2940000000001", "cnv-limit", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    app.settle().await;
    assert_eq!(app.standin.calls().len(), 3, "max_attempts = 3");
    assert_eq!(app.jobs("dead").await.len(), 1);
    assert!(app.standin.delivered().is_empty());
}

#[tokio::test]
async fn rakuten_replies_fit_the_limits_and_an_expired_license_key_is_loud() {
    let app = spawn_app().await;
    let first = inquiry(
        "338276-20261105-1t",
        "收到的杯子破了一個,請問可以補寄嗎?",
        json!([]),
    );
    assert_eq!(app.rakuten_push(&first).await.0, 200);
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1);
    let call = &app.standin.calls()[0];
    assert_eq!(call.fields["shopId"], "338276");
    assert!(call.headers["authorization"].starts_with("ESA "));
    assert!(call.fields["message"].chars().count() <= 2000);

    let (ready, _) = app.agent(reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(ready, 200);
    app.standin.script([Scripted::status(401)]);
    let other = inquiry(
        "338276-20261106-2t",
        "包裹一直没到,再不处理我就投诉到乐天!",
        json!([]),
    );
    assert_eq!(app.rakuten_push(&other).await.0, 200);
    app.settle().await;
    let (ready, body) = app.agent(reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(
        ready, 200,
        "one shop's rejected key names an alert, not an unready instance: {body}"
    );
    assert!(
        body["alerts"]["rk"]
            .as_str()
            .unwrap()
            .contains("licenseKey"),
        "{body}"
    );
    assert_eq!(app.jobs("dead").await.len(), 1);
}

#[tokio::test]
async fn a_garbage_answer_and_a_hung_platform_are_retried_until_the_reply_goes_out_once() {
    let app = spawn_app().await;
    // http_client.timeout is 2 s in the tests: the hang outlasts it.
    app.standin
        .script([Scripted::garbage(), Scripted::hang(Duration::from_secs(4))]);
    let body = envelope("2920000000091", "cnv-faults", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(30)).await;
    app.settle().await;
    assert_eq!(delivered.len(), 1, "delivered in the end");
    let calls = app.standin.calls();
    assert_eq!(calls.len(), 3, "garbage, timeout, success");
    assert!(
        calls
            .iter()
            .all(|c| c.fields["request_id"] == calls[0].fields["request_id"]),
        "one idempotency key for every attempt"
    );
    assert!(app.jobs("dead").await.is_empty());
    assert_eq!(
        metric(&app, "anfu_job_retries_total{kind=\"reply\"}")
            .await
            .as_deref(),
        Some("2"),
        "both failures counted as retries"
    );
}

/// Reads /metrics and returns the value of one sample line.
async fn metric(app: &TestApp, line_start: &str) -> Option<String> {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(line_start).map(|v| v.trim().to_string()))
}

#[tokio::test]
async fn a_connection_closed_mid_answer_is_retried_and_the_buyer_sees_one_reply() {
    let app = spawn_app().await;
    // The platform sends the message each time, then the connection drops: first before any
    // byte of the answer, then halfway through its JSON. anfu cannot know it went out, so it
    // retries with the same request_id, and the platform's dedupe keeps it to one message.
    app.standin
        .script([Scripted::cut_off(0), Scripted::cut_off(30)]);
    let body = envelope("2920000000092", "cnv-cut", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    app.settle().await;
    let calls = app.standin.calls();
    assert_eq!(calls.len(), 3, "two cut answers, then a whole one");
    assert!(
        calls
            .iter()
            .all(|c| c.fields["request_id"] == calls[0].fields["request_id"]),
        "one idempotency key for every attempt"
    );
    assert_eq!(app.standin.delivered().len(), 1, "the buyer sees one reply");
    assert!(app.jobs("dead").await.is_empty());
    assert_eq!(app.handoffs().await[0]["reply_status"], "done");
    assert_eq!(
        metric(&app, "anfu_job_retries_total{kind=\"reply\"}")
            .await
            .as_deref(),
        Some("2"),
        "both cuts counted as retries"
    );
}

#[tokio::test]
async fn rakuten_answers_409_to_the_retry_after_a_cut_answer_and_that_counts_as_sent() {
    let app = spawn_app().await;
    app.standin.script([Scripted::cut_off(10)]);
    let first = inquiry("338276-20261107-3t", "杯子破了,請補寄一個。", json!([]));
    assert_eq!(app.rakuten_push(&first).await.0, 200);
    app.settle().await;
    assert_eq!(app.standin.calls().len(), 2, "the cut answer, then 409");
    assert_eq!(app.standin.delivered().len(), 1);
    assert!(app.jobs("dead").await.is_empty());
    assert!(app.jobs("pending").await.is_empty());
}

#[tokio::test]
async fn a_retry_after_of_years_waits_no_more_than_retry_max() {
    // worker.retry_max is 2 s here. Ten years would park the reply for ten years; the second
    // (i64::MAX ms in seconds) used to overflow computing the retry time.
    let app = spawn_app().await;
    app.standin.script([
        Scripted::retry_after(429, 10 * 365 * 86_400),
        Scripted::retry_after(429, i64::MAX as u64 / 1000),
    ]);
    let body = json!({"message_id": "m-years", "conversation_id": "c-years", "buyer": {"id": "u", "nick": "Lin"},
                      "text": COMPLAINT, "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes();
    assert_eq!(app.generic_push(&body, "wh-years").await.0, 204);
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert_eq!(
        delivered.len(),
        1,
        "delivered within retry_max of each refusal"
    );
    let calls = app.standin.calls();
    assert_eq!(calls.len(), 3, "two refusals, then the reply");
    for pair in calls.windows(2) {
        let waited = pair[1].at - pair[0].at;
        assert!(
            waited <= Duration::from_millis(2_500),
            "waited {waited:?}, retry_max is 2 s"
        );
    }
    assert!(app.jobs("dead").await.is_empty());
}

/// Replies to one shop go out at most `worker.sends_per_shop` at a time, across the batch a
/// worker claims: a slow platform holds the rest back, and every reply still goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_one_shop_are_sent_at_most_sends_per_shop_at_a_time() {
    let app = spawn_app_with(Options {
        worker: "sends_per_shop = 2",
        ..Options::default()
    })
    .await;
    let hang = Duration::from_millis(800);
    app.standin.script((0..6).map(|_| Scripted::slow(hang)));
    for i in 0..6 {
        let body = envelope(
            &format!("29200000004{i:02}"),
            &format!("cnv-slots-{i}"),
            COMPLAINT,
            None,
        );
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
    let delivered = app.standin.wait_delivered(6, Duration::from_secs(30)).await;
    app.settle().await;
    assert_eq!(delivered.len(), 6, "every reply goes out once");
    let mut arrivals: Vec<_> = app.standin.calls().iter().map(|c| c.at).collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), 6, "no send was repeated");
    // A third send starts only once one of the two before it has been answered.
    for three in arrivals.windows(3) {
        let spread = three[2].duration_since(three[0]);
        assert!(
            spread >= hang - Duration::from_millis(100),
            "three sends within {spread:?}: {arrivals:?}"
        );
    }
}
