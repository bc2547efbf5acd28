//! Agent drafts (`agent.toml`): which drafts a ticket gets, and every kind of bad draft named
//! with file and line.

use super::tests::marked_dir;
use super::{DraftTicket, ReplyBook, Slots};
use crate::domain::{Demand, IssueType, Lang, Mood};
use std::fs;

/// Each draft's text names it; slots show where they are filled.
pub(super) const MARKED_DRAFTS: &str = r#"
[[draft]]
text = "fallback-1 {agent} {promise}"
[[draft]]
text = "fallback-2 {shop}"
[[draft]]
text = "order {order_id}"
[[draft]]
issue = "quality"
text = "quality"
[[draft]]
demand = "refund"
text = "refund"
[[draft]]
issue = "quality"
demand = "refund"
text = "quality-refund"
[[draft]]
mood = "angry"
text = "angry"
[[draft]]
lang = "zh-Hant"
text = "hant-1"
[[draft]]
lang = "zh-Hant"
text = "hant-2 {buyer}"
[[draft]]
lang = "zh-Hant"
text = "hant-3"
"#;

fn book() -> ReplyBook {
    let dir = marked_dir();
    ReplyBook::from_dir(dir.path()).expect("the marked book loads")
}

fn drafts(
    lang: Lang,
    issue: Option<IssueType>,
    demands: &[Demand],
    mood: Mood,
    order: Option<&str>,
) -> Vec<String> {
    let ticket = DraftTicket {
        lang,
        issue,
        demands,
        mood,
    };
    let slots = Slots {
        buyer: None,
        order_id: order,
        shop: "小鱼家旗舰店",
        agent: "王敏",
        promise: "明天18:00前",
        ..Slots::default()
    };
    book().drafts(&ticket, &slots)
}

#[test]
fn the_most_specific_drafts_come_first_three_at_most() {
    let got = drafts(
        Lang::Hans,
        Some(IssueType::Quality),
        &[Demand::Refund],
        Mood::Angry,
        Some("3721458805123456789"),
    );
    assert_eq!(got, ["quality-refund", "quality", "refund"]);
}

#[test]
fn a_plain_ticket_gets_the_fallbacks_with_their_slots_filled() {
    let got = drafts(Lang::Hans, Some(IssueType::Price), &[], Mood::Calm, None);
    // "order {order_id}" needs the order number, which this ticket lacks.
    assert_eq!(
        got,
        ["fallback-1 王敏 明天18:00前", "fallback-2 小鱼家旗舰店"]
    );
    let with_order = drafts(Lang::Hans, None, &[], Mood::Calm, Some("42"));
    assert_eq!(with_order[2], "order 42");
}

#[test]
fn drafts_follow_the_tickets_language() {
    let got = drafts(
        Lang::Hant,
        Some(IssueType::Quality),
        &[Demand::Refund],
        Mood::Angry,
        None,
    );
    assert_eq!(
        got,
        ["hant-1", "hant-3"],
        "no buyer nick: hant-2 is left out"
    );
}

#[test]
fn the_shipped_drafts_give_every_ticket_two_or_three() {
    let book = ReplyBook::from_dir(std::path::Path::new("replies")).expect("shipped replies load");
    for lang in Lang::ALL {
        for issue in IssueType::ALL.iter().copied().map(Some).chain([None]) {
            for mood in [Mood::Calm, Mood::Anxious, Mood::Disappointed, Mood::Angry] {
                let ticket = DraftTicket {
                    lang: *lang,
                    issue,
                    demands: &[Demand::Refund, Demand::Expedite],
                    mood,
                };
                let slots = Slots {
                    shop: "小鱼家旗舰店",
                    agent: "王敏",
                    promise: "24小时内",
                    ..Slots::default()
                };
                let got = book.drafts(&ticket, &slots);
                assert!(
                    (2..=3).contains(&got.len()),
                    "{lang} {issue:?} {mood}: {got:?}"
                );
                assert!(got.iter().all(|d| !d.contains('{')), "{got:?}");
                assert!(
                    got.iter().all(|d| !d.contains("好评")),
                    "no review solicitation: {got:?}"
                );
            }
        }
    }
}

#[test]
fn bad_drafts_are_named_with_file_and_line() {
    let cases = [
        (
            "issue = \"quality\"",
            "issue = \"qualty\"",
            "unknown IssueType `qualty`",
        ),
        (
            "demand = \"refund\"\ntext = \"refund\"",
            "demand = \"refnd\"\ntext = \"refund\"",
            "unknown Demand `refnd`",
        ),
        (
            "mood = \"angry\"",
            "mood = \"furious\"",
            "unknown Mood `furious`",
        ),
        (
            "lang = \"zh-Hant\"\ntext = \"hant-1\"",
            "lang = \"zh-CN\"\ntext = \"hant-1\"",
            "unknown Lang `zh-CN`",
        ),
        (
            "text = \"quality\"",
            "text = \"quality {handoff_eta}\"",
            "unknown slot `{handoff_eta}`",
        ),
        (
            "text = \"angry\"",
            "text = \"angry\"\ntone = \"x\"",
            "unknown field `tone`",
        ),
    ];
    for (from, to, reason) in cases {
        let dir = marked_dir();
        let path = dir.path().join("agent.toml");
        assert!(MARKED_DRAFTS.contains(from), "{from}");
        let body = MARKED_DRAFTS.replacen(from, to, 1);
        let first = to.lines().find(|l| !from.contains(*l)).unwrap_or(to);
        let line = body[..body.find(first).expect("changed line")]
            .matches('\n')
            .count()
            + 1;
        fs::write(&path, body).expect("write");
        let found: Vec<String> = match ReplyBook::from_dir(dir.path()) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        };
        let prefix = format!("{}:{line}: ", path.display());
        assert!(
            found
                .iter()
                .any(|p| p.starts_with(&prefix) && p.contains(reason)),
            "want `{prefix}…{reason}…`, got {found:#?}"
        );
    }
}

#[test]
fn each_language_needs_two_unconditional_drafts_and_the_file_is_required() {
    let dir = marked_dir();
    let path = dir.path().join("agent.toml");
    fs::write(
        &path,
        MARKED_DRAFTS.replacen("text = \"hant-3\"", "text = \"hant-3\"\nmood = \"calm\"", 1),
    )
    .expect("write");
    let found = ReplyBook::from_dir(dir.path()).expect_err("one Traditional fallback is too few");
    let text = found.to_string();
    assert!(
        text.contains("zh-Hant: 1 draft(s) without conditions"),
        "{text}"
    );
    fs::remove_file(&path).expect("remove");
    let found = ReplyBook::from_dir(dir.path()).expect_err("agent.toml is required");
    assert!(found.to_string().contains("agent.toml: missing"), "{found}");
}
