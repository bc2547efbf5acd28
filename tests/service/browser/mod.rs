//! The agent console in a real headless Chromium, driven through chromedriver: log in (a wrong
//! token is refused), watch complaints arrive without reloading (server-sent events), open the
//! card, claim, note, resolve, switch to English. Saves `target/console.png` on the way (the
//! README's `docs/console.png` is a copy of it).
//!
//! Needs Debian's `chromium` and `chromium-driver`, which `scripts/test` installs; it is never
//! skipped: without them it fails and says so. `ANFU_CHROMIUM` and `ANFU_CHROMEDRIVER` override
//! where they are.

mod arrivals;
mod reports;
mod webdriver;

use webdriver::{program, target_dir, Browser, Driver};

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any one thing may take to show up in the page (a slow, busy 2-core CI machine).
const WAIT: Duration = Duration::from_secs(20);
const CUP: &str = "快递把箱子压扁了，杯子碎了，订单号 3721458805123456789，我要退款，不然差评";
const CUP_ORDER: &str = "3721458805123456789";
const LATE: &str = "快递一个星期了还没到，到底什么时候能送到？";
const THREAD: &str = "衣服有个小线头，麻烦处理一下";
const AGENT: &str = "小王";
const NOTE: &str = "已联系买家，补发新杯子";
const REPLY: &str = "您好，新杯子今天就为您补发，单号稍后发您，给您添麻烦了。";

/// Saves the page as `target/<name>` (the README's pictures in docs/ are copies).
async fn screenshot(b: &Browser, name: &str) {
    let png = match b.client.screenshot().await {
        Ok(png) => png,
        Err(e) => b.fail("taking a screenshot", e).await,
    };
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::create_dir_all(target_dir()).expect("target dir");
    std::fs::write(target_dir().join(name), &png).expect("screenshot saved");
}

/// The ticket from the agent API.
async fn ticket(app: &TestApp, id: i64) -> Value {
    let (status, body) = app
        .agent(reqwest::Method::GET, &format!("/v1/handoffs/{id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits until the agent API shows the ticket in a state `ready` accepts.
async fn ticket_until(
    app: &TestApp,
    id: i64,
    timeout: Duration,
    ready: fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + timeout;
    loop {
        let t = ticket(app, id).await;
        if ready(&t) || Instant::now() > until {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The highlighted runs the card should show: evidence spans (character offsets) merged.
fn marked_runs(text: &str, evidence: &[Value]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    for e in evidence {
        let start = e["start"].as_u64().expect("evidence start") as usize;
        let end = e["end"].as_u64().expect("evidence end") as usize;
        for m in marked.iter_mut().take(end).skip(start) {
            *m = true;
        }
    }
    let mut runs = Vec::new();
    let mut run = String::new();
    for (c, m) in chars.iter().zip(&marked) {
        if *m {
            run.push(*c);
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// `//dt[.=label]/following-sibling::dd[1]` in the card.
fn card_field(label: &str) -> String {
    format!("//section[@id='card']//dt[.='{label}']/following-sibling::dd[1]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_console_in_a_real_browser() {
    let started = Instant::now();
    let chromium = program("ANFU_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("ANFU_CHROMEDRIVER", "/usr/bin/chromedriver");
    let scratch = tempfile::tempdir().expect("temp dir");
    let profile = scratch.path().join("profile");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let app = spawn_app().await;
    let driver = Driver::start(&chromedriver, scratch.path()).await;
    let b = Browser::start(&driver, &chromium, &profile).await;
    let c = &b.client;

    // Logging in: the console sends a stranger to the form; a wrong token is refused.
    if let Err(e) = c.goto(&format!("{}/console", app.base)).await {
        b.fail("opening the console", e).await;
    }
    b.wait("the login form", Locator::Css("form #token")).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/console/login");
    b.fill_and_click(
        "logging in with a wrong token",
        &[("#token", "guess")],
        "#login",
    )
    .await;
    b.wait(
        "the wrong-token message",
        Locator::XPath("//p[@id='error'][contains(., 'wrong token')]"),
    )
    .await;
    assert_eq!(c.current_url().await.unwrap().path(), "/console/login");
    let cookies = c.get_all_cookies().await.unwrap();
    assert!(
        cookies.iter().all(|k| k.name() != "anfu_session"),
        "{cookies:?}"
    );

    b.fill_and_click("logging in", &[("#token", TOKEN)], "#login")
        .await;
    b.wait("the queue", Locator::Css("ul#queue")).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/console");
    let session = c.get_named_cookie("anfu_session").await.unwrap();
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    let script_sees = b.run("return document.cookie").await;
    assert!(
        !script_sees.to_string().contains("anfu_session"),
        "the session cookie is HttpOnly: {script_sees}"
    );
    b.wait(
        "the empty queue",
        Locator::XPath("//ul[@id='queue']/li[not(@data-id)][.='没有工单']"),
    )
    .await;
    b.wait(
        "the live indicator",
        Locator::XPath("//span[@id='live'][contains(., '实时')]"),
    )
    .await;

    let id = arrivals::tickets_arrive(&b, &app).await;

    // The card: priority, issue, order number, the buyer's words with the evidence marked.
    let api = ticket(&app, id).await;
    let card = &api["card"];
    let row = format!("#queue li[data-id='{id}']");
    b.fill_and_click("opening the ticket", &[], &row).await;
    b.wait(
        "the card",
        Locator::XPath(&format!("//section[@id='card']/h2[contains(., '#{id}')]")),
    )
    .await;
    b.wait(
        "the selected row",
        Locator::Css(&format!("#queue li.sel[data-id='{id}']")),
    )
    .await;
    let heading = b.text("the card's heading", Locator::Css("#card h2")).await;
    assert!(heading.starts_with(&format!("P1 #{id}")), "{heading}");
    assert!(heading.contains("待处理"), "open, in Chinese: {heading}");
    assert_eq!(api["priority"], "P1");
    assert_eq!(card["issue_type"], "damaged");
    for (label, value) in [
        ("问题类型", "商品破损"),
        ("订单号", CUP_ORDER),
        ("诉求", "退款"),
        ("威胁", "差评"),
    ] {
        let shown = b.text(label, Locator::XPath(&card_field(label))).await;
        assert_eq!(shown, value, "{label}");
    }
    let words = b
        .text("the buyer's words", Locator::Css("#card .transcript"))
        .await;
    assert_eq!(words, CUP);
    let marked = b
        .run("return [...document.querySelectorAll('#card .transcript mark')].map(m => m.textContent)")
        .await;
    let evidence = card["evidence"].as_array().expect("evidence");
    assert_eq!(
        marked,
        json!(marked_runs(CUP, evidence)),
        "evidence {evidence:?}"
    );
    for word in ["杯子碎了", CUP_ORDER, "我要退款", "差评"] {
        assert!(marked.to_string().contains(word), "{word} in {marked}");
    }

    let png = match c.screenshot().await {
        Ok(png) => png,
        Err(e) => b.fail("taking the screenshot", e).await,
    };
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::create_dir_all(target_dir()).expect("target dir");
    std::fs::write(target_dir().join("console.png"), &png).expect("screenshot saved");

    // Claim: the card says so, the unresolved queue keeps it marked 处理中, the 待处理 filter
    // lets go of it, and the server agrees.
    b.fill_and_click("claiming", &[("#agent", AGENT)], "#claim")
        .await;
    b.wait(
        "the claimed status",
        Locator::XPath(&format!(
            "//section[@id='card']/h2/span[contains(., '处理中 · {AGENT}')]"
        )),
    )
    .await;
    b.wait(
        "the claimed ticket in the unresolved queue",
        Locator::XPath(&format!(
            "//ul[@id='queue']/li[@data-id='{id}']/div[contains(., '处理中')]"
        )),
    )
    .await;
    b.wait("the status filter", Locator::Css("#f-status"))
        .await
        .select_by_value("open")
        .await
        .unwrap();
    b.wait_gone(
        "the claimed ticket in the open queue",
        &format!("#queue li[data-id='{id}']"),
    )
    .await;
    let claimed = ticket(&app, id).await;
    assert_eq!(claimed["status"], "claimed", "{claimed}");
    assert_eq!(claimed["claimed_by"], AGENT, "{claimed}");

    // A note. The claim's live event redraws the whole card a moment later, and a redraw
    // empties a half-typed note: so the server decides whether another try is needed.
    let mut noted = Value::Null;
    for _ in 0..3 {
        b.fill_and_click("adding a note", &[("#note-text", NOTE)], "#note")
            .await;
        noted = ticket_until(&app, id, Duration::from_secs(10), |t| {
            !t["notes"].as_array().is_none_or(Vec::is_empty)
        })
        .await;
        if !noted["notes"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        eprintln!("the note did not reach the server (card redrawn while typing?); again");
    }
    let notes = noted["notes"].as_array().cloned().unwrap_or_default();
    assert_eq!(notes.len(), 1, "one note, not a retry's second: {noted}");
    assert_eq!(notes[0]["author"], AGENT, "{noted}");
    assert_eq!(notes[0]["text"], NOTE, "{noted}");
    b.wait(
        "the note on the card",
        Locator::XPath(&format!(
            "//section[@id='card']/p[contains(., '{AGENT}: {NOTE}')]"
        )),
    )
    .await;

    // Answer the buyer from the reply box: drafts are offered, the agent's own words go out
    // through the platform, and the line turns `sent` live. (A live redraw may empty the box
    // while typing, as for the note: the server decides whether another try is needed.)
    b.wait("the reply drafts", Locator::Css("#card .drafts button"))
        .await;
    let drafts = b
        .run("return document.querySelectorAll('#card .drafts button').length")
        .await;
    assert!(
        drafts.as_u64().is_some_and(|n| (2..=3).contains(&n)),
        "{drafts}"
    );
    b.fill_and_click("picking a draft", &[], "#card .drafts button")
        .await;
    let picked = b
        .run("return document.querySelector('#reply-text').value")
        .await;
    assert!(
        picked.as_str().is_some_and(|t| t.chars().count() > 10),
        "{picked}"
    );
    let mut answered = Value::Null;
    for _ in 0..3 {
        b.fill_and_click("sending a reply", &[("#reply-text", REPLY)], "#send")
            .await;
        answered = ticket_until(&app, id, Duration::from_secs(10), |t| {
            !t["replies"].as_array().is_none_or(Vec::is_empty)
        })
        .await;
        if !answered["replies"].as_array().is_none_or(Vec::is_empty) {
            break;
        }
        eprintln!("the reply did not reach the server (card redrawn while typing?); again");
    }
    let replies = answered["replies"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        replies.len(),
        1,
        "one reply, not a retry's second: {answered}"
    );
    assert_eq!(replies[0]["text"], REPLY, "{answered}");
    b.wait(
        "the reply turning sent",
        Locator::XPath(&format!(
            "//div[contains(@class,'transcript')]/p[contains(@class,'agent')][contains(., '{REPLY}')]/span[contains(@class,'sent')]"
        )),
    )
    .await;
    assert!(
        app.standin.delivered().iter().any(|d| d.text == REPLY),
        "the platform got the agent's words"
    );
    let sent = ticket(&app, id).await;
    assert_eq!(sent["replies"][0]["status"], "sent", "{sent}");
    assert!(sent["first_response_at"].is_string(), "{sent}");
    screenshot(&b, "console-reply.png").await;

    // Resolve: the card and the server agree; the resolved filter lists it.
    b.fill_and_click("resolving", &[], "#resolve").await;
    b.wait(
        "the resolved status",
        Locator::XPath("//section[@id='card']/h2/span[contains(., '已解决')]"),
    )
    .await;
    let resolved = ticket_until(&app, id, WAIT, |t| t["status"] == "resolved").await;
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["claimed_by"], AGENT, "{resolved}");
    b.wait("the status filter", Locator::Css("#f-status"))
        .await
        .select_by_value("resolved")
        .await
        .unwrap();
    b.wait(
        "the ticket under the resolved filter",
        Locator::Css(&format!("#queue li[data-id='{id}']")),
    )
    .await;

    reports::reports_and_english(&b, &app, &row).await;

    c.clone().close().await.unwrap();
    drop(driver);
    eprintln!("browser test took {:.1?}", started.elapsed());
}
