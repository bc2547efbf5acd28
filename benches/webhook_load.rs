//! Load on loopback, side by side in one run: an axum echo server, then anfu's signed
//! Taobao-style webhook (verify, parse, store, ack) on each setup — SQLite, PostgreSQL with one
//! instance, PostgreSQL with two instances behind a round-robin client, and SQLite again after
//! 20 000 and 60 000 earlier conversations — each with: a closed loop (ack throughput), the
//! drain of that backlog (the workers' sustained rate), an open loop at a fixed rate
//! (receipt → reply-request latency at the stand-in platform).
//! Run: `cargo bench --bench webhook_load` (ANFU_LOAD_SECS=N: each phase's length, default 5;
//! ANFU_LOAD_RATE=R: the open-loop rate, default 300 req/s; ANFU_LOAD_OPEN_SECS=N: the open
//! loop's length, default the phases' length; ANFU_LOAD_SETUPS: a comma list
//! of sqlite, pg, pg2, sqlite+20k, sqlite+60k, sqlite@500 — `@N`: N-character messages).
//! PostgreSQL is the tests' throwaway server (or ANFU_TEST_PG_URL).

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

#[path = "../tests/store_contract/pg.rs"]
#[allow(dead_code)] // shared with the tests; the benchmark uses a part
mod pg;
#[path = "webhook_load/requests.rs"]
mod requests;

use anfu::config::Config;
use anfu::standin::StandIn;
use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use requests::{prepared, signed_request, APP_KEY, SECRET};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Phase {
    requests: usize,
    errors: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// Closed loop: CONNECTIONS clients sending back to back for `secs`.
async fn closed_loop(
    _name: &str,
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
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
    }
}

/// The two cores are shared by load, service and database: numbers are for comparison.
struct Setup {
    name: String,
    backend: &'static str,
    instances: usize,
    prefill: usize,
    /// Characters per buyer message (0: the short mixed texts).
    chars: usize,
}

fn setups() -> Vec<Setup> {
    let wanted = std::env::var("ANFU_LOAD_SETUPS")
        .unwrap_or_else(|_| "sqlite,pg,pg2,sqlite+20k,sqlite+60k,sqlite@500,sqlite@2000".into());
    wanted
        .split(',')
        .map(|w| {
            let (w, chars) = match w.trim().split_once('@') {
                Some((w, n)) => (w, n.parse::<usize>().unwrap()),
                None => (w.trim(), 0),
            };
            let (base, prefill) = match w.trim().split_once('+') {
                Some((b, k)) => (b, k.trim_end_matches('k').parse::<usize>().unwrap() * 1000),
                None => (w.trim(), 0),
            };
            let (backend, instances) = match base {
                "sqlite" => ("sqlite", 1),
                "pg" => ("postgres", 1),
                "pg2" => ("postgres", 2),
                other => panic!("unknown setup {other}"),
            };
            Setup {
                name: if chars > 0 {
                    format!("{w}, {chars}-character messages")
                } else {
                    w.trim().into()
                },
                chars,
                backend,
                instances,
                prefill,
            }
        })
        .collect()
}

async fn start_anfu(storage: &str, platform: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        "[server]\nagent_token = \"t\"\n[storage]\nurl = \"{storage}\"\n[data]\nintents = \"{root}/intents\"\nreplies = \"{root}/replies\"\n\
         [limits]\nwebhooks_per_shop_per_minute = 0\nreplies_per_buyer_per_hour = 0\n[[shops]]\nid = \"bench\"\nplatform = \"taobao\"\napi_base = \"{platform}\"\napp_key = \"{APP_KEY}\"\nsecret = \"{SECRET}\"\nsession = \"s\"\n"
    );
    // ANFU_ variables apply, to try settings (e.g. ANFU_WORKER__CONCURRENCY=8).
    let config = Config::from_layers(Some(&text), None, std::env::vars()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(anfu::run(config, listener, std::future::pending()));
    let client = reqwest::Client::new();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    base
}

/// Round robin over the instances, as a load balancer would.
fn picker(bases: Vec<String>) -> impl Fn() -> String + Send + Sync + 'static {
    let next = AtomicU64::new(0);
    move || bases[(next.fetch_add(1, Ordering::Relaxed) % bases.len() as u64) as usize].clone()
}

async fn wait_for_calls(standin: &StandIn, n: usize, limit: Duration) -> f64 {
    let started = Instant::now();
    while standin.call_count() < n && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed().as_secs_f64()
}

struct Row {
    setup: String,
    ack: Phase,
    worker_rate: f64,
    offered: f64,
    ack_p50: Duration,
    ack_p99: Duration,
    reply_p50: Duration,
    reply_p99: Duration,
    missing: usize,
}

async fn measure(
    setup: &Setup,
    client: &reqwest::Client,
    secs: u64,
    (rate, open_secs): (u64, u64),
) -> Row {
    let standin = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _db;
    let storage = if setup.backend == "sqlite" {
        format!("sqlite://{}", dir.path().join("bench.db").display())
    } else {
        let db = pg::TestDb::create().await;
        let url = db.url.clone();
        _db = db;
        url
    };
    let mut bases = Vec::new();
    for _ in 0..setup.instances {
        bases.push(start_anfu(&storage, &standin.url()).await);
    }
    let pick = Arc::new(picker(bases.clone()));
    let chars = setup.chars;

    if setup.prefill > 0 {
        // Earlier conversations, all answered and most with an open ticket.
        let sent = Arc::new(AtomicU64::new(0));
        let target = setup.prefill as u64;
        let mut tasks = Vec::new();
        for _ in 0..CONNECTIONS {
            let (client, pick, sent) = (client.clone(), pick.clone(), sent.clone());
            tasks.push(tokio::spawn(async move {
                while sent.fetch_add(1, Ordering::Relaxed) < target {
                    let (_, url, body) = signed_request(&pick(), chars);
                    let _ = client.post(url).body(body).send().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        wait_for_calls(&standin, setup.prefill, Duration::from_secs(600)).await;
    }

    let ack_pick = pick.clone();
    let ready = prepared(&*pick, chars, secs);
    let next = AtomicU64::new(0);
    let ack = closed_loop(
        &format!("{} ack", setup.name),
        client,
        secs,
        move || match ready.get(next.fetch_add(1, Ordering::Relaxed) as usize) {
            Some((url, body)) => (url.clone(), body.clone()),
            None => {
                let (_, url, body) = signed_request(&ack_pick(), chars);
                (url, body)
            }
        },
    )
    .await;
    // The backlog's drain is the workers' sustained rate (analyse + store + send).
    let first_calls = standin.call_count();
    let backlog = setup.prefill + ack.requests;
    let drain_secs = wait_for_calls(&standin, backlog, Duration::from_secs(300)).await;
    let worker_rate = (standin.call_count() - first_calls) as f64 / drain_secs.max(1e-9);
    let replies_before = standin.call_count();

    // Open loop at rate req/s: receipt → reply-request latency.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let acks: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let total = (rate * open_secs) as usize;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..total {
        let at = start + Duration::from_micros(i as u64 * 1_000_000 / rate);
        tokio::time::sleep_until(at.into()).await;
        let (id, url, body) = signed_request(&pick(), chars);
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
    wait_for_calls(&standin, replies_before + total, Duration::from_secs(60)).await;
    let sent = sent.lock().unwrap();
    let mut reply_lat: Vec<Duration> = standin
        .calls()
        .iter()
        .filter_map(|c| Some(c.at.duration_since(*sent.get(c.fields.get("request_id")?)?)))
        .collect();
    reply_lat.sort();
    let mut ack_lat = acks.lock().unwrap().clone();
    ack_lat.sort();
    Row {
        setup: setup.name.clone(),
        ack,
        worker_rate,
        offered,
        ack_p50: percentile(&ack_lat, 0.5),
        ack_p99: percentile(&ack_lat, 0.99),
        reply_p50: percentile(&reply_lat, 0.5),
        reply_p99: percentile(&reply_lat, 0.99),
        missing: total.saturating_sub(reply_lat.len()),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = std::env::var("ANFU_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let rate: u64 = std::env::var("ANFU_LOAD_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let open_secs: u64 = std::env::var("ANFU_LOAD_OPEN_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(secs);
    // The echo server: the ceiling of axum + loopback on this machine.
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_base = format!("http://{}", echo.local_addr().unwrap());
    tokio::spawn(async move {
        // The same path, query and body as anfu's webhooks, echoed back.
        let app = Router::new().route("/webhooks/taobao/bench", post(|b: Bytes| async move { b }));
        axum::serve(echo, app).await.unwrap();
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    // The echo gets signed webhooks too, prepared as anfu's are (a few thousand, cycled).
    let echo_ready = prepared(&move || echo_base.clone(), 0, 1);
    let next = AtomicU64::new(0);
    let echo_phase = closed_loop("axum echo", &client, secs, move || {
        let i = next.fetch_add(1, Ordering::Relaxed) as usize % echo_ready.len();
        echo_ready[i].clone()
    })
    .await;

    let mut rows = Vec::new();
    for setup in setups() {
        eprintln!("measuring {} …", setup.name);
        rows.push(measure(&setup, &client, secs, (rate, open_secs)).await);
    }

    println!(
        "closed loop: {CONNECTIONS} connections, {secs} s; open loop: {rate} req/s for {open_secs} s\n"
    );
    println!("| setup | ack req/s | % of echo | ack p50 / p99 (closed) | worker drain | ack p50 / p99 at {rate}/s | receipt → reply p50 / p99 at {rate}/s | missing |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| axum echo | {:.0} | 100 % | {} / {} | — | — | — | — |",
        echo_phase.rps,
        ms(echo_phase.p50),
        ms(echo_phase.p99)
    );
    for r in &rows {
        println!(
            "| {} | {:.0} ({} errors) | {:.1} % | {} / {} | {:.0} replies/s | {} / {} | {} / {} ({:.0} req/s offered) | {} |",
            r.setup,
            r.ack.rps,
            r.ack.errors,
            100.0 * r.ack.rps / echo_phase.rps.max(1e-9),
            ms(r.ack.p50),
            ms(r.ack.p99),
            r.worker_rate,
            ms(r.ack_p50),
            ms(r.ack_p99),
            ms(r.reply_p50),
            ms(r.reply_p99),
            r.offered,
            r.missing
        );
    }
}
