//! The agent API (bearer token), /v1/analyze and the health endpoints.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn agents_list_claim_annotate_and_resolve_handoffs() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        ..Options::default()
    })
    .await;
    let body = envelope(
        "2960000000001",
        "cnv-agent",
        THREAT,
        Some("3721458805123456789"),
    );
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    app.settle().await;

    let unauth = app
        .client
        .get(format!("{}/v1/handoffs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status().as_u16(), 401);
    let wrong = app
        .client
        .get(format!("{}/v1/handoffs", app.base))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);

    let (status, any) = app
        .agent(Method::GET, "/v1/handoffs?status=&priority=", None)
        .await;
    assert_eq!(
        status, 200,
        "empty filters mean any, as forms send them: {any}"
    );
    let (status, bad) = app
        .agent(Method::GET, "/v1/handoffs?status=gone", None)
        .await;
    assert_eq!(status, 400, "{bad}");
    let (_, p1) = app
        .agent(Method::GET, "/v1/handoffs?status=open&priority=P1", None)
        .await;
    let list = p1["handoffs"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{p1}");
    let id = list[0]["id"].as_i64().unwrap();
    let card = &list[0]["card"];
    for field in [
        "order_id",
        "issue_type",
        "demands",
        "mood",
        "intensity",
        "threats",
        "priority",
        "sla_due",
        "next_steps",
        "transcript",
        "evidence",
        "auto_reply",
    ] {
        assert!(card.get(field).is_some(), "card lacks {field}: {card}");
    }
    assert!(!card["next_steps"].as_array().unwrap().is_empty());
    let (_, p3) = app
        .agent(Method::GET, "/v1/handoffs?priority=P3", None)
        .await;
    assert!(p3["handoffs"].as_array().unwrap().is_empty());
    let (bad, _) = app
        .agent(Method::GET, "/v1/handoffs?priority=P9", None)
        .await;
    assert_eq!(bad, 400);

    let (status, claimed) = app
        .agent(
            Method::POST,
            &format!("/v1/handoffs/{id}/claim"),
            Some(json!({"agent": "小王"})),
        )
        .await;
    assert_eq!((status, claimed["status"].as_str()), (200, Some("claimed")));
    let (status, _) = app
        .agent(
            Method::POST,
            &format!("/v1/handoffs/{id}/claim"),
            Some(json!({"agent": "小李"})),
        )
        .await;
    assert_eq!(status, 409, "already claimed by someone else");
    let (status, noted) = app
        .agent(
            Method::POST,
            &format!("/v1/handoffs/{id}/notes"),
            Some(json!({"author": "小王", "text": "已电话联系买家"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(noted["notes"][0]["text"], "已电话联系买家");
    let (status, resolved) = app
        .agent(Method::POST, &format!("/v1/handoffs/{id}/resolve"), None)
        .await;
    assert_eq!(
        (status, resolved["status"].as_str()),
        (200, Some("resolved"))
    );
    let (status, _) = app.agent(Method::GET, "/v1/handoffs/99999", None).await;
    assert_eq!(status, 404);

    // Resolved: the conversation is the bot's again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = envelope("2960000000002", "cnv-agent", INQUIRY, None);
    assert_eq!(app.taobao_push("tb", &again, HmacSha256).await.0, 200);
    assert_eq!(
        app.standin
            .wait_delivered(2, Duration::from_secs(10))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn analyze_endpoint_returns_the_analyzer_record_to_agents_only() {
    let app = spawn_app().await;
    let (status, record) = app
        .agent(Method::POST, "/v1/analyze", Some(json!({"text": THREAT})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(record["intent"], "complaint");
    assert_eq!(record["priority"], "P1");
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("authorization", bearer.as_str())];
    let (status, err) = app
        .post_raw("/v1/analyze", b"{\"txt\": 1}".to_vec(), &auth)
        .await;
    assert_eq!(status, 400);
    assert!(err["error"].as_str().unwrap().contains("text"));
    let body = json!({"text": THREAT}).to_string().into_bytes();
    let (status, _) = app.post_raw("/v1/analyze", body.clone(), &[]).await;
    assert_eq!(status, 401, "analysis costs CPU: agents only");
    let wrong = [("authorization", "Bearer not-the-token")];
    assert_eq!(app.post_raw("/v1/analyze", body, &wrong).await.0, 401);
}

/// One caller's long texts neither starve the service nor run unbounded: the analysis reads
/// the newest `limits.max_analysis_chars` and its evidence still points into the whole text.
#[tokio::test]
async fn analyze_reads_the_newest_text_and_keeps_offsets_in_the_whole() {
    let app = spawn_app().await;
    let filler = "今天天气不错".repeat(10_000);
    let text = format!("{filler}{THREAT}");
    let (status, record) = app
        .agent(Method::POST, "/v1/analyze", Some(json!({"text": text})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(record["intent"], "complaint");
    let chars: Vec<char> = text.chars().collect();
    for e in record["evidence"].as_array().unwrap() {
        let (start, end) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        // Only the newest `limits.max_analysis_chars` (5 000) are read: no evidence before.
        assert!(start >= chars.len() - 5_000, "{e}");
        assert_eq!(
            chars[start..end].iter().collect::<String>(),
            e["text"].as_str().unwrap()
        );
    }
    let older = format!("{THREAT}{filler}");
    let (_, record) = app
        .agent(Method::POST, "/v1/analyze", Some(json!({"text": older})))
        .await;
    assert_ne!(
        record["intent"], "complaint",
        "a complaint 60 000 chars back is not read"
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let (status, ready) = app.agent(Method::GET, "/readyz", None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["store"], "ok");
    assert_eq!(ready["worker"], "ok");
    assert_eq!(ready["alerts"], json!({}));
}

/// Analysis runs off the async runtime: with no cap on the text, three long analyses are
/// still running when `/healthz` and a signed webhook have been answered. (On the runtime,
/// they held every thread: /healthz waited for them all.)
#[tokio::test]
async fn long_analyses_do_not_hold_up_health_checks_or_webhooks() {
    let app = spawn_app_with(Options {
        extra: "[limits]\nmax_analysis_chars = 0".into(),
        ..Options::default()
    })
    .await;
    let text = "质量太差了，我要退货退款，不然就给差评！今天天气不错".repeat(4_000);
    let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(3));
    let mut analyses = Vec::new();
    for _ in 0..3 {
        let (client, base, body, running) = (
            app.client.clone(),
            app.base.clone(),
            json!({"text": text}),
            running.clone(),
        );
        analyses.push(tokio::spawn(async move {
            let response = client
                .post(format!("{base}/v1/analyze"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .expect("analysis answers");
            running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            response.status().as_u16()
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let body = envelope("2950000000001", "cnv-busy", THREAT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let still_running = running.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        still_running > 0,
        "the analyses finished before the probes were answered: the test proves nothing"
    );
    for analysis in analyses {
        assert_eq!(analysis.await.expect("joined"), 200);
    }
}
