//! Tickets reach the agents' tools: routed sinks get a notice when a ticket opens and when it
//! is updated, as stored jobs.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use std::time::Duration;

const SINKS: &str = r#"
[[sinks]]
kind = "dingtalk"
url = "{base}/robot/team?access_token=t"
secret = "SECdemo"
[[sinks]]
kind = "webhook"
url = "{base}/robot/hook"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
[[sinks]]
kind = "wecom"
url = "{base}/robot/supervisors"
min_priority = "P1"
"#;

#[tokio::test]
async fn routed_sinks_hear_of_new_and_updated_tickets() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        sinks: SINKS,
        ..Options::default()
    })
    .await;
    let body = envelope(
        "2970000000001",
        "cnv-sink",
        COMPLAINT,
        Some("3721458805123456789"),
    );
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            app.standin.robot_calls().len() >= 2
        })
        .await
    );
    app.settle().await;
    let calls = app.standin.robot_calls();
    let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"team") && names.contains(&"hook"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"supervisors"),
        "a P2 ticket does not reach the P1-only group"
    );
    let ding = calls.iter().find(|c| c.name == "team").unwrap();
    assert_eq!(ding.body["msgtype"], "markdown");
    assert!(
        ding.query.contains("timestamp=") && ding.query.contains("sign="),
        "{}",
        ding.query
    );
    let hook = calls.iter().find(|c| c.name == "hook").unwrap();
    assert_eq!(hook.body["type"], "handoff.created");
    assert!(hook.headers.contains_key("webhook-signature"));

    tokio::time::sleep(Duration::from_millis(100)).await;
    let threat = envelope("2970000000002", "cnv-sink", THREAT, None);
    assert_eq!(app.taobao_push("tb", &threat, HmacSha256).await.0, 200);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            app.standin
                .robot_calls()
                .iter()
                .any(|c| c.name == "supervisors")
        })
        .await,
        "now P1: the supervisors hear of it"
    );
    app.settle().await;
    let updated = app
        .standin
        .robot_calls()
        .into_iter()
        .filter(|c| c.name == "hook" && c.body["type"] == "handoff.updated")
        .count();
    assert_eq!(updated, 1);
    assert!(app.jobs("dead").await.is_empty());
}

#[tokio::test]
async fn a_ticket_about_to_breach_then_overdue_is_marked_and_announced_once_each() {
    let app = spawn_app_with(Options {
        sinks: SINKS,
        sla: "P1 = \"6s\"\nP2 = \"6s\"\nP3 = \"6s\"\nwarn_before = \"5s\"\ncheck_every = \"100ms\"",
        ..Options::default()
    })
    .await;
    let body = envelope("2980000000001", "cnv-sla", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let warned = wait_until(Duration::from_secs(10), || async {
        app.standin
            .robot_calls()
            .iter()
            .any(|c| c.name == "hook" && c.body["ticket"]["sla_warning"] == true)
    })
    .await;
    assert!(warned, "{:?}", app.standin.robot_calls());
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs[0]["sla_warning"], true, "marked for the console");
    assert_eq!(handoffs[0]["sla_breached"], false);
    let team_warning = app.standin.robot_calls().into_iter().find(|c| {
        c.name == "team"
            && c.body["markdown"]["title"]
                .as_str()
                .is_some_and(|t| t.contains("即将超时"))
    });
    assert!(team_warning.is_some(), "the DingTalk group hears it too");
    let breached = wait_until(Duration::from_secs(10), || async {
        app.standin
            .robot_calls()
            .iter()
            .any(|c| c.name == "hook" && c.body["ticket"]["sla_breached"] == true)
    })
    .await;
    assert!(breached, "{:?}", app.standin.robot_calls());
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.settle().await;
    let announcements = app
        .standin
        .robot_calls()
        .iter()
        .filter(|c| c.name == "hook" && c.body["ticket"]["sla_breached"] == true)
        .count();
    assert_eq!(announcements, 1, "announced once");
    let warnings = app
        .standin
        .robot_calls()
        .iter()
        .filter(|c| c.name == "hook" && c.body["ticket"]["sla_warning"] == true)
        .count();
    assert_eq!(warnings, 1, "warned once");
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs[0]["sla_breached"], true);
    assert_eq!(
        handoffs[0]["sla_warning"], false,
        "overdue replaces due soon"
    );
}

#[tokio::test]
async fn a_marketplace_ticket_gets_one_chatwoot_conversation_for_all_its_events() {
    let app = spawn_app_with(Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        sinks: r#"
[[sinks]]
kind = "chatwoot"
url = "{base}/chatwoot"
token = "cw-token"
account_id = 1
inbox_id = 4
"#,
        ..Options::default()
    })
    .await;
    let body = envelope("2970000000101", "cnv-cw", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let notes = |app: &TestApp| {
        app.standin
            .chatwoot_calls()
            .into_iter()
            .filter(|c| c.path.ends_with("/messages"))
            .collect::<Vec<_>>()
    };
    assert!(wait_until(Duration::from_secs(10), || async { notes(&app).len() == 1 }).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let threat = envelope("2970000000102", "cnv-cw", THREAT, None);
    assert_eq!(app.taobao_push("tb", &threat, HmacSha256).await.0, 200);
    assert!(
        wait_until(Duration::from_secs(10), || async { notes(&app).len() == 2 }).await,
        "the update is noted too: {:?}",
        app.standin.chatwoot_calls()
    );
    app.settle().await;
    let calls = app.standin.chatwoot_calls();
    let opened: Vec<_> = calls
        .iter()
        .filter(|c| c.path == "/api/v1/accounts/1/conversations")
        .collect();
    assert_eq!(opened.len(), 1, "one conversation per ticket: {calls:?}");
    assert_eq!(opened[0].body["inbox_id"], 4);
    for note in notes(&app) {
        assert_eq!(note.path, "/api/v1/accounts/1/conversations/1/messages");
        assert_eq!(note.body["private"], true);
        assert_eq!(note.token, "cw-token");
    }
    let priorities: Vec<_> = calls
        .iter()
        .filter(|c| c.path.ends_with("/toggle_priority"))
        .map(|c| c.body["priority"].clone())
        .collect();
    assert_eq!(priorities.last().expect("set"), "urgent", "raised to P1");
    assert!(app.jobs("dead").await.is_empty());
}

#[tokio::test]
async fn a_busy_robot_gets_twenty_a_minute_and_the_rest_waits_its_turn() {
    let app = spawn_app_with(Options {
        sinks: r#"
[[sinks]]
kind = "dingtalk"
url = "{base}/robot/busy?access_token=t"
secret = "SECdemo"
"#,
        ..Options::default()
    })
    .await;
    for i in 0..23 {
        let body = envelope(
            &format!("29710000{i:05}"),
            &format!("cnv-busy-{i}"),
            COMPLAINT,
            None,
        );
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
    let busy = |app: &TestApp| {
        app.standin
            .robot_calls()
            .iter()
            .filter(|c| c.name == "busy")
            .count()
    };
    assert!(wait_until(Duration::from_secs(20), || async { busy(&app) == 20 }).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(busy(&app), 20, "no more than 20 in the minute");
    let waiting: Vec<_> = app
        .jobs("pending")
        .await
        .into_iter()
        .filter(|j| j["kind"] == "notify")
        .collect();
    assert_eq!(
        waiting.len(),
        3,
        "the rest is queued, not dropped: {waiting:?}"
    );
    assert!(app.jobs("dead").await.is_empty());
    assert!(
        wait_until(Duration::from_secs(75), || async { busy(&app) == 23 }).await,
        "the queued notices go out in the next minute"
    );
    assert!(app.jobs("dead").await.is_empty());
}

#[tokio::test]
async fn a_robot_down_for_a_long_while_gets_every_ticket_afterwards() {
    // An hour compressed: backoff from 50 ms capped at 2 s, replies would give up after 3
    // attempts, the outage outlasts that; notices keep trying and arrive.
    let app = spawn_app_with(Options {
        sinks: r#"
[[sinks]]
kind = "webhook"
url = "{base}/robot/down"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#,
        worker: "notify_max_attempts = 200",
        ..Options::default()
    })
    .await;
    app.standin.fail_robots_with(Some(503));
    for i in 0..3 {
        let body = envelope(
            &format!("29720000{i:05}"),
            &format!("cnv-down-{i}"),
            COMPLAINT,
            None,
        );
        assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let retrying: Vec<_> = app
        .all_jobs()
        .await
        .into_iter()
        .filter(|j| j["kind"] == "notify")
        .collect();
    assert_eq!(retrying.len(), 3, "{retrying:?}");
    assert!(
        retrying
            .iter()
            .all(|j| j["status"] != "dead" && j["attempts"].as_u64().unwrap_or(0) > 3),
        "past the replies' budget, still trying: {retrying:?}"
    );
    app.standin.fail_robots_with(None);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            app.standin
                .robot_calls()
                .iter()
                .filter(|c| c.name == "down")
                .count()
                == 3
        })
        .await,
        "every ticket reaches the robot once it is back"
    );
    assert!(app.jobs("dead").await.is_empty(), "nothing dropped");
}

/// A notice queued for one sink reaches that sink after the `[[sinks]]` are reordered and the
/// service restarted, not whichever sink now stands at its old place.
#[tokio::test]
async fn a_queued_notice_follows_its_sink_when_the_sinks_are_reordered() {
    const EVERYONE: &str = r#"
[[sinks]]
kind = "webhook"
url = "{base}/robot/everyone"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#;
    const URGENT_ONLY: &str = r#"
[[sinks]]
kind = "dingtalk"
url = "{base}/robot/urgent?access_token=t"
min_priority = "P1"
"#;
    let before: &'static str = Box::leak(format!("{EVERYONE}{URGENT_ONLY}").into_boxed_str());
    let after: &'static str = Box::leak(format!("{URGENT_ONLY}{EVERYONE}").into_boxed_str());
    let app = spawn_app_with(Options {
        sinks: before,
        worker: "notify_max_attempts = 200",
        ..Options::default()
    })
    .await;
    app.standin.fail_robots_with(Some(503));
    let body = envelope("2973000000001", "cnv-reorder", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let queued = wait_until(Duration::from_secs(10), || async {
        app.all_jobs()
            .await
            .iter()
            .any(|j| j["kind"] == "notify" && j["attempts"].as_u64().unwrap_or(0) >= 1)
    })
    .await;
    assert!(queued, "the P2 ticket's notice waits for the robot");
    app.standin.fail_robots_with(None);
    let app = app
        .restart_with(Options {
            sinks: after,
            worker: "notify_max_attempts = 200",
            ..Options::default()
        })
        .await;
    let arrived = wait_until(Duration::from_secs(10), || async {
        !app.standin.robot_calls().is_empty()
    })
    .await;
    assert!(arrived);
    app.settle().await;
    let names: Vec<String> = app
        .standin
        .robot_calls()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(
        !names.iter().any(|n| n == "urgent"),
        "the P1-only group got the P2 ticket: {names:?}"
    );
    assert!(names.iter().any(|n| n == "everyone"), "{names:?}");
}

#[tokio::test]
async fn a_robot_refusing_anfus_credentials_is_named_in_the_alert() {
    let app = spawn_app_with(Options {
        sinks: r#"
[[sinks]]
name = "supervisors"
kind = "webhook"
url = "{base}/robot/refusing"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#,
        ..Options::default()
    })
    .await;
    app.standin.fail_robots_with(Some(401));
    let body = envelope("2974000000001", "cnv-refused", COMPLAINT, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let alerted = wait_until(Duration::from_secs(10), || async {
        let (_, body) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
        body["alerts"]["sink supervisors"].is_string()
    })
    .await;
    let (_, body) = app.agent(reqwest::Method::GET, "/v1/alerts", None).await;
    assert!(alerted, "the alert names the sink: {body}");
}
