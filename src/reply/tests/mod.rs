//! Selection, fallback, variants and slots, on small in-memory books and on the shipped
//! `replies/` folder.

mod next_steps;
mod shipped;

use super::*;
use crate::domain::{Demand, IssueType, Mood, Priority, Threat};
use std::collections::HashSet;
use std::path::PathBuf;

fn shipped() -> ReplyBook {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("replies");
    match ReplyBook::from_dir(&dir) {
        Ok(book) => book,
        Err(e) => panic!("shipped replies/ should load cleanly: {e}"),
    }
}

/// A book whose texts name their cell, so a test can see which cell was chosen.
pub(super) const MARKED_LANG: &str = r#"
[complaint.default]
default = ["generic-default", "generic-default-order {order_id}"]
angry = ["generic-angry"]
angry_threat = ["generic-angry_threat"]

[complaint.quality]
default = ["quality-default"]
angry = ["quality-angry"]
angry_threat = ["quality-angry_threat"]

[complaint.damaged]
disappointed = ["damaged-disappointed"]

[complaint.wrong_item]
default = ["wrong_item-default"]
calm = ["wrong_item-calm-order {order_id}"]

[inquiry]
enabled = true
variants = ["inquiry"]

[praise]
enabled = false

[chitchat]
enabled = false
variants = ["chitchat {buyer}", "chitchat"]
"#;

pub(super) const MARKED_NEXT_STEPS: &str = r#"
[threat]
default = "escalate"
legal = "escalate-legal"

[issue.quality]
default = ["quality-1", "quality-2"]
exchange = ["quality-exchange"]
[issue.damaged]
default = ["damaged-1"]
reship = ["damaged-reship"]
[issue.wrong_item]
default = ["wrong_item-1"]
[issue.not_as_described]
default = ["nad-1"]
[issue.shipping_delay]
default = ["delay-1"]
[issue.logistics]
default = ["logistics-1"]
[issue.service]
default = ["service-1"]
[issue.price]
default = ["price-1"]
[issue.after_sales]
default = ["after_sales-1"]
[issue.other]
default = ["other-1"]
"#;

/// Writes the marked book (Traditional marked with a `hant:` prefix) into a temp dir.
pub(super) fn marked_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let hant = MARKED_LANG
        .replace("[\"", "[\"hant:")
        .replace(", \"", ", \"hant:");
    std::fs::write(dir.path().join("zh-Hans.toml"), MARKED_LANG).expect("write");
    std::fs::write(dir.path().join("zh-Hant.toml"), hant).expect("write");
    std::fs::write(dir.path().join("next_steps.toml"), MARKED_NEXT_STEPS).expect("write");
    std::fs::write(
        dir.path().join("agent.toml"),
        super::drafts_tests::MARKED_DRAFTS,
    )
    .expect("write");
    let followup = include_str!("../../../replies/followup.toml");
    std::fs::write(dir.path().join("followup.toml"), followup).expect("write");
    dir
}

fn marked() -> ReplyBook {
    let dir = marked_dir();
    ReplyBook::from_dir(dir.path()).expect("marked book loads")
}

fn analysis(intent: Intent, issue: Option<IssueType>, mood: Mood, threats: &[Threat]) -> Analysis {
    Analysis {
        intent,
        issue_type: issue,
        demands: Vec::new(),
        mood,
        intensity: if mood == Mood::Calm { 0 } else { 2 },
        threats: threats.to_vec(),
        order_id: None,
        lang: Lang::Hans,
        priority: Priority::P2,
        evidence: Vec::new(),
    }
}

fn complaint(issue: IssueType, mood: Mood, threats: &[Threat]) -> Analysis {
    analysis(Intent::Complaint, Some(issue), mood, threats)
}

const NO_ORDER: Slots = Slots {
    buyer: None,
    order_id: None,
    shop: "小店",
    handoff_eta: "2小时内",
    agent: "",
    promise: "",
};
const WITH_ORDER: Slots = Slots {
    buyer: Some("小王"),
    order_id: Some("3721458805123456789"),
    shop: "小店",
    handoff_eta: "2小时内",
    agent: "",
    promise: "",
};

fn assert_unique(names: impl IntoIterator<Item = &'static str>) {
    let mut seen = HashSet::new();
    for name in names {
        assert!(seen.insert(name), "duplicate case name `{name}`");
    }
}

#[test]
fn reply_selection_follows_issue_mood_and_the_fallback_chain() {
    use IssueType::*;
    use Mood::*;
    struct Case {
        name: &'static str,
        analysis: Analysis,
        lang: Lang,
        slots: Slots<'static>,
        want: &'static str,
    }
    let case = |name, analysis, lang, slots, want| Case {
        name,
        analysis,
        lang,
        slots,
        want,
    };
    let cases = [
        case(
            "issue × mood cell",
            complaint(Quality, Angry, &[]),
            Lang::Hans,
            NO_ORDER,
            "quality-angry",
        ),
        case(
            "angry + threat has its own cell",
            complaint(Quality, Angry, &[Threat::BadReview]),
            Lang::Hans,
            NO_ORDER,
            "quality-angry_threat",
        ),
        case(
            "threat without anger uses the mood",
            complaint(Quality, Calm, &[Threat::Platform]),
            Lang::Hans,
            NO_ORDER,
            "quality-default",
        ),
        case(
            "angry + threat falls back to the generic careful cell",
            complaint(WrongItem, Angry, &[Threat::Legal]),
            Lang::Hans,
            NO_ORDER,
            "generic-angry_threat",
        ),
        case(
            "missing mood falls back to the issue default",
            complaint(Quality, Anxious, &[]),
            Lang::Hans,
            NO_ORDER,
            "quality-default",
        ),
        case(
            "no issue default falls back to the generic mood",
            complaint(Damaged, Angry, &[]),
            Lang::Hans,
            NO_ORDER,
            "generic-angry",
        ),
        case(
            "then to the generic default",
            complaint(Damaged, Anxious, &[]),
            Lang::Hans,
            NO_ORDER,
            "generic-default",
        ),
        case(
            "issue without a table uses generic cells",
            complaint(Price, Calm, &[]),
            Lang::Hans,
            NO_ORDER,
            "generic-default",
        ),
        case(
            "order-only cell skipped when the order is unknown",
            complaint(WrongItem, Calm, &[]),
            Lang::Hans,
            NO_ORDER,
            "wrong_item-default",
        ),
        case(
            "order-only cell used when the order is known",
            complaint(WrongItem, Calm, &[]),
            Lang::Hans,
            WITH_ORDER,
            "wrong_item-calm-order 3721458805123456789",
        ),
        case(
            "blank order id counts as unknown",
            complaint(WrongItem, Calm, &[]),
            Lang::Hans,
            Slots {
                order_id: Some(" "),
                ..NO_ORDER
            },
            "wrong_item-default",
        ),
        case(
            "Traditional uses its own file",
            complaint(Quality, Angry, &[]),
            Lang::Hant,
            NO_ORDER,
            "hant:quality-angry",
        ),
        case(
            "Traditional fallback stays Traditional",
            complaint(Damaged, Anxious, &[]),
            Lang::Hant,
            NO_ORDER,
            "hant:generic-default",
        ),
        case(
            "complaint without an issue uses generic cells",
            analysis(Intent::Complaint, None, Angry, &[]),
            Lang::Hans,
            NO_ORDER,
            "generic-angry",
        ),
        case(
            "inquiry holding reply",
            analysis(Intent::Inquiry, None, Calm, &[]),
            Lang::Hans,
            NO_ORDER,
            "inquiry",
        ),
    ];
    assert_unique(cases.iter().map(|c| c.name));
    let book = marked();
    for c in &cases {
        let got = book.reply(&c.analysis, c.lang, &c.slots, "seed");
        assert_eq!(got.as_deref(), Some(c.want), "case `{}`", c.name);
    }
}

#[test]
fn reply_switched_off_kinds_give_none() {
    let book = marked();
    for (name, intent) in [("praise", Intent::Praise), ("chitchat", Intent::Chitchat)] {
        let a = analysis(intent, None, Mood::Calm, &[]);
        assert_eq!(book.reply(&a, Lang::Hans, &WITH_ORDER, "s"), None, "{name}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    for file in [
        "zh-Hans.toml",
        "zh-Hant.toml",
        "next_steps.toml",
        "agent.toml",
        "followup.toml",
    ] {
        let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("replies")
            .join(file);
        let text = std::fs::read_to_string(shipped).expect("read shipped");
        std::fs::write(
            dir.path().join(file),
            text.replace("enabled = true", "enabled = false"),
        )
        .expect("write");
    }
    let book = ReplyBook::from_dir(dir.path()).expect("switched-off book loads");
    for intent in [Intent::Inquiry, Intent::Praise, Intent::Chitchat] {
        let a = analysis(intent, None, Mood::Calm, &[]);
        assert_eq!(
            book.reply(&a, Lang::Hant, &WITH_ORDER, "s"),
            None,
            "{intent}"
        );
    }
}

#[test]
fn reply_variants_are_deterministic_per_seed_and_vary_across_seeds() {
    let book = shipped();
    let a = complaint(IssueType::Damaged, Mood::Angry, &[]);
    for slots in [NO_ORDER, WITH_ORDER] {
        let first = book.reply(&a, Lang::Hans, &slots, "conv-1");
        assert_eq!(first, book.reply(&a, Lang::Hans, &slots, "conv-1"));
        let distinct: HashSet<_> = (0..40)
            .filter_map(|i| book.reply(&a, Lang::Hans, &slots, &format!("conv-{i}")))
            .collect();
        assert!(distinct.len() >= 2, "only {distinct:?}");
    }
}

#[test]
fn reply_fnv1a_matches_the_reference_values() {
    // Published FNV-1a 64 test vectors: the hash must never change between releases.
    assert_eq!(select::fnv1a(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(select::fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(select::fnv1a("foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn reply_order_id_is_used_only_when_known() {
    let book = shipped();
    for lang in Lang::ALL {
        for issue in IssueType::ALL {
            let a = complaint(*issue, Mood::Calm, &[]);
            let replies = |slots: &Slots| -> Vec<String> {
                (0..30)
                    .filter_map(|i| book.reply(&a, *lang, slots, &format!("s{i}")))
                    .collect()
            };
            let without = replies(&NO_ORDER);
            assert!(
                without.iter().all(|r| !r.contains('{')),
                "{issue} {lang}: {without:?}"
            );
            let with = replies(&WITH_ORDER);
            let named = with
                .iter()
                .filter(|r| r.contains("3721458805123456789"))
                .count();
            assert!(named > 0 && named < with.len(), "{issue} {lang}: {with:?}");
        }
    }
}
