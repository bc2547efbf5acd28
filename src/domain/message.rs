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
}
