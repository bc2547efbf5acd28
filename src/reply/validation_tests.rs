//! Every kind of bad `replies/` data is reported, all at once, with file and line.

use super::tests::{marked_dir, MARKED_LANG, MARKED_NEXT_STEPS};
use super::ReplyBook;
use std::collections::HashSet;
use std::fs;

fn problems(dir: &std::path::Path) -> Vec<String> {
    match ReplyBook::from_dir(dir) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

struct Case {
    name: &'static str,
    file: &'static str,
    /// `None` deletes the file.
    body: Option<String>,
    /// Expected `file:line:` prefix and a fragment of the reason.
    line: Option<usize>,
    reason: &'static str,
}

/// The marked language file with `from` replaced by `to` (which must occur).
fn lang_with(from: &str, to: &str) -> Option<String> {
    assert!(
        MARKED_LANG.contains(from),
        "`{from}` not in the marked file"
    );
    Some(MARKED_LANG.replacen(from, to, 1))
}

fn steps_with(from: &str, to: &str) -> Option<String> {
    assert!(
        MARKED_NEXT_STEPS.contains(from),
        "`{from}` not in the marked file"
    );
    Some(MARKED_NEXT_STEPS.replacen(from, to, 1))
}

fn line_of(text: &Option<String>, needle: &str) -> Option<usize> {
    let text = text.as_deref()?;
    let byte = text.find(needle)?;
    Some(text[..byte].matches('\n').count() + 1)
}

#[test]
fn reply_validation_names_file_and_line() {
    let case = |name, file, body: Option<String>, at: &str, reason| {
        let line = if at.is_empty() {
            Some(1)
        } else {
            line_of(&body, at)
        };
        Case {
            name,
            file,
            line,
            body,
            reason,
        }
    };
    let cases = [
        case(
            "toml syntax",
            "zh-Hans.toml",
            lang_with("angry = [\"quality-angry\"]", "angry = [\"quality-angry\""),
            "angry_threat = [\"quality-angry_threat",
            "invalid array",
        ),
        case(
            "unknown key",
            "zh-Hans.toml",
            lang_with("enabled = true", "enabled = true\nvariant = [\"x\"]"),
            "variant = ",
            "unknown field `variant`",
        ),
        case(
            "unknown issue type",
            "zh-Hans.toml",
            lang_with("[complaint.damaged]", "[complaint.damagd]"),
            "[complaint.damagd]",
            "unknown IssueType `damagd`",
        ),
        case(
            "unknown mood",
            "zh-Hans.toml",
            lang_with("disappointed = [", "furious = ["),
            "furious",
            "unknown mood `furious`",
        ),
        case(
            "unknown lang file",
            "zh-CN.toml",
            Some(MARKED_LANG.to_string()),
            "",
            "unknown Lang `zh-CN`",
        ),
        case(
            "unknown slot",
            "zh-Hant.toml",
            Some(MARKED_LANG.replace("generic-angry\"", "generic-angry {ordr_id}\"")),
            "generic-angry {",
            "unknown slot `{ordr_id}`",
        ),
        case(
            "unbalanced open brace",
            "zh-Hans.toml",
            lang_with("[\"quality-default\"]", "[\"quality-default {order_id\"]"),
            "quality-default {",
            "unbalanced `{`",
        ),
        case(
            "unbalanced close brace",
            "zh-Hans.toml",
            lang_with("[\"quality-default\"]", "[\"quality-default }\"]"),
            "quality-default }",
            "unbalanced `}`",
        ),
        case(
            "empty variant list",
            "zh-Hans.toml",
            lang_with("angry = [\"quality-angry\"]", "angry = []"),
            "angry = []",
            "empty variant list",
        ),
        case(
            "empty text",
            "zh-Hans.toml",
            lang_with("[\"quality-angry\"]", "[\"  \"]"),
            "[\"  \"]",
            "empty reply text",
        ),
        case(
            "missing required generic default",
            "zh-Hans.toml",
            lang_with(
                "default = [\"generic-default\", ",
                "calm = [\"generic-default\", ",
            ),
            "",
            "missing required fallback `[complaint.default] default",
        ),
        case(
            "missing required angry_threat",
            "zh-Hant.toml",
            lang_with("angry_threat = [\"generic-angry_threat\"]", ""),
            "",
            "missing required fallback `[complaint.default] angry_threat",
        ),
        case(
            "fallback needing the order id",
            "zh-Hans.toml",
            lang_with("[\"quality-default\"]", "[\"{order_id}\"]"),
            "default = [\"{order_id}\"]",
            "without {buyer} or {order_id}",
        ),
        case(
            "enabled toggle without variants",
            "zh-Hans.toml",
            lang_with("enabled = true\nvariants = [\"inquiry\"]", "enabled = true"),
            "enabled = true",
            "has no `variants`",
        ),
        case(
            "missing toggle section",
            "zh-Hans.toml",
            lang_with("[praise]\nenabled = false", ""),
            "",
            "missing [praise]",
        ),
        case(
            "missing language file",
            "zh-Hant.toml",
            None,
            "",
            "missing: every language",
        ),
        case(
            "next steps for an unknown issue",
            "next_steps.toml",
            steps_with("[issue.other]", "[issue.othr]"),
            "[issue.othr]",
            "unknown IssueType `othr`",
        ),
        case(
            "next steps unknown demand",
            "next_steps.toml",
            steps_with("reship = [", "reshp = ["),
            "reshp",
            "unknown Demand `reshp`",
        ),
        case(
            "next steps unknown threat",
            "next_steps.toml",
            steps_with("legal = ", "lawyer = "),
            "lawyer",
            "unknown Threat `lawyer`",
        ),
        case(
            "next steps too many",
            "next_steps.toml",
            steps_with("[\"damaged-1\"]", "[\"a\", \"b\", \"c\"]"),
            "[\"a\"",
            "give 1 or 2 steps",
        ),
        case(
            "next steps missing issue",
            "next_steps.toml",
            steps_with("[issue.other]\ndefault = [\"other-1\"]", ""),
            "",
            "missing [issue.other]",
        ),
        case(
            "next steps unknown key",
            "next_steps.toml",
            steps_with("[threat]", "[threats]"),
            "[threats]",
            "unknown field `threats`",
        ),
    ];
    let names: HashSet<_> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");

    for c in &cases {
        let dir = marked_dir();
        let path = dir.path().join(c.file);
        match &c.body {
            Some(body) => fs::write(&path, body).expect("write"),
            None => fs::remove_file(&path).expect("remove"),
        }
        let found = problems(dir.path());
        let prefix = match (c.body.is_some(), c.line) {
            (true, Some(line)) => format!("{}:{line}: ", path.display()),
            _ => format!("{}: ", path.display()),
        };
        assert!(
            found
                .iter()
                .any(|p| p.starts_with(&prefix) && p.contains(c.reason)),
            "case `{}`: want `{prefix}…{}…`, got {found:#?}",
            c.name,
            c.reason
        );
    }
}

#[test]
fn reply_validation_reports_every_problem_at_once() {
    let dir = marked_dir();
    let bad = MARKED_LANG
        .replace("[complaint.damaged]", "[complaint.damagd]")
        .replace("\"quality-angry\"", "\"{ordr_id}\"");
    fs::write(dir.path().join("zh-Hans.toml"), bad).expect("write");
    fs::write(
        dir.path().join("next_steps.toml"),
        MARKED_NEXT_STEPS.replace("[issue.price]", "[issue.prise]"),
    )
    .expect("write");
    let found = problems(dir.path());
    assert!(found.len() >= 3, "{found:#?}");
}
