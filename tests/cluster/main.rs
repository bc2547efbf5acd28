//! Several `anfu serve` processes on one PostgreSQL, as behind a load balancer: webhooks
//! spread over them (the same message to two at once, too) get exactly one reply each and
//! at most one ticket; an instance killed with SIGKILL mid-stream loses nothing that was
//! acknowledged and duplicates no reply once restarted; SIGTERM drains and exits.
//!
//! Real processes (the built binary), a real PostgreSQL (the throwaway one of the store
//! tests) and the stand-in platform on loopback.

#[path = "../store_contract/pg.rs"]
#[allow(dead_code)] // shared with the store tests; this binary uses a part
mod pg;

mod events;
mod instance;

use anfu::config::TopSignMethod;
use anfu::standin::{sign, StandIn};
use instance::Instance;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const TOKEN: &str = "cluster-token";
const APP_KEY: &str = "12345678";
const SECRET: &str = "cluster-secret";

const COMPLAINTS: &[&str] = &[
    "衣服开线了,质量太差,我要退货",
    "收到的杯子碎了一个,麻烦补发",
    "颜色和图片差太多了,要求退款",
    "快递一个星期了还没到,怎么回事",
    "什么破东西!!!再不退款我就差评",
];

fn envelope(msg_id: &str, conversation: &str, text: &str) -> Vec<u8> {
    let content = json!({"conversation_id": conversation, "buyer_nick": "tb_cluster",
        "buyer_id": format!("b-{conversation}"), "text": text, "sent_at": "2026-11-05 14:03:21"});
    json!({"topic": "taobao_im_BuyerMessage", "msg_id": msg_id, "content": content.to_string()})
        .to_string()
        .into_bytes()
}

/// Posts one signed webhook; true when acknowledged.
async fn push(client: &reqwest::Client, instance_base: &str, body: &[u8]) -> bool {
    let query = sign::taobao_query(APP_KEY, SECRET, TopSignMethod::HmacSha256, body);
    match client
        .post(format!("{instance_base}/webhooks/taobao/tb?{query}"))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
    {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

async fn agent(client: &reqwest::Client, base: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("agent API answers")
        .json()
        .await
        .expect("JSON")
}

/// Waits until every conversation in `want` has a delivered reply (or the time is up).
async fn wait_replies(standin: &StandIn, want: &HashSet<String>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let got: HashSet<String> = standin
            .delivered()
            .into_iter()
            .map(|d| d.conversation_id)
            .collect();
        if want.is_subset(&got) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Raw send calls per conversation: a second call would be a reply sent twice.
fn sends_by_conversation(standin: &StandIn) -> HashMap<String, usize> {
    let mut sends = HashMap::new();
    for call in standin.calls() {
        if let Some(c) = call.fields.get("conversation_id") {
            *sends.entry(c.clone()).or_default() += 1;
        }
    }
    sends
}

async fn no_work_left(client: &reqwest::Client, base: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let pending = agent(client, base, "/v1/jobs?status=pending").await;
        let running = agent(client, base, "/v1/jobs?status=running").await;
        let left = pending["jobs"].as_array().map_or(0, Vec::len)
            + running["jobs"].as_array().map_or(0, Vec::len);
        if left == 0 || Instant::now() > deadline {
            return json!({"pending": pending, "running": running});
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two instances on one fresh database and one stand-in (all kept alive by the caller).
struct Pair {
    _db: pg::TestDb,
    standin: StandIn,
    _dir: tempfile::TempDir,
    a: Instance,
    b: Instance,
}

async fn pair() -> Pair {
    let db = pg::TestDb::create().await;
    let standin = StandIn::start().await.expect("stand-in");
    let dir = tempfile::tempdir().expect("tmp");
    let a = Instance::start(dir.path(), "a", &db.url, &standin.url()).await;
    let b = Instance::start(dir.path(), "b", &db.url, &standin.url()).await;
    Pair {
        _db: db,
        standin,
        _dir: dir,
        a,
        b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_answer_each_message_once_even_when_both_get_it() {
    let Pair {
        _db,
        standin,
        _dir,
        a,
        b,
    } = pair().await;
    let client = reqwest::Client::new();

    let mut want = HashSet::new();
    let mut sends = Vec::new();
    for i in 0..60u32 {
        let conversation = format!("spread-{i}");
        let body = envelope(
            &format!("9100{i:06}"),
            &conversation,
            COMPLAINTS[i as usize % COMPLAINTS.len()],
        );
        let target = if i % 2 == 0 { a.base() } else { b.base() };
        want.insert(conversation);
        let client = client.clone();
        sends.push(tokio::spawn(
            async move { push(&client, &target, &body).await },
        ));
    }
    // The platform delivers the same message to both instances at once.
    for i in 0..30u32 {
        let conversation = format!("twice-{i}");
        let body = envelope(
            &format!("9200{i:06}"),
            &conversation,
            COMPLAINTS[i as usize % COMPLAINTS.len()],
        );
        want.insert(conversation);
        let (ca, cb) = (client.clone(), client.clone());
        let (ba, bb) = (a.base(), b.base());
        let body2 = body.clone();
        sends.push(tokio::spawn(async move { push(&ca, &ba, &body).await }));
        sends.push(tokio::spawn(async move { push(&cb, &bb, &body2).await }));
    }
    for s in sends {
        assert!(s.await.expect("sender"), "every webhook is acknowledged");
    }

    wait_replies(&standin, &want, Duration::from_secs(60)).await;
    let delivered: HashSet<String> = standin
        .delivered()
        .into_iter()
        .map(|d| d.conversation_id)
        .collect();
    let missing: Vec<_> = want.difference(&delivered).collect();
    assert!(missing.is_empty(), "no reply for {missing:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sends = sends_by_conversation(&standin);
    let twice: Vec<_> = sends.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "replies sent more than once: {twice:?}");
    assert_eq!(sends.len(), want.len());

    let tickets = agent(&client, &b.base(), "/v1/handoffs").await;
    let mut per_conversation: HashMap<String, usize> = HashMap::new();
    for t in tickets["handoffs"].as_array().expect("list") {
        *per_conversation
            .entry(
                t["card"]["conversation_id"]
                    .as_str()
                    .expect("id")
                    .to_string(),
            )
            .or_default() += 1;
    }
    assert!(
        per_conversation.values().all(|n| *n == 1),
        "at most one ticket per conversation: {per_conversation:?}"
    );
    assert_eq!(
        per_conversation.len(),
        want.len(),
        "every complaint has its ticket"
    );
    let left = no_work_left(&client, &a.base(), Duration::from_secs(10)).await;
    assert_eq!(left["pending"]["jobs"], json!([]), "{left}");
    assert_eq!(left["running"]["jobs"], json!([]), "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_instance_loses_nothing_acknowledged_and_duplicates_no_reply() {
    let db = pg::TestDb::create().await;
    let standin = StandIn::start().await.expect("stand-in");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = Instance::start(dir.path(), "a", &db.url, &standin.url()).await;
    let mut b = Instance::start(dir.path(), "b", &db.url, &standin.url()).await;
    let client = reqwest::Client::new();

    // Eight concurrent streams over both; A is killed with requests and jobs in flight and
    // restarted later. A message whose webhook was not acknowledged is delivered again to
    // the other instance, as the platforms do.
    let total = 400u32;
    let a_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let resent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut streams = Vec::new();
    for stream in 0..8u32 {
        let (client, a_base, b_base) = (client.clone(), a.base(), b.base());
        let (a_up, resent) = (a_up.clone(), resent.clone());
        streams.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in (stream..total).step_by(8) {
                let conversation = format!("crash-{i}");
                let body = envelope(
                    &format!("9300{i:06}"),
                    &conversation,
                    COMPLAINTS[i as usize % COMPLAINTS.len()],
                );
                let use_a = i % 2 == 0 && a_up.load(std::sync::atomic::Ordering::Relaxed);
                let first = if use_a { &a_base } else { &b_base };
                let mut ok = push(&client, first, &body).await;
                if !ok {
                    resent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    ok = push(&client, &b_base, &body).await;
                }
                assert!(ok, "message {i} acknowledged by someone");
                acked.push(conversation);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let in_flight = agent(&client, &a.base(), "/v1/jobs?status=running").await;
    a_up.store(false, std::sync::atomic::Ordering::Relaxed);
    a.kill9();
    eprintln!(
        "killed A with {} jobs running",
        in_flight["jobs"].as_array().map_or(0, Vec::len)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.spawn().await;
    a_up.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = HashSet::new();
    for s in streams {
        acked.extend(s.await.expect("stream"));
    }
    let resent = resent.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(acked.len(), total as usize);

    // The killed instance's leased jobs come back after the lease (3 s).
    wait_replies(&standin, &acked, Duration::from_secs(90)).await;
    let delivered: HashSet<String> = standin
        .delivered()
        .into_iter()
        .map(|d| d.conversation_id)
        .collect();
    let missing: Vec<_> = acked.difference(&delivered).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never answered: {missing:?}"
    );
    let per_conversation: HashMap<String, usize> =
        standin
            .delivered()
            .into_iter()
            .fold(HashMap::new(), |mut m, d| {
                *m.entry(d.conversation_id).or_default() += 1;
                m
            });
    let twice: Vec<_> = per_conversation.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "a buyer got two replies: {twice:?}");
    let left = no_work_left(&client, &b.base(), Duration::from_secs(20)).await;
    assert_eq!(left["pending"]["jobs"], json!([]), "nothing stuck: {left}");
    assert_eq!(left["running"]["jobs"], json!([]), "nothing stuck: {left}");
    let raw: usize = sends_by_conversation(&standin).values().sum();
    eprintln!(
        "crash test: {} acknowledged, {resent} re-sent after the kill, {} send calls for {} replies",
        acked.len(),
        raw,
        delivered.len()
    );

    // SIGTERM: drains and exits cleanly.
    assert!(b.terminate().success(), "SIGTERM is a clean exit");
    assert!(a.terminate().success(), "SIGTERM is a clean exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_away_webhooks_get_503_and_nothing_is_lost() {
    let db = pg::TestDb::create().await;
    let standin = StandIn::start().await.expect("stand-in");
    let dir = tempfile::tempdir().expect("tmp");
    let a = Instance::start(dir.path(), "a", &db.url, &standin.url()).await;
    let client = reqwest::Client::new();
    let first = envelope("9400000001", "outage-1", COMPLAINTS[0]);
    assert!(push(&client, &a.base(), &first).await);

    db.set_reachable(false).await;
    let during = envelope("9400000002", "outage-2", COMPLAINTS[1]);
    let query = sign::taobao_query(APP_KEY, SECRET, TopSignMethod::HmacSha256, &during);
    let response = client
        .post(format!("{}/webhooks/taobao/tb?{query}", a.base()))
        .body(during.clone())
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(
        response.status().as_u16(),
        503,
        "the platform will deliver it again"
    );
    assert!(response.headers().contains_key("retry-after"));
    let ready = client
        .get(format!("{}/readyz", a.base()))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status().as_u16(),
        503,
        "not ready while the database is away"
    );

    db.set_reachable(true).await;
    // The platform's redelivery now succeeds (the pool reconnects).
    let mut acked = false;
    for _ in 0..50 {
        if push(&client, &a.base(), &during).await {
            acked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(acked, "accepted again once the database is back");
    let want: HashSet<String> = ["outage-1", "outage-2"].map(String::from).into();
    wait_replies(&standin, &want, Duration::from_secs(30)).await;
    let got: HashSet<String> = standin
        .delivered()
        .into_iter()
        .map(|d| d.conversation_id)
        .collect();
    assert!(want.is_subset(&got), "both answered: {got:?}");
    let left = no_work_left(&client, &a.base(), Duration::from_secs(10)).await;
    assert_eq!(left["pending"]["jobs"], json!([]), "{left}");
}
