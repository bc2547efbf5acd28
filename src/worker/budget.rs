//! The bot's reply budget per buyer (`limits.replies_per_buyer_per_hour`), shared by its
//! replies and its follow-up questions.

use crate::app::AppState;
use crate::store::Job;

/// `limits.replies_per_buyer_per_hour`: one buyer writing in many conversations is not
/// answered by the bot without end (the tickets still open).
pub(super) fn within_buyer_budget(
    state: &AppState,
    job: &Job,
    last: &crate::domain::BuyerMessage,
) -> bool {
    let fits = buyer_budget_allows(
        state,
        &job.shop,
        last.buyer_id.as_deref(),
        &job.conversation_id,
    );
    if !fits {
        tracing::warn!(shop = %job.shop, conversation = %job.conversation_id, "auto-reply skipped: the buyer's hourly budget is used up");
    }
    fits
}

/// Counts one message from anfu to a buyer (by id, else by conversation) against
/// `limits.replies_per_buyer_per_hour`: false when the budget is used up.
pub(super) fn buyer_budget_allows(
    state: &AppState,
    shop: &str,
    buyer: Option<&str>,
    conversation: &str,
) -> bool {
    let key = format!("{shop}\u{0}{}", buyer.unwrap_or(conversation));
    state
        .reply_limit
        .hit(&key, std::time::Instant::now())
        .is_ok()
}
