//! Handoff sinks against fake robot servers on loopback: exact request shapes, headers and
//! signatures (recomputed here, independently of the crate), masking, failure classes.

mod chat_robots;
mod chatwoot;
mod generic;

use anfu::config::SinkConfig;
use anfu::domain::{Demand, HandoffCard, IssueType, Lang, Mood, Priority, Threat, TranscriptLine};
use anfu::outbound::SendError;
use anfu::sink::{deliver, EventKind, HandoffEvent};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PHONE: &str = "13812345678";
const PHONE_MASKED: &str = "138****5678";
const ADDRESS: &str = "浙江省杭州市西湖区文三路90号2幢301室";
const ADDRESS_MASKED: &str = "浙江省杭州市****";
const ORDER: &str = "1234567890123456789";

/// One request the fake saw.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .expect("header present")
            .to_str()
            .expect("ASCII header")
    }
}

type Reply = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    script: VecDeque<Reply>,
    default: Option<Reply>,
}

/// A fake robot: records every request, answers from a script, then with a default.
#[derive(Clone)]
struct Fake {
    base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Fake {
    async fn start(default_status: u16, default_body: &str) -> Fake {
        let inner = Arc::new(Mutex::new(Inner {
            default: Some((default_status, vec![], default_body.to_string())),
            ..Default::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { base, inner }
    }

    fn then(&self, status: u16, headers: Vec<(&'static str, String)>, body: &str) {
        let mut inner = self.inner.lock().expect("lock");
        inner.script.push_back((status, headers, body.to_string()));
    }

    fn seen(&self) -> Vec<Seen> {
        self.inner.lock().expect("lock").seen.clone()
    }

    fn last(&self) -> Seen {
        self.seen().pop().expect("a request was seen")
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (status, extra, text) = {
        let mut inner = inner.lock().expect("lock");
        inner.seen.push(Seen {
            method,
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers,
            body: body.to_vec(),
        });
        match inner.script.pop_front() {
            Some(r) => r,
            None => inner.default.clone().expect("a default reply"),
        }
    };
    let mut response =
        (StatusCode::from_u16(status).expect("a valid status"), text).into_response();
    for (k, v) in extra {
        response
            .headers_mut()
            .insert(k, v.parse().expect("a valid header value"));
    }
    response
}

fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    let mut m = <Hmac<Sha256>>::new_from_slice(key).expect("any key length");
    m.update(message);
    B64.encode(m.finalize().into_bytes())
}

/// Percent-encoding of everything but unreserved characters.
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn card() -> HandoffCard {
    HandoffCard {
        shop: "xiaoyu".into(),
        shop_name: Some("小鱼家旗舰店".into()),
        platform: "taobao".into(),
        conversation_id: "c-1".into(),
        buyer_id: Some("b-9".into()),
        buyer_nick: Some("小王".into()),
        order_id: Some(ORDER.into()),
        issue_type: Some(IssueType::Damaged),
        demands: vec![Demand::Refund, Demand::Compensation],
        mood: Mood::Angry,
        intensity: 3,
        threats: vec![Threat::BadReview],
        priority: Priority::P1,
        lang: Lang::Hans,
        sla_due: "2026-11-23T14:00:00Z".into(),
        next_steps: vec!["核实破损照片".into()],
        transcript: vec![
            TranscriptLine {
                message_key: "m1".into(),
                text: "杯子碎了".into(),
                sent_at: None,
                kind: Default::default(),
            },
            TranscriptLine {
                message_key: "m2".into(),
                text: format!("马上给我退款，不然差评！电话{PHONE}，地址{ADDRESS}"),
                sent_at: None,
                kind: Default::default(),
            },
        ],
        evidence: vec![],
        auto_reply: Some("非常抱歉，已为您转接专人处理".into()),
    }
}

fn event(card: HandoffCard) -> HandoffEvent {
    HandoffEvent {
        external_ref: None,
        ticket_id: 42,
        kind: EventKind::Created,
        card,
        console_base: Some("https://anfu.example".into()),
        idempotency_key: "handoff-42-created".into(),
    }
}

fn sink(kind: &str, url: String) -> SinkConfig {
    SinkConfig {
        kind: kind.into(),
        url,
        ..Default::default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

/// The masked transcript is there, the raw phone and address are not.
fn assert_masked(text: &str) {
    assert!(text.contains(PHONE_MASKED), "{text}");
    assert!(text.contains(ADDRESS_MASKED), "{text}");
    assert!(text.contains(ORDER), "order numbers stay: {text}");
    assert!(!text.contains(PHONE), "{text}");
    assert!(!text.contains("文三路"), "{text}");
}

fn retry_after_of(e: SendError) -> Option<Duration> {
    match e {
        SendError::Retryable { retry_after, .. } => retry_after,
        other => panic!("expected retryable, got {other:?}"),
    }
}
