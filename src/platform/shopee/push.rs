//! A Shopee chat push (platforms.md §7, Webchat Push code 10) read into what anfu keeps: a
//! buyer's text to analyse, a buyer's other message (image, sticker, item, order, video) kept
//! as a transcript placeholder, or the shop's own message (its seller account, or anfu's
//! reply echoed back) kept as a seller line and never answered. Ids are 64-bit: strings.

use crate::domain::{BuyerMessage, MessageKind};
use crate::platform::{id_string, WebhookError};
use serde::Deserialize;
use serde_json::Value;

/// The push code of chat messages; other codes are acknowledged and ignored.
pub const CHAT_CODE: i64 = 10;

/// What a verified push carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// Not a chat message (another code, a notification): acknowledged, nothing kept.
    Ignored,
    /// A chat message; its `kind` says whose and whether it is read.
    Message(BuyerMessage),
}

#[derive(Deserialize)]
struct Body {
    shop_id: Value,
    code: i64,
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "type")]
    kind: String,
    /// Read as a chat message only once the push is one (a notification's differs).
    content: Option<Value>,
}

#[derive(Deserialize)]
struct Content {
    message_id: Value,
    conversation_id: Value,
    from_id: Value,
    from_user_name: Option<String>,
    message_type: String,
    #[serde(default)]
    content: Value,
    created_timestamp: Option<i64>,
}

fn bad(why: impl Into<String>) -> WebhookError {
    WebhookError::bad_request("invalid-body", why)
}

/// The placeholder a non-text message leaves in the transcript.
fn placeholder(message_type: &str) -> String {
    match message_type {
        "image" => "[图片]".into(),
        "sticker" => "[贴图]".into(),
        "item" => "[商品]".into(),
        "order" => "[订单]".into(),
        "video" => "[视频]".into(),
        other => format!("[{other}]"),
    }
}

/// Reads a push for the shop whose Shopee id is `shop_id`; `seller_user_id` is the shop's own
/// chat account when configured. A push for another shop is refused (404, nothing kept).
pub fn parse(
    body: &[u8],
    shop_id: u64,
    seller_user_id: Option<&str>,
) -> Result<Push, WebhookError> {
    let b: Body = serde_json::from_slice(body).map_err(|e| bad(format!("body: {e}")))?;
    if id_string(&b.shop_id) != Some(shop_id.to_string()) {
        return Err(WebhookError::new(
            404,
            "unknown-shop",
            format!("the push is for Shopee shop {}, not this shop's", b.shop_id),
        ));
    }
    let Some(data) = b
        .data
        .filter(|d| b.code == CHAT_CODE && d.kind == "message")
    else {
        return Ok(Push::Ignored);
    };
    let c = data.content.ok_or_else(|| bad("data.content is missing"))?;
    let c: Content = serde_json::from_value(c).map_err(|e| bad(format!("data.content: {e}")))?;
    let message_key = id_string(&c.message_id).ok_or_else(|| bad("message_id is missing"))?;
    let conversation_id =
        id_string(&c.conversation_id).ok_or_else(|| bad("conversation_id is missing"))?;
    let sender = id_string(&c.from_id).ok_or_else(|| bad("from_id is missing"))?;
    let is_text = c.message_type == "text";
    let text = if is_text {
        c.content
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("content.text is missing"))?
            .to_string()
    } else {
        placeholder(&c.message_type)
    };
    let order_id = (c.message_type == "order")
        .then(|| c.content.get("order_sn").and_then(id_string))
        .flatten();
    // anfu's own replies come back under the message ids their sends returned: stored
    // already as seller lines, so the store drops the echo as a duplicate.
    let kind = if seller_user_id.is_some_and(|s| s == sender) {
        MessageKind::Seller
    } else if is_text {
        MessageKind::BuyerText
    } else {
        MessageKind::BuyerOther
    };
    let message = BuyerMessage {
        message_key,
        conversation_id,
        buyer_id: Some(sender),
        buyer_nick: c.from_user_name,
        text,
        order_id,
        sent_at: c
            .created_timestamp
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.to_rfc3339()),
        kind,
    };
    Ok(Push::Message(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: u64 = 14701711;

    fn push(message_type: &str, content: Value, from_id: Value) -> Vec<u8> {
        serde_json::json!({"msg_id": "a1", "shop_id": SHOP, "code": 10, "timestamp": 1726044722,
            "data": {"type": "message", "content": {"message_id": "2302748948493123953",
            "shop_id": SHOP, "from_id": from_id, "from_user_name": "buyer_tw", "to_id": 947151379,
            "to_user_name": "seller_tw", "message_type": message_type, "content": content,
            "conversation_id": "709122092476686867", "created_timestamp": 1726044721,
            "region": "TW"}}})
        .to_string()
        .into_bytes()
    }

    fn message(p: Push) -> (BuyerMessage, MessageKind) {
        match p {
            Push::Message(message) => {
                let kind = message.kind;
                (message, kind)
            }
            Push::Ignored => panic!("a message was ignored"),
        }
    }

    #[test]
    fn a_buyers_text_keeps_its_64_bit_ids_as_strings() {
        let body = push(
            "text",
            serde_json::json!({"text": "收到的杯子破了"}),
            165105353.into(),
        );
        let (m, from) = message(parse(&body, SHOP, Some("947151379")).expect("parses"));
        assert_eq!(from, MessageKind::BuyerText);
        assert_eq!(m.message_key, "2302748948493123953");
        assert_eq!(m.conversation_id, "709122092476686867");
        assert_eq!(m.buyer_id.as_deref(), Some("165105353"));
        assert_eq!(m.text, "收到的杯子破了");
        assert!(m
            .sent_at
            .is_some_and(|t| t.starts_with("2024-09-11T08:52:01")));
    }

    #[test]
    fn other_messages_are_placeholders_and_an_order_gives_its_number() {
        let order = push(
            "order",
            serde_json::json!({"order_sn": "240911ABCDEF12"}),
            1.into(),
        );
        let (m, from) = message(parse(&order, SHOP, None).expect("parses"));
        assert_eq!((m.text.as_str(), from), ("[订单]", MessageKind::BuyerOther));
        assert_eq!(m.order_id.as_deref(), Some("240911ABCDEF12"));
        for (kind, shown) in [
            ("image", "[图片]"),
            ("sticker", "[贴图]"),
            ("item", "[商品]"),
            ("video", "[视频]"),
        ] {
            let body = push(
                kind,
                serde_json::json!({"url": "https://cf.shopee.tw/x"}),
                1.into(),
            );
            assert_eq!(
                message(parse(&body, SHOP, None).expect("parses")).0.text,
                shown
            );
        }
    }

    #[test]
    fn the_shops_own_messages_are_seller_lines() {
        let body = push(
            "text",
            serde_json::json!({"text": "您好"}),
            947151379.into(),
        );
        let (_, from) = message(parse(&body, SHOP, Some("947151379")).expect("parses"));
        assert_eq!(from, MessageKind::Seller);
    }

    #[test]
    fn other_codes_and_notifications_are_ignored_and_another_shop_is_refused() {
        let other = br#"{"shop_id": 14701711, "code": 3, "data": {"type": "order"}}"#;
        assert_eq!(parse(other, SHOP, None), Ok(Push::Ignored));
        let note = br#"{"shop_id": 14701711, "code": 10, "data": {"type": "notification"}}"#;
        assert_eq!(parse(note, SHOP, None), Ok(Push::Ignored));
        let note = br#"{"shop_id": 14701711, "code": 10, "data": {"type": "notification",
            "content": {"conversation_id": "1", "unread_count": 2}}}"#;
        assert_eq!(parse(note, SHOP, None), Ok(Push::Ignored));
        let body = push("text", serde_json::json!({"text": "hi"}), 1.into());
        assert_eq!(parse(&body, 99, None).map(|_| ()).unwrap_err().status, 404);
        assert_eq!(parse(b"{", SHOP, None).map(|_| ()).unwrap_err().status, 400);
        let no_text = push("text", serde_json::json!({}), 1.into());
        assert_eq!(
            parse(&no_text, SHOP, None).map(|_| ()).unwrap_err().status,
            400
        );
    }
}
