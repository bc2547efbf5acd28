//! The binary away from the source checkout: run from an empty folder it uses its built-in
//! data; `anfu export` writes that data out, and `anfu check --config` validates a config and
//! the folders it names, with file and line.

use std::path::Path;
use std::process::{Command, Output};

fn anfu(folder: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anfu"))
        .args(args)
        .current_dir(folder)
        .env_remove("ANFU_INTENTS")
        .env_remove("ANFU_REPLIES")
        .env_remove("ANFU_CONFIG")
        .output()
        .expect("anfu runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn an_empty_folder_gets_the_built_in_data_and_the_version_names_the_commit() {
    let empty = tempfile::tempdir().expect("tmp");
    let version = anfu(empty.path(), &["--version"]);
    assert!(text(&version).contains("(commit "), "{}", text(&version));
    let out = anfu(
        empty.path(),
        &["analyze", "--text", "收到的杯子碎了一个，麻烦补发"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a record");
    assert_eq!(record["intent"], "complaint");
    let out = anfu(empty.path(), &["check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("<built-in>/intents: ok"),
        "{}",
        text(&out)
    );
}

#[test]
fn exported_data_is_checked_through_the_config_that_names_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = anfu(dir.path(), &["export", "data"]);
    assert!(out.status.success(), "{}", text(&out));
    let again = anfu(dir.path(), &["export", "data"]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "no overwriting: {}",
        text(&again)
    );

    let config = dir.path().join("anfu.toml");
    let write_config = |extra: &str| {
        std::fs::write(
            &config,
            format!(
                "[server]\nagent_token = \"t\"\n[data]\nintents = \"{}\"\nreplies = \"{}\"\n{extra}",
                dir.path().join("data/intents").display(),
                dir.path().join("data/replies").display()
            ),
        )
        .expect("write");
    };
    write_config("");
    let out = anfu(dir.path(), &["check", "--config", "anfu.toml"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("anfu.toml: ok (0 shops, 0 sinks)"),
        "{}",
        text(&out)
    );

    // A broken word in the exported copy: named with file and line.
    let quality = dir.path().join("data/intents/issue_type/quality.toml");
    let words = std::fs::read_to_string(&quality).expect("exported");
    std::fs::write(&quality, format!("{words}\n[[nonsense]]\n")).expect("write");
    let out = anfu(dir.path(), &["check", "--config", "anfu.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("quality.toml:"), "{}", text(&out));

    // A Shopee shop without its keys: refused, naming the key and the platform.
    write_config("[[shops]]\nid = \"x\"\nplatform = \"shopee\"\napi_base = \"http://x\"\n");
    let out = anfu(dir.path(), &["check", "--config", "anfu.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("partner_key"), "{}", text(&out));
}

#[test]
fn the_demo_runs_from_an_empty_folder_on_its_built_in_fixtures() {
    let empty = tempfile::tempdir().expect("tmp");
    let out = anfu(
        empty.path(),
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--exit",
            "--database",
            "demo.db",
        ],
    );
    let printed = text(&out);
    assert!(out.status.success(), "{printed}");
    for seen in [
        "→ taobao  01-quality-bad-review.json",
        "→ shopee  02-broken-cup-reship.json",
        "[shopee 709122092476686867]",
        "台灣小舖 · 709122092476686867",
        "shop: 您好，麻煩提供破損照片，我們馬上處理",
        "order 240911ABCDEF12",
    ] {
        assert!(
            printed.contains(seen),
            "`{seen}` missing from the demo:\n{printed}"
        );
    }
    // Issue 12's three demo cases: the pilling duvet cover with a bad-review threat is a
    // quality problem (not slow after-sales), "能给换个L吗" wants an exchange, and the
    // Cantonese "stuck parcel, nobody answers" follow-up is about the parcel.
    for (conversation, want) in [
        ("cnv_8f2a41c7", "issue quality ·"),
        ("cnv_c40e7a12", "demands [\"exchange\"]"),
        ("338276-20261109-4k", "issue logistics ·"),
    ] {
        let card = card_labels(&printed, conversation);
        assert!(
            card.contains(want),
            "{conversation}: `{want}` not in `{card}`"
        );
    }
}

/// The labels line of the demo's handoff card for `conversation` (the line after its header).
fn card_labels<'a>(printed: &'a str, conversation: &str) -> &'a str {
    let cards = printed
        .split_once("=== Handoff cards ===")
        .map_or("", |(_, cards)| cards);
    let mut lines = cards.lines();
    let header = format!(" · {conversation} · ");
    lines
        .by_ref()
        .find(|l| l.starts_with('#') && l.contains(&header));
    lines.next().unwrap_or("(no card)")
}
