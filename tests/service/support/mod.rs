//! spawn_app(): the real service on port 0, a real SQLite file, and the stand-in platform on
//! loopback as every shop's send API.

mod config_file;

use config_file::config_text;

use anfu::config::{Config, TopSignMethod};
use anfu::standin::{sign, StandIn};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "test-token";
pub const APP_KEY: &str = "12345678";
pub const TB_SECRET: &str = "tb-secret";
pub const GEN_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
pub const RK_SERVICE: &str = "SP338276_test";
pub const RK_LICENSE: &str = "SL338276_test";

pub struct TestApp {
    pub base: String,
    /// The running service's state, for injecting faults (`state.faults`).
    pub state: anfu::app::AppState,
    pub standin: StandIn,
    pub client: reqwest::Client,
    pub db: PathBuf,
    dir: std::sync::Arc<tempfile::TempDir>,
    /// The config file the service read (a reload reads it again).
    pub config_file: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), anfu::AppError>>>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings tests may change (TOML appended to the base config's sections).
pub struct Options {
    pub conversation: &'static str,
    pub max_body: usize,
    /// `[[sinks]]` tables; `{base}` stands for the stand-in's URL.
    pub sinks: &'static str,
    /// Lines for the `[sla]` section.
    pub sla: &'static str,
    /// Extra keys of the generic shop "gen" (e.g. business hours).
    pub gen_shop: String,
    /// Extra keys of `[server]`.
    pub server: String,
    /// More sections, appended at the end (e.g. `[limits]`); `{base}` stands for the
    /// stand-in's URL.
    pub extra: String,
    /// Extra keys of `[worker]`.
    pub worker: &'static str,
    /// `worker.max_attempts` (3).
    pub max_attempts: u32,
    /// Extra keys of `[storage]`.
    pub storage: String,
    /// `storage.url` (None: a SQLite file in the test's directory).
    pub storage_url: Option<String>,
    /// A folder holding `intents/` and `replies/` (None: the checkout's).
    pub data: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            conversation: "burst_window = \"2s\"\ncooldown = \"10m\"",
            max_body: 65536,
            sinks: "",
            sla: "",
            gen_shop: String::new(),
            server: String::new(),
            extra: String::new(),
            worker: "",
            max_attempts: 3,
            storage: String::new(),
            storage_url: None,
            data: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(o: Options) -> TestApp {
    let standin = StandIn::start().await.expect("stand-in starts");
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
    let db = dir.path().join("anfu.db");
    start(standin, dir, db, &o).await
}

async fn start(
    standin: StandIn,
    dir: std::sync::Arc<tempfile::TempDir>,
    db: PathBuf,
    o: &Options,
) -> TestApp {
    // Written to a file and read from it, as `serve --config` does: a reload reads it again.
    let file = dir.path().join("anfu.toml");
    std::fs::write(&file, config_text(&db, &standin.url(), o)).expect("write the config");
    let config = Config::load(Some(&file), Vec::new()).expect("test config is valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = anfu::build(config).await.expect("the service builds");
    let server = tokio::spawn(anfu::serve(state.clone(), listener, async move {
        let _ = stopped.await;
    }));
    let app = TestApp {
        base,
        state,
        standin,
        client: reqwest::Client::new(),
        db,
        dir,
        config_file: file,
        stop: Some(stop),
        server: Some(server),
    };
    wait_until(Duration::from_secs(30), || async {
        app.client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .is_ok()
    })
    .await;
    app
}

impl TestApp {
    /// Stops the service (as a restart would) and starts it again on the same database.
    pub async fn restart(self) -> TestApp {
        self.restart_with(Options::default()).await
    }

    /// Restarts with other settings, on the same database and stand-in.
    pub async fn restart_with(mut self, o: Options) -> TestApp {
        self.shutdown().await;
        let (standin, dir, db) = (self.standin.clone(), self.dir.clone(), self.db.clone());
        start(standin, dir, db, &o).await
    }

    /// A second instance of the service on the same database and stand-in (as several
    /// instances share one PostgreSQL), with the default settings.
    pub async fn another_instance(&self) -> TestApp {
        let (standin, dir, db) = (self.standin.clone(), self.dir.clone(), self.db.clone());
        start(standin, dir, db, &Options::default()).await
    }

    /// A second instance with these settings, on the same database and stand-in.
    pub async fn another_instance_with(&self, o: &Options) -> TestApp {
        let (standin, dir, db) = (self.standin.clone(), self.dir.clone(), self.db.clone());
        start(standin, dir, db, o).await
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ends cleanly");
        }
    }

    pub async fn taobao_push(
        &self,
        shop: &str,
        body: &[u8],
        method: TopSignMethod,
    ) -> (u16, Value) {
        let query = sign::taobao_query(APP_KEY, TB_SECRET, method, body);
        self.post_raw(
            &format!("/webhooks/taobao/{shop}?{query}"),
            body.to_vec(),
            &[],
        )
        .await
    }

    pub async fn generic_push(&self, body: &[u8], id: &str) -> (u16, Value) {
        let headers = sign::generic_headers(GEN_SECRET, id, chrono::Utc::now().timestamp(), body);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post_raw("/webhooks/generic/gen", body.to_vec(), &headers)
            .await
    }

    pub async fn rakuten_push(&self, body: &Value) -> (u16, Value) {
        let auth = sign::rakuten_authorization(RK_SERVICE, RK_LICENSE);
        self.post_raw(
            "/webhooks/rakuten/rk",
            body.to_string().into_bytes(),
            &[("authorization", &auth)],
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn agent(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn handoffs(&self) -> Vec<Value> {
        let (status, body) = self.agent(reqwest::Method::GET, "/v1/handoffs", None).await;
        assert_eq!(status, 200, "{body}");
        body["handoffs"].as_array().cloned().unwrap_or_default()
    }

    pub async fn jobs(&self, status: &str) -> Vec<Value> {
        let (code, body) = self
            .agent(
                reqwest::Method::GET,
                &format!("/v1/jobs?status={status}"),
                None,
            )
            .await;
        assert_eq!(code, 200, "{body}");
        body["jobs"].as_array().cloned().unwrap_or_default()
    }

    pub async fn all_jobs(&self) -> Vec<Value> {
        let (code, body) = self.agent(reqwest::Method::GET, "/v1/jobs", None).await;
        assert_eq!(code, 200, "{body}");
        body["jobs"].as_array().cloned().unwrap_or_default()
    }

    /// The `/metrics` page.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics");
        response.text().await.expect("metrics text")
    }

    /// Waits until no job is pending or running.
    pub async fn settle(&self) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let busy = self
                .all_jobs()
                .await
                .iter()
                .any(|j| j["status"] == "pending" || j["status"] == "running");
            if !busy || Instant::now() > until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A Taobao-style chat envelope (`content` is a JSON string, as on the wire).
pub fn envelope(msg_id: &str, conversation: &str, text: &str, tid: Option<&str>) -> Vec<u8> {
    let mut content = json!({
        "conversation_id": conversation, "buyer_nick": "tb_小鱼", "buyer_id": "b_5531",
        "seller_nick": "小鱼家旗舰店", "text": text, "sent_at": "2026-11-05 14:03:21"
    });
    if let Some(tid) = tid {
        content["tid"] = json!(tid);
    }
    json!({"topic": "taobao_im_BuyerMessage", "msg_id": msg_id, "user_id": 2201345567u64,
           "pub_time": "2026-11-05 14:03:22", "content": content.to_string()})
    .to_string()
    .into_bytes()
}

pub fn inquiry(number: &str, message: &str, replies: Value) -> Value {
    json!({"inquiryNumber": number, "shopId": 338276, "userName": "陳小姐",
           "type": "受注問い合わせ", "category": "送料・商品配送",
           "orderNumber": "338276-20261105-00123456", "message": message,
           "regDate": "2026-11-05T14:03:22+09:00", "isCompleted": false, "replies": replies,
           "lastUpdateDate": "2026-11-05T14:05:10+09:00"})
}

pub const COMPLAINT: &str = "衣服开线了,质量太差,我要退货";
pub const THREAT: &str = "再不处理我就给差评,还要投诉到12315!!!";
pub const INQUIRY: &str = "请问这款什么时候发货呀";
