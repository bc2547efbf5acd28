//! Load on loopback, side by side in one run: an axum echo server vs anfu's signed Taobao-style
//! webhook (verify, parse, store with fsync, ack), then 1 k req/s open-loop to measure
//! receipt → reply-request latency at the stand-in platform.
//! Run: `cargo bench --bench webhook_load` (ANFU_LOAD_SECS=N: each phase's length, default 5;
//! ANFU_LOAD_RATE=R: the open-loop rate, default 1000 req/s).

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

use anfu::config::{Config, TopSignMethod};
use anfu::standin::{sign, StandIn};
use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP_KEY: &str = "12345678";
const SECRET: &str = "bench-secret";
const CONNECTIONS: usize = 32;

const TEXTS: &[&str] = &[
    "衣服开线了,质量太差,我要退货",
    "快递三天没动了,到底什么时候到啊",
    "收到的杯子碎了一个,麻烦补发",
    "请问这款有没有大一码的",
    "什么破东西!!!再不退款我就差评",
    "颜色和图片差太多了,要求退款",
];

static NEXT_ID: AtomicU64 = AtomicU64::new(1_000_000_000_000);

fn signed_request(base: &str) -> (String, String, Vec<u8>) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let text = TEXTS[(id % TEXTS.len() as u64) as usize];
    let content = serde_json::json!({"conversation_id": format!("c{id}"), "buyer_nick": "tb_bench",
        "text": text, "sent_at": "2026-11-05 14:03:21"});
    let body = serde_json::json!({"topic": "taobao_im_BuyerMessage", "msg_id": id.to_string(),
        "content": content.to_string()})
    .to_string()
    .into_bytes();
    let query = sign::taobao_query(APP_KEY, SECRET, TopSignMethod::HmacSha256, &body);
    (
        id.to_string(),
        format!("{base}/webhooks/taobao/bench?{query}"),
        body,
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Phase {
    name: String,
    requests: usize,
    errors: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// Closed loop: CONNECTIONS clients sending back to back for `secs`.
async fn closed_loop(
    name: &str,
    client: &reqwest::Client,
    secs: u64,
    make: impl Fn() -> (String, Vec<u8>) + Send + Sync + 'static,
) -> Phase {
    let make = Arc::new(make);
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while Instant::now() < until {
                let (url, body) = make();
                let t = Instant::now();
                match client.post(url).body(body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("client task");
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    Phase {
        name: name.into(),
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = std::env::var("ANFU_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    // The open-loop rate (ANFU_LOAD_RATE, default 1000 req/s).
    let rate: u64 = std::env::var("ANFU_LOAD_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    // The echo server: the ceiling of axum + loopback on this machine.
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_url = format!("http://{}/echo", echo.local_addr().unwrap());
    tokio::spawn(async move {
        let app = Router::new().route("/echo", post(|b: Bytes| async move { b }));
        axum::serve(echo, app).await.unwrap();
    });

    let standin = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        "[server]\nagent_token = \"t\"\n[storage]\nurl = \"sqlite://{}\"\n[data]\nintents = \"{root}/intents\"\nreplies = \"{root}/replies\"\n\
         [[shops]]\nid = \"bench\"\nplatform = \"taobao\"\napi_base = \"{}\"\napp_key = \"{APP_KEY}\"\nsecret = \"{SECRET}\"\nsession = \"s\"\n",
        dir.path().join("bench.db").display(),
        standin.url()
    );
    // ANFU_ variables apply, to try settings (e.g. ANFU_WORKER__CONCURRENCY=8).
    let config = Config::from_layers(Some(&text), None, std::env::vars()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(anfu::run(config, listener, std::future::pending()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let body = br#"{"topic":"taobao_im_BuyerMessage","msg_id":"1","content":"{}"}"#.to_vec();
    let echo_phase = closed_loop("axum echo", &client, secs, move || {
        (echo_url.clone(), body.clone())
    })
    .await;
    let hook_base = base.clone();
    let hook_phase = closed_loop("anfu signed webhook (ack)", &client, secs, move || {
        let (_, url, body) = signed_request(&hook_base);
        (url, body)
    })
    .await;
    // Let the backlog of replies drain before the latency phase; its pace is the worker's
    // sustained throughput (analyse + store + send, per message).
    let drained = Instant::now();
    let backlog = hook_phase.requests;
    let first_calls = standin.call_count();
    while standin.call_count() < backlog && drained.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drain_secs = drained.elapsed().as_secs_f64();
    let worker_rate = (standin.call_count() - first_calls) as f64 / drain_secs.max(1e-9);
    let replies_before = standin.call_count();

    // Open loop at rate req/s: receipt → reply-request latency.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let acks: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let total = (rate * secs) as usize;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..total {
        let at = start + Duration::from_micros(i as u64 * 1_000_000 / rate);
        tokio::time::sleep_until(at.into()).await;
        let (id, url, body) = signed_request(&base);
        let (client, sent, acks) = (client.clone(), sent.clone(), acks.clone());
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            sent.lock().unwrap().insert(format!("anfu-bench-{id}"), t);
            if let Ok(r) = client.post(url).body(body).send().await {
                if r.status().is_success() {
                    acks.lock().unwrap().push(t.elapsed());
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let offered = total as f64 / start.elapsed().as_secs_f64();
    let wait = Instant::now();
    while standin.call_count() < replies_before + total && wait.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = sent.lock().unwrap();
    let mut reply_lat: Vec<Duration> = standin
        .calls()
        .iter()
        .filter_map(|c| Some(c.at.duration_since(*sent.get(c.fields.get("request_id")?)?)))
        .collect();
    reply_lat.sort();
    let mut ack_lat = acks.lock().unwrap().clone();
    ack_lat.sort();

    println!("| phase | requests | errors | req/s | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for p in [&echo_phase, &hook_phase] {
        println!(
            "| {} ({CONNECTIONS} connections, {secs} s) | {} | {} | {:.0} | {:.2} ms | {:.2} ms |",
            p.name,
            p.requests,
            p.errors,
            p.rps,
            p.p50.as_secs_f64() * 1e3,
            p.p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "| anfu webhook ack at {offered:.0} req/s offered | {} | {} | — | {:.2} ms | {:.2} ms |",
        ack_lat.len(),
        total - ack_lat.len(),
        percentile(&ack_lat, 0.5).as_secs_f64() * 1e3,
        percentile(&ack_lat, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "| receipt → reply request at {offered:.0} req/s | {} replies | {} missing | — | {:.2} ms | {:.2} ms |",
        reply_lat.len(),
        total.saturating_sub(reply_lat.len()),
        percentile(&reply_lat, 0.5).as_secs_f64() * 1e3,
        percentile(&reply_lat, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "\nworker drain after the closed loop: {} replies still queued took {drain_secs:.1} s ({worker_rate:.0} replies/s)",
        backlog - first_calls.min(backlog)
    );
    println!(
        "webhook / echo throughput: {:.1} %",
        100.0 * hook_phase.rps / echo_phase.rps.max(1e-9)
    );
}
