//! Tests of `card`.

use super::*;
use crate::domain::{Demand, HandoffCard, IssueType, Lang, Mood, Threat, TranscriptLine};

pub fn sample_card() -> HandoffCard {
    HandoffCard {
        shop: "xiaoyu".into(),
        shop_name: Some("小鱼家旗舰店".into()),
        platform: "taobao".into(),
        conversation_id: "c-1".into(),
        buyer_id: Some("b-9".into()),
        buyer_nick: Some("小王".into()),
        order_id: Some("1234567890123456789".into()),
        issue_type: Some(IssueType::Quality),
        demands: vec![Demand::Refund],
        mood: Mood::Angry,
        intensity: 3,
        threats: vec![Threat::BadReview],
        priority: Priority::P1,
        lang: Lang::Hans,
        sla_due: "2026-11-23T14:00:00Z".into(),
        next_steps: vec!["核实质量问题".into(), "提供退款方案".into()],
        transcript: vec![TranscriptLine {
            message_key: "m1".into(),
            text: "质量太差了，我要退款，电话13812345678，地址浙江省杭州市西湖区文三路90号2幢301室"
                .into(),
            sent_at: None,
            kind: Default::default(),
        }],
        evidence: vec![],
        auto_reply: Some("非常抱歉，已为您转接专人处理".into()),
    }
}

pub fn sample_event() -> HandoffEvent {
    HandoffEvent {
        external_ref: None,
        ticket_id: 42,
        kind: EventKind::Created,
        card: sample_card(),
        console_base: Some("https://anfu.example/".into()),
        idempotency_key: "handoff-42-created".into(),
    }
}

#[test]
fn markdown_has_the_labels_masked_text_and_link() {
    let md = markdown(&view(&sample_event()));
    for needle in [
        "优先级",
        "订单号**：1234567890123456789",
        "问题类型**：质量问题",
        "诉求**：退款",
        "情绪**：愤怒（强度 3）",
        "威胁**：差评",
        "处理时限**：2026-11-23T14:00:00Z",
        "建议**：核实质量问题；提供退款方案",
        "138****5678",
        "浙江省杭州市****",
        "已自动回复",
        "https://anfu.example/console#/handoffs/42",
    ] {
        assert!(md.contains(needle), "{needle} missing in {md}");
    }
    assert!(!md.contains("13812345678"));
    // A multi-line message stays inside its quote.
    let mut e = sample_event();
    e.card.transcript[0].text = "第一行\n第二行".into();
    assert!(markdown(&view(&e)).contains("> 第一行 第二行\n"));
    assert!(!md.contains("文三路"));
}

#[test]
fn the_shops_own_lines_are_marked_on_the_card() {
    let mut e = sample_event();
    e.card.transcript.push(TranscriptLine {
        message_key: "s1".into(),
        text: "您好，已为您登记补发".into(),
        sent_at: None,
        kind: crate::domain::MessageKind::Seller,
    });
    let md = markdown(&view(&e));
    assert!(md.contains("> 【商家】您好，已为您登记补发\n"), "{md}");
}

#[test]
fn markdown_within_keeps_the_limit_without_breaking_chars() {
    let mut e = sample_event();
    e.card.transcript = (0..40)
        .map(|i| TranscriptLine {
            message_key: format!("m{i}"),
            text: format!("第{i}条：{}", "质量太差".repeat(60)),
            sent_at: None,
            kind: Default::default(),
        })
        .collect();
    let v = view(&e);
    assert!(markdown(&v).len() > WECOM_MAX_BYTES);
    let s = markdown_within(&v, WECOM_MAX_BYTES);
    assert!(s.len() <= WECOM_MAX_BYTES);
    assert!(s.contains("第39条"), "the newest line stays");
    assert!(!s.contains("第30条："), "the oldest go first");
    assert!(s.contains("打开控制台"));
    // Tiny limits still give valid UTF-8 within the limit.
    for max in [10, 100, 301, 1000] {
        assert!(markdown_within(&v, max).len() <= max);
    }
}

#[test]
fn buyer_markup_is_inert_in_every_card() {
    let mut e = sample_event();
    e.card.transcript[0].text =
        "<script>alert(1)</script> <!channel> [点我](http://evil.example) ' OR 1=1; --".into();
    e.card.buyer_nick = Some("<b>nick</b>".into());
    let v = view(&e);
    let md = markdown(&v);
    assert!(!md.contains("<script>") && !md.contains("<!channel>") && !md.contains("<b>"));
    assert!(
        md.contains("&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;"),
        "{md}"
    );
    assert!(md.contains("\\[点我\\](http://evil.example)"), "{md}");
    assert!(
        md.contains("' OR 1=1; --"),
        "SQL-looking text is just text: {md}"
    );
    for rendered in [
        feishu_card(&v, Priority::P1).to_string(),
        slack_message(&v).to_string(),
        chatwoot_note(&v),
    ] {
        assert!(
            !rendered.contains("<script>") && !rendered.contains("<!channel>"),
            "{rendered}"
        );
    }
}

#[test]
fn generic_event_types_and_masking() {
    let mut e = sample_event();
    let v = generic_event(&e);
    assert_eq!(v["type"], "handoff.created");
    assert_eq!(v["ticket"]["id"], 42);
    assert_eq!(v["ticket"]["order_id"], "1234567890123456789");
    assert!(v.to_string().contains("138****5678"));
    e.kind = EventKind::SlaBreach;
    let v = generic_event(&e);
    assert_eq!(v["type"], "handoff.updated");
    assert_eq!(v["ticket"]["sla_breached"], true);
}

#[test]
fn chatwoot_priorities() {
    assert_eq!(chatwoot_priority(Priority::P1), "urgent");
    assert_eq!(chatwoot_priority(Priority::P2), "high");
    assert_eq!(chatwoot_priority(Priority::P3), "medium");
}
