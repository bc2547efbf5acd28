//! `intents/` validation: every problem is reported with file and line, all at once, and the
//! shipped folder is clean.

use anfu::analysis::Analyzer;
use std::fs;
use std::path::{Path, PathBuf};

/// A minimal valid intents folder, to which each case adds one broken file.
fn scaffold() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    for folder in ["intent", "issue_type", "cue"] {
        fs::create_dir_all(root.join(folder)).expect("mkdir");
    }
    fs::write(root.join("intent/complaint.toml"), "terms = [\"太差了\"]\n").expect("write");
    fs::write(
        root.join("cue/negation.toml"),
        "terms = [\"不\", \"没有\"]\n",
    )
    .expect("write");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("intents/order_id.toml"),
        root.join("order_id.toml"),
    )
    .expect("copy order_id.toml");
    dir
}

fn problems(root: &Path) -> Vec<String> {
    match Analyzer::from_dir(root) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn write(root: &Path, rel: &str, body: &str) -> PathBuf {
    let path = root.join(rel);
    fs::write(&path, body).expect("write");
    path
}

#[test]
fn the_shipped_intents_folder_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
    if let Err(e) = Analyzer::from_dir(&dir) {
        panic!("{e}");
    }
}

#[test]
fn a_minimal_folder_loads() {
    let dir = scaffold();
    assert_eq!(problems(dir.path()), Vec::<String>::new());
}

#[test]
fn each_kind_of_bad_data_is_reported_with_file_and_line() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "unknown label",
            "issue_type/qualty.toml",
            "terms = [\"坏了\"]\n",
            "qualty.toml: unknown IssueType `qualty`",
        ),
        (
            "empty term",
            "issue_type/quality.toml",
            "terms = [\n  \"坏了\",\n  \"  \",\n]\n",
            "quality.toml:3: empty term",
        ),
        (
            "bad regex",
            "issue_type/damaged.toml",
            "patterns = [\n  '碎了(',\n]\n",
            "damaged.toml:2: bad regular expression",
        ),
        (
            "unknown key",
            "issue_type/price.toml",
            "term = [\"降价\"]\n",
            "price.toml:1: unknown field `term`",
        ),
        (
            "malformed toml",
            "issue_type/service.toml",
            "terms = [\"客服\"\n",
            "service.toml:",
        ),
        (
            "unknown folder",
            "moods/x.toml",
            "terms = []\n",
            "moods: unknown folder",
        ),
        (
            "unknown cue",
            "cue/negations.toml",
            "terms = [\"不\"]\n",
            "unknown cue `negations`",
        ),
    ];
    for (name, rel, body, expected) in cases {
        let dir = scaffold();
        if let Some(parent) = Path::new(rel).parent() {
            fs::create_dir_all(dir.path().join(parent)).expect("mkdir");
        }
        write(dir.path(), rel, body);
        let found = problems(dir.path());
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{name}: expected a problem containing {expected:?}, got {found:?}"
        );
    }
}

#[test]
fn a_term_under_two_labels_of_one_category_is_an_error_naming_both_places() {
    let dir = scaffold();
    write(
        dir.path(),
        "issue_type/quality.toml",
        "terms = [\n  \"破损\",\n]\n",
    );
    // Traditional and full-width spellings normalise to the same term.
    write(
        dir.path(),
        "issue_type/damaged.toml",
        "\nterms = [\"破損\"]\n",
    );
    let found = problems(dir.path());
    assert!(
        found.iter().any(|p| p.contains("quality.toml:2")
            && p.contains("damaged.toml:2")
            && p.contains("issue_type:damaged")),
        "{found:?}"
    );
}

#[test]
fn the_same_term_in_two_categories_is_fine() {
    let dir = scaffold();
    fs::create_dir_all(dir.path().join("demand")).expect("mkdir");
    write(
        dir.path(),
        "issue_type/after_sales.toml",
        "terms = [\"退款\"]\n",
    );
    write(dir.path(), "demand/refund.toml", "terms = [\"退款\"]\n");
    assert_eq!(problems(dir.path()), Vec::<String>::new());
}

#[test]
fn all_problems_are_reported_in_one_pass() {
    let dir = scaffold();
    write(dir.path(), "issue_type/quality.toml", "terms = [\"\"]\n");
    write(dir.path(), "issue_type/damaged.toml", "patterns = ['(']\n");
    assert_eq!(problems(dir.path()).len(), 2);
}

#[test]
fn a_missing_folder_says_so() {
    let found = problems(Path::new("/nonexistent/intents"));
    assert!(
        found[0].contains("cannot read the intents folder"),
        "{found:?}"
    );
}

#[test]
fn a_broken_order_id_file_names_its_line() {
    let dir = scaffold();
    write(
        dir.path(),
        "order_id.toml",
        "[[format]]\nname = \"x\"\npattern = '(\\d'\n",
    );
    let found = problems(dir.path());
    assert!(
        found.iter().any(|p| p.contains("order_id.toml:3")),
        "{found:?}"
    );
}
