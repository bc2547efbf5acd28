use super::*;

const SHOPS: &str = r#"
[server]
agent_token = "t"
[[shops]]
id = "xiaoyu"
platform = "taobao"
api_base = "https://gw.example"
app_key = "12345678"
secret = "s"
session = "x"
[[shops]]
id = "rk"
platform = "rakuten"
api_base = "https://api.rms.example"
service_secret = "SP"
license_key = "SL"
[[shops]]
id = "gen"
platform = "generic"
api_base = "https://api.example"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_layers(Some(text), Some(Path::new("anfu.toml")), env)
}

#[test]
fn defaults_fill_everything_the_file_leaves_out() {
    let c = load(SHOPS, &[]).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080");
    assert_eq!(c.storage.url, "sqlite://anfu.db");
    assert_eq!(c.sla.p3.0, std::time::Duration::from_secs(24 * 3600));
    assert_eq!(c.shops.len(), 3);
    assert_eq!(
        c.shop("rk").unwrap().rakuten().unwrap().mode,
        RakutenMode::Poll
    );
    assert_eq!(
        c.shop("xiaoyu").unwrap().taobao().unwrap().sign_method,
        TopSignMethod::HmacSha256
    );
}

#[test]
fn environment_overrides_the_file() {
    let c = load(
        SHOPS,
        &[
            ("ANFU_SERVER__LISTEN", "0.0.0.0:9000"),
            ("ANFU_WORKER__CONCURRENCY", "7"),
            ("ANFU_SHOPS__XIAOYU__SECRET", "from-env"),
            ("ANFU_SLA__P1", "30m"),
            ("HOME", "/root"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen, "0.0.0.0:9000");
    assert_eq!(c.worker.concurrency, 7);
    assert_eq!(
        c.shop("xiaoyu")
            .unwrap()
            .taobao()
            .map(|k| k.secret.as_str()),
        Some("from-env")
    );
    assert_eq!(c.sla.p1.0, std::time::Duration::from_secs(1800));
}

#[test]
fn problems_name_the_key() {
    let without = |key: &str| {
        SHOPS
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} =")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "unknown key in a section",
            SHOPS.replace("agent_token = \"t\"", "agent_token = \"t\"\nlistn = \"x\""),
            vec![],
            "[server]: unknown field `listn`",
        ),
        (
            "unknown section",
            format!("{SHOPS}\n[servr]\nlisten = \"x\""),
            vec![],
            "servr",
        ),
        (
            "unknown shop key",
            SHOPS.replace("session = \"x\"", "sesion = \"x\""),
            vec![],
            "shops[0] (id `xiaoyu`): unknown field `sesion`",
        ),
        (
            "missing taobao secret",
            without("session"),
            vec![],
            "shops[0] (id `xiaoyu`).session is missing",
        ),
        (
            "missing rakuten license",
            without("license_key"),
            vec![],
            "shops[1] (id `rk`).license_key is missing",
        ),
        (
            "generic secret not whsec",
            SHOPS.replace("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "plain"),
            vec![],
            "shops[2] (id `gen`).secret must be whsec_",
        ),
        (
            "missing agent token",
            SHOPS.replace("agent_token = \"t\"", ""),
            vec![],
            "server.agent_token is missing",
        ),
        (
            "bad duration",
            format!("{SHOPS}\n[conversation]\ncooldown = \"10 minutes\""),
            vec![],
            "[conversation]",
        ),
        (
            "unknown platform",
            SHOPS.replace("\"generic\"", "\"shopify\""),
            vec![],
            "shops[2] (id `gen`)",
        ),
        (
            "syntax error with line",
            format!("{SHOPS}\n[server\n"),
            vec![],
            "anfu.toml:",
        ),
        (
            "env for an unknown shop",
            SHOPS.to_string(),
            vec![("ANFU_SHOPS__NOPE__SECRET", "x")],
            "no shops entry with id `nope`",
        ),
        (
            "env number that is not",
            SHOPS.to_string(),
            vec![("ANFU_WORKER__CONCURRENCY", "many")],
            "ANFU_WORKER__CONCURRENCY",
        ),
        (
            "business hours that are not",
            SHOPS.replace(
                "session = \"x\"",
                "session = \"x\"\nhours = \"weekdays 9-6\"",
            ),
            vec![],
            "shops[0] (id `xiaoyu`)",
        ),
        (
            "a utc offset that is not",
            SHOPS.replace(
                "session = \"x\"",
                "session = \"x\"\nutc_offset = \"Asia/Shanghai\"",
            ),
            vec![],
            "not a UTC offset like +08:00",
        ),
        (
            "a database anfu has no store for",
            format!("{SHOPS}\n[storage]\nurl = \"mysql://u:secret@db/anfu\""),
            vec![],
            "storage.url: unsupported scheme `mysql`",
        ),
        (
            "a size cap on PostgreSQL",
            format!("{SHOPS}\n[storage]\nurl = \"postgres://u@db/anfu\"\nmax_size = 1000000"),
            vec![],
            "storage.max_size applies to SQLite only",
        ),
    ];
    for (name, text, env, want) in cases {
        let err = load(&text, &env).expect_err(name).to_string();
        assert!(err.contains(want), "{name}: `{err}` lacks `{want}`");
    }
}

#[test]
fn storage_url_scheme_selects_the_store() {
    for (url, want) in [
        ("sqlite://anfu.db", StorageBackend::Sqlite),
        ("postgres://anfu@db/anfu", StorageBackend::Postgres),
        (
            "postgresql://anfu:pw@db:5433/anfu",
            StorageBackend::Postgres,
        ),
    ] {
        let c = load(&format!("{SHOPS}\n[storage]\nurl = \"{url}\""), &[]).unwrap();
        assert_eq!(c.storage.backend(), Ok(want), "{url}");
    }
    let err = load(
        &format!("{SHOPS}\n[storage]\nurl = \"mysql://u:secret@db/anfu\""),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        !err.contains("secret"),
        "the error shows the password: {err}"
    );
}

#[test]
fn secrets_can_come_from_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let secret = dir.path().join("tb-secret");
    std::fs::write(&secret, "from-a-file\n").expect("write");
    let token = dir.path().join("token");
    std::fs::write(&token, "agent-from-file").expect("write");
    let text = SHOPS
        .replace(
            "secret = \"s\"\n",
            &format!("secret_file = \"{}\"\n", secret.display()),
        )
        .replace("agent_token = \"t\"", "");
    let c = load(
        &text,
        &[(
            "ANFU_SERVER__AGENT_TOKEN_FILE",
            token.to_str().expect("utf-8 path"),
        )],
    )
    .expect("loads");
    assert_eq!(
        c.shop("xiaoyu")
            .unwrap()
            .taobao()
            .map(|k| k.secret.as_str()),
        Some("from-a-file")
    );
    assert_eq!(c.server.agent_token, "agent-from-file");

    let missing = SHOPS.replace("secret = \"s\"\n", "secret_file = \"/nonexistent/anfu\"\n");
    let err = load(&missing, &[]).expect_err("unreadable").to_string();
    assert!(
        err.contains("shops[0].secret_file: cannot read /nonexistent/anfu"),
        "{err}"
    );
    let both = SHOPS.replace(
        "secret = \"s\"\n",
        &format!("secret = \"s\"\nsecret_file = \"{}\"\n", secret.display()),
    );
    let err = load(&both, &[]).expect_err("ambiguous").to_string();
    assert!(err.contains("both set"), "{err}");
}

#[test]
fn sinks_are_named_kind_at_host_and_url_digest_unless_named() {
    let text = format!(
        "{SHOPS}
[[sinks]]
kind = \"dingtalk\"
url = \"https://oapi.dingtalk.com/robot/send?access_token=a\"
[[sinks]]
kind = \"lark\"
url = \"https://open.feishu.cn/open-apis/bot/v2/hook/x\"
[[sinks]]
name = \"supervisors\"
kind = \"dingtalk\"
url = \"https://oapi.dingtalk.com/robot/send?access_token=b\"
threats_only = true
"
    );
    let c = load(
        &text,
        &[("ANFU_SINKS__SUPERVISORS__URL", "https://x.example/r")],
    )
    .unwrap();
    let names: Vec<&str> = c.sinks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dingtalk@oapi.dingtalk.com/5f3affdf",
            "feishu@open.feishu.cn/a336b205",
            "supervisors"
        ]
    );
    assert_eq!(c.sinks[2].url, "https://x.example/r", "addressed by name");
}

#[test]
fn two_sinks_of_one_name_are_refused_naming_both() {
    let robot = |token: &str| {
        format!("[[sinks]]\nkind = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/robot/send?access_token={token}\"\n")
    };
    // Two groups on one host are told apart by their URLs without a `name`.
    let text = format!("{SHOPS}\n{}{}", robot("a"), robot("b"));
    assert!(load(&text, &[]).is_ok());
    // The same robot twice is a mistake.
    let text = format!("{SHOPS}\n{}{}{}", robot("a"), robot("a"), robot("a"));
    let e = load(&text, &[]).unwrap_err().to_string();
    assert!(
        e.contains("sinks[0] (kind `dingtalk`) and sinks[1] (kind `dingtalk`) are both named `dingtalk@oapi.dingtalk.com/5f3affdf`"),
        "{e}"
    );
    assert!(e.contains("and sinks[2]"), "{e}");
    // Named apart, they are fine; names that look like positions are not.
    let text = format!(
        "{SHOPS}\n{}name = \"team\"\n{}name = \"7\"\n",
        robot("a"),
        robot("b")
    );
    let e = load(&text, &[]).unwrap_err().to_string();
    assert!(
        e.contains("sinks[1] (kind `dingtalk`).name `7` must not be only digits"),
        "{e}"
    );
    let text = format!(
        "{SHOPS}\n{}name = \"team\"\n{}name = \"boss\"\n",
        robot("a"),
        robot("b")
    );
    assert!(load(&text, &[]).is_ok());
}
