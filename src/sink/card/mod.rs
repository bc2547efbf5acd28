//! Renders a handoff card for each sink: markdown (DingTalk, WeCom), a Feishu interactive
//! card, Slack blocks, a Chatwoot private note with attributes, the generic event. Every
//! piece of text goes through [`mask`] first.

mod names;

pub use names::{chatwoot_priority, demand_zh, issue_zh, mood_zh, threat_zh};

use super::mask::mask;
use super::{EventKind, HandoffEvent};
use crate::domain::Priority;
use serde_json::{json, Map, Value};

/// WeCom's limit on markdown content, in UTF-8 bytes.
pub const WECOM_MAX_BYTES: usize = 4096;
/// Characters kept of one transcript line.
const LINE_CHARS: usize = 300;
/// Transcript lines kept (the newest).
const MAX_LINES: usize = 10;

fn join_or_none(items: impl Iterator<Item = &'static str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "无".to_string()
    } else {
        v.join("、")
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Buyer-written text made inert in every robot's markup: HTML-escaped (`<script>` stays
/// text; Slack's `<!channel>` and `<url|label>` need `<`), and markdown link brackets escaped
/// so a buyer cannot plant a link in the agents' group chat.
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            _ => out.push(ch),
        }
    }
    out
}

/// The card's content, masked, as label/value pairs plus the transcript and links.
#[derive(Debug, Clone)]
pub struct View {
    pub title: String,
    pub fields: Vec<(&'static str, String)>,
    /// Newest last, each line masked and cut to [`LINE_CHARS`].
    pub transcript: Vec<String>,
    pub auto_reply: Option<String>,
    pub console_url: Option<String>,
}

pub fn console_url(event: &HandoffEvent) -> Option<String> {
    event.console_base.as_deref().map(|b| {
        format!(
            "{}/console#/handoffs/{}",
            b.trim_end_matches('/'),
            event.ticket_id
        )
    })
}

pub fn view(event: &HandoffEvent) -> View {
    let c = &event.card;
    let what = match event.kind {
        EventKind::Created => "转人工",
        EventKind::Updated => "工单更新",
        EventKind::SlaWarning => "即将超时",
        EventKind::SlaBreach => "超时未处理",
        EventKind::Escalated => "升级：无人认领",
        EventKind::Reopened => "重复投诉·已重开",
    };
    let title = mask(&format!(
        "【{}】{what} #{} · {}",
        c.priority,
        event.ticket_id,
        c.shop_label()
    ));
    let buyer = c
        .buyer_nick
        .clone()
        .or_else(|| c.buyer_id.clone())
        .unwrap_or_else(|| "未知".into());
    let fields = vec![
        ("优先级", c.priority.to_string()),
        ("店铺", c.shop_label().to_string()),
        ("买家", buyer),
        ("订单号", c.order_id.clone().unwrap_or_else(|| "无".into())),
        (
            "问题类型",
            c.issue_type.map_or("未识别", issue_zh).to_string(),
        ),
        (
            "诉求",
            join_or_none(c.demands.iter().map(|d| demand_zh(*d))),
        ),
        (
            "情绪",
            format!("{}（强度 {}）", mood_zh(c.mood), c.intensity),
        ),
        (
            "威胁",
            join_or_none(c.threats.iter().map(|t| threat_zh(*t))),
        ),
        ("处理时限", c.sla_due.clone()),
        (
            "建议",
            if c.next_steps.is_empty() {
                "无".into()
            } else {
                c.next_steps.join("；")
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, inert(&mask(&v))))
    .collect();
    let skip = c.transcript.len().saturating_sub(MAX_LINES);
    let transcript = c.transcript[skip..]
        .iter()
        .map(|l| {
            inert(&cut_chars(
                &mask(&l.shown().replace(['\r', '\n'], " ")),
                LINE_CHARS,
            ))
        })
        .collect();
    View {
        title,
        fields,
        transcript,
        auto_reply: c.auto_reply.as_deref().map(|r| inert(&mask(r))),
        console_url: console_url(event),
    }
}

fn markdown_with(v: &View, transcript: &[String]) -> String {
    let mut s = format!("### {}\n", v.title);
    for (k, val) in &v.fields {
        s.push_str(&format!("- **{k}**：{val}\n"));
    }
    s.push_str("\n**买家原话**：\n");
    for line in transcript {
        s.push_str(&format!("> {line}\n"));
    }
    if let Some(r) = &v.auto_reply {
        s.push_str(&format!("\n**已自动回复**：{r}\n"));
    }
    if let Some(u) = &v.console_url {
        s.push_str(&format!("\n[打开控制台]({u})\n"));
    }
    s
}

/// Markdown for DingTalk and WeCom (the full transcript view).
pub fn markdown(v: &View) -> String {
    markdown_with(v, &v.transcript)
}

/// Markdown of at most `max` bytes: drops the oldest transcript lines first, then shortens
/// the newest, and only as a last resort cuts the text (on a char boundary).
pub fn markdown_within(v: &View, max: usize) -> String {
    let full = markdown(v);
    if full.len() <= max {
        return full;
    }
    let mut lines = v.transcript.clone();
    while lines.len() > 1 {
        lines.remove(0);
        let s = markdown_with(v, &lines);
        if s.len() <= max {
            return s;
        }
    }
    if let Some(last) = lines.first().cloned() {
        let without = markdown_with(v, &[String::new()]).len();
        let room = max.saturating_sub(without + '…'.len_utf8());
        let mut cut = cut_bytes(&last, room).to_string();
        cut.push('…');
        let s = markdown_with(v, &[cut]);
        if s.len() <= max {
            return s;
        }
    }
    cut_bytes(&markdown_with(v, &[]), max).to_string()
}

/// The Feishu interactive card (`card` of the message).
pub fn feishu_card(v: &View, priority: Priority) -> Value {
    let template = match priority {
        Priority::P1 => "red",
        Priority::P2 => "orange",
        Priority::P3 => "blue",
    };
    let fields: Vec<Value> = v
        .fields
        .iter()
        .map(|(k, val)| {
            json!({"is_short": true, "text": {"tag": "lark_md", "content": format!("**{k}**\n{val}")}})
        })
        .collect();
    let quoted: Vec<String> = v.transcript.iter().map(|l| format!("> {l}")).collect();
    let mut elements = vec![
        json!({"tag": "div", "fields": fields}),
        json!({"tag": "hr"}),
        json!({"tag": "div", "text": {"tag": "lark_md", "content": format!("**买家原话**\n{}", quoted.join("\n"))}}),
    ];
    if let Some(r) = &v.auto_reply {
        elements.push(json!({"tag": "div", "text": {"tag": "lark_md", "content": format!("**已自动回复**\n{r}")}}));
    }
    if let Some(u) = &v.console_url {
        elements.push(json!({"tag": "action", "actions": [{
            "tag": "button", "type": "primary", "url": u,
            "text": {"tag": "plain_text", "content": "打开控制台"}
        }]}));
    }
    json!({
        "config": {"wide_screen_mode": true},
        "header": {"template": template, "title": {"tag": "plain_text", "content": v.title}},
        "elements": elements,
    })
}

/// Slack `{"text": fallback, "blocks": [...]}`.
pub fn slack_message(v: &View) -> Value {
    let fields: Vec<Value> = v
        .fields
        .iter()
        .take(10) // Slack allows 10 fields per section
        .map(
            |(k, val)| json!({"type": "mrkdwn", "text": cut_chars(&format!("*{k}*\n{val}"), 1900)}),
        )
        .collect();
    let quoted: Vec<String> = v.transcript.iter().map(|l| format!("> {l}")).collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut_chars(&v.title, 140)}}),
        json!({"type": "section", "fields": fields}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut_chars(&format!("*买家原话*\n{}", quoted.join("\n")), 2900)}}),
    ];
    if let Some(r) = &v.auto_reply {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": cut_chars(&format!("已自动回复：{r}"), 2900)}]}));
    }
    if let Some(u) = &v.console_url {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button", "url": u, "text": {"type": "plain_text", "text": "打开控制台"}
        }]}));
    }
    let summary: Vec<String> = v
        .fields
        .iter()
        .filter(|(k, _)| matches!(*k, "订单号" | "问题类型" | "诉求"))
        .map(|(k, val)| format!("{k}：{val}"))
        .collect();
    json!({"text": format!("{} {}", v.title, summary.join("，")), "blocks": blocks})
}

/// Chatwoot private-note text.
pub fn chatwoot_note(v: &View) -> String {
    markdown(v)
}

/// Chatwoot `custom_attributes`.
pub fn chatwoot_attributes(event: &HandoffEvent) -> Map<String, Value> {
    let c = &event.card;
    let mut m = Map::new();
    m.insert("anfu_ticket_id".into(), json!(event.ticket_id));
    m.insert("priority".into(), json!(c.priority.as_str()));
    m.insert("shop".into(), json!(mask(&c.shop)));
    if let Some(o) = &c.order_id {
        m.insert("order_id".into(), json!(mask(o)));
    }
    if let Some(i) = c.issue_type {
        m.insert("issue_type".into(), json!(i.as_str()));
    }
    let demands: Vec<&str> = c.demands.iter().map(|d| d.as_str()).collect();
    m.insert("demands".into(), json!(demands.join(",")));
    m.insert("mood".into(), json!(c.mood.as_str()));
    m.insert("intensity".into(), json!(c.intensity));
    let threats: Vec<&str> = c.threats.iter().map(|t| t.as_str()).collect();
    m.insert("threats".into(), json!(threats.join(",")));
    m.insert("sla_due".into(), json!(c.sla_due));
    m
}

/// Every string of a JSON value, masked.
fn mask_value(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(mask(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(mask_value).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, mask_value(v))).collect()),
        other => other,
    }
}

/// The generic event: `{"type": "handoff.created" | "handoff.updated", "ticket": {...}}`;
/// an SLA breach is a `handoff.updated` with `"sla_breached": true`.
pub fn generic_event(event: &HandoffEvent) -> Value {
    let mut ticket = match mask_value(serde_json::to_value(&event.card).unwrap_or(Value::Null)) {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    ticket.insert("id".into(), json!(event.ticket_id));
    ticket.insert("console_url".into(), json!(console_url(event)));
    ticket.insert(
        "sla_breached".into(),
        json!(event.kind == EventKind::SlaBreach),
    );
    ticket.insert(
        "sla_warning".into(),
        json!(event.kind == EventKind::SlaWarning),
    );
    ticket.insert(
        "escalated".into(),
        json!(event.kind == EventKind::Escalated),
    );
    ticket.insert("reopened".into(), json!(event.kind == EventKind::Reopened));
    let kind = match event.kind {
        EventKind::Created => "handoff.created",
        EventKind::Updated
        | EventKind::SlaWarning
        | EventKind::SlaBreach
        | EventKind::Escalated
        | EventKind::Reopened => "handoff.updated",
    };
    json!({"type": kind, "ticket": ticket})
}

#[cfg(test)]
pub(crate) mod tests;
