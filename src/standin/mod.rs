//! A stand-in platform on loopback, speaking the send APIs of platforms.md: the Taobao-style
//! router, Rakuten's inquiries (poll) and reply endpoints, the generic `/messages`, and
//! Shopee's seller chat and token renewal (`shopee.rs`). It
//! dedupes on the idempotency key as the real platforms do, records every call, and can be
//! scripted to fail (500, 429 + Retry-After, permanent errors) — for the demo and the tests.

mod marketplaces;
mod robots;
mod shopee;
pub mod sign;

use marketplaces::{generic_send, rakuten_inquiries, rakuten_reply, taobao_send};
use robots::{chatwoot, robot, Chatwoot};
pub use robots::{ChatwootCall, RobotCall};
pub use shopee::{ShopeeAccount, ShopeeLine};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One call the stand-in received on a send endpoint.
#[derive(Debug, Clone)]
pub struct Call {
    pub platform: &'static str,
    pub at: Instant,
    pub headers: HashMap<String, String>,
    /// Form fields (Taobao) or JSON fields (Rakuten, generic), as strings.
    pub fields: HashMap<String, String>,
}

/// A message the stand-in accepted and would show the buyer (once per idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub platform: &'static str,
    pub conversation_id: String,
    pub text: String,
    pub key: String,
}

/// A canned answer for the next send call.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
    /// Answer this raw text instead of `body` (not JSON: a proxy's error page…).
    pub raw: Option<String>,
    /// Wait this long before answering (past the client's timeout: a hung platform).
    pub delay: Option<Duration>,
    /// Do the work (deliver the message) but close the connection after this many bytes of
    /// the answer's body: the platform acted and its answer was lost on the way.
    pub cut_after: Option<usize>,
    /// Deliver as usual, only after `delay`: a slow platform that works.
    pub slow: bool,
}

impl Scripted {
    pub fn status(status: u16) -> Scripted {
        Scripted {
            status,
            retry_after: None,
            body: json!({"error": "scripted"}),
            raw: None,
            delay: None,
            cut_after: None,
            slow: false,
        }
    }

    pub fn retry_after(status: u16, seconds: u64) -> Scripted {
        Scripted {
            status,
            retry_after: Some(seconds),
            body: json!({"error": "slow down"}),
            raw: None,
            delay: None,
            cut_after: None,
            slow: false,
        }
    }

    pub fn taobao_error(code: i64, sub_code: &str) -> Scripted {
        Scripted {
            status: 200,
            retry_after: None,
            body: json!({"error_response": {"code": code, "msg": "scripted", "sub_code": sub_code, "sub_msg": "scripted"}}),
            raw: None,
            delay: None,
            cut_after: None,
            slow: false,
        }
    }

    /// HTTP 200 with a body that is not what the platform answers (an HTML error page).
    pub fn garbage() -> Scripted {
        Scripted {
            raw: Some("<html><body>502 Bad Gateway</body></html>".into()),
            ..Scripted::status(200)
        }
    }

    /// Answers 200 only after `delay` (set it past the client's timeout).
    pub fn hang(delay: Duration) -> Scripted {
        Scripted {
            delay: Some(delay),
            ..Scripted::status(200)
        }
    }

    /// Delivers as usual after `delay` (the call is recorded when it arrives).
    pub fn slow(delay: Duration) -> Scripted {
        Scripted {
            delay: Some(delay),
            slow: true,
            ..Scripted::status(200)
        }
    }

    /// Delivers as usual, then closes the connection after `bytes` bytes of the answer's
    /// body (0: before any of it). The generic endpoint answers 204, which has no body to
    /// cut: there it only delivers.
    pub fn cut_off(bytes: usize) -> Scripted {
        Scripted {
            cut_after: Some(bytes),
            ..Scripted::status(200)
        }
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    delivered: Vec<Delivered>,
    delivered_keys: std::collections::HashSet<String>,
    script: VecDeque<Scripted>,
    inquiries: Vec<Value>,
    inquiries_status: Option<u16>,
    robots_status: Option<u16>,
    polls: usize,
    robot_calls: Vec<RobotCall>,
    chatwoot: Chatwoot,
    shopee: shopee::World,
}

#[derive(Clone)]
pub struct StandIn {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl StandIn {
    /// Starts on an ephemeral loopback port; runs until the runtime ends.
    pub async fn start() -> std::io::Result<StandIn> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/router/rest", post(taobao_send))
            .route("/es/1.0/inquirymng-api/inquiries", get(rakuten_inquiries))
            .route("/es/1.0/inquirymng-api/inquiry/reply", post(rakuten_reply))
            .route("/messages", post(generic_send))
            .route("/robot/{name}", post(robot))
            .route("/chatwoot/{*path}", get(chatwoot).post(chatwoot))
            .route(
                "/api/v2/sellerchat/send_message",
                post(shopee::send_message),
            )
            .route("/api/v2/sellerchat/get_message", get(shopee::get_message))
            .route("/api/v2/shop/get_shop_info", get(shopee::get_shop_info))
            .route("/api/v2/auth/access_token/get", post(shopee::access_token))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { addr, inner })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next send calls get these answers, in order, before normal service resumes.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.inner.lock().expect("lock").script.extend(answers);
    }

    /// Makes an inquiry visible to Rakuten polls.
    pub fn add_inquiry(&self, inquiry: Value) {
        self.inner.lock().expect("lock").inquiries.push(inquiry);
    }

    /// Answers inquiry polls with this status instead (e.g. 401: expired licenseKey).
    /// Answers robot calls with this status instead (e.g. 503: the group robot is down).
    pub fn fail_robots_with(&self, status: Option<u16>) {
        self.inner.lock().expect("lock").robots_status = status;
    }

    pub fn fail_polls_with(&self, status: Option<u16>) {
        self.inner.lock().expect("lock").inquiries_status = status;
    }

    /// Calls to the stand-in Chatwoot (`/chatwoot` is its base URL).
    pub fn chatwoot_calls(&self) -> Vec<ChatwootCall> {
        self.inner.lock().expect("lock").chatwoot.calls.clone()
    }

    /// Handoff notices received on `/robot/{name}` (answered like DingTalk/WeCom: errcode 0).
    pub fn robot_calls(&self) -> Vec<RobotCall> {
        self.inner.lock().expect("lock").robot_calls.clone()
    }

    pub fn polls(&self) -> usize {
        self.inner.lock().expect("lock").polls
    }

    /// How many send calls arrived (cheap, for polling under load).
    pub fn call_count(&self) -> usize {
        self.inner.lock().expect("lock").calls.len()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().expect("lock").calls.clone()
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.inner.lock().expect("lock").delivered.clone()
    }

    /// Waits until at least `n` messages were delivered (or the timeout passes).
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> Vec<Delivered> {
        let until = Instant::now() + timeout;
        loop {
            let d = self.delivered();
            if d.len() >= n || Instant::now() >= until {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn headers_of(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// A call whose JSON body's string `keys` become its fields (absent ones empty).
fn json_call(platform: &'static str, headers: &HeaderMap, body: &[u8], keys: &[&str]) -> Call {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    Call {
        platform,
        at: Instant::now(),
        headers: headers_of(headers),
        fields: keys
            .iter()
            .map(|k| {
                let v = json.get(*k).and_then(Value::as_str).unwrap_or_default();
                (k.to_string(), v.to_string())
            })
            .collect(),
    }
}

/// Records the call; returns a scripted answer if one is queued.
fn record(inner: &Mutex<Inner>, call: Call) -> Option<Scripted> {
    let mut inner = inner.lock().expect("lock");
    inner.calls.push(call);
    inner.script.pop_front()
}

/// The usual answer (`normal` does the work), the scripted one instead, or the usual one cut
/// short.
async fn respond(scripted: Option<Scripted>, normal: impl FnOnce() -> Response) -> Response {
    match scripted {
        None => normal(),
        Some(Scripted {
            cut_after: Some(bytes),
            ..
        }) => cut_off(normal(), bytes).await,
        Some(Scripted {
            slow: true, delay, ..
        }) => {
            tokio::time::sleep(delay.unwrap_or_default()).await;
            normal()
        }
        Some(scripted) => answer(scripted).await,
    }
}

/// `response` with its body ending in an I/O error after `bytes` bytes: hyper then drops the
/// connection, so the client sees it closed mid-answer.
async fn cut_off(response: Response, bytes: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let head = full.slice(..bytes.min(full.len()));
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(head),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "scripted cut-off",
        )),
    ];
    let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    Response::from_parts(parts, body)
}

/// The scripted answer, after its delay.
async fn answer(scripted: Scripted) -> Response {
    if let Some(delay) = scripted.delay {
        tokio::time::sleep(delay).await;
    }
    let status = StatusCode::from_u16(scripted.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match scripted.raw {
        Some(raw) => (status, raw).into_response(),
        None => (status, Json(scripted.body)).into_response(),
    };
    if let Some(seconds) = scripted.retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().expect("digits"));
    }
    response
}

/// Delivers unless the key was seen; returns false for a duplicate.
fn deliver(inner: &Mutex<Inner>, d: Delivered) -> bool {
    let mut inner = inner.lock().expect("lock");
    if !inner.delivered_keys.insert(d.key.clone()) {
        return false;
    }
    inner.delivered.push(d);
    true
}
