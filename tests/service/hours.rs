//! Business hours: outside them the auto-reply names when a person will answer, and the
//! ticket's SLA clock only runs while the shop is open.

use crate::support::*;
use chrono::{Datelike, Duration as Days, Utc};
use serde_json::json;
use std::time::Duration;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ZH_WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

#[tokio::test]
async fn a_message_while_closed_gets_the_time_a_person_answers_and_the_sla_waits() {
    // Open only on the weekday three days from now, so "now" is closed whatever the time.
    let open_day = (Utc::now() + Days::days(3)).date_naive();
    let weekday = open_day.weekday().num_days_from_monday() as usize;
    let app = spawn_app_with(Options {
        sla: "P1 = \"2h\"\nP2 = \"2h\"\nP3 = \"2h\"",
        gen_shop: format!(
            "hours = \"{} 09:00-18:00\"\nutc_offset = \"+00:00\"",
            WEEKDAYS[weekday]
        ),
        ..Options::default()
    })
    .await;
    let body = json!({"message_id": "m-night", "conversation_id": "c-night", "buyer": {"id": "u", "nick": "Lin"},
                      "text": COMPLAINT, "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes();
    assert_eq!(app.generic_push(&body, "wh-night").await.0, 204);

    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1, "one auto-reply");
    let eta = format!("周{}11:00前", ZH_WEEKDAYS[weekday]);
    assert!(
        delivered[0].text.contains(&eta),
        "the reply says when a person answers ({eta}): {}",
        delivered[0].text
    );

    app.settle().await;
    let handoffs = app.handoffs().await;
    assert_eq!(handoffs.len(), 1);
    let due = open_day
        .and_hms_opt(11, 0, 0)
        .expect("valid time")
        .and_utc();
    assert_eq!(
        handoffs[0]["card"]["sla_due"],
        due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "2 h of opening time: 09:00 + 2 h on the open day"
    );
}

#[tokio::test]
async fn a_message_while_open_keeps_the_usual_promise() {
    let app = spawn_app_with(Options {
        sla: "P1 = \"2h\"\nP2 = \"2h\"\nP3 = \"2h\"",
        gen_shop: "hours = \"mon-sun 00:00-24:00\"".into(),
        ..Options::default()
    })
    .await;
    let body = json!({"message_id": "m-day", "conversation_id": "c-day", "buyer": {"id": "u", "nick": "Lin"},
                      "text": COMPLAINT, "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes();
    assert_eq!(app.generic_push(&body, "wh-day").await.0, 204);
    let delivered = app.standin.wait_delivered(1, Duration::from_secs(10)).await;
    assert!(
        delivered[0].text.contains("2小时内"),
        "{}",
        delivered[0].text
    );
}
