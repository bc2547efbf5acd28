//! The agent console in a real headless Chromium, driven through chromedriver: log in (a wrong
//! token is refused), watch complaints arrive without reloading (server-sent events), open the
//! card, claim, note, resolve, switch to English. Saves `target/console.png` on the way (the
//! README's `docs/console.png` is a copy of it).
//!
//! Needs Debian's `chromium` and `chromium-driver`, which `scripts/test` installs; it is never
//! skipped: without them it fails and says so. `ANFU_CHROMIUM` and `ANFU_CHROMEDRIVER` override
//! where they are.

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

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// A browser-side program: from its variable, else Debian's path; missing is a failure.
fn program(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found (set {var} to point elsewhere): the console's browser test needs Debian's \
         `chromium` and `chromium-driver`; run scripts/test, which installs them",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// chromedriver as a child process; dropping it (also while a failed test unwinds) asks it to
/// shut down, which ends its sessions and so Chromium, and kills it if it does not.
struct Driver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Driver {
    async fn start(program: &Path, dir: &Path) -> Driver {
        let http = reqwest::Client::new();
        // The port is free when picked but could be taken before chromedriver binds it: retry.
        for attempt in 1..=3 {
            let port = free_port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let child = Command::new(program)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{} does not start: {e}", program.display()));
            let mut driver = Driver { child, port, log };
            let until = Instant::now() + WAIT;
            while Instant::now() < until {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    eprintln!("chromedriver on port {port} exited ({status}); retrying");
                    break;
                }
                let ready = match http.get(format!("{}/status", driver.url())).send().await {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["value"]["ready"] == true),
                    Err(_) => false,
                };
                if ready {
                    return driver;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!(
            "chromedriver did not answer on loopback; see its logs in {}",
            dir.display()
        );
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = s.read(&mut [0; 256]);
        }
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser session and what a failure report needs.
struct Browser {
    client: Client,
    driver_log: PathBuf,
}

impl Browser {
    async fn start(driver: &Driver, chromium: &Path, profile: &Path) -> Browser {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                // Without the background-networking flags Chromium's own connections are
                // refused on a closed network and slow everything down.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                    "--window-size=1280,900",
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&driver.url()),
        )
        .await
        .expect("Chromium starts within a minute")
        .unwrap_or_else(|e| {
            panic!(
                "no Chromium session ({e}); chromedriver's log: {}",
                driver.log.display()
            )
        });
        Browser {
            client,
            driver_log: driver.log.clone(),
        }
    }

    /// Saves a screenshot and the page's text, then fails.
    async fn fail(&self, what: &str, error: impl std::fmt::Display) -> ! {
        let shot = target_dir().join("console-failure.png");
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        let url = self.client.current_url().await.map(|u| u.to_string());
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        panic!(
            "{what}: {error}\nat {url:?}; page text:\n{text}\nscreenshot: {}; chromedriver log: {}",
            shot.display(),
            self.driver_log.display()
        );
    }

    /// Waits until `locator` finds something.
    async fn wait(&self, what: &str, locator: Locator<'_>) -> Element {
        match self.client.wait().at_most(WAIT).for_element(locator).await {
            Ok(e) => e,
            Err(e) => self.fail(&format!("waiting for {what}"), e).await,
        }
    }

    /// Waits until `css` finds nothing.
    async fn wait_gone(&self, what: &str, css: &str) {
        let until = Instant::now() + WAIT;
        loop {
            match self.client.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => return,
                Ok(_) if Instant::now() < until => {}
                Ok(_) => self.fail(&format!("{what} still shown"), css).await,
                Err(e) => self.fail(&format!("looking for {what}"), e).await,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of what `locator` finds, once it is there.
    async fn text(&self, what: &str, locator: Locator<'_>) -> String {
        let until = Instant::now() + WAIT;
        loop {
            let element = self.wait(what, locator).await;
            match element.text().await {
                Ok(text) => return text,
                // The console redraws the card on every live event: find it again.
                Err(e) if e.is_stale_element_reference() && Instant::now() < until => {}
                Err(e) => self.fail(&format!("reading {what}"), e).await,
            }
        }
    }

    /// Types into each field (emptied first), then clicks `button`. A redraw of the card in
    /// between makes the elements stale: then it starts over.
    async fn fill_and_click(&self, what: &str, fields: &[(&str, &str)], button: &str) {
        let until = Instant::now() + WAIT;
        loop {
            let mut result = Ok(());
            for (css, text) in fields {
                let field = self.wait(what, Locator::Css(css)).await;
                result = match field.clear().await {
                    Ok(()) => field.send_keys(text).await,
                    Err(e) => Err(e),
                };
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = self.wait(what, Locator::Css(button)).await.click().await;
            }
            match result {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() && Instant::now() < until => {
                    eprintln!("{what}: the card was redrawn under the test; again");
                }
                Err(e) => self.fail(what, e).await,
            }
        }
    }

    async fn run(&self, script: &str) -> Value {
        match self.client.execute(script, vec![]).await {
            Ok(v) => v,
            Err(e) => self.fail(&format!("running `{script}`"), e).await,
        }
    }
}

/// The ticket from the agent API.
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
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
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

    // The report page: the daily chart's bars add up to the tickets the API counts.
    let (_, report) = app.agent(reqwest::Method::GET, "/v1/reports", None).await;
    assert_eq!(report["tickets"], 3, "{report}");
    if let Err(e) = c.goto(&format!("{}/console/reports", app.base)).await {
        b.fail("opening the reports", e).await;
    }
    b.wait(
        "the daily chart",
        Locator::Css("#daily-chart rect[data-count]"),
    )
    .await;
    let charted = b
        .run("return [...document.querySelectorAll('#daily-chart rect')].reduce((a, r) => a + +r.dataset.count, 0)")
        .await;
    assert_eq!(charted, json!(3), "the chart shows the seeded tickets");
    let damaged = b
        .run("return [...document.querySelectorAll('#daily-chart rect[data-issue=damaged]')].reduce((a, r) => a + +r.dataset.count, 0)")
        .await;
    assert_eq!(damaged, json!(1));
    let tile = b
        .text("the tickets tile", Locator::Css("#tile-tickets b"))
        .await;
    assert_eq!(tile, "3");
    b.wait("the shop bars", Locator::Css("#shops rect[data-count]"))
        .await;
    screenshot(&b, "reports.png").await;
    if let Err(e) = c.goto(&format!("{}/console", app.base)).await {
        b.fail("back to the console", e).await;
    }
    b.wait("the status filter", Locator::Css("#f-status"))
        .await
        .select_by_value("resolved")
        .await
        .unwrap();
    b.fill_and_click("opening the ticket again", &[], &row)
        .await;
    b.wait("the card again", Locator::Css("#card dl")).await;

    // English.
    b.fill_and_click("switching to English", &[], "#lang").await;
    b.wait(
        "the English title",
        Locator::XPath("//header/h1[.='anfu agent console']"),
    )
    .await;
    b.wait(
        "the English order label",
        Locator::XPath("//section[@id='card']//dt[.='Order']"),
    )
    .await;
    assert_eq!(
        b.text("the language button", Locator::Css("#lang")).await,
        "中文"
    );

    c.clone().close().await.unwrap();
    drop(driver);
    eprintln!("browser test took {:.1?}", started.elapsed());
}
