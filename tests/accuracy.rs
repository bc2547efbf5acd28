//! Accuracy gates: a regression in the analyzer or the dictionaries fails CI.
//!
//! The labelled sets live outside the repository (`../shared`, or `$ANFU_SHARED`): they are
//! evaluation data, never product data. A missing set fails the test rather than skipping it.

use anfu::analysis::Analyzer;
use anfu::eval::{self, LabelledReport, PolarityReport, Report};
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

fn assert_at_least(name: &str, value: f64, floor: f64, failures: &mut Vec<String>) {
    if value < floor {
        failures.push(format!("{name} {value:.3} < {floor:.2}"));
    }
}

#[test]
fn dev_set_meets_the_acceptance_floors() {
    let r = labelled(&shared("dev-set/messages.jsonl"));
    let mut failures = Vec::new();
    assert_at_least("complaint F1", r.complaint.f1, 0.95, &mut failures);
    assert_at_least(
        "issue_type accuracy",
        r.issue_type_accuracy,
        0.85,
        &mut failures,
    );
    assert_at_least("demands F1", r.demands.f1, 0.85, &mut failures);
    assert_at_least("mood accuracy", r.mood_accuracy, 0.80, &mut failures);
    assert_at_least("threats F1", r.threats.f1, 0.90, &mut failures);
    assert_at_least(
        "order_id accuracy",
        r.order_id_accuracy,
        0.98,
        &mut failures,
    );
    assert_at_least("lang accuracy", r.lang_accuracy, 0.98, &mut failures);
    assert!(failures.is_empty(), "dev set: {}", failures.join("; "));
}

#[test]
fn online_shopping_reviews_negative_f1_beats_snownlp() {
    let r = polarity(&shared(
        "eval/external/online_shopping_10_cats/online_shopping_10_cats.sample20k.jsonl",
    ));
    assert!(
        r.negative.f1 >= 0.85,
        "negative F1 {:.3} < 0.85",
        r.negative.f1
    );
}

#[test]
fn waimai_reviews_negative_f1_beats_snownlp() {
    let r = polarity(&shared("eval/external/waimai_10k/waimai_10k.jsonl"));
    assert!(
        r.negative.f1 >= 0.84,
        "negative F1 {:.3} < 0.84",
        r.negative.f1
    );
}
