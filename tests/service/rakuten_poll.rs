//! Rakuten poll mode: new inquiries and follow-ups are picked up; a restart neither misses
//! nor repeats; a rejected licenseKey is loud.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

fn replies_for(app: &TestApp, inquiry: &str) -> usize {
    app.standin
        .delivered()
        .iter()
        .filter(|d| d.conversation_id == inquiry)
        .count()
}

#[tokio::test]
async fn polling_picks_up_inquiries_and_a_restart_neither_misses_nor_repeats() {
    let app = spawn_app().await;
    app.standin.add_inquiry(inquiry(
        "338276-20261107-9p",
        "請問這個杯子可以用洗碗機洗嗎?",
        json!([]),
    ));
    assert!(
        wait_until(Duration::from_secs(10), || async {
            replies_for(&app, "338276-20261107-9p") == 1
        })
        .await
    );
    let polls_before = app.standin.polls();

    let app = app.restart().await;
    // The same inquiry is still listed: polled again after the restart, it is not repeated.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            app.standin.polls() >= polls_before + 2
        })
        .await
    );
    app.settle().await;
    assert_eq!(replies_for(&app, "338276-20261107-9p"), 1);
    let cursor_kept = app.standin.polls() > polls_before;
    assert!(cursor_kept);

    // A new inquiry arriving while anfu is down is found after the restart.
    let mut app = app;
    app.shutdown().await;
    app.standin.add_inquiry(inquiry(
        "338276-20261108-3q",
        "收到的盤子破了,可以補寄嗎?",
        json!([]),
    ));
    let app = app.restart().await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            replies_for(&app, "338276-20261108-3q") == 1
        })
        .await
    );
    assert_eq!(
        app.handoffs().await.len(),
        1,
        "the damaged plate is a complaint"
    );
}

#[tokio::test]
async fn an_expired_license_key_on_poll_is_named_in_readyz_and_the_console_alerts_but_the_instance_stays_ready(
) {
    let app = spawn_app().await;
    app.standin.fail_polls_with(Some(401));
    let named = wait_until(Duration::from_secs(10), || async {
        let (_, body) = app.agent(reqwest::Method::GET, "/readyz", None).await;
        body["alerts"]["rkpoll"]
            .as_str()
            .is_some_and(|a| a.contains("licenseKey"))
    })
    .await;
    assert!(named, "readyz must name the rejected licenseKey");
    let (status, body) = app.agent(reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(
        status, 200,
        "one shop's credentials must not take the instance (and every other shop) out of the load balancer: {body}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("anfu_operator_alerts{key=\"rkpoll\"} 1"),
        "/metrics lists the alert"
    );
    let other = envelope("2960000000777", "cnv-other-shop", "东西坏了，要退款", None);
    let method = anfu::config::TopSignMethod::HmacSha256;
    assert_eq!(app.taobao_push("tb", &other, method).await.0, 200);
    assert_eq!(
        app.standin
            .wait_delivered(1, Duration::from_secs(10))
            .await
            .len(),
        1,
        "the other shops are still answered"
    );
    let (status, body) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
    assert_eq!(status, 200);
    assert!(
        body["alerts"]["rkpoll"]
            .as_str()
            .is_some_and(|a| a.contains("licenseKey")),
        "the console's banner source lists it: {body}"
    );
    let anonymous = app
        .client
        .get(format!("{}/v1/alerts", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401, "agents only");
    app.standin.fail_polls_with(None);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            let (_, body) = app.agent(reqwest::Method::GET, "/readyz", None).await;
            body["alerts"] == serde_json::json!({})
        })
        .await,
        "the alert clears once polling works again"
    );
    let (_, body) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
    assert_eq!(body["alerts"], serde_json::json!({}));
}

/// Two instances on one database: only the one holding the shop's poll lease polls; when it
/// stops, the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_instances_only_one_polls_a_shop_and_the_other_takes_over() {
    let mut first = spawn_app().await;
    let second = first.another_instance().await;
    // rkpoll polls every 200 ms: one instance polls about 15 times in 3 s, two about 30.
    let before = first.standin.polls();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let polled = first.standin.polls() - before;
    assert!(
        (5..=20).contains(&polled),
        "{polled} polls in 3 s: more than one instance polls"
    );
    first.shutdown().await;
    let before = second.standin.polls();
    let took_over = wait_until(Duration::from_secs(5), || async {
        second.standin.polls() >= before + 3
    })
    .await;
    assert!(
        took_over,
        "the second instance polls once the first is gone"
    );
}
