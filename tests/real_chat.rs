//! Real buyer chat: the buyer turns of the public ECD Taobao sample (`../shared/eval/external/
//! ecd_taobao_dialogue_sample`), each read with up to six earlier turns as context, against
//! labels a blind reader gave them (`fixtures/labelled/real_chat.labels.jsonl`: ids, intent
//! and issue type only; the text stays in the shared, evaluation-only set). Nothing of this
//! set is trained on. A second blind reader agrees with those labels at complaint F1 0.94 and
//! issue type 0.95 where both say complaint (BENCHMARKS.md): that is the ceiling.
//!
//! Run with `-- --nocapture` to see the figures.

use anfu::analysis::context::Turn;
use anfu::analysis::Analyzer;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sessions_file() -> PathBuf {
    let base = std::env::var_os("ANFU_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    let path = base.join("eval/external/ecd_taobao_dialogue_sample/ecd_sample_sessions.jsonl");
    assert!(
        path.exists(),
        "{} is missing: the shared evaluation data must sit beside the repository (or set ANFU_SHARED)",
        path.display()
    );
    path
}

/// One buyer turn to read: its id (`<session>-<turn index>`), text and earlier turns.
struct BuyerTurn {
    id: String,
    text: String,
    context: Vec<Turn>,
}

/// The sample's sessions alternate buyer and shop and end with the shop's answer, so counting
/// back from the last turn, every second one is the buyer's.
fn buyer_turns() -> Vec<BuyerTurn> {
    let text = std::fs::read_to_string(sessions_file()).expect("readable");
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
    let path = root().join("fixtures/labelled/real_chat.labels.jsonl");
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
    let analyzer = Analyzer::from_dir(&root().join("intents")).unwrap_or_else(|e| panic!("{e}"));
    let labels = labels();
    let turns = buyer_turns();
    assert_eq!(turns.len(), labels.len(), "every buyer turn has a label");
    let (mut tp, mut fp, mut fn_, mut issue_right) = (0u32, 0u32, 0u32, 0u32);
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
    let precision = f64::from(tp) / f64::from((tp + fp).max(1));
    let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-9);
    let issue = f64::from(issue_right) / f64::from((tp + fn_).max(1));
    println!(
        "real chat, {} buyer turns: flagged {}, complaint P {precision:.3} R {recall:.3} F1 {f1:.3}; \
         issue type on the reader's complaints {issue:.3}",
        turns.len(),
        tp + fp
    );
    // Issue 12's target is 0.75; these gates hold today's figures (0.668 and 0.594).
    assert!(f1 >= 0.65, "complaint F1 {f1:.3} < 0.65");
    assert!(issue >= 0.55, "issue type {issue:.3} < 0.55");
}
