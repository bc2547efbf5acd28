//! The analyzer's rules as a table of named cases, run against the shipped `intents/`.
//!
//! Each case lists only the fields it is about, as JSON values of the output record.

use anfu::analysis::Analyzer;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::sync::OnceLock;

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        Analyzer::rules_only(&Path::new(env!("CARGO_MANIFEST_DIR")).join("intents"))
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CASES: &[Case] = &[
    // negation scope
    (
        "negation cancels a problem term",
        "不是质量问题哈，就是买小了，想换大一码，怎么操作？",
        &[
            ("intent", r#""inquiry""#),
            ("issue_type", "null"),
            ("demands", r#"["exchange"]"#),
        ],
    ),
    // a review already written is reported, not threatened
    (
        "a bad review already given is not a threat",
        "我给了差评，你们就天天打电话让我改，烦不烦",
        &[("threats", "[]")],
    ),
    (
        "a deleted review is not a threat",
        "为什么我的差评被删了？我写的都是实话",
        &[("threats", "[]")],
    ),
    (
        "a review still to come is a threat",
        "再这样我就给差评了",
        &[("threats", r#"["bad_review"]"#)],
    ),
    (
        "being pushed into a bad review is a threat",
        "本来不想给差评的，这是逼我改差评啊",
        &[("threats", r#"["bad_review"]"#)],
    ),
    // a report someone else made is no threat of the buyer's; the buyer's own still is
    (
        "a review the shop reported is not a platform threat",
        "我的评论为什么被你们举报下架了？写的都是真的",
        &[("threats", "[]")],
    ),
    (
        "a third party's complaint is not the buyer's threat",
        "你们的货车天天堵在小区门口，物业都投诉好几次了",
        &[("threats", "[]")],
    ),
    (
        "the buyer's own complaint beside a passive stays a threat",
        "被你们拖了半个月，我现在就去投诉",
        &[("threats", r#"["platform"]"#)],
    ),
    (
        "a complaint site is the platform, not the media",
        "再不给说法我就上黑猫投诉",
        &[("threats", r#"["platform"]"#)],
    ),
    (
        "reporting a fake to customs is a regulator threat",
        "假货我已经报咗海关，你们等着吧",
        &[("threats", r#"["regulator"]"#)],
    ),
    // going public on a named platform, not what a livestream said
    (
        "posting on a named platform is a media threat",
        "东西坏了不给修，我现在就去抖音发视频",
        &[("threats", r#"["media"]"#)],
    ),
    (
        "what the livestream said is no threat",
        "直播间说买一送一 到手就一个",
        &[("threats", "[]")],
    ),
    (
        "negation rules a threat out",
        "东西有点小瑕疵，不过我不会给差评的，放心",
        &[("threats", "[]")],
    ),
    (
        "a threat made after all still counts",
        "本来不想给差评的，你们逼我的，客服态度太差了",
        &[
            ("intent", r#""complaint""#),
            ("threats", r#"["bad_review"]"#),
        ],
    ),
    (
        "a negated demand followed by 就 is a condition",
        "不退款我就投诉你们，质量太差了",
        &[("demands", r#"["refund"]"#), ("threats", r#"["platform"]"#)],
    ),
    (
        "negated praise becomes dissatisfaction",
        "收到了，不是很满意，做工比较粗糙",
        &[("intent", r#""complaint""#)],
    ),
    (
        "an A-not-A question is no negation",
        "能不能退款？东西坏了",
        &[("intent", r#""complaint""#), ("demands", r#"["refund"]"#)],
    ),
    // contrast
    (
        "the clause after 但是 decides",
        "东西还行吧，但是物流太慢了，一个星期都没到",
        &[
            ("intent", r#""complaint""#),
            ("issue_type", r#""logistics""#),
        ],
    ),
    (
        "praise after 不过 wins over a small gripe",
        "快递稍微有点慢，不过东西很好，很满意，好评",
        &[("intent", r#""praise""#), ("mood", r#""calm""#)],
    ),
    // calm questions
    (
        "a calm how-to question about returns is an inquiry",
        "请问怎么申请退货？",
        &[
            ("intent", r#""inquiry""#),
            ("mood", r#""calm""#),
            ("priority", r#""P3""#),
        ],
    ),
    (
        "a pre-sale question is an inquiry",
        "这款有现货吗？大概几天能到上海",
        &[
            ("intent", r#""inquiry""#),
            ("issue_type", "null"),
            ("threats", "[]"),
        ],
    ),
    (
        "a greeting is chitchat",
        "在吗",
        &[("intent", r#""chitchat""#), ("mood", r#""calm""#)],
    ),
    // sarcasm and anger
    (
        "sarcastic praise with a delay is angry",
        "真棒啊，付款十天了还没发货",
        &[
            ("intent", r#""complaint""#),
            ("issue_type", r#""shipping_delay""#),
            ("mood", r#""angry""#),
        ],
    ),
    (
        "insults are extreme anger",
        "垃圾店，骗子，卖假货",
        &[
            ("intent", r#""complaint""#),
            ("mood", r#""angry""#),
            ("intensity", "3"),
            ("priority", r#""P1""#),
        ],
    ),
    (
        "exclamation bursts raise intensity",
        "气死我了！！！发错货了！！！",
        &[("mood", r#""angry""#), ("intensity", "3")],
    ),
    (
        "a mild degree adverb keeps intensity low",
        "有点失望，颜色和图片不太一样",
        &[("mood", r#""disappointed""#), ("intensity", "1")],
    ),
    (
        "two threats are extreme",
        "再不处理我就给差评，还要打12315投诉",
        &[
            ("threats", r#"["bad_review","regulator"]"#),
            ("intensity_at_least", "2"),
            ("priority", r#""P1""#),
        ],
    ),
    // Traditional and Cantonese
    (
        "traditional input is analysed and labelled zh-Hant",
        "收到的杯子破了一個洞，請問可以換貨嗎？",
        &[
            ("intent", r#""complaint""#),
            ("demands", r#"["exchange"]"#),
            ("lang", r#""zh-Hant""#),
        ],
    ),
    (
        "cantonese wrong item",
        "件衫寄錯咗顏色，唔該同我換返",
        &[
            ("intent", r#""complaint""#),
            ("issue_type", r#""wrong_item""#),
            ("lang", r#""zh-Hant""#),
        ],
    ),
    // order ids and their distractors
    (
        "taobao id after a lead-in",
        "订单号：3721458805123456789 还没发货",
        &[("order_id", r#""3721458805123456789""#)],
    ),
    (
        "rakuten id",
        "訂單編號 338276-20241105-0012345678 還沒收到",
        &[("order_id", r#""338276-20241105-0012345678""#)],
    ),
    (
        "pinduoduo id",
        "拼多多订单241111-918273645019283少发了一件",
        &[("order_id", r#""241111-918273645019283""#)],
    ),
    (
        "jd id",
        "京东订单 284615937042 的台灯坏了",
        &[("order_id", r#""284615937042""#)],
    ),
    (
        "a phone number is not an order id",
        "到了打我电话13812345678",
        &[("order_id", "null")],
    ),
    (
        "a tracking number with a courier prefix is not an order id",
        "顺丰单号SF1302256789012，到哪了",
        &[("order_id", "null")],
    ),
    (
        "a 12-digit yunda number is not a JD id",
        "韵达单号432187659012一直没更新",
        &[("order_id", "null")],
    ),
    (
        "an alipay trade number is not an order id",
        "交易号 2024110522001412345678901234",
        &[("order_id", "null")],
    ),
    (
        "amounts and dates are not order ids",
        "20241105买的，付了129900元",
        &[("order_id", "null")],
    ),
    (
        "the order id wins over a tracking number",
        "快递单号 YT2098475612309，订单号 3721458805123456789",
        &[("order_id", r#""3721458805123456789""#)],
    ),
    (
        "full-width digits are kept as written",
        "订单号３７２１４５８８０５１２３４５６７８９",
        &[("order_id", r#""３７２１４５８８０５１２３４５６７８９""#)],
    ),
    // shapes of input
    (
        "a burst joined with newlines is one record",
        "在吗\n我的快递怎么还没到\n都一个礼拜了，急死了",
        &[("intent", r#""complaint""#), ("mood", r#""anxious""#)],
    ),
    (
        "empty input is calm chitchat",
        "",
        &[
            ("intent", r#""chitchat""#),
            ("mood", r#""calm""#),
            ("priority", r#""P3""#),
            ("evidence", "[]"),
        ],
    ),
    (
        "emoji-only thumbs up is not a complaint",
        "👍👍",
        &[("issue_type", "null"), ("threats", "[]")],
    ),
    (
        "an angry emoji alone is angry",
        "😡😡😡",
        &[("mood", r#""angry""#)],
    ),
];

fn record(text: &str) -> Value {
    serde_json::to_value(analyzer().analyze(text)).expect("record serialises")
}

#[test]
fn case_names_are_unique() {
    let mut seen = HashSet::new();
    for (name, _, _) in CASES {
        assert!(seen.insert(name), "duplicate case name: {name}");
    }
}

#[test]
fn every_rule_case_holds() {
    let mut failures = Vec::new();
    for (name, text, checks) in CASES {
        let got = record(text);
        for (field, expected) in *checks {
            let ok = if let Some(field) = field.strip_suffix("_at_least") {
                let floor: u64 = expected.parse().expect("number");
                got[field].as_u64().is_some_and(|v| v >= floor)
            } else {
                let expected: Value = serde_json::from_str(expected).expect("case JSON");
                got[*field] == expected
            };
            if !ok {
                failures.push(format!(
                    "{name}: {field} expected {expected}, got {}",
                    got[field.trim_end_matches("_at_least")]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn evidence_spans_point_into_the_original_text() {
    for (_, text, _) in CASES {
        let chars: Vec<char> = text.chars().collect();
        for e in analyzer().analyze(text).evidence {
            assert!(e.start < e.end && e.end <= chars.len(), "{text}: {e:?}");
            assert_eq!(
                chars[e.start..e.end].iter().collect::<String>(),
                e.text,
                "{text}"
            );
        }
    }
}

#[test]
fn evidence_of_traditional_input_quotes_the_traditional_characters() {
    let r = analyzer().analyze("質量太差了，退貨退款");
    assert!(
        r.evidence
            .iter()
            .any(|e| e.text.contains("質量") || e.text.contains("退貨")),
        "{:?}",
        r.evidence
    );
}

#[test]
fn a_ten_thousand_character_message_is_analysed() {
    let unit = "质量太差了，我要退货退款！订单号3721458805123456789。";
    let text: String = unit.repeat(10_000 / unit.chars().count() + 1);
    assert!(text.chars().count() >= 10_000);
    let r = analyzer().analyze(&text);
    assert_eq!(r.intent.as_str(), "complaint");
    assert_eq!(r.order_id.as_deref(), Some("3721458805123456789"));
}

#[test]
fn analysis_is_deterministic() {
    for (_, text, _) in CASES {
        assert_eq!(analyzer().analyze(text), analyzer().analyze(text));
    }
}
