//! A stand-in platform on loopback, speaking the send APIs of platforms.md: the Taobao-style
//! router, Rakuten's inquiries (poll) and reply endpoints, the generic `/messages`, and
//! Shopee's seller chat and token renewal (`shopee.rs`). It
//! dedupes on the idempotency key as the real platforms do, records every call, and can be
//! scripted to fail (500, 429 + Retry-After, permanent errors) — for the demo and the tests.

mod shopee;

pub use shopee::{ShopeeAccount, ShopeeLine};

use axum::body::Bytes;
use axum::extract::{Query, State};
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

/// A small Chatwoot: contacts (searchable by identifier), conversations, and every call seen.
#[derive(Default)]
struct Chatwoot {
    contacts: Vec<Value>,
    conversations: i64,
    calls: Vec<ChatwootCall>,
}

/// A call to the stand-in Chatwoot under `/chatwoot`.
#[derive(Debug, Clone)]
pub struct ChatwootCall {
    pub method: String,
    /// After `/chatwoot`, e.g. `/api/v1/accounts/1/conversations/1/messages`.
    pub path: String,
    pub token: String,
    pub body: Value,
}

/// A handoff notice received by the stand-in robot endpoint `/robot/{name}`.
#[derive(Debug, Clone)]
pub struct RobotCall {
    pub name: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
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

async fn taobao_send(State(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let call = Call {
        platform: "taobao",
        at: Instant::now(),
        headers: headers_of(&headers),
        fields: fields.clone(),
    };
    let scripted = record(&inner, call);
    respond(scripted, || taobao_deliver(&inner, &fields)).await
}

fn taobao_deliver(inner: &Mutex<Inner>, fields: &HashMap<String, String>) -> Response {
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if get("method") != "taobao.im.message.send" || get("sign").is_empty() {
        return Json(json!({"error_response": {"code": 21, "msg": "Missing Method", "sub_code": "isv.missing-parameter"}})).into_response();
    }
    let request_id = get("request_id");
    deliver(
        inner,
        Delivered {
            platform: "taobao",
            conversation_id: get("conversation_id"),
            text: get("text"),
            key: request_id.clone(),
        },
    );
    Json(json!({"im_message_send_response": {"msg_id": format!("m{}", request_id.len()), "request_id": request_id}})).into_response()
}

async fn rakuten_reply(State(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let call = json_call(
        "rakuten",
        &headers,
        &body,
        &["inquiryNumber", "shopId", "message"],
    );
    let fields = call.fields.clone();
    let scripted = record(&inner, call);
    respond(scripted, || rakuten_deliver(&inner, &fields)).await
}

fn rakuten_deliver(inner: &Mutex<Inner>, fields: &HashMap<String, String>) -> Response {
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let message = field("message");
    if message.is_empty()
        || message.chars().count() > 2000
        || message.lines().any(|l| l.chars().count() > 300)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "IE001", "message": "bad parameter"}})),
        )
            .into_response();
    }
    let key = format!("{}\u{0}{}", field("inquiryNumber"), message);
    let fresh = deliver(
        inner,
        Delivered {
            platform: "rakuten",
            conversation_id: field("inquiryNumber"),
            text: message.clone(),
            key,
        },
    );
    if !fresh {
        return (
            StatusCode::CONFLICT,
            Json(json!({"error": {"code": "IE409", "message": "already posted"}})),
        )
            .into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({"result": {"message": message, "regDate": chrono::Utc::now().to_rfc3339(), "replyFrom": "merchant"}})),
    )
        .into_response()
}

async fn rakuten_inquiries(
    State(inner): Shared,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = inner.lock().expect("lock");
    inner.polls += 1;
    if let Some(status) = inner.inquiries_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED);
        return (
            status,
            Json(json!({"error": {"code": "EA001", "message": "Un-Authorised"}})),
        )
            .into_response();
    }
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let limit: usize = q
        .get("limit")
        .and_then(|p| p.parse().ok())
        .unwrap_or(100)
        .max(1);
    let all = &inner.inquiries;
    let pages = all.len().div_ceil(limit).max(1);
    let list: Vec<Value> = all
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    Json(json!({"totalCount": all.len(), "totalPageCount": pages, "page": page, "list": list}))
        .into_response()
}

async fn robot(
    State(inner): Shared,
    axum::extract::Path(name): axum::extract::Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A robot that is down answers its status and receives nothing.
    if let Some(status) = inner.lock().expect("lock").robots_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "robot down").into_response();
    }
    inner.lock().expect("lock").robot_calls.push(RobotCall {
        name,
        query: query.unwrap_or_default(),
        headers: headers_of(&headers),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    Json(json!({"errcode": 0, "errmsg": "ok"})).into_response()
}

async fn chatwoot(
    State(inner): Shared,
    method: axum::http::Method,
    axum::extract::Path(path): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = inner.lock().expect("lock");
    let cw = &mut inner.chatwoot;
    cw.calls.push(ChatwootCall {
        method: method.to_string(),
        path: format!("/{path}"),
        token: headers_of(&headers)
            .get("api_access_token")
            .cloned()
            .unwrap_or_default(),
        body: body.clone(),
    });
    let parts: Vec<&str> = path.split('/').collect();
    let answer = match parts.as_slice() {
        ["api", "v1", "accounts", _, "contacts", "search"] => {
            let q = query.get("q").cloned().unwrap_or_default();
            let found: Vec<Value> = cw
                .contacts
                .iter()
                .filter(|c| c["identifier"].as_str() == Some(q.as_str()))
                .cloned()
                .collect();
            json!({"payload": found})
        }
        ["api", "v1", "accounts", _, "contacts"] => {
            let contact = json!({"id": cw.contacts.len() + 1, "name": body["name"],
                "identifier": body["identifier"],
                "contact_inboxes": [{"source_id": body["source_id"]}]});
            cw.contacts.push(contact.clone());
            json!({"payload": {"contact": contact}})
        }
        ["api", "v1", "accounts", _, "conversations"] => {
            cw.conversations += 1;
            json!({"id": cw.conversations, "inbox_id": body["inbox_id"]})
        }
        _ => json!({}),
    };
    Json(answer).into_response()
}

async fn generic_send(State(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let call = json_call(
        "generic",
        &headers,
        &body,
        &["conversation_id", "text", "idempotency_key"],
    );
    let fields = call.fields.clone();
    let scripted = record(&inner, call);
    respond(scripted, || generic_deliver(&inner, &fields)).await
}

fn generic_deliver(inner: &Mutex<Inner>, fields: &HashMap<String, String>) -> Response {
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    deliver(
        inner,
        Delivered {
            platform: "generic",
            conversation_id: field("conversation_id"),
            text: field("text"),
            key: field("idempotency_key"),
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

/// The sending side of the webhook contracts: how a platform (or relay) signs a push.
pub mod sign {
    use crate::config::TopSignMethod;
    use crate::signing::{decode_whsec, esa_authorization, standard_webhooks_sign, top_sign};

    /// The query string of a Taobao-style push of `body`, signed now.
    pub fn taobao_query(app_key: &str, secret: &str, method: TopSignMethod, body: &[u8]) -> String {
        taobao_query_at(
            app_key,
            secret,
            method,
            body,
            &crate::platform::taobao::timestamp_now(),
        )
    }

    pub fn taobao_query_at(
        app_key: &str,
        secret: &str,
        method: TopSignMethod,
        body: &[u8],
        timestamp: &str,
    ) -> String {
        let mut params: Vec<(String, String)> = vec![
            ("app_key".into(), app_key.into()),
            ("timestamp".into(), timestamp.into()),
            ("sign_method".into(), method.as_str().into()),
        ];
        let sign = top_sign(method, secret, &params, body);
        params.push(("sign".into(), sign));
        serde_urlencoded::to_string(&params).expect("strings encode")
    }

    /// Standard Webhooks headers for `body` (id, timestamp, signature).
    pub fn generic_headers(
        secret: &str,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> [(String, String); 3] {
        let key = decode_whsec(secret).unwrap_or_default();
        [
            ("webhook-id".into(), id.into()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            (
                "webhook-signature".into(),
                format!("v1,{}", standard_webhooks_sign(&key, id, timestamp, body)),
            ),
        ]
    }

    pub fn rakuten_authorization(service_secret: &str, license_key: &str) -> String {
        esa_authorization(service_secret, license_key)
    }

    /// A Shopee push's `Authorization`, signed over the callback URL as registered.
    pub fn shopee_push(partner_key: &str, callback_url: &str, body: &[u8]) -> String {
        crate::platform::shopee::sign::push(partner_key, callback_url, body)
    }
}
