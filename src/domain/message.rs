//! A buyer's message as anfu understands it, whatever platform it came from.

use serde::{Deserialize, Serialize};

/// One message from a buyer, parsed from a platform's payload at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerMessage {
    /// The platform's unique id of this message: the dedupe key (with the shop).
    pub message_key: String,
    /// The conversation (Taobao conversation_id, Rakuten inquiryNumber, generic conversation_id).
    pub conversation_id: String,
    pub buyer_id: Option<String>,
    pub buyer_nick: Option<String>,
    pub text: String,
    /// The order the platform attached to the message, if any (as a string: never an f64).
    pub order_id: Option<String>,
    /// When the buyer sent it, as the platform wrote it.
    pub sent_at: Option<String>,
    /// Who wrote it and whether it is text: only a buyer's text is analysed and answered.
    #[serde(default)]
    pub kind: MessageKind,
}

/// Who wrote a line of a conversation, and so what anfu does with it. Platforms that report
/// the shop's side (Shopee's pushes, Rakuten's merchant replies) give the transcript both
/// sides; only the buyer's text is analysed, and only it is ever answered (no reply loops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A buyer's text: analysed and answered.
    #[default]
    BuyerText,
    /// A buyer's image, sticker, item card, order card or video: a transcript placeholder
    /// (`[图片]`…), never analysed; an order card's number counts as the order.
    BuyerOther,
    /// The shop's own line (its staff, or anfu's reply echoed back): transcript only.
    Seller,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::BuyerText => "buyer_text",
            MessageKind::BuyerOther => "buyer_other",
            MessageKind::Seller => "seller",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        [
            MessageKind::BuyerText,
            MessageKind::BuyerOther,
            MessageKind::Seller,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Whether the line is read by the analyzer (and may be answered).
    pub fn is_analysed(self) -> bool {
        self == MessageKind::BuyerText
    }
}
