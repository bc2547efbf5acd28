//! What anfu itself said in a conversation, written once for both backends. Platforms that
//! push the shop's own messages back (Shopee) echo anfu's replies; an echo that arrives
//! before anfu has recorded the message id its send returned would otherwise be read as the
//! buyer's and answered — a reply loop. The reply jobs hold the texts.

use super::queue::{Arg, Sql};
use super::reports::Cell;
use super::{Millis, StoreError};

const TEXTS: &str = "SELECT payload FROM jobs
     WHERE kind = 'reply' AND shop = $1 AND conversation_id = $2 AND created_at >= $3";

/// The texts of the replies queued for a conversation since `since`.
pub(super) async fn reply_texts(
    sql: &dyn Sql,
    shop: &str,
    conversation: &str,
    since: Millis,
) -> Result<Vec<String>, StoreError> {
    let rows = sql
        .cells(
            TEXTS,
            &[Arg::Text(shop), Arg::Text(conversation), Arg::Int(since)],
        )
        .await?;
    rows.iter()
        .map(|row| match row.first() {
            Some(Cell::Text(payload)) => serde_json::from_str::<serde_json::Value>(payload)
                .map(|p| p["text"].as_str().unwrap_or_default().to_string())
                .map_err(|e| StoreError::Corrupt(format!("reply payload: {e}"))),
            other => Err(StoreError::Corrupt(format!("reply payload: {other:?}"))),
        })
        .collect()
}
