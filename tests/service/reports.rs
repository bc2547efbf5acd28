//! `GET /v1/reports` on tickets made by real webhooks: the figures, the CSV export of the
//! same figures, the shop filter, and refused parameters.

use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn complain(app: &TestApp, key: &str, text: &str) {
    let body = json!({"message_id": key, "conversation_id": key,
                      "buyer": {"id": key, "nick": "Lin"}, "text": text,
                      "order_id": null, "sent_at": null});
    assert_eq!(
        app.generic_push(body.to_string().as_bytes(), key).await.0,
        204
    );
}

fn today() -> String {
    // The report's default clock is +08:00.
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .date_naive()
        .to_string()
}

#[tokio::test]
async fn the_report_counts_what_the_webhooks_brought_as_json_and_csv() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        gen_shop: "name = \"小鱼家旗舰店\"".into(),
        ..Options::default()
    })
    .await;
    complain(&app, "r-1", "衣服开线了,质量太差,我要退货").await;
    complain(&app, "r-2", "裤子也开线了,质量太差").await;
    complain(&app, "r-3", "快递一个星期了还没到，再不到我就投诉到12315").await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            app.handoffs().await.len() == 3
        })
        .await
    );
    app.settle().await;

    let day = today();
    let (status, r) = app
        .agent(
            Method::GET,
            &format!("/v1/reports?from={day}&to={day}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["tickets"], 3, "{r}");
    let per_issue = |issue: &str| -> i64 {
        r["daily"]
            .as_array()
            .expect("daily")
            .iter()
            .filter(|d| d["issue_type"] == issue && d["date"] == day.as_str())
            .filter_map(|d| d["count"].as_i64())
            .sum()
    };
    assert_eq!(per_issue("quality"), 2, "{r}");
    assert_eq!(
        r["by_shop"],
        json!([{"shop": "gen", "name": "小鱼家旗舰店", "count": 3}])
    );
    assert!(r["threats"]
        .as_array()
        .expect("threats")
        .iter()
        .any(|t| t["key"] == "regulator"));
    let quality = r["top_terms"]
        .as_array()
        .expect("terms")
        .iter()
        .find(|t| t["issue_type"] == "quality")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        quality["terms"].as_array().is_some_and(|t| !t.is_empty()),
        "{r}"
    );
    assert_eq!(r["sla_breach_rate"], 0.0);

    let csv = app
        .client
        .get(format!(
            "{}/v1/reports?from={day}&to={day}&format=csv",
            app.base
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    let text = csv.text().await.expect("body");
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(text.contains("total,tickets,,3"), "{text}");
    assert!(text.contains(&format!("daily,{day},quality,2")), "{text}");
    assert!(text.contains("shop,gen,小鱼家旗舰店,3"), "{text}");

    let (_, other) = app
        .agent(
            Method::GET,
            &format!("/v1/reports?from={day}&to={day}&shop=tb"),
            None,
        )
        .await;
    assert_eq!(other["tickets"], 0, "{other}");
    for bad in [
        "from=yesterday".to_string(),
        format!("from={day}&to=2000-01-01"),
        "from=2020-01-01&to=2026-01-01".to_string(),
        "format=xml".to_string(),
        "tz=8".to_string(),
    ] {
        let (status, body) = app
            .agent(Method::GET, &format!("/v1/reports?{bad}"), None)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let anonymous = app
        .client
        .get(format!("{}/v1/reports", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    let page = app
        .client
        .get(format!("{}/console/reports", app.base))
        .send()
        .await
        .expect("request");
    assert!(
        page.url().path().ends_with("/console/login"),
        "the page needs a session"
    );
}
