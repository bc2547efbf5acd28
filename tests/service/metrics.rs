//! `/metrics`: what happened, in the Prometheus text format, on the main listener or on a
//! listener of its own.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use std::time::Duration;

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_messages_labels_replies_tickets_and_refusals() {
    let app = spawn_app().await;
    let body = envelope("2960000000001", "cnv-metrics", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    assert_eq!(
        app.taobao_push("tb", &body, HmacSha256).await.0,
        200,
        "redelivered"
    );
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;
    let bad = app
        .post_raw("/webhooks/taobao/tb?sign=00", body.clone(), &[])
        .await;
    assert_eq!(bad.0, 400, "unsigned: {}", bad.1);

    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    for (series, want) in [
        (
            "anfu_webhook_messages_total{platform=\"taobao\",result=\"new\"}",
            1.0,
        ),
        (
            "anfu_webhook_messages_total{platform=\"taobao\",result=\"duplicate\"}",
            1.0,
        ),
        (
            "anfu_analysis_labels_total{label=\"intent\",value=\"complaint\"}",
            1.0,
        ),
        ("anfu_handoffs_opened_total{priority=\"P2\"}", 1.0),
        (
            "anfu_reply_send_seconds_count{platform=\"taobao\",outcome=\"ok\"}",
            1.0,
        ),
        ("anfu_reply_lag_seconds_count", 1.0),
    ] {
        assert_eq!(value(&text, series), Some(want), "{series} in\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("anfu_webhook_refused_total{platform=\"taobao\",code=")),
        "{text}"
    );
    assert!(text.contains("# TYPE anfu_queue_jobs gauge"));
    assert!(text.contains("# TYPE anfu_sla_breaches_total counter"));
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let app = spawn_app_with(Options {
        server: format!("metrics_listen = \"127.0.0.1:{port}\""),
        ..Options::default()
    })
    .await;
    let main = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(main.status().as_u16(), 404, "not on the public listener");
    let mut scraped = None;
    for _ in 0..50 {
        if let Ok(r) = app
            .client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            scraped = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scraped = scraped.expect("the metrics listener answers");
    assert_eq!(scraped.status().as_u16(), 200);
    assert!(scraped
        .text()
        .await
        .expect("body")
        .contains("anfu_webhook_messages_total"));
}
