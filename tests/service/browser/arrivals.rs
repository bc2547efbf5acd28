//! Tickets arrive while the agent watches: the queue updates live, a refused reply shows as a
//! dead letter, and the queue's order is the agent API's (the P1 first).

use super::*;

/// Pushes the complaints and returns the P1 ticket's id.
pub(super) async fn tickets_arrive(b: &Browser, app: &TestApp) -> i64 {
    // A complaint arrives: the queue shows it without a reload (the mark survives).
    b.run("window.anfuNotReloaded = true").await;
    let body = envelope("2990000000101", "cnv-browser-cup", CUP, None);
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    b.wait(
        "the new ticket in the queue",
        Locator::Css("#queue li[data-id]"),
    )
    .await;
    let id = b
        .run("return +document.querySelector('#queue li[data-id]').dataset.id")
        .await
        .as_i64()
        .expect("a numeric ticket id");
    assert_eq!(
        b.run("return window.anfuNotReloaded === true").await,
        json!(true)
    );

    // A reply the platform refuses for good is a dead letter: the console lists it at once.
    app.standin.script([anfu::standin::Scripted::status(400)]);
    let refused = envelope("2990000000103", "cnv-browser-dead", INQUIRY, None);
    assert_eq!(app.taobao_push("tb", &refused, HmacSha256).await.0, 200);
    b.wait(
        "the dead letter in the console",
        // The summary is there (hidden, "…: 0") before any dead letter: wait until it shows.
        Locator::XPath("//details[@id='dead' and not(@hidden)]/summary[contains(., '死信')]"),
    )
    .await;
    let dead = app.jobs("dead").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    b.wait(
        "the dead reply's row",
        Locator::Css(&format!("#dead li[data-job='{}']", dead[0]["id"])),
    )
    .await;

    // Two calmer complaints follow, from another conversation and another shop: the queue
    // puts the P1 first, as the agent API orders them.
    let late = envelope("2990000000102", "cnv-browser-late", LATE, None);
    assert_eq!(app.taobao_push("tb", &late, HmacSha256).await.0, 200);
    let thread = json!({"message_id": "m-browser-1", "conversation_id": "c-browser-1",
                        "buyer": {"id": "u-77", "nick": "Lin"}, "text": THREAD,
                        "order_id": null, "sent_at": null})
    .to_string()
    .into_bytes();
    assert_eq!(app.generic_push(&thread, "wh-browser-1").await.0, 204);
    b.wait(
        "three tickets in the queue",
        Locator::Css("#queue li[data-id]:nth-child(3)"),
    )
    .await;
    assert_eq!(
        b.run("return window.anfuNotReloaded === true").await,
        json!(true)
    );
    let (_, open) = app
        .agent(reqwest::Method::GET, "/v1/handoffs?status=open", None)
        .await;
    let api_order: Vec<i64> = open["handoffs"]
        .as_array()
        .expect("a list of handoffs")
        .iter()
        .map(|h| h["id"].as_i64().expect("a numeric id"))
        .collect();
    assert_eq!(api_order.len(), 3, "{open}");
    // (Each live event reloads the queue; wait for the last reload rather than read a middle one.)
    let until = Instant::now() + WAIT;
    loop {
        let shown = b
            .run("return [...document.querySelectorAll('#queue li[data-id]')].map(li => +li.dataset.id)")
            .await;
        if shown == json!(api_order) {
            break;
        }
        if Instant::now() > until {
            b.fail(
                "the queue's order",
                format!("{shown} shown, {api_order:?} from the API"),
            )
            .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(api_order.first(), Some(&id), "the P1 comes first");
    id
}
