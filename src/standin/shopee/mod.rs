//! The stand-in's Shopee (platforms.md §7): one partner app authorised for one shop. Access
//! tokens expire (on demand), refresh tokens work once and rotate, sends are checked for
//! Shopee's signs and a numeric `to_id`, a conversation can be read back, and — as on the
//! real platform — every message the shop sends is pushed back to anfu (the echo).

mod api;

pub(super) use api::{access_token, get_message, get_shop_info, send_message};

use super::StandIn;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The partner app and the shop it is authorised for.
#[derive(Debug, Clone)]
pub struct ShopeeAccount {
    pub partner_id: u64,
    pub partner_key: String,
    pub shop_id: u64,
    /// The shop's own chat account (`from_id` of its messages).
    pub seller_user_id: u64,
    /// The refresh token handed to the operator (the config's).
    pub first_refresh_token: String,
}

/// One line of a conversation as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct ShopeeLine {
    pub message_id: String,
    pub conversation_id: String,
    pub from_id: u64,
    pub to_id: u64,
    pub text: Option<String>,
    pub created: i64,
}

#[derive(Default)]
pub(super) struct World {
    account: Option<ShopeeAccount>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    /// Refresh tokens presented, in order (spent or not).
    presented: Vec<String>,
    refused: usize,
    in_flight: usize,
    max_in_flight: usize,
    lines: Vec<ShopeeLine>,
    /// Where the shop's own messages are pushed back: anfu's webhook URL and the callback
    /// URL the pushes are signed over.
    echo: Option<(String, String)>,
    next_id: u64,
}

impl World {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 2_302_748_948_493_100_000u64 + self.next_id)
    }
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "message": message, "request_id": "standin"})),
    )
        .into_response()
}

impl StandIn {
    /// Authorises the app for the shop: only `first_refresh_token` is valid to begin with.
    pub fn shopee_account(&self, account: ShopeeAccount) {
        let mut inner = self.inner.lock().expect("lock");
        inner.shopee.refresh_token = Some(account.first_refresh_token.clone());
        inner.shopee.account = Some(account);
    }

    /// Pushes the shop's own messages back to `webhook_url`, signed over `callback_url`.
    pub fn shopee_echo_to(&self, webhook_url: &str, callback_url: &str) {
        self.inner.lock().expect("lock").shopee.echo =
            Some((webhook_url.to_string(), callback_url.to_string()));
    }

    /// The current access token stops working (Shopee answers `invalid_access_token`).
    pub fn shopee_expire_access_token(&self) {
        self.inner.lock().expect("lock").shopee.access_token = None;
    }

    /// The seller withdraws the authorisation: no refresh token works any more.
    pub fn shopee_revoke(&self) {
        let mut inner = self.inner.lock().expect("lock");
        inner.shopee.refresh_token = None;
        inner.shopee.access_token = None;
    }

    /// The refresh tokens presented so far, in order.
    pub fn shopee_refreshes(&self) -> Vec<String> {
        self.inner.lock().expect("lock").shopee.presented.clone()
    }

    /// Refreshes refused (a spent or unknown refresh token).
    pub fn shopee_refused_refreshes(&self) -> usize {
        self.inner.lock().expect("lock").shopee.refused
    }

    /// The most refreshes ever in progress at once.
    pub fn shopee_max_concurrent_refreshes(&self) -> usize {
        self.inner.lock().expect("lock").shopee.max_in_flight
    }

    /// The refresh token that works now.
    pub fn shopee_current_refresh_token(&self) -> Option<String> {
        self.inner
            .lock()
            .expect("lock")
            .shopee
            .refresh_token
            .clone()
    }

    /// The messages the shop sent (anfu's sends), in order.
    pub fn shopee_sent(&self) -> Vec<ShopeeLine> {
        let inner = self.inner.lock().expect("lock");
        let seller = inner.shopee.account.as_ref().map(|a| a.seller_user_id);
        inner
            .shopee
            .lines
            .iter()
            .filter(|l| Some(l.from_id) == seller)
            .cloned()
            .collect()
    }

    /// Keeps a push made elsewhere (a fixture) in its conversation, so that the shop can
    /// answer its buyer.
    pub fn shopee_saw(&self, body: &[u8]) {
        let Ok(push) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let c = &push["data"]["content"];
        let id = |v: &Value| crate::platform::id_string(v);
        let (Some(message_id), Some(conversation_id)) =
            (id(&c["message_id"]), id(&c["conversation_id"]))
        else {
            return;
        };
        let number = |v: &Value| id(v).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        self.inner
            .lock()
            .expect("lock")
            .shopee
            .lines
            .push(ShopeeLine {
                message_id,
                conversation_id,
                from_id: number(&c["from_id"]),
                to_id: number(&c["to_id"]),
                text: c["content"]["text"].as_str().map(str::to_string),
                created: c["created_timestamp"].as_i64().unwrap_or(0),
            });
    }

    /// A chat push from `from_id` to the other party of the conversation, as Shopee sends
    /// it (§7's shape), recorded in the conversation: its body and its message id.
    pub fn shopee_push(
        &self,
        conversation_id: &str,
        from_id: u64,
        to_id: u64,
        message_type: &str,
        content: Value,
    ) -> (Vec<u8>, String) {
        let mut inner = self.inner.lock().expect("lock");
        let world = &mut inner.shopee;
        let shop_id = world.account.as_ref().map_or(0, |a| a.shop_id);
        let message_id = world.new_id();
        let created = chrono::Utc::now().timestamp();
        world.lines.push(ShopeeLine {
            message_id: message_id.clone(),
            conversation_id: conversation_id.to_string(),
            from_id,
            to_id,
            text: content
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_string),
            created,
        });
        (
            push_body(
                shop_id,
                &message_id,
                conversation_id,
                from_id,
                to_id,
                message_type,
                content,
                created,
            ),
            message_id,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn push_body(
    shop_id: u64,
    message_id: &str,
    conversation_id: &str,
    from_id: u64,
    to_id: u64,
    message_type: &str,
    content: Value,
    created: i64,
) -> Vec<u8> {
    json!({"msg_id": format!("p{message_id}"), "shop_id": shop_id, "code": 10,
        "timestamp": created, "data": {"type": "message", "content": {
        "message_id": message_id, "shop_id": shop_id, "from_id": from_id,
        "from_user_name": format!("user{from_id}"), "to_id": to_id,
        "to_user_name": format!("user{to_id}"), "message_type": message_type,
        "content": content, "conversation_id": conversation_id,
        "created_timestamp": created, "region": "TW"}}})
    .to_string()
    .into_bytes()
}
