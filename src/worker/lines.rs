//! The lines of a conversation as processing reads them: which are the buyer's to analyse,
//! which are the shop's (anfu's own echoed back among them), and what the analyzer gets as
//! context.

use crate::analysis::Turn;
use crate::domain::MessageKind;
use crate::store::{now_ms, Millis, StoredMessage};

/// How long after queueing a reply its echo may come back.
const ECHO_WINDOW_MS: i64 = 3600 * 1000;

/// How far back what anfu sent is read for a step whose burst starts at `since`: far enough
/// for the analyzer's context and for any echo still on its way.
pub(super) fn sent_since(since: Millis) -> Millis {
    (since - CONTEXT_WINDOW_MS).min(now_ms() - ECHO_WINDOW_MS)
}

/// anfu's own texts that may still come back as echoes, from what it sent (`sent`, oldest
/// first, with when): an echo that beat the record of its send's message id must not be read
/// as the buyer's, and anfu's own lines do not join a ticket's transcript (the ticket lists
/// them already).
pub(super) fn echo_texts(sent: &[(Millis, String)]) -> Vec<String> {
    let since = now_ms() - ECHO_WINDOW_MS;
    sent.iter()
        .filter(|(at, _)| *at >= since)
        .map(|(_, text)| text.clone())
        .collect()
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

/// The conversation's earlier lines, oldest first, as the analyzer's context: the buyer's
/// text, the shop's lines where the platform reports them, and what anfu sent (`sent`: its
/// replies and agents' lines, when queued) unless the platform reported it back already.
/// Placeholders say nothing to read.
pub(super) fn context(earlier: &[StoredMessage], sent: &[(Millis, String)]) -> Vec<Turn> {
    let reported = |text: &str| {
        earlier
            .iter()
            .any(|m| m.message.kind == MessageKind::Seller && m.message.text == text)
    };
    let mut timed: Vec<(Millis, Turn)> = earlier
        .iter()
        .filter_map(|m| match m.message.kind {
            MessageKind::BuyerText => Some((m.received_at, Turn::buyer(m.message.text.clone()))),
            MessageKind::Seller => Some((m.received_at, Turn::shop(m.message.text.clone()))),
            MessageKind::BuyerOther => None,
        })
        .collect();
    timed.extend(
        sent.iter()
            .filter(|(_, text)| !reported(text))
            .map(|(at, text)| (*at, Turn::shop(text.clone()))),
    );
    // Stable: a reply queued in the same millisecond as a buyer line comes after it.
    timed.sort_by_key(|(at, _)| *at);
    let turns: Vec<Turn> = timed.into_iter().map(|(_, turn)| turn).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BuyerMessage;

    fn stored(at: Millis, kind: MessageKind, text: &str) -> StoredMessage {
        StoredMessage {
            id: at,
            received_at: at,
            message: BuyerMessage {
                message_key: format!("m{at}"),
                conversation_id: "c".into(),
                buyer_id: None,
                buyer_nick: None,
                text: text.into(),
                order_id: None,
                sent_at: None,
                kind,
            },
        }
    }

    #[test]
    fn context_interleaves_anfus_replies_by_time_and_lists_a_reported_one_once() {
        let earlier = [
            stored(1, MessageKind::BuyerText, "包裹到哪了"),
            stored(4, MessageKind::BuyerOther, "[图片]"),
            stored(6, MessageKind::Seller, "已为您催促快递"),
        ];
        let sent = [
            (2, "请提供订单号".to_string()),
            (6, "已为您催促快递".to_string()),
        ];
        assert_eq!(
            context(&earlier, &sent),
            [
                Turn::buyer("包裹到哪了"),
                Turn::shop("请提供订单号"),
                Turn::shop("已为您催促快递"),
            ]
        );
    }

    #[test]
    fn only_the_buyers_text_is_read_and_an_echo_is_relabelled() {
        let mut lines = [
            stored(1, MessageKind::BuyerText, "杯子破了"),
            stored(2, MessageKind::BuyerOther, "[贴图]"),
            stored(3, MessageKind::BuyerText, "您好，已为您登记补发"),
        ];
        relabel_echoes(&mut lines, &["您好，已为您登记补发".to_string()]);
        assert_eq!(lines[2].message.kind, MessageKind::Seller);
        assert_eq!(joined(&lines), "杯子破了");
    }
}
