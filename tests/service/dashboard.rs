//! `docs/grafana-dashboard.json` names only metrics the service exposes, and `/metrics`
//! speaks OpenMetrics to a scraper that asks for it.

use crate::support::*;
use std::collections::BTreeSet;

/// Every `anfu_…` metric a panel's query names, histogram series reduced to the histogram.
fn named_in_dashboard() -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana-dashboard.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard"))
            .expect("the dashboard is JSON");
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("a query");
            for (i, _) in expr.match_indices("anfu_") {
                let name: String = expr[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(&name)
                    .to_string();
                names.insert(base);
            }
        }
    }
    names
}

#[tokio::test]
async fn every_metric_the_dashboard_names_exists_and_openmetrics_is_served() {
    let names = named_in_dashboard();
    assert!(names.len() >= 10, "{names:?}");
    let app = spawn_app().await;
    let classic = app.metrics().await;
    for name in &names {
        assert!(
            classic.contains(&format!("# TYPE {name} ")),
            "the dashboard names {name}, which /metrics does not expose"
        );
    }

    let response = app
        .client
        .get(format!("{}/metrics", app.base))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .expect("scrape");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE anfu_webhook_messages counter"),
        "{text}"
    );
}
