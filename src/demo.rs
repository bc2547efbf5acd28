//! `anfu demo`: the whole loop on one machine. Starts the service on the embedded SQLite
//! default with a stand-in platform on loopback, replays fixtures/webhooks (Taobao-style
//! pushes, generic pushes, a Shopee conversation with its order card, the staff's own line
//! and a photo, Rakuten-style inquiries picked up by polling), prints each buyer
//! message, the reply that went back and the handoff card, then keeps serving.

use crate::config::{Config, TopSignMethod};
use crate::standin::{sign, StandIn};
use crate::store::HandoffFilter;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TAOBAO_SHOP: &str = "xiaoyu";
const RAKUTEN_SHOP: &str = "rakuten338276";
const GENERIC_SHOP: &str = "webshop";
const SHOPEE_SHOP: &str = "tw1";
const SHOPEE_PARTNER_ID: u64 = 2001887;
const SHOPEE_PARTNER_KEY: &str = "demo-shopee-partner-key";
const SHOPEE_SHOP_ID: u64 = 14701711;
const SHOPEE_SELLER: u64 = 947151379;
/// The push URL as registered in Shopee's console (a proxy would forward it to anfu).
const SHOPEE_CALLBACK: &str = "https://anfu.example/webhooks/shopee/tw1";
const APP_KEY: &str = "12345678";
const TAOBAO_SECRET: &str = "demo-app-secret";
const GENERIC_SECRET: &str = "whsec_YW5mdS1kZW1vLXNpZ25pbmcta2V5LTIwMjY=";
pub const AGENT_TOKEN: &str = "demo-token";

pub struct DemoOptions {
    pub listen: String,
    pub fixtures: PathBuf,
    pub database: PathBuf,
    pub intents: PathBuf,
    pub replies: PathBuf,
    /// Stop after printing instead of serving on (tests).
    pub exit_after_replay: bool,
}

fn config(o: &DemoOptions, standin: &StandIn) -> Result<Config, crate::config::ConfigError> {
    let text = format!(
        r#"
[server]
listen = "{listen}"
agent_token = "{AGENT_TOKEN}"
[storage]
url = "sqlite://{db}"
[data]
intents = "{intents}"
replies = "{replies}"
[[shops]]
id = "{TAOBAO_SHOP}"
name = "小鱼家旗舰店"
platform = "taobao"
api_base = "{base}"
app_key = "{APP_KEY}"
secret = "{TAOBAO_SECRET}"
session = "demo-session"
[[shops]]
id = "{RAKUTEN_SHOP}"
name = "樂天小鋪"
platform = "rakuten"
api_base = "{base}"
service_secret = "SP338276_demo"
license_key = "SL338276_demo"
mode = "poll"
poll_interval = "1s"
lang = "zh-Hant"
[[shops]]
id = "{GENERIC_SHOP}"
name = "安抚示范店"
platform = "generic"
api_base = "{base}"
secret = "{GENERIC_SECRET}"
[[shops]]
id = "{SHOPEE_SHOP}"
name = "台灣小舖"
platform = "shopee"
api_base = "{base}"
partner_id = {SHOPEE_PARTNER_ID}
partner_key = "{SHOPEE_PARTNER_KEY}"
shop_id = {SHOPEE_SHOP_ID}
callback_url = "{SHOPEE_CALLBACK}"
refresh_token = "demo-first-refresh-token"
seller_user_id = "{SHOPEE_SELLER}"
"#,
        listen = o.listen,
        db = o.database.display(),
        intents = o.intents.display(),
        replies = o.replies.display(),
        base = standin.url(),
    );
    Config::from_layers(Some(&text), None, std::env::vars())
}

fn fixtures(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = crate::built_in::read_dir(dir).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = crate::built_in::read_to_string(&p).ok()?;
            Some((p, text.into_bytes()))
        })
        .collect()
}

pub async fn run(o: DemoOptions) -> Result<(), String> {
    let _ = std::fs::remove_file(&o.database);
    let standin = StandIn::start()
        .await
        .map_err(|e| format!("stand-in platform: {e}"))?;
    let config = config(&o, &standin).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = crate::build(config).await.map_err(|e| e.to_string())?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(state.clone(), listener, async move {
        let _ = stop_rx.await;
    }));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    println!(
        "anfu demo — service {base}, stand-in platform {}\n",
        standin.url()
    );

    for (path, body) in fixtures(&o.fixtures.join("taobao")) {
        let query = sign::taobao_query(APP_KEY, TAOBAO_SECRET, TopSignMethod::HmacSha256, &body);
        let ack = client
            .post(format!("{base}/webhooks/taobao/{TAOBAO_SHOP}?{query}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "→ taobao  {:<40} ack {} {}",
            name(&path),
            ack.status().as_u16(),
            ack.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (path, body) in fixtures(&o.fixtures.join("generic")) {
        let id = format!("demo-{}", name(&path));
        let headers =
            sign::generic_headers(GENERIC_SECRET, &id, chrono::Utc::now().timestamp(), &body);
        let mut request = client
            .post(format!("{base}/webhooks/generic/{GENERIC_SHOP}"))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        let ack = request.send().await.map_err(|e| e.to_string())?;
        println!(
            "→ generic {:<40} ack {}",
            name(&path),
            ack.status().as_u16()
        );
    }
    standin.shopee_account(crate::standin::ShopeeAccount {
        partner_id: SHOPEE_PARTNER_ID,
        partner_key: SHOPEE_PARTNER_KEY.into(),
        shop_id: SHOPEE_SHOP_ID,
        seller_user_id: SHOPEE_SELLER,
        first_refresh_token: "demo-first-refresh-token".into(),
    });
    standin.shopee_echo_to(
        &format!("{base}/webhooks/shopee/{SHOPEE_SHOP}"),
        SHOPEE_CALLBACK,
    );
    for (path, body) in fixtures(&o.fixtures.join("shopee")) {
        standin.shopee_saw(&body);
        let authorization = sign::shopee_push(SHOPEE_PARTNER_KEY, SHOPEE_CALLBACK, &body);
        let ack = client
            .post(format!("{base}/webhooks/shopee/{SHOPEE_SHOP}"))
            .header("content-type", "application/json")
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "→ shopee  {:<40} ack {}",
            name(&path),
            ack.status().as_u16()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (path, body) in fixtures(&o.fixtures.join("rakuten")) {
        if let Ok(inquiry) = serde_json::from_slice(&body) {
            standin.add_inquiry(inquiry);
            println!(
                "→ rakuten {:<40} waiting in the inquiries list (polled every 1s)",
                name(&path)
            );
        }
    }

    // Let the workers and the poller finish: wait until deliveries stop arriving.
    let mut seen = 0;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = standin.delivered().len();
        if now == seen && standin.polls() >= 2 {
            break;
        }
        seen = now;
    }
    print_results(&state, &standin).await;
    println!("\nAgent console: {base}/console (token: {AGENT_TOKEN})");
    println!("\nTry it:");
    println!("  curl -s {base}/healthz; curl -s {base}/readyz");
    println!("  curl -s -X POST {base}/v1/analyze -H 'content-type: application/json' -d '{{\"text\":\"衣服开线了,质量太差,我要退货,不然差评\"}}'");
    println!("  curl -s -H 'Authorization: Bearer {AGENT_TOKEN}' '{base}/v1/handoffs?status=open'");
    println!("  curl -s -H 'Authorization: Bearer {AGENT_TOKEN}' '{base}/v1/jobs?status=dead'");
    if o.exit_after_replay {
        let _ = stop_tx.send(());
    } else {
        println!("\nServing until Ctrl-C.");
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(());
    }
    server
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

fn name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

async fn print_results(state: &crate::app::AppState, standin: &StandIn) {
    println!("\n=== Replies delivered to buyers ===");
    for d in standin.delivered() {
        println!(
            "[{} {}]\n  {}",
            d.platform,
            d.conversation_id,
            d.text.replace('\n', "\n  ")
        );
    }
    println!("\n=== Handoff cards ===");
    let handoffs = state
        .store
        .handoffs(&HandoffFilter::default())
        .await
        .unwrap_or_default();
    for h in handoffs {
        let c = &h.card;
        println!(
            "#{} {} {} · {} · buyer {} · order {}",
            h.id,
            h.priority,
            c.shop_label(),
            c.conversation_id,
            c.buyer_nick.as_deref().unwrap_or("?"),
            c.order_id.as_deref().unwrap_or("-")
        );
        println!(
            "  issue {} · demands {:?} · mood {} ({}) · threats {:?} · SLA {}",
            c.issue_type.map_or("-", |i| i.as_str()),
            c.demands.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            c.mood,
            c.intensity,
            c.threats.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            c.sla_due
        );
        for line in &c.transcript {
            let who = match line.kind {
                crate::domain::MessageKind::Seller => "shop",
                _ => "buyer",
            };
            println!("  {who}: {}", line.text);
        }
        if let Some(r) = &c.auto_reply {
            println!("  auto-reply: {}", r.replace('\n', " "));
        }
        for step in &c.next_steps {
            println!("  next: {step}");
        }
    }
}
