//! What anfu itself said in a conversation, written once for both backends: the analyzer's
//! context (what the shop said before the buyer's new line), and the texts that platforms
//! pushing the shop's own messages back (Shopee) echo — an echo that arrives before anfu has
//! recorded the message id its send returned would otherwise be read as the buyer's and
//! answered, a reply loop. The reply jobs hold the texts.

use super::queue::{Arg, Sql};
use super::reports::Cell;
use super::{Millis, StoreError};

pub(super) const TEXTS: &str = "SELECT created_at, payload FROM jobs
     WHERE kind = 'reply' AND shop = $1 AND conversation_id = $2 AND created_at >= $3
     ORDER BY created_at, id";

/// The arguments of [`TEXTS`].
pub(super) fn args<'a>(shop: &'a str, conversation: &'a str, since: Millis) -> [Arg<'a>; 3] {
    [Arg::Text(shop), Arg::Text(conversation), Arg::Int(since)]
}

/// The replies queued for a conversation since `since` (the bot's, agents', follow-ups),
/// oldest first: when each was queued, and its text.
pub(super) async fn reply_texts(
    sql: &dyn Sql,
    shop: &str,
    conversation: &str,
    since: Millis,
) -> Result<Vec<(Millis, String)>, StoreError> {
    texts_from(&sql.cells(TEXTS, &args(shop, conversation, since)).await?)
}

/// The rows of [`TEXTS`] as (queued at, text).
pub(super) fn texts_from(rows: &[Vec<Cell>]) -> Result<Vec<(Millis, String)>, StoreError> {
    rows.iter()
        .map(|row| match (row.first(), row.get(1)) {
            (Some(Cell::Int(at)), Some(Cell::Text(payload))) => {
                serde_json::from_str::<serde_json::Value>(payload)
                    .map(|p| (*at, p["text"].as_str().unwrap_or_default().to_string()))
                    .map_err(|e| StoreError::Corrupt(format!("reply payload: {e}")))
            }
            other => Err(StoreError::Corrupt(format!("reply row: {other:?}"))),
        })
        .collect()
}
