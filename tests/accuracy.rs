//! Accuracy gates: a regression in the analyzer or the dictionaries fails CI.
//!
//! The labelled sets live outside the repository (`../shared`, or `$ANFU_SHARED`): they are
//! evaluation data, never product data. A missing set fails the test rather than skipping it.

use anfu::analysis::context::Turn;
use anfu::analysis::Analyzer;
use anfu::eval::{self, LabelledReport, PolarityReport, Report};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| {
        Analyzer::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("intents"))
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("ANFU_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = base.join(rel);
    assert!(
        path.exists(),
        "{} is missing: the shared evaluation data must sit beside the repository (or set ANFU_SHARED)",
        path.display()
    );
    path
}

fn labelled(path: &Path) -> LabelledReport {
    let set = eval::load(path).unwrap_or_else(|e| panic!("{e}"));
    match eval::evaluate(analyzer(), &set) {
        Report::Labelled(r) => *r,
        Report::Polarity(_) => panic!("{} is not in the dev-set schema", path.display()),
    }
}

fn polarity(path: &Path) -> PolarityReport {
    let set = eval::load(path).unwrap_or_else(|e| panic!("{e}"));
    match eval::evaluate(analyzer(), &set) {
        Report::Polarity(r) => r,
        Report::Labelled(_) => panic!("{} is not a polarity set", path.display()),
    }
}

/// Fails with every `(name, value, floor)` whose value is below its floor.
fn assert_floors(set: &str, floors: &[(&str, f64, f64)]) {
    let failures: Vec<String> = floors
        .iter()
        .filter(|(_, value, floor)| value < floor)
        .map(|(name, value, floor)| format!("{name} {value:.3} < {floor:.2}"))
        .collect();
    assert!(failures.is_empty(), "{set}: {}", failures.join("; "));
}

/// Issue 12's floors. Demands reach 0.85 since the words, crossed with the decided issue
/// type, weigh on them (0.857–0.865 over seeds 1–3; 0.843–0.853 before, when the gate held
/// 0.83; BENCHMARKS.md, "Words crossed with the issue type").
#[test]
fn dev_set_meets_the_acceptance_floors() {
    let r = labelled(&shared("dev-set/messages.jsonl"));
    assert_floors(
        "dev set",
        &[
            ("complaint F1", r.complaint.f1, 0.95),
            ("issue_type accuracy", r.issue_type_accuracy, 0.87),
            ("demands F1", r.demands.f1, 0.85),
            ("mood accuracy", r.mood_accuracy, 0.85),
            ("threats F1", r.threats.f1, 0.90),
            ("order_id accuracy", r.order_id_accuracy, 0.98),
            ("lang accuracy", r.lang_accuracy, 0.98),
        ],
    );
}

/// Never trained on: issue 12's floors. Demands 0.827–0.835 over seeds 1–3 with the words
/// crossed with the issue type (0.810–0.813 before, when the gate held 0.80).
#[test]
fn holdout_meets_its_floors() {
    let r =
        labelled(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/labelled/holdout.jsonl"));
    assert_floors(
        "holdout",
        &[
            ("complaint F1", r.complaint.f1, 0.95),
            ("issue_type accuracy", r.issue_type_accuracy, 0.85),
            ("demands F1", r.demands.f1, 0.82),
            ("mood accuracy", r.mood_accuracy, 0.84),
        ],
    );
}

/// Issue 12's target: 0.86 (today 0.864; rules alone 0.857). Long mixed reviews (hotel and
/// book reviews with one caveat) are the model's weakest genre.
#[test]
fn online_shopping_reviews_negative_f1_beats_snownlp() {
    let r = polarity(&shared(
        "eval/external/online_shopping_10_cats/online_shopping_10_cats.sample20k.jsonl",
    ));
    assert!(
        r.negative.f1 >= 0.86,
        "negative F1 {:.3} < 0.86",
        r.negative.f1
    );
}

/// Acceptance: at least 0.84 (snownlp: 0.837).
#[test]
fn waimai_reviews_negative_f1_beats_snownlp() {
    let r = polarity(&shared("eval/external/waimai_10k/waimai_10k.jsonl"));
    assert!(
        r.negative.f1 >= 0.86,
        "negative F1 {:.3} < 0.86",
        r.negative.f1
    );
}

#[test]
fn traditional_input_gets_the_same_answers_as_its_simplified_original() {
    let read = |rel: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(shared(rel))
            .expect("readable")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    };
    let originals: std::collections::HashMap<String, String> =
        read("eval/external/online_shopping_10_cats/online_shopping_10_cats.sample20k.jsonl")
            .into_iter()
            .map(|v| {
                (
                    v["id"].as_str().expect("id").to_string(),
                    v["text"].as_str().expect("text").to_string(),
                )
            })
            .collect();
    let converted = read(
        "eval/external/online_shopping_10_cats_zh_hant_converted/online_shopping_10_cats.hant2k.jsonl",
    );
    let (mut same, mut hant) = (0, 0);
    for row in &converted {
        let original = &originals[row["source_id"].as_str().expect("source_id")];
        let a = analyzer().analyze(row["text"].as_str().expect("text"));
        let b = analyzer().analyze(original);
        if (a.intent, a.issue_type, a.mood) == (b.intent, b.issue_type, b.mood) {
            same += 1;
        }
        if a.lang == anfu::domain::Lang::Hant {
            hant += 1;
        }
    }
    let n = converted.len() as f64;
    assert!(same as f64 / n >= 0.97, "same labels on {same} of {n}");
    assert!(hant as f64 / n >= 0.97, "zh-Hant detected on {hant} of {n}");
}

// Real buyer chat: the buyer turns of the public ECD Taobao sample (`eval/external/
// ecd_taobao_dialogue_sample` in the shared data), each read with up to six earlier turns as
// context, against labels a blind reader gave them (`fixtures/labelled/real_chat.labels.jsonl`:
// ids, intent and issue type only; the text stays in the shared, evaluation-only set). Nothing
// of this set is trained on. A second blind reader agrees with those labels at complaint F1
// 0.94 and issue type 0.95 where both say complaint (BENCHMARKS.md): that is the ceiling.
// `cargo test --test accuracy real_buyer_chat -- --nocapture` prints the figures.

/// One buyer turn to read: its id (`<session>-<turn index>`), text and earlier turns.
struct BuyerTurn {
    id: String,
    text: String,
    context: Vec<Turn>,
}

/// The sample's sessions alternate buyer and shop and end with the shop's answer, so counting
/// back from the last turn, every second one is the buyer's.
fn buyer_turns() -> Vec<BuyerTurn> {
    let sessions = shared("eval/external/ecd_taobao_dialogue_sample/ecd_sample_sessions.jsonl");
    let text = std::fs::read_to_string(sessions).expect("readable");
    let mut turns = Vec::new();
    for line in text.lines() {
        let session: serde_json::Value = serde_json::from_str(line).expect("json line");
        let said: Vec<&str> = session["turns"]
            .as_array()
            .expect("turns")
            .iter()
            .map(|t| t.as_str().expect("a turn is text"))
            .collect();
        let last = said.len() - 1;
        for i in (0..last).rev().step_by(2) {
            let context = (i.saturating_sub(6)..i)
                .map(|j| match (last - j) % 2 {
                    1 => Turn::buyer(said[j]),
                    _ => Turn::shop(said[j]),
                })
                .collect();
            turns.push(BuyerTurn {
                id: format!("{}-{i}", session["id"].as_str().expect("id")),
                text: said[i].to_string(),
                context,
            });
        }
    }
    turns
}

/// The reader's labels by id: (intent, issue type).
fn labels() -> HashMap<String, (String, Option<String>)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/labelled/real_chat.labels.jsonl");
    let text = std::fs::read_to_string(&path).expect("labels");
    text.lines()
        .map(|line| {
            let r: serde_json::Value = serde_json::from_str(line).expect("json line");
            let field = |k: &str| r[k].as_str().map(str::to_string);
            (
                field("id").expect("id"),
                (field("intent").expect("intent"), field("issue_type")),
            )
        })
        .collect()
}

#[test]
fn real_buyer_chat_complaints_are_found() {
    let analyzer = analyzer();
    let labels = labels();
    let turns = buyer_turns();
    assert_eq!(turns.len(), labels.len(), "every buyer turn has a label");
    let (mut tp, mut fp, mut fn_, mut issue_right) = (0usize, 0usize, 0usize, 0usize);
    for turn in &turns {
        let (intent, issue) = labels
            .get(&turn.id)
            .unwrap_or_else(|| panic!("{} has no label", turn.id));
        let a = analyzer.analyze_in_context(&turn.text, &turn.context);
        let flagged = a.intent.as_str() == "complaint";
        let gold = intent == "complaint";
        match (flagged, gold) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fn_ += 1,
            (false, false) => {}
        }
        if gold && a.issue_type.map(|t| t.as_str()) == issue.as_deref() {
            issue_right += 1;
        }
    }
    let complaint = eval::Prf::from_counts(tp, fp, fn_);
    let f1 = complaint.f1;
    let issue = issue_right as f64 / (tp + fn_).max(1) as f64;
    println!(
        "real chat, {} buyer turns: flagged {}, complaint P {:.3} R {:.3} F1 {f1:.3}; \
         issue type on the reader's complaints {issue:.3}",
        turns.len(),
        tp + fp,
        complaint.precision,
        complaint.recall
    );
    // Issue 12's target is 0.75; these gates sit under today's figures (0.661 and 0.581; seeds move
    // them by about ±0.02, BENCHMARKS.md).
    assert!(f1 >= 0.65, "complaint F1 {f1:.3} < 0.65");
    assert!(issue >= 0.55, "issue type {issue:.3} < 0.55");
}
