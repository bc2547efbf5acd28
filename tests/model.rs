//! The learned model: the shipped weights are what `anfu train` writes, it generalises across
//! writers (leave-one-writer-out), it never saw the test sets, shops can still correct it,
//! conversation context carries the issue, and a broken weights file is named.

use anfu::analysis::{Analyzer, Turn};
use anfu::domain::{Demand, Intent, IssueType};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::from_dir(&root().join("intents")).expect("intents"))
}

fn corpus() -> Vec<anfu::eval::Labelled> {
    anfu::training::load_corpus(&root().join("fixtures/corpus/settled"), &[]).expect("corpus")
}

/// The release binary beside the debug one this test was built with (`scripts/test` builds
/// it first; `ANFU_RELEASE_BIN` names another). Training is checked on what ships, and runs
/// there in seconds instead of minutes unoptimised.
fn release_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ANFU_RELEASE_BIN") {
        return PathBuf::from(bin);
    }
    let debug = Path::new(env!("CARGO_BIN_EXE_anfu"));
    let target = debug.parent().and_then(Path::parent).expect("target dir");
    target.join("release").join("anfu")
}

/// `anfu train --cv` run once by the release binary: the weights it wrote and its report.
struct Trained {
    weights: String,
    cv: serde_json::Value,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let bin = release_binary();
        assert!(
            bin.is_file(),
            "{} is missing: run `cargo build --release` first (scripts/test does)",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let (weights, report) = (dir.path().join("model.tsv"), dir.path().join("cv.json"));
        let out = std::process::Command::new(&bin)
            .current_dir(root())
            .env_remove("ANFU_INTENTS")
            .args(["train", "--cv", "--intents", "intents", "--corpus"])
            .arg(root().join("fixtures/corpus/settled"))
            .arg("--out")
            .arg(&weights)
            .arg("--cv-json")
            .arg(&report)
            .output()
            .expect("run anfu train");
        assert!(
            out.status.success(),
            "anfu train --cv: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cv: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("cv json"))
                .expect("cv json parses");
        Trained {
            weights: std::fs::read_to_string(&weights).expect("weights written"),
            cv: cv["cv"].clone(),
        }
    })
}

#[test]
fn the_shipped_weights_are_what_anfu_train_writes_from_the_corpus() {
    let shipped =
        std::fs::read_to_string(root().join("intents/model.tsv")).expect("intents/model.tsv");
    assert!(
        trained().weights == shipped,
        "intents/model.tsv is stale: run `anfu train` (the corpus or intents/ changed), or \
         the release binary is older than the source: run `cargo build --release`"
    );
    assert!(shipped.len() <= 10 * 1024 * 1024, "{} bytes", shipped.len());
}

/// Floors for each held-out writer's lines, pooled. Complaint F1, issue type and threats hold
/// the issue's targets; for demands and mood the targets are higher (0.85 each), and these
/// gates hold today's figures so that no change makes them worse (see BENCHMARKS.md, "per
/// writer"). Threats are the rules' alone: the corpus is read to write them, so their figure
/// flatters them a little (BENCHMARKS.md says how).
#[test]
fn leave_one_writer_out_holds_its_floors() {
    let cv = &trained().cv;
    let r = &cv["pooled"];
    let figure = |path: &[&str]| {
        let v = path.iter().fold(r, |v, key| &v[*key]);
        v.as_f64()
            .unwrap_or_else(|| panic!("{path:?} in the report"))
    };
    let mut failures = Vec::new();
    for (name, value, floor) in [
        ("complaint F1", figure(&["complaint", "f1"]), 0.95),
        ("issue_type", figure(&["issue_type_accuracy"]), 0.88),
        ("demands F1", figure(&["demands", "f1"]), 0.75),
        ("mood", figure(&["mood_accuracy"]), 0.835),
        ("threats F1", figure(&["threats", "f1"]), 0.95),
    ] {
        if value < floor {
            failures.push(format!("{name} {value:.3} < {floor}"));
        }
    }
    // The lines read in a conversation: the earlier turns' words carry the issue (issue type
    // 0.863 over those lines, complaint F1 0.958; before they were read, 0.832 and 0.940).
    let talk = &cv["conversations"];
    for (name, value, floor) in [
        (
            "complaint F1 in a conversation",
            &talk["complaint"]["f1"],
            0.95,
        ),
        (
            "issue_type in a conversation",
            &talk["issue_type_accuracy"],
            0.85,
        ),
    ] {
        let value = value.as_f64().unwrap_or(0.0);
        if value < floor {
            failures.push(format!("{name} {value:.3} < {floor}"));
        }
    }
    let writers = cv["writers"].as_array().map_or(0, Vec::len);
    assert_eq!(writers, 18, "eighteen writers held out in turn");
    assert!(failures.is_empty(), "{}", failures.join("; "));
}

#[test]
fn the_corpus_shares_no_line_with_the_test_sets() {
    let shared = std::env::var_os("ANFU_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    let mut tests = std::collections::HashSet::new();
    for file in [
        shared.join("dev-set/messages.jsonl"),
        root().join("fixtures/labelled/holdout.jsonl"),
    ] {
        let text = std::fs::read_to_string(&file).expect("test set beside the repository");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            tests.insert(v["text"].as_str().expect("text").trim().to_string());
        }
    }
    let shared_lines: Vec<String> = corpus()
        .into_iter()
        .map(|l| l.text.trim().to_string())
        // Short chat ("嗯嗯", "在吗", "ok") recurs everywhere; a copied message would be longer.
        .filter(|t| t.chars().count() >= 8 && tests.contains(t))
        .collect();
    assert!(shared_lines.is_empty(), "{shared_lines:?}");
    let refused = anfu::training::load_corpus(
        &root().join("fixtures/corpus/settled"),
        &[root().join("fixtures/labelled/holdout.jsonl")],
    );
    assert!(
        refused.is_err_and(|e| e.to_string().contains("never training data")),
        "the holdout must be refused as training data"
    );
}

#[test]
fn a_short_follow_up_keeps_the_conversations_issue() {
    let context = [
        Turn::buyer("我的快递到哪了"),
        Turn::shop("亲 已经在派送途中了哦 请耐心等待"),
    ];
    let a = analyzer().analyze_in_context("已经三天了", &context);
    assert_eq!(a.intent, Intent::Complaint);
    assert_eq!(a.issue_type, Some(IssueType::Logistics));
    // The same words after a refund that has not arrived are about the refund: the context
    // decides, not the words (alone they read as a parcel's wait).
    let refund = [
        Turn::buyer("退款申请了怎么还没到账"),
        Turn::shop("亲 财务在处理中哦"),
    ];
    let after_refund = analyzer().analyze_in_context("已经三天了", &refund);
    assert_eq!(
        after_refund.issue_type,
        Some(IssueType::AfterSales),
        "{after_refund:?}"
    );
    let alone = analyzer().analyze("已经三天了");
    assert_ne!(alone.issue_type, after_refund.issue_type, "{alone:?}");
    // "那我退了吧" after a late pre-order keeps the pre-order's problem (logistics or
    // shipping delay, which the corpus's writers tell apart differently).
    let late = [
        Turn::buyer("预售说15号发 今天都20号了"),
        Turn::shop("亲 厂家还没到货 再等等"),
    ];
    let after = analyzer().analyze_in_context("那我退了吧", &late);
    assert_eq!(after.intent, Intent::Complaint, "{after:?}");
    assert!(
        matches!(
            after.issue_type,
            Some(IssueType::Logistics | IssueType::ShippingDelay)
        ),
        "{after:?}"
    );
}

#[test]
fn labels_the_model_chose_come_with_their_spans() {
    let text = "亲，我拍的是L码的睡衣，收到的是M码，穿不进去。能给换个L吗？";
    let a = analyzer().analyze(text);
    assert_eq!(a.demands.first(), Some(&Demand::Exchange), "{a:?}");
    let issue = format!("issue_type:{}", a.issue_type.expect("a complaint"));
    for label in ["intent:complaint", issue.as_str(), "demand:exchange"] {
        let spans: Vec<_> = a.evidence.iter().filter(|e| e.label == label).collect();
        assert!(
            !spans.is_empty(),
            "no evidence for {label}: {:?}",
            a.evidence
        );
        for e in spans {
            let shown: String = text.chars().skip(e.start).take(e.end - e.start).collect();
            assert_eq!(shown, e.text);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_term_added_after_training_outranks_the_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("intents"), dir.path());
    let text = "这个杯子有股塑料味儿，泡茶喝不了";
    let before = analyzer().analyze(text);
    assert_ne!(
        before.issue_type,
        Some(IssueType::NotAsDescribed),
        "{before:?}"
    );
    // A shop decides a smell is "not as described" for its listings.
    let file = dir.path().join("issue_type/not_as_described.toml");
    let body = std::fs::read_to_string(&file).expect("file");
    assert!(body.contains("strong = ["), "{}", file.display());
    std::fs::write(
        &file,
        body.replacen("strong = [", "strong = [\"塑料味儿\", ", 1),
    )
    .expect("write");
    let shop = Analyzer::from_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        shop.warnings()
            .iter()
            .any(|w| w.reason.contains("newer than the model")),
        "{:?}",
        shop.warnings()
    );
    let after = shop.analyze(text);
    assert_eq!(
        after.issue_type,
        Some(IssueType::NotAsDescribed),
        "{after:?}"
    );
}

#[test]
fn a_broken_weights_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("intents"), dir.path());
    let path = dir.path().join("model.tsv");
    let text = std::fs::read_to_string(&path).expect("model");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[6] = "f\tc1:坏\t0:x";
    std::fs::write(&path, lines.join("\n")).expect("write");
    let err = Analyzer::from_dir(dir.path()).expect_err("a broken model");
    let shown = err.to_string();
    assert!(shown.contains("model.tsv:7"), "{shown}");
}
