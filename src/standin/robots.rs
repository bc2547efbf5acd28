//! The group-chat robots and Chatwoot that handoff cards go to.

use super::{headers_of, Shared};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A small Chatwoot: contacts (searchable by identifier), conversations, and every call seen.
#[derive(Default)]
pub(super) struct Chatwoot {
    contacts: Vec<Value>,
    conversations: i64,
    pub(super) calls: Vec<ChatwootCall>,
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

pub(super) async fn robot(
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

pub(super) async fn chatwoot(
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
