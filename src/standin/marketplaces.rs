//! The marketplaces' send endpoints: the Taobao-style router, Rakuten's reply and inquiries
//! (poll), and the generic `/messages`.

use super::{deliver, headers_of, json_call, record, respond, Call, Delivered, Inner, Shared};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(super) async fn taobao_send(State(inner): Shared, headers: HeaderMap, body: Bytes) -> Response {
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

pub(super) async fn rakuten_reply(
    State(inner): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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

pub(super) async fn rakuten_inquiries(
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

pub(super) async fn generic_send(
    State(inner): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
