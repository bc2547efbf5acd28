//! The escalation ladder and the follow-up (回访), end to end on both stores: an unclaimed
//! P1 escalated once to the supervisors' sink, a repeat complaint reopening its ticket, and
//! a follow-up whose answer reopens the ticket or marks it satisfied — with a review
//! invitation only for a satisfied buyer, and only where the shop allows it.

use crate::pg::TestDb;
use crate::support::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

const SINKS: &str = r#"
[[sinks]]
name = "team"
kind = "webhook"
url = "{base}/robot/team"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
[[sinks]]
name = "boss"
kind = "webhook"
url = "{base}/robot/boss"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
escalation = true
"#;

fn options(storage_url: Option<String>, gen_shop: &str) -> Options {
    Options {
        conversation: "burst_window = \"50ms\"\ncooldown = \"50ms\"",
        sinks: SINKS,
        sla: "check_every = \"50ms\"\nescalate_after = \"300ms\"",
        gen_shop: gen_shop.to_string(),
        storage_url,
        ..Options::default()
    }
}

async fn say(app: &TestApp, key: &str, conversation: &str, text: &str) {
    let body = json!({"message_id": key, "conversation_id": conversation,
                      "buyer": {"id": "u-ladder", "nick": "Lin"}, "text": text,
                      "order_id": null, "sent_at": null});
    let status = app.generic_push(body.to_string().as_bytes(), key).await.0;
    assert_eq!(status, 204, "push {key}");
}

async fn ticket(app: &TestApp, id: i64) -> Value {
    let (status, body) = app
        .agent(Method::GET, &format!("/v1/handoffs/{id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The open ticket of `conversation`, once there is one.
async fn ticket_of(app: &TestApp, conversation: &str) -> i64 {
    let until = std::time::Instant::now() + WAIT;
    loop {
        let found = app
            .handoffs()
            .await
            .iter()
            .find(|h| h["card"]["conversation_id"] == conversation && h["status"] == "open")
            .and_then(|h| h["id"].as_i64());
        if let Some(id) = found {
            return id;
        }
        assert!(
            std::time::Instant::now() < until,
            "no open ticket for {conversation}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn resolve(app: &TestApp, id: i64) -> Value {
    let (status, body) = app
        .agent(Method::POST, &format!("/v1/handoffs/{id}/resolve"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn robot_events(app: &TestApp, robot: &str, flag: &str) -> usize {
    app.standin
        .robot_calls()
        .iter()
        .filter(|c| c.name == robot && c.body["ticket"][flag] == true)
        .count()
}

async fn escalates_once(storage_url: Option<String>) {
    let app = spawn_app_with(options(storage_url, "")).await;
    say(&app, "m-esc-1", "c-esc", THREAT).await;
    let id = ticket_of(&app, "c-esc").await;
    assert_eq!(ticket(&app, id).await["priority"], "P1");
    let escalated = wait_until(WAIT, || async {
        robot_events(&app, "boss", "escalated") >= 1
    })
    .await;
    assert!(escalated, "{:?}", app.standin.robot_calls().len());
    // Several more ticks: still once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.settle().await;
    assert_eq!(robot_events(&app, "boss", "escalated"), 1);
    assert_eq!(
        robot_events(&app, "team", "escalated"),
        0,
        "only the supervisors' sink"
    );
    let boss: Vec<_> = app
        .standin
        .robot_calls()
        .into_iter()
        .filter(|c| c.name == "boss")
        .collect();
    assert_eq!(
        boss.len(),
        1,
        "the supervisors' sink gets escalations, not every card"
    );
    assert_eq!(ticket(&app, id).await["escalated"], true);
}

#[tokio::test]
async fn an_unclaimed_p1_is_escalated_once_to_the_supervisors_on_sqlite() {
    escalates_once(None).await;
}

#[tokio::test]
async fn an_unclaimed_p1_is_escalated_once_to_the_supervisors_on_postgres() {
    let db = TestDb::create().await;
    escalates_once(Some(db.url.clone())).await;
}

async fn repeat_reopens(storage_url: Option<String>) {
    let app = spawn_app_with(options(storage_url, "")).await;
    say(&app, "m-rep-1", "c-rep", COMPLAINT).await;
    let id = ticket_of(&app, "c-rep").await;
    app.settle().await;
    let before = ticket(&app, id).await["priority"]
        .as_str()
        .map(String::from);
    assert_eq!(before.as_deref(), Some("P2"));
    resolve(&app, id).await;
    let replied = |app: &TestApp| {
        let delivered = app.standin.delivered();
        delivered
            .iter()
            .filter(|d| d.conversation_id == "c-rep")
            .count()
    };
    let replies_before = replied(&app);
    // Past the burst window and cooldown of the first reply (50 ms here).
    tokio::time::sleep(Duration::from_millis(200)).await;
    say(&app, "m-rep-2", "c-rep", "还是开线，质量太差了，我要退货！").await;
    let answered = wait_until(WAIT, || async { replied(&app) == replies_before + 1 }).await;
    assert!(
        answered,
        "the buyer is answered at once, as for a new complaint"
    );
    assert_eq!(
        ticket_of(&app, "c-rep").await,
        id,
        "the same ticket reopens"
    );
    app.settle().await;
    let t = ticket(&app, id).await;
    assert_eq!(
        (t["status"].as_str(), t["repeat_count"].as_u64()),
        (Some("open"), Some(1)),
        "{t}"
    );
    assert_eq!(t["priority"], "P1", "raised one priority: {t}");
    let lines: Vec<&str> = t["card"]["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .filter_map(|l| l["text"].as_str())
        .collect();
    assert!(lines.iter().any(|l| l.contains("还是开线")), "{lines:?}");
    let tickets = app.handoffs().await;
    let of_conversation = tickets
        .iter()
        .filter(|h| h["card"]["conversation_id"] == "c-rep");
    assert_eq!(of_conversation.count(), 1);
    let announced = wait_until(WAIT, || async {
        robot_events(&app, "team", "reopened") == 1 && robot_events(&app, "boss", "reopened") == 1
    })
    .await;
    assert!(
        announced,
        "reopened announced to the team and the supervisors"
    );
}

#[tokio::test]
async fn a_repeat_complaint_reopens_the_ticket_on_sqlite() {
    repeat_reopens(None).await;
}

#[tokio::test]
async fn a_repeat_complaint_reopens_the_ticket_on_postgres() {
    let db = TestDb::create().await;
    repeat_reopens(Some(db.url.clone())).await;
}

/// A resolved ticket whose follow-up question reached the buyer.
async fn followed_up(app: &TestApp, conversation: &str) -> i64 {
    say(app, &format!("{conversation}-1"), conversation, COMPLAINT).await;
    let id = ticket_of(app, conversation).await;
    app.settle().await;
    let resolved = resolve(app, id).await;
    assert!(resolved["followup"]["due_at"].is_string(), "{resolved}");
    let asked = wait_until(WAIT, || async {
        app.standin
            .delivered()
            .iter()
            .any(|d| d.conversation_id == conversation && d.text.contains("解决了吗"))
    })
    .await;
    assert!(asked, "the follow-up question went out");
    app.settle().await;
    assert!(ticket(app, id).await["followup"]["sent_at"].is_string());
    id
}

fn invitations(app: &TestApp, conversation: &str) -> usize {
    app.standin
        .delivered()
        .iter()
        .filter(|d| d.conversation_id == conversation && d.text.contains("评价"))
        .count()
}

async fn followup_answers(storage_url: Option<String>) {
    let shop = "followup_after = \"100ms\"\ninvite_review = true";
    let app = spawn_app_with(options(storage_url, shop)).await;

    // Unhappy: reopened, and never asked for a review.
    let id = followed_up(&app, "c-fu-sad").await;
    say(&app, "c-fu-sad-2", "c-fu-sad", "还是没收到退款").await;
    assert_eq!(ticket_of(&app, "c-fu-sad").await, id);
    app.settle().await;
    let t = ticket(&app, id).await;
    assert_eq!(
        (t["followup"]["answer"].as_str(), t["repeat_count"].as_u64()),
        (Some("unhappy"), Some(1)),
        "{t}"
    );
    assert_eq!(t["followup"]["review_invited"], false);
    assert_eq!(
        invitations(&app, "c-fu-sad"),
        0,
        "no review invitation to an unhappy buyer"
    );

    // Satisfied: marked, thanked and invited once, and not answered by the bot as well.
    let id = followed_up(&app, "c-fu-glad").await;
    let delivered = app.standin.delivered().len();
    say(&app, "c-fu-glad-2", "c-fu-glad", "收到了，谢谢").await;
    let invited = wait_until(WAIT, || async { invitations(&app, "c-fu-glad") == 1 }).await;
    assert!(invited, "{:?}", app.standin.delivered());
    app.settle().await;
    assert_eq!(
        app.standin.delivered().len(),
        delivered + 1,
        "only the invitation"
    );
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["followup"]["answer"], "satisfied");
    assert_eq!(t["followup"]["review_invited"], true);
}

#[tokio::test]
async fn followup_answers_reopen_or_satisfy_on_sqlite() {
    followup_answers(None).await;
}

#[tokio::test]
async fn followup_answers_reopen_or_satisfy_on_postgres() {
    let db = TestDb::create().await;
    followup_answers(Some(db.url.clone())).await;
}

#[tokio::test]
async fn a_shop_that_does_not_invite_reviews_never_sends_one() {
    let app = spawn_app_with(options(None, "followup_after = \"100ms\"")).await;
    let id = followed_up(&app, "c-fu-plain").await;
    say(&app, "c-fu-plain-2", "c-fu-plain", "好了，解决了").await;
    let answered = wait_until(WAIT, || async {
        ticket(&app, id).await["followup"]["answer"] == "satisfied"
    })
    .await;
    assert!(
        answered,
        "{} {:?}",
        ticket(&app, id).await,
        app.all_jobs().await
    );
    app.settle().await;
    assert_eq!(invitations(&app, "c-fu-plain"), 0);
    assert_eq!(ticket(&app, id).await["followup"]["review_invited"], false);
}

#[tokio::test]
async fn a_followup_waits_for_business_hours() {
    // A one-hour window that is neither this hour nor the next (on the shop's +08:00 clock).
    let hour = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%H")
        .to_string();
    let hour: u32 = hour.parse().expect("an hour");
    let start = (0..23)
        .find(|s| *s != hour && (s + 1) % 24 != hour && *s != (hour + 1) % 24)
        .expect("a closed hour");
    let shop = format!(
        "followup_after = \"100ms\"\nhours = \"mon-sun {start:02}:00-{:02}:00\"",
        start + 1
    );
    let app = spawn_app_with(options(None, &shop)).await;
    say(&app, "c-fu-night-1", "c-fu-night", COMPLAINT).await;
    let id = ticket_of(&app, "c-fu-night").await;
    app.settle().await;
    resolve(&app, id).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    app.settle().await;
    let t = ticket(&app, id).await;
    assert_eq!(
        t["followup"]["sent_at"],
        Value::Null,
        "not while the shop is closed: {t}"
    );
    let due = t["followup"]["due_at"].as_str().expect("still scheduled");
    let due = chrono::DateTime::parse_from_rfc3339(due).expect("a time");
    assert!(
        due > chrono::Utc::now() + chrono::Duration::minutes(30),
        "moved to the opening: {t}"
    );
    let asked = app
        .standin
        .delivered()
        .iter()
        .any(|d| d.conversation_id == "c-fu-night" && d.text.contains("解决了吗"));
    assert!(!asked);
}
