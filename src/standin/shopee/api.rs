//! The stand-in Shopee's endpoints: seller-chat send and read-back, token renewal.

use super::{error, push_body, ShopeeLine, World};
use crate::platform::shopee::sign;
use crate::standin::{headers_of, record, respond, Call, Delivered, Inner};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Shared = State<Arc<Mutex<Inner>>>;
type Params = Query<HashMap<String, String>>;

/// Checks a shop API call's common parameters: `Err` is Shopee's refusal.
fn check_shop_call(
    world: &World,
    path: &str,
    q: &HashMap<String, String>,
) -> Result<(), Box<Response>> {
    let Some(account) = &world.account else {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "error_auth",
            "no app is authorised",
        )));
    };
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let timestamp: i64 = get("timestamp").parse().unwrap_or(0);
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "error_param",
            "timestamp out of range",
        )));
    }
    if get("partner_id") != account.partner_id.to_string()
        || get("shop_id") != account.shop_id.to_string()
    {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "error_param",
            "partner_id or shop_id",
        )));
    }
    let want = sign::shop_api(
        &account.partner_key,
        account.partner_id,
        path,
        timestamp,
        get("access_token"),
        account.shop_id,
    );
    if get("sign") != want {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "error_sign",
            "Wrong sign.",
        )));
    }
    if world.access_token.as_deref() != Some(get("access_token")) {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "invalid_access_token",
            "Invalid access_token.",
        )));
    }
    Ok(())
}

pub(in crate::standin) async fn send_message(
    State(inner): Shared,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let call = Call {
        platform: "shopee",
        at: Instant::now(),
        headers: headers_of(&headers),
        fields: [
            ("to_id".to_string(), json["to_id"].to_string()),
            (
                "text".to_string(),
                json["content"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
        ]
        .into(),
    };
    let scripted = record(&inner, call);
    let shared = inner.clone();
    respond(scripted, move || deliver(&shared, &q, &json)).await
}

fn deliver(inner: &Arc<Mutex<Inner>>, q: &HashMap<String, String>, json: &Value) -> Response {
    let mut guard = inner.lock().expect("lock");
    if let Err(refusal) = check_shop_call(&guard.shopee, "/api/v2/sellerchat/send_message", q) {
        return *refusal;
    }
    let (Some(to_id), Some(text)) = (json["to_id"].as_u64(), json["content"]["text"].as_str())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "error_param",
            "to_id must be a number and content.text a string",
        );
    };
    let world = &mut guard.shopee;
    let Some(conversation_id) = world
        .lines
        .iter()
        .rev()
        .find(|l| l.from_id == to_id || l.to_id == to_id)
        .map(|l| l.conversation_id.clone())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "error_param",
            "no conversation with this user",
        );
    };
    let account = world.account.clone().expect("checked");
    let message_id = world.new_id();
    let created = chrono::Utc::now().timestamp();
    world.lines.push(ShopeeLine {
        message_id: message_id.clone(),
        conversation_id: conversation_id.clone(),
        from_id: account.seller_user_id,
        to_id,
        text: Some(text.to_string()),
        created,
    });
    let echo = world.echo.clone();
    guard.delivered.push(Delivered {
        platform: "shopee",
        conversation_id: conversation_id.clone(),
        text: text.to_string(),
        key: message_id.clone(),
    });
    drop(guard);
    if let Some((url, callback)) = echo {
        let body = push_body(
            account.shop_id,
            &message_id,
            &conversation_id,
            account.seller_user_id,
            to_id,
            "text",
            json!({"text": text}),
            created,
        );
        let authorization = sign::push(&account.partner_key, &callback, &body);
        // Like Shopee, the echo comes at once (it may even beat the send's answer).
        tokio::spawn(async move {
            let _ = reqwest::Client::new()
                .post(url)
                .header("authorization", authorization)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
        });
    }
    Json(json!({"error": "", "message": "", "request_id": "standin",
        "response": {"message_id": message_id, "to_id": to_id, "message_type": "text",
        "content": {"text": text}, "conversation_id": conversation_id,
        "created_timestamp": created}}))
    .into_response()
}

pub(in crate::standin) async fn get_message(State(inner): Shared, Query(q): Params) -> Response {
    let guard = inner.lock().expect("lock");
    if let Err(refusal) = check_shop_call(&guard.shopee, "/api/v2/sellerchat/get_message", &q) {
        return *refusal;
    }
    let conversation = q.get("conversation_id").cloned().unwrap_or_default();
    let messages: Vec<Value> = guard
        .shopee
        .lines
        .iter()
        .rev()
        .filter(|l| l.conversation_id == conversation)
        .take(50)
        .map(|l| {
            json!({"message_id": l.message_id, "from_id": l.from_id, "to_id": l.to_id,
                "message_type": "text", "content": {"text": l.text},
                "conversation_id": l.conversation_id, "created_timestamp": l.created})
        })
        .collect();
    Json(json!({"error": "", "message": "", "request_id": "standin",
        "response": {"messages": messages}}))
    .into_response()
}

/// The shop's profile (`get_shop_info`: its fields at the top level, as Shopee answers).
pub(in crate::standin) async fn get_shop_info(State(inner): Shared, Query(q): Params) -> Response {
    let guard = inner.lock().expect("lock");
    if let Err(refusal) = check_shop_call(&guard.shopee, "/api/v2/shop/get_shop_info", &q) {
        return *refusal;
    }
    Json(json!({"error": "", "message": "", "request_id": "standin",
        "shop_name": "stand-in shop", "region": "TW", "status": "NORMAL"}))
    .into_response()
}

/// How long a refresh takes: long enough that two at once overlap and are seen.
const REFRESH_TIME: Duration = Duration::from_millis(50);

pub(in crate::standin) async fn access_token(
    State(inner): Shared,
    Query(q): Params,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let presented = json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    {
        let mut guard = inner.lock().expect("lock");
        let world = &mut guard.shopee;
        let Some(account) = world.account.clone() else {
            return error(StatusCode::FORBIDDEN, "error_auth", "no app is authorised");
        };
        let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
        let timestamp: i64 = get("timestamp").parse().unwrap_or(0);
        let want = sign::public_api(
            &account.partner_key,
            account.partner_id,
            "/api/v2/auth/access_token/get",
            timestamp,
        );
        if get("sign") != want || json["shop_id"].as_u64() != Some(account.shop_id) {
            return error(
                StatusCode::FORBIDDEN,
                "error_sign",
                "Wrong sign or shop_id.",
            );
        }
        world.presented.push(presented.clone());
        world.in_flight += 1;
        world.max_in_flight = world.max_in_flight.max(world.in_flight);
    }
    tokio::time::sleep(REFRESH_TIME).await;
    let mut guard = inner.lock().expect("lock");
    let world = &mut guard.shopee;
    world.in_flight -= 1;
    if world.refresh_token.as_deref() != Some(presented.as_str()) {
        world.refused += 1;
        return error(StatusCode::OK, "error_param", "refresh_token is invalid");
    }
    let n = world.presented.len();
    let pair = (
        format!("access-{n}-{:08x}", fastrand::u32(..)),
        format!("refresh-{n}-{:08x}", fastrand::u32(..)),
    );
    world.access_token = Some(pair.0.clone());
    world.refresh_token = Some(pair.1.clone());
    Json(
        json!({"access_token": pair.0, "refresh_token": pair.1, "expire_in": 14400,
        "error": "", "message": "", "request_id": "standin"}),
    )
    .into_response()
}
