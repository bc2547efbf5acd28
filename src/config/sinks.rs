//! `[[sinks]]`: where handoff cards go, each under a stable name. Queued notices and what a
//! sink made for a ticket (a Chatwoot conversation) are stored under that name, so the
//! order of `[[sinks]]` may change between restarts.

use crate::domain::{IssueType, Priority};
use serde::Deserialize;

/// The kinds of sink anfu delivers to (`kind = "…"`, `lark` and `generic` as aliases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    DingTalk,
    WeCom,
    Feishu,
    Slack,
    Chatwoot,
    Webhook,
}

impl SinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::DingTalk => "dingtalk",
            SinkKind::WeCom => "wecom",
            SinkKind::Feishu => "feishu",
            SinkKind::Slack => "slack",
            SinkKind::Chatwoot => "chatwoot",
            SinkKind::Webhook => "webhook",
        }
    }

    pub fn parse(kind: &str) -> Option<SinkKind> {
        Some(match kind {
            "dingtalk" => SinkKind::DingTalk,
            "wecom" => SinkKind::WeCom,
            "feishu" | "lark" => SinkKind::Feishu,
            "slack" => SinkKind::Slack,
            "chatwoot" => SinkKind::Chatwoot,
            "webhook" | "generic" => SinkKind::Webhook,
            _ => return None,
        })
    }
}

/// Where handoff cards go (`crate::sink`). `kind`: dingtalk | wecom | feishu | slack |
/// chatwoot | webhook. Routing keys (all optional, all must match): `shops`, `min_priority`,
/// `issue_types`, `threats_only` (e.g. a supervisors' group that only sees threats).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// How the store, queued notices and alerts name this sink; unique. Default (filled in
    /// at load): `kind@host/` and 8 hex digits of the URL's SHA-256, e.g.
    /// `dingtalk@oapi.dingtalk.com/3fa1c2d9`.
    #[serde(default)]
    pub name: String,
    pub kind: String,
    /// The robot's webhook URL; for chatwoot the Chatwoot base URL.
    pub url: String,
    /// dingtalk / feishu signing secret; webhook: the `whsec_…` secret.
    pub secret: Option<String>,
    /// chatwoot: the `api_access_token`.
    pub token: Option<String>,
    /// chatwoot: the account id.
    #[serde(default, deserialize_with = "text_or_number")]
    pub account_id: Option<String>,
    /// chatwoot: the API-channel inbox where marketplace tickets get a conversation each.
    #[serde(default, deserialize_with = "text_or_number")]
    pub inbox_id: Option<String>,
    #[serde(default)]
    pub shops: Vec<String>,
    pub min_priority: Option<Priority>,
    #[serde(default)]
    pub issue_types: Vec<IssueType>,
    #[serde(default)]
    pub threats_only: bool,
    /// A supervisors' sink: it gets the escalations (an unclaimed P1 past
    /// `sla.escalate_after`) and the reopened tickets, not every card.
    #[serde(default)]
    pub escalation: bool,
}

impl SinkConfig {
    /// `kind@host/digest`: the kind as anfu spells it (`lark` is `feishu`), the URL's host,
    /// and the first 8 hex digits of the whole URL's SHA-256. The digest tells two robots on
    /// one host apart (two DingTalk groups differ only in their access token) without
    /// showing the token, and it does not change when other sinks are added or reordered.
    pub fn default_name(&self) -> String {
        use sha2::Digest;
        let kind = SinkKind::parse(&self.kind).map_or(self.kind.as_str(), |k| k.as_str());
        let url = reqwest::Url::parse(&self.url).ok();
        let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or("");
        let digest = sha2::Sha256::digest(self.url.trim().as_bytes());
        format!("{kind}@{host}/{}", hex::encode(&digest[..4]))
    }
}

/// Ids people write either way: `account_id = 3` or `account_id = "3"`.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Text(t) => t,
        Id::Number(n) => n.to_string(),
    }))
}

/// Gives every sink without a `name` its default one.
pub(super) fn name_all(sinks: &mut [SinkConfig]) {
    for sink in sinks {
        if sink.name.trim().is_empty() {
            sink.name = sink.default_name();
        } else {
            sink.name = sink.name.trim().to_string();
        }
    }
}

/// What is wrong with the sinks, each problem naming its sink.
pub(super) fn problems(sinks: &[SinkConfig]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, sink) in sinks.iter().enumerate() {
        let here = at(i, sink);
        if sink.name.chars().all(|c| c.is_ascii_digit()) {
            // Notices queued before sinks had names name them by position, in digits.
            problems.push(format!(
                "{here}.name `{}` must not be only digits (those name positions in [[sinks]])",
                sink.name
            ));
        }
        if let Some((j, first)) = sinks[..i]
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == sink.name)
        {
            problems.push(format!(
                "{} and {here} are both named `{}`: give one of them another `name`",
                at(j, first),
                sink.name
            ));
        }
        let Some(kind) = SinkKind::parse(&sink.kind) else {
            problems.push(format!(
                "{here}.kind must be dingtalk, wecom, feishu, slack, chatwoot or webhook"
            ));
            continue;
        };
        if !(sink.url.starts_with("http://") || sink.url.starts_with("https://")) {
            problems.push(format!("{here}.url must be an http(s) URL"));
        }
        let missing = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        match kind {
            SinkKind::Webhook
                if sink
                    .secret
                    .as_deref()
                    .and_then(crate::signing::decode_whsec)
                    .is_none() =>
            {
                problems.push(format!("{here}.secret must be whsec_ followed by base64"));
            }
            SinkKind::Chatwoot => {
                for (key, value) in [
                    ("token", &sink.token),
                    ("account_id", &sink.account_id),
                    // No conversation of this build's platforms lives in Chatwoot: each
                    // ticket opens one in this inbox.
                    ("inbox_id", &sink.inbox_id),
                ] {
                    if missing(value) {
                        problems.push(format!("{here}.{key} is missing (required for chatwoot)"));
                    }
                }
            }
            _ => {}
        }
    }
    problems
}

fn at(i: usize, sink: &SinkConfig) -> String {
    format!("sinks[{i}] (kind `{}`)", sink.kind)
}
