//! Handoff sinks: where tickets go for human agents (platforms.md §4) — DingTalk, WeCom and
//! Feishu group robots, Slack incoming webhooks, a Chatwoot inbox, or any endpoint taking
//! Standard Webhooks. [`routes`] decides whether a sink wants a card, [`RateLimiter`] keeps
//! the robots under their per-minute limits, [`deliver`] sends one event and classifies the
//! failure as [`SendError`] so the caller can retry or give up.

pub mod card;
pub mod chatwoot;
mod dingtalk;
mod feishu;
pub mod mask;
mod rate;
mod slack;
mod webhook;
mod wecom;

pub use rate::{RateLimiter, RATE_LIMIT_PER_MINUTE};

use crate::config::SinkConfig;
pub use crate::config::SinkKind;
use crate::domain::HandoffCard;
use crate::outbound::SendError;
pub(crate) use crate::outbound::{send, Answer};
use std::time::Duration;

/// What happened to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Updated,
    /// Within `sla.warn_before` of the due time.
    SlaWarning,
    SlaBreach,
    /// A P1 nobody claimed within `sla.escalate_after` (to the escalation sinks).
    Escalated,
    /// Its buyer complained again after it was resolved.
    Reopened,
}

/// One ticket event for one sink.
#[derive(Debug, Clone)]
pub struct HandoffEvent {
    pub ticket_id: i64,
    pub kind: EventKind,
    pub card: HandoffCard,
    /// The service's public base URL; the card links to `{base}/console#/handoffs/{id}`.
    pub console_base: Option<String>,
    /// Stable across retries of the same event (the generic sink's `webhook-id`).
    pub idempotency_key: String,
    /// What this sink made for the ticket earlier (a Chatwoot conversation id), if anything.
    pub external_ref: Option<String>,
}

/// Whether `sink` wants `card`: every routing key that is set must match. A chatwoot sink
/// only takes cards of conversations that live in Chatwoot (`card.platform == "chatwoot"`):
/// the note, attributes and status go onto that very conversation.
pub fn routes(sink: &SinkConfig, card: &HandoffCard) -> bool {
    if sink.escalation {
        return false;
    }
    let shop = sink.shops.is_empty() || sink.shops.contains(&card.shop);
    // P1 < P2 < P3 in declaration order: "at least P2" means P1 or P2.
    let priority = sink.min_priority.is_none_or(|min| card.priority <= min);
    let issue = sink.issue_types.is_empty()
        || card
            .issue_type
            .is_some_and(|i| sink.issue_types.contains(&i));
    let threats = !sink.threats_only || !card.threats.is_empty();
    let platform = SinkKind::parse(&sink.kind) != Some(SinkKind::Chatwoot)
        || chatwoot::takes(sink, &card.platform);
    shop && priority && issue && threats && platform
}

/// Names of the configured sinks whose routing rules take this card.
pub fn routed(sinks: &[SinkConfig], card: &HandoffCard) -> Vec<String> {
    sinks
        .iter()
        .filter(|sink| routes(sink, card))
        .map(|sink| sink.name.clone())
        .collect()
}

/// Names of the escalation sinks (`escalation = true`) that take this shop's escalations.
pub fn escalation_sinks(sinks: &[SinkConfig], card: &HandoffCard) -> Vec<String> {
    sinks
        .iter()
        .filter(|sink| sink.escalation)
        .filter(|sink| sink.shops.is_empty() || sink.shops.contains(&card.shop))
        .map(|sink| sink.name.clone())
        .collect()
}

/// What must exist on the sink's side before the event can be delivered: a Chatwoot
/// conversation for a marketplace card. Returns the new reference for the caller to store
/// (and put into `event.external_ref`); None when nothing was needed.
pub async fn prepare(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<Option<String>, SendError> {
    match SinkKind::parse(&sink.kind) {
        Some(SinkKind::Chatwoot) if chatwoot::needs_conversation(event) => {
            chatwoot::open_conversation(client, sink, event)
                .await
                .map(Some)
        }
        _ => Ok(None),
    }
}

/// Sends one event to one sink. Does not consult the rate limiter (the caller does, so it
/// can reschedule instead of waiting).
pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    match SinkKind::parse(&sink.kind) {
        Some(SinkKind::DingTalk) => dingtalk::deliver(client, sink, event).await,
        Some(SinkKind::WeCom) => wecom::deliver(client, sink, event).await,
        Some(SinkKind::Feishu) => feishu::deliver(client, sink, event).await,
        Some(SinkKind::Slack) => slack::deliver(client, sink, event).await,
        Some(SinkKind::Chatwoot) => chatwoot::deliver(client, sink, event).await,
        Some(SinkKind::Webhook) => webhook::deliver(client, sink, event).await,
        None => Err(SendError::Permanent {
            reason: format!("unknown sink kind `{}`", sink.kind),
        }),
    }
}

/// The line every robot probe posts: visible in the group, and harmless.
const PROBE_TEXT: &str = "anfu check --probe: this robot receives anfu's handoff cards. \
                          anfu 检查：这个机器人能收到转人工卡片。";

/// One harmless authenticated call to the sink (`anfu check --probe`). The robots only
/// take messages, so theirs posts one short line to the group; Chatwoot's reads the
/// account's inboxes. The generic webhook contract has no call a receiver must accept
/// besides a ticket, so it is not probed.
pub async fn probe(client: &reqwest::Client, sink: &SinkConfig) -> crate::platform::Probe {
    use crate::platform::Probe;
    let posted = |r: Result<(), SendError>| Probe::of(r, |()| "posted a test line".into());
    match SinkKind::parse(&sink.kind) {
        Some(SinkKind::DingTalk) => posted(dingtalk::post(client, sink, "anfu", PROBE_TEXT).await),
        Some(SinkKind::WeCom) => posted(wecom::post(client, sink, PROBE_TEXT).await),
        Some(SinkKind::Feishu) => {
            // The contract's shape (an interactive card), holding the one line.
            let line = serde_json::json!({"tag": "div", "text": {"tag": "plain_text", "content": PROBE_TEXT}});
            let body = serde_json::json!({"msg_type": "interactive", "card": {"elements": [line]}});
            posted(feishu::post(client, sink, body).await)
        }
        Some(SinkKind::Slack) => {
            let line = serde_json::json!({"type": "section", "text": {"type": "plain_text", "text": PROBE_TEXT}});
            let message = serde_json::json!({"text": PROBE_TEXT, "blocks": [line]});
            posted(slack::post(client, sink, &message).await)
        }
        Some(SinkKind::Chatwoot) => Probe::of(chatwoot::probe(client, sink).await, |s| s),
        Some(SinkKind::Webhook) => {
            Probe::NotProbed("its contract has no call besides a ticket (send one to test it)")
        }
        None => Probe::Fails(format!("unknown sink kind `{}`", sink.kind)),
    }
}

/// POSTs JSON.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<Answer, SendError> {
    send(
        client
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string()),
    )
    .await
}

/// The robots' `{"errcode": n}` / `{"code": n}` answers: 0 is success, `retry` codes are
/// throttling, `auth` codes mean the robot's URL or secret is wrong.
pub(crate) fn check_code(
    answer: &Answer,
    field: &str,
    retry: &[i64],
    auth: &[i64],
) -> Result<(), SendError> {
    answer.check_status()?;
    let json: serde_json::Value =
        serde_json::from_str(&answer.body).map_err(|_| SendError::Retryable {
            reason: format!("unreadable answer: {}", answer.reason()),
            retry_after: answer.retry_after,
        })?;
    let code = json.get(field).and_then(|c| c.as_i64());
    match code {
        Some(0) => Ok(()),
        Some(c) if retry.contains(&c) => Err(SendError::Retryable {
            reason: answer.reason(),
            retry_after: answer.retry_after.or(Some(Duration::from_secs(60))),
        }),
        Some(c) if auth.contains(&c) => Err(SendError::AuthExpired {
            reason: answer.reason(),
        }),
        _ => Err(SendError::Permanent {
            reason: answer.reason(),
        }),
    }
}

pub(crate) fn require<'a>(value: &'a Option<String>, key: &str) -> Result<&'a str, SendError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| SendError::Permanent {
            reason: format!("sink config: `{key}` is required"),
        })
}

#[cfg(test)]
mod tests {
    use super::card::tests::sample_card;
    use super::*;
    use crate::domain::{IssueType, Priority};

    fn sink(kind: &str) -> SinkConfig {
        SinkConfig {
            kind: kind.into(),
            url: "http://x".into(),
            ..Default::default()
        }
    }

    #[test]
    fn routing() {
        let card = sample_card(); // xiaoyu, P1, quality, a bad-review threat, taobao
        let mut p3 = card.clone();
        p3.priority = Priority::P3;
        p3.threats.clear();
        p3.issue_type = None;
        let cases: Vec<(&str, SinkConfig, &HandoffCard, bool)> = vec![
            ("no keys takes all", sink("dingtalk"), &card, true),
            (
                "shop listed",
                SinkConfig {
                    shops: vec!["a".into(), "xiaoyu".into()],
                    ..sink("wecom")
                },
                &card,
                true,
            ),
            (
                "shop not listed",
                SinkConfig {
                    shops: vec!["a".into()],
                    ..sink("wecom")
                },
                &card,
                false,
            ),
            (
                "P1 passes min P2",
                SinkConfig {
                    min_priority: Some(Priority::P2),
                    ..sink("slack")
                },
                &card,
                true,
            ),
            (
                "P3 fails min P2",
                SinkConfig {
                    min_priority: Some(Priority::P2),
                    ..sink("slack")
                },
                &p3,
                false,
            ),
            (
                "P3 passes min P3",
                SinkConfig {
                    min_priority: Some(Priority::P3),
                    ..sink("slack")
                },
                &p3,
                true,
            ),
            (
                "issue type listed",
                SinkConfig {
                    issue_types: vec![IssueType::Quality],
                    ..sink("feishu")
                },
                &card,
                true,
            ),
            (
                "issue type not listed",
                SinkConfig {
                    issue_types: vec![IssueType::Logistics],
                    ..sink("feishu")
                },
                &card,
                false,
            ),
            (
                "no issue type with a list",
                SinkConfig {
                    issue_types: vec![IssueType::Quality],
                    ..sink("feishu")
                },
                &p3,
                false,
            ),
            (
                "threats only, threat",
                SinkConfig {
                    threats_only: true,
                    ..sink("dingtalk")
                },
                &card,
                true,
            ),
            (
                "threats only, none",
                SinkConfig {
                    threats_only: true,
                    ..sink("dingtalk")
                },
                &p3,
                false,
            ),
            (
                "chatwoot skips taobao cards",
                sink("chatwoot"),
                &card,
                false,
            ),
        ];
        for (name, s, c, expected) in cases {
            assert_eq!(routes(&s, c), expected, "case: {name}");
        }
        let mut cw = card.clone();
        cw.platform = "chatwoot".into();
        assert!(routes(&sink("chatwoot"), &cw));
    }

    #[test]
    fn routing_keys_parse_and_unknown_keys_are_refused() {
        let s: SinkConfig = toml::from_str(
            r#"
kind = "dingtalk"
url = "https://oapi.dingtalk.com/robot/send?access_token=x"
secret = "SEC1"
shops = ["xiaoyu"]
min_priority = "P2"
issue_types = ["quality", "damaged"]
threats_only = true
"#,
        )
        .unwrap();
        assert_eq!(s.issue_types, [IssueType::Quality, IssueType::Damaged]);
        assert!(s.threats_only);
        let plain: SinkConfig = toml::from_str("kind = \"slack\"\nurl = \"u\"").unwrap();
        assert!(plain.issue_types.is_empty() && !plain.threats_only);
        assert!(
            toml::from_str::<SinkConfig>("kind = \"slack\"\nurl = \"u\"\nchannel = \"x\"").is_err()
        );
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(SinkKind::parse("dingtalk"), Some(SinkKind::DingTalk));
        assert_eq!(SinkKind::parse("webhook"), Some(SinkKind::Webhook));
        assert_eq!(SinkKind::parse("telegram"), None);
    }
}
