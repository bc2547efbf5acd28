//! A panic is a bug, never an outage: panics injected into jobs and background loops are
//! counted and alerted, the job fails like any failed job, and the next buyers are answered.
//! (Before this, a panicking card killed its worker task for good: with every worker gone,
//! webhooks were still acked and nobody was answered.)

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use serde_json::json;
use std::time::Duration;

const COMPLAINT: &str = "杯子收到就是碎的，要求退款！";

const SINKS: &str = r#"
[[sinks]]
kind = "dingtalk"
url = "{base}/robot/team?access_token=t"
secret = "SECdemo"
"#;

async fn complain(app: &TestApp, n: usize, tag: &str) {
    for i in 0..n {
        let body = envelope(
            &format!("29{tag}{i:08}"),
            &format!("cnv-{tag}-{i}"),
            COMPLAINT,
            None,
        );
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
}

async fn alert(app: &TestApp, key: &str) -> Option<String> {
    let (_, body) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
    body["alerts"][key].as_str().map(str::to_string)
}

#[tokio::test]
async fn panicking_jobs_are_retried_and_every_buyer_is_still_answered() {
    let app = spawn_app().await;
    // More panics than workers (the tests run two): each used to end a worker for good.
    app.state.faults.arm("job:process", 4);
    complain(&app, 6, "61").await;
    let delivered = app.standin.wait_delivered(6, Duration::from_secs(20)).await;
    assert_eq!(
        delivered.len(),
        6,
        "every complaint answered despite 4 panics"
    );
    app.settle().await;
    assert_eq!(app.handoffs().await.len(), 6);
    assert!(app.jobs("dead").await.is_empty());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("anfu_panics_total{place=\"job\"} 4"),
        "{metrics}"
    );
    let alert = alert(&app, "panic:job:process").await.expect("an alert");
    assert!(alert.contains("injected fault"), "{alert}");
    let (status, _) = app.agent(reqwest::Method::GET, "/readyz", None).await;
    assert_eq!(status, 200, "a caught panic leaves the instance ready");
}

#[tokio::test]
async fn a_job_that_always_panics_is_dead_lettered_with_the_panic_as_its_error() {
    let app = spawn_app().await;
    // The tests allow three attempts.
    app.state.faults.arm("job:process", 3);
    complain(&app, 1, "62").await;
    let dead = wait_until(Duration::from_secs(20), || async {
        !app.jobs("dead").await.is_empty()
    })
    .await;
    assert!(dead, "dead-lettered after its attempts");
    let jobs = app.jobs("dead").await;
    assert_eq!(jobs[0]["attempts"], 3);
    assert_eq!(
        jobs[0]["last_error"],
        json!("panicked: injected fault at job:process")
    );
    complain(&app, 1, "63").await;
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1, "the next buyer is answered");
}

#[tokio::test]
async fn a_panicking_card_is_retried_and_delivered() {
    let app = spawn_app_with(Options {
        sinks: SINKS,
        ..Options::default()
    })
    .await;
    app.state.faults.arm("job:notify", 2);
    complain(&app, 3, "64").await;
    let cards = wait_until(Duration::from_secs(20), || async {
        app.standin
            .robot_calls()
            .iter()
            .filter(|c| c.name == "team")
            .count()
            == 3
    })
    .await;
    assert!(cards, "{:?}", app.standin.robot_calls());
    assert_eq!(
        app.standin
            .wait_delivered(3, Duration::from_secs(10))
            .await
            .len(),
        3
    );
    assert!(alert(&app, "panic:job:notify").await.is_some());
}

#[tokio::test]
async fn the_poller_and_the_sla_timer_survive_their_panics() {
    let app = spawn_app_with(Options {
        sinks: SINKS,
        sla: "P1 = \"1s\"\nP2 = \"1s\"\nP3 = \"1s\"\nwarn_before = \"500ms\"\ncheck_every = \"100ms\"",
        ..Options::default()
    })
    .await;
    app.state.faults.arm("poll:rkpoll", 3);
    app.state.faults.arm("sla", 3);
    app.standin.add_inquiry(inquiry(
        "338276-20261109-7z",
        "收到的盤子破了，要求退款！",
        json!([]),
    ));
    let answered = wait_until(Duration::from_secs(15), || async {
        app.standin
            .delivered()
            .iter()
            .any(|d| d.conversation_id == "338276-20261109-7z")
    })
    .await;
    assert!(answered, "the poller goes on after its panics");
    let breached = wait_until(Duration::from_secs(15), || async {
        app.handoffs()
            .await
            .iter()
            .any(|h| h["sla_breached"] == true)
    })
    .await;
    assert!(breached, "the SLA timer goes on after its panics");
    assert!(alert(&app, "panic:poll:rkpoll").await.is_some());
    assert!(alert(&app, "panic:sla").await.is_some());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("anfu_panics_total{place=\"poll\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("anfu_panics_total{place=\"sla\"} 3"),
        "{metrics}"
    );
}
