//! The `anfu` binary end to end: JSON Lines in, records out, bad lines reported in-band.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn anfu(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anfu"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("anfu starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("anfu finishes")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect()
}

#[test]
fn analyze_echoes_ids_and_keeps_input_order() {
    let input = "{\"id\":\"a\",\"text\":\"质量太差了，要退货\"}\n{\"text\":\"在吗\"}\n{\"id\":7,\"text\":\"谢谢老板，五星好评\"}\n";
    let out = anfu(&["analyze"], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = lines(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["id"], "a");
    assert_eq!(rows[0]["intent"], "complaint");
    assert!(rows[1].get("id").is_none());
    assert_eq!(rows[1]["intent"], "chitchat");
    assert_eq!(rows[2]["id"], 7);
    assert_eq!(rows[2]["intent"], "praise");
    for row in &rows {
        for field in [
            "intent",
            "issue_type",
            "demands",
            "mood",
            "intensity",
            "threats",
            "order_id",
            "lang",
            "priority",
            "evidence",
        ] {
            assert!(row.get(field).is_some(), "missing {field} in {row}");
        }
    }
}

#[test]
fn bad_lines_get_error_objects_and_the_run_goes_on_with_a_failing_exit_code() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"id\":\"ok1\",\"text\":\"\xe5\x9c\xa8\xe5\x90\x97\"}\n");
    input.extend_from_slice(b"{\"id\":\"bad-utf8\",\"text\":\"\xff\xfe\"}\n");
    input.extend_from_slice(b"{not json}\n");
    input.extend_from_slice(b"{\"id\":\"no-text\"}\n");
    input.extend_from_slice(b"[1,2]\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"{\"id\":\"ok2\",\"text\":\"\"}\n");
    let out = anfu(&["analyze"], &input);
    assert!(!out.status.success());
    let rows = lines(&out);
    assert_eq!(
        rows.len(),
        6,
        "blank lines are skipped, every other line answered"
    );
    assert_eq!(rows[0]["id"], "ok1");
    assert!(rows[1]["error"]
        .as_str()
        .expect("error")
        .contains("not valid UTF-8"));
    assert_eq!(rows[1]["line"], 2);
    assert!(rows[2]["error"]
        .as_str()
        .expect("error")
        .contains("not valid JSON"));
    assert_eq!(rows[3]["id"], "no-text");
    assert!(rows[3]["error"]
        .as_str()
        .expect("error")
        .contains("missing `text`"));
    assert!(rows[4]["error"]
        .as_str()
        .expect("error")
        .contains("not a JSON object"));
    assert_eq!(rows[5]["id"], "ok2");
    assert_eq!(rows[5]["intent"], "chitchat");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 line(s) failed"), "{stderr}");
}

#[test]
fn analyze_text_prints_one_pretty_record() {
    let out = anfu(
        &[
            "analyze",
            "--text",
            "订单3721458805123456789还没发货，急死了！！",
        ],
        b"",
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\n  \"intent\""), "pretty printed: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["order_id"], "3721458805123456789");
}

#[test]
fn check_accepts_the_shipped_data_and_refuses_a_broken_folder() {
    let out = anfu(&["check"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("issue_type")).expect("mkdir");
    std::fs::write(
        dir.path().join("issue_type/quality.toml"),
        "terms = [\n\"\"\n]\n",
    )
    .expect("write");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("intents/order_id.toml"),
        dir.path().join("order_id.toml"),
    )
    .expect("copy");
    let intents = dir.path().to_string_lossy().to_string();
    for command in [
        vec!["check", "--intents", &intents],
        vec!["analyze", "--intents", &intents, "--text", "x"],
    ] {
        let out = anfu(&command, b"");
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("quality.toml:2: empty term"),
            "{command:?}: {stderr}"
        );
    }
}

#[test]
fn check_and_serve_refuse_a_broken_replies_folder_naming_file_and_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(root.join("replies")).expect("replies/") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let hans = dir.path().join("zh-Hans.toml");
    let text = std::fs::read_to_string(&hans).expect("read");
    let index = text
        .lines()
        .position(|l| !l.trim_start().starts_with('#') && l.contains("{handoff_eta}"))
        .expect("a template with the slot");
    let line = index + 1;
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == index {
                l.replacen("{handoff_eta}", "{handof_eta}", 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    let broken = broken.join("\n");
    std::fs::write(&hans, broken).expect("write");
    let replies = dir.path().to_string_lossy().to_string();
    let out = anfu(&["check", "--replies", &replies], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("zh-Hans.toml:{line}:")) && stderr.contains("handof_eta"),
        "{stderr}"
    );

    // The server refuses to start on the same data, with the same message.
    let config = dir.path().join("anfu.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nagent_token = \"t\"\nlisten = \"127.0.0.1:0\"\n[storage]\nurl = \"sqlite://{}\"\n[data]\nreplies = \"{}\"\n",
            dir.path().join("a.db").display(),
            replies
        ),
    )
    .expect("write config");
    let out = anfu(&["serve", "--config", &config.to_string_lossy()], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("zh-Hans.toml:{line}:")),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_unknown_config_keys_and_missing_secrets() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("anfu.toml");
    let cases = [
        ("unknown key", "[server]\nagent_token = \"t\"\nlistn = \"x\"\n", "listn"),
        (
            "missing secret",
            "[server]\nagent_token = \"t\"\n[[shops]]\nid = \"s\"\nplatform = \"taobao\"\napi_base = \"https://x\"\napp_key = \"1\"\nsession = \"x\"\n",
            "shops[0] (id `s`).secret is missing",
        ),
    ];
    for (name, text, want) in cases {
        std::fs::write(&config, text).expect("write");
        let out = anfu(&["serve", "--config", &config.to_string_lossy()], b"");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{name}: {stderr}");
    }
}

#[test]
fn eval_reports_metrics_for_both_schemas() {
    let out = anfu(
        &["eval", "fixtures/labelled/holdout.jsonl", "--errors"],
        b"",
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "intent complaint",
        "issue_type accuracy",
        "demands",
        "mood accuracy",
        "order_id accuracy",
        "misclassified lines",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }

    let dir = tempfile::tempdir().expect("tmp");
    let polar = dir.path().join("polar.jsonl");
    std::fs::write(
        &polar,
        "{\"text\":\"太难用了，垃圾\",\"label\":0}\n{\"text\":\"很好用，推荐\",\"label\":1}\n",
    )
    .expect("write");
    let out = anfu(&["eval", &polar.to_string_lossy()], b"");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("negative detection"));
}

/// A raw HTTP/1.1 request over loopback; returns the whole response text.
fn http(port: u16, request: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let config = dir.path().join("anfu.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nagent_token = \"t\"\n[storage]\nurl = \"sqlite://{}\"\n[log]\nformat = \"json\"\n",
            dir.path().join("anfu.db").display()
        ),
    )
    .expect("write");
    let child = Command::new(env!("CARGO_BIN_EXE_anfu"))
        .args(["serve", "--config", &config.to_string_lossy()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("anfu starts");
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "anfu listens");
    let answer = http(
        port,
        "POST /webhooks/nowhere/shop?sign=SECRETSIG HTTP/1.1\r\nhost: x\r\nx-request-id: req-42\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("x-request-id: req-42"),
        "{answer}"
    );

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    let out = child.wait_with_output().expect("anfu exits");
    assert_eq!(out.status.code(), Some(0), "SIGTERM is a clean stop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let refused = logs
        .iter()
        .find(|l| l["message"] == "webhook refused")
        .unwrap_or_else(|| panic!("no refusal logged: {stderr}"));
    assert_eq!(refused["span"]["request_id"], "req-42", "{refused}");
    assert_eq!(refused["span"]["path"], "/webhooks/nowhere/shop");
    assert!(
        !stderr.contains("SECRETSIG"),
        "query strings are not logged"
    );
    assert!(logs.iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("shutting down"))));
}

#[test]
fn check_names_a_bad_agent_draft_with_file_and_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(root.join("replies")).expect("replies/") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let drafts = dir.path().join("agent.toml");
    let text = std::fs::read_to_string(&drafts).expect("read");
    let line = text
        .lines()
        .position(|l| l.starts_with("issue = \"damaged\""))
        .expect("a damaged draft")
        + 1;
    std::fs::write(
        &drafts,
        text.replacen("issue = \"damaged\"", "issue = \"broken\"", 1),
    )
    .expect("write");
    let out = anfu(&["check", "--replies", &dir.path().to_string_lossy()], b"");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("agent.toml:{line}:")) && stderr.contains("broken"),
        "{stderr}"
    );
}
