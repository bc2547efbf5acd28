//! The lines of a conversation as processing reads them: which are the buyer's to analyse,
//! which are the shop's (anfu's own echoed back among them), and what the analyzer gets as
//! context.

use crate::analysis::Turn;
use crate::app::AppState;
use crate::config::ShopConfig;
use crate::domain::MessageKind;
use crate::store::{now_ms, Job, StoreError, StoredMessage};

/// How long after queueing a reply its echo may come back.
const ECHO_WINDOW_MS: i64 = 3600 * 1000;

/// anfu's own texts in this conversation, when its platform pushes the shop's messages back:
/// an echo that beat the record of its send's message id must not be read as the buyer's,
/// and anfu's own lines do not join a ticket's transcript (the ticket lists them already).
pub(super) async fn echoes(
    state: &AppState,
    shop: &ShopConfig,
    job: &Job,
    fresh: &[StoredMessage],
) -> Result<Vec<String>, StoreError> {
    let platform = crate::platform::of(shop.platform());
    if !platform.echoes_sends() || fresh.is_empty() {
        return Ok(Vec::new());
    }
    let since = now_ms() - ECHO_WINDOW_MS;
    state
        .store
        .reply_texts(&job.shop, &job.conversation_id, since)
        .await
}

pub(super) fn relabel_echoes(messages: &mut [StoredMessage], echoes: &[String]) {
    for m in messages {
        if m.message.kind.is_analysed() && echoes.contains(&m.message.text) {
            m.message.kind = MessageKind::Seller;
        }
    }
}

/// How far back the buyer's earlier messages are read as context for a new one: a follow-up
/// ("已经三天了") takes its meaning from what came before, but not from last month.
pub(super) const CONTEXT_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;

/// The conversation's earlier lines, as the analyzer's context: the buyer's text and the
/// shop's lines where the platform reports them (placeholders say nothing to read).
pub(super) fn context(earlier: &[StoredMessage]) -> Vec<Turn> {
    let turns: Vec<Turn> = earlier
        .iter()
        .filter_map(|m| match m.message.kind {
            MessageKind::BuyerText => Some(Turn::buyer(m.message.text.clone())),
            MessageKind::Seller => Some(Turn::shop(m.message.text.clone())),
            MessageKind::BuyerOther => None,
        })
        .collect();
    let skip = turns
        .len()
        .saturating_sub(crate::analysis::context::MAX_TURNS);
    turns.into_iter().skip(skip).collect()
}

/// Transcript lines a ticket keeps (and analyses): the newest.
pub(super) const MAX_TRANSCRIPT_LINES: usize = 50;

/// The text the analyzer reads: the buyer's text lines, not placeholders or seller lines.
pub(super) fn joined(messages: &[StoredMessage]) -> String {
    messages
        .iter()
        .filter(|m| m.message.kind.is_analysed())
        .map(|m| m.message.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
