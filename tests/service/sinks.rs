//! Handoff sinks against fake robot servers on loopback: exact request shapes, headers and
//! signatures (recomputed here, independently of the crate), masking, failure classes.

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

#[tokio::test]
async fn dingtalk_signs_the_url_and_sends_markdown() {
    let fake = Fake::start(200, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let mut s = sink(
        "dingtalk",
        format!("{}/robot/send?access_token=abc", fake.base),
    );
    s.secret = Some("SECtest".into());
    deliver(&client(), &s, &event(card())).await.unwrap();

    let seen = fake.last();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/robot/send");
    let query = seen.query.clone().unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap();
    assert_eq!(params[0], ("access_token".into(), "abc".into()));
    assert_eq!(params[1].0, "timestamp");
    let ts: i64 = params[1].1.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp_millis() - ts).abs() < 60_000,
        "ms timestamp"
    );
    let expected = hmac_b64(b"SECtest", format!("{ts}\nSECtest").as_bytes());
    assert_eq!(params[2], ("sign".into(), expected.clone()));
    assert!(
        query.ends_with(&format!("&sign={}", percent(&expected))),
        "sign is URL-encoded: {query}"
    );

    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["at"], json!({"atMobiles": [], "isAtAll": false}));
    let title = body["markdown"]["title"].as_str().unwrap();
    assert!(title.contains("P1") && title.contains("#42"), "{title}");
    let text = body["markdown"]["text"].as_str().unwrap();
    assert_masked(text);
    for label in [
        "优先级",
        "订单号",
        "问题类型",
        "诉求",
        "情绪",
        "威胁",
        "处理时限",
        "建议",
    ] {
        assert!(text.contains(label), "{label} in {text}");
    }
    assert!(text.contains("https://anfu.example/console#/handoffs/42"));
    assert_eq!(body.as_object().unwrap().len(), 3);

    // 130101 (too fast) is retryable; an unknown errcode is permanent.
    fake.then(
        200,
        vec![],
        r#"{"errcode":130101,"errmsg":"send too fast"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(200, vec![], r#"{"errcode":400101,"errmsg":"bad"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    fake.then(
        200,
        vec![],
        r#"{"errcode":310000,"errmsg":"sign not match"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn wecom_markdown_within_4096_bytes() {
    let fake = Fake::start(200, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let s = sink("wecom", format!("{}/cgi-bin/webhook/send?key=k", fake.base));
    deliver(&client(), &s, &event(card())).await.unwrap();
    let seen = fake.last();
    assert_eq!(seen.path, "/cgi-bin/webhook/send");
    assert_eq!(seen.query.as_deref(), Some("key=k"));
    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body.as_object().unwrap().len(), 2);
    assert_masked(body["markdown"]["content"].as_str().unwrap());

    // A long transcript: trimmed to fit, the newest line kept, no broken characters.
    let mut long = card();
    long.transcript = (0..60)
        .map(|i| TranscriptLine {
            message_key: format!("m{i}"),
            text: format!("第{i}句：{}", "东西坏了太生气了".repeat(20)),
            sent_at: None,
            kind: Default::default(),
        })
        .collect();
    long.transcript.push(TranscriptLine {
        message_key: "last".into(),
        text: format!("最后一句，电话{PHONE}，地址{ADDRESS}"),
        sent_at: None,
        kind: Default::default(),
    });
    deliver(&client(), &s, &event(long)).await.unwrap();
    let seen = fake.last();
    assert!(std::str::from_utf8(&seen.body).is_ok());
    let content = seen.json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.len() <= 4096, "{} bytes", content.len());
    assert!(
        content.len() > 3000,
        "trimmed only as needed: {}",
        content.len()
    );
    assert!(content.contains("最后一句"));
    assert!(!content.contains("第0句"));
    assert_masked(&content);
    assert!(content.contains("处理时限") && content.contains("打开控制台"));

    // 45009 is retryable, 500 retryable, 400 permanent.
    fake.then(
        200,
        vec![],
        r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(500, vec![], "oops");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Retryable { .. }), "{e:?}");
    fake.then(400, vec![], "bad");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
}

#[tokio::test]
async fn feishu_signs_the_body_and_sends_a_card() {
    let fake = Fake::start(200, r#"{"code":0,"msg":"success"}"#).await;
    let mut s = sink("feishu", format!("{}/open-apis/bot/v2/hook/x", fake.base));
    s.secret = Some("fs-secret".into());
    deliver(&client(), &s, &event(card())).await.unwrap();
    let body = fake.last().json();
    assert_eq!(body["msg_type"], "interactive");
    let ts = body["timestamp"].as_str().unwrap();
    let ts_n: i64 = ts.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - ts_n).abs() < 60,
        "seconds"
    );
    assert_eq!(
        body["sign"],
        hmac_b64(format!("{ts}\nfs-secret").as_bytes(), b"")
    );
    let card_json = &body["card"];
    assert_eq!(card_json["header"]["template"], "red");
    assert!(card_json["header"]["title"]["content"]
        .as_str()
        .unwrap()
        .contains("#42"));
    let text = card_json["elements"].to_string();
    assert_masked(&text);
    assert!(text.contains("https://anfu.example/console#/handoffs/42"));
    assert!(text.contains("问题类型"));

    fake.then(200, vec![], r#"{"code":11232,"msg":"frequency limited"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(200, vec![], r#"{"code":19021,"msg":"sign match fail"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn slack_blocks_and_retry_after() {
    let fake = Fake::start(200, "ok").await;
    let s = sink("slack", format!("{}/services/T/B/X", fake.base));
    deliver(&client(), &s, &event(card())).await.unwrap();
    let body = fake.last().json();
    assert!(body["text"].as_str().unwrap().contains("#42"));
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[1]["type"], "section");
    assert!(blocks[1]["fields"].as_array().unwrap().len() <= 10);
    assert_eq!(blocks.last().unwrap()["type"], "actions");
    assert_eq!(
        blocks.last().unwrap()["elements"][0]["url"],
        "https://anfu.example/console#/handoffs/42"
    );
    assert_masked(&body.to_string());

    fake.then(429, vec![("retry-after", "7".into())], "rate_limited");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert_eq!(retry_after_of(e), Some(Duration::from_secs(7)));
    fake.then(500, vec![], "");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert_eq!(retry_after_of(e), None);
    fake.then(400, vec![], "invalid_blocks");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    fake.then(403, vec![], "invalid_token");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn chatwoot_note_attributes_priority_then_open() {
    let fake = Fake::start(200, "{}").await;
    let mut s = sink("chatwoot", format!("{}/", fake.base));
    s.token = Some("cw-token".into());
    s.account_id = Some("7".into());
    let mut c = card();
    c.platform = "chatwoot".into();
    c.conversation_id = "1234".into();
    deliver(&client(), &s, &event(c.clone())).await.unwrap();

    let seen = fake.seen();
    let paths: Vec<&str> = seen.iter().map(|r| r.path.as_str()).collect();
    let base = "/api/v1/accounts/7/conversations/1234";
    assert_eq!(
        paths,
        [
            format!("{base}/messages"),
            format!("{base}/custom_attributes"),
            format!("{base}/toggle_priority"),
            format!("{base}/toggle_status"),
        ]
    );
    for r in &seen {
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.header("api_access_token"), "cw-token");
    }
    let note = seen[0].json();
    assert_eq!(note["message_type"], "outgoing");
    assert_eq!(note["private"], true);
    assert_masked(note["content"].as_str().unwrap());
    let attrs = &seen[1].json()["custom_attributes"];
    assert_eq!(attrs["order_id"], ORDER);
    assert_eq!(attrs["issue_type"], "damaged");
    assert_eq!(attrs["mood"], "angry");
    assert_eq!(attrs["priority"], "P1");
    assert_eq!(seen[2].json(), json!({"priority": "urgent"}));
    assert_eq!(seen[3].json(), json!({"status": "open"}));

    // A failure stops the sequence and is classified.
    fake.then(200, vec![], "{}");
    fake.then(503, vec![], "down");
    let e = deliver(&client(), &s, &event(c.clone())).await.unwrap_err();
    assert!(matches!(e, SendError::Retryable { .. }), "{e:?}");
    assert_eq!(fake.seen().len(), 6);
    fake.then(401, vec![], "unauthorized");
    let e = deliver(&client(), &s, &event(c.clone())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
    fake.then(404, vec![], "no conversation");
    let e = deliver(&client(), &s, &event(c)).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");

    // Cards from other platforms have no Chatwoot conversation: refused, nothing sent.
    let before = fake.seen().len();
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    assert!(!anfu::sink::routes(&s, &card()));
    assert_eq!(fake.seen().len(), before);
}

#[tokio::test]
async fn chatwoot_opens_a_conversation_for_a_marketplace_ticket() {
    let fake = Fake::start(200, "{}").await;
    let mut s = sink("chatwoot", fake.base.clone());
    s.token = Some("cw-token".into());
    s.account_id = Some("7".into());
    s.inbox_id = Some("3".into());
    let c = card();
    assert!(
        anfu::sink::routes(&s, &c),
        "an inbox makes marketplace cards welcome"
    );
    let identifier = "anfu:xiaoyu:b-9";

    // A new buyer: searched, created as a contact of the inbox, a conversation opened.
    fake.then(200, vec![], r#"{"payload": []}"#);
    fake.then(
        200,
        vec![],
        r#"{"payload": {"contact": {"id": 55, "contact_inboxes": []}}}"#,
    );
    fake.then(200, vec![], r#"{"id": 901, "inbox_id": 3}"#);
    let mut e = event(c.clone());
    let made = anfu::sink::prepare(&client(), &s, &e).await.unwrap();
    assert_eq!(made.as_deref(), Some("901"));
    let seen = fake.seen();
    let account = "/api/v1/accounts/7";
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].path, format!("{account}/contacts/search"));
    assert_eq!(seen[0].query.as_deref(), Some("q=anfu%3Axiaoyu%3Ab-9"));
    assert_eq!(seen[1].path, format!("{account}/contacts"));
    assert_eq!(
        seen[1].json(),
        json!({"inbox_id": 3, "name": "小王", "identifier": identifier, "source_id": identifier})
    );
    assert_eq!(seen[2].path, format!("{account}/conversations"));
    let opened = seen[2].json();
    assert_eq!(opened["source_id"], identifier);
    assert_eq!(opened["inbox_id"], 3);
    assert_eq!(opened["contact_id"], 55);
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["custom_attributes"]["order_id"], ORDER);
    for r in &seen {
        assert_eq!(r.header("api_access_token"), "cw-token");
    }

    // Then the usual four calls land on the new conversation.
    e.external_ref = made;
    deliver(&client(), &s, &e).await.unwrap();
    let paths: Vec<String> = fake.seen()[3..].iter().map(|r| r.path.clone()).collect();
    let on = format!("{account}/conversations/901");
    assert_eq!(
        paths,
        [
            format!("{on}/messages"),
            format!("{on}/custom_attributes"),
            format!("{on}/toggle_priority"),
            format!("{on}/toggle_status"),
        ]
    );
    // Once opened, nothing more to prepare.
    assert_eq!(anfu::sink::prepare(&client(), &s, &e).await.unwrap(), None);

    // A returning buyer: the contact is found; joined to the inbox only if not yet there.
    let before = fake.seen().len();
    fake.then(
        200,
        vec![],
        &json!({"payload": [{"id": 55, "identifier": identifier, "contact_inboxes": [{"source_id": identifier}]}]}).to_string(),
    );
    fake.then(200, vec![], r#"{"id": 902}"#);
    let made = anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap();
    assert_eq!(made.as_deref(), Some("902"));
    let paths: Vec<String> = fake.seen()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            format!("{account}/contacts/search"),
            format!("{account}/conversations")
        ]
    );

    let before = fake.seen().len();
    fake.then(
        200,
        vec![],
        &json!({"payload": [{"id": 56, "identifier": identifier, "contact_inboxes": []}]})
            .to_string(),
    );
    fake.then(200, vec![], r#"{"source_id": "anfu:xiaoyu:b-9"}"#);
    fake.then(200, vec![], r#"{"id": 903}"#);
    anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(
        seen[before + 1].path,
        format!("{account}/contacts/56/contact_inboxes")
    );
    assert_eq!(
        seen[before + 1].json(),
        json!({"inbox_id": 3, "source_id": identifier})
    );

    // Failures are classified like every sink's.
    fake.then(401, vec![], "unauthorized");
    let e = anfu::sink::prepare(&client(), &s, &event(c.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
    fake.then(200, vec![], r#"{"payload": []}"#);
    fake.then(200, vec![], "<html>proxy error</html>");
    let e = anfu::sink::prepare(&client(), &s, &event(c))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
}

#[tokio::test]
async fn generic_webhook_is_standard_webhooks_signed() {
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let fake = Fake::start(204, "").await;
    let mut s = sink("webhook", format!("{}/hooks/anfu", fake.base));
    s.secret = Some(secret.into());
    let mut e = event(card());
    deliver(&client(), &s, &e).await.unwrap();
    let seen = fake.last();
    assert_eq!(seen.path, "/hooks/anfu");
    assert_eq!(seen.header("content-type"), "application/json");
    let id = seen.header("webhook-id");
    assert_eq!(id, "handoff-42-created");
    let ts = seen.header("webhook-timestamp");
    assert!((chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap()).abs() < 60);
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&seen.body);
    assert_eq!(
        seen.header("webhook-signature"),
        format!("v1,{}", hmac_b64(&key, &signed))
    );
    let body = seen.json();
    assert_eq!(body["type"], "handoff.created");
    assert_eq!(body["ticket"]["id"], 42);
    assert_eq!(body["ticket"]["order_id"], ORDER);
    assert_eq!(body["ticket"]["priority"], "P1");
    assert_eq!(
        body["ticket"]["console_url"],
        "https://anfu.example/console#/handoffs/42"
    );
    assert_masked(&body.to_string());

    e.kind = EventKind::Updated;
    deliver(&client(), &s, &e).await.unwrap();
    assert_eq!(fake.last().json()["type"], "handoff.updated");

    fake.then(500, vec![], "");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::Retryable { .. }), "{err:?}");
    fake.then(422, vec![], "nope");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    fake.then(401, vec![], "");
    let err = deliver(&client(), &s, &e).await.unwrap_err();
    assert!(matches!(err, SendError::AuthExpired { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_sinks_are_retryable() {
    // Bind then drop: nothing listens on the port any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    drop(listener);
    for kind in ["dingtalk", "wecom", "feishu", "slack"] {
        let e = deliver(&client(), &sink(kind, url.clone()), &event(card()))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Retryable { .. }), "{kind}: {e:?}");
    }
}
