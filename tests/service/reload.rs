//! Hot reload through `POST /v1/admin/reload` (SIGHUP does the same; the release smoke sends
//! it): an edited reply is used at once, a broken dictionary is refused with file and line
//! while the previous set keeps answering, and fixing it clears the alert; a shop's reply
//! settings are read again from the config file, and what only a restart applies is named.

use crate::support::*;
use anfu::config::TopSignMethod::HmacSha256;
use reqwest::Method;
use std::time::Duration;

async fn reply_to(app: &TestApp, n: usize) -> String {
    let body = envelope(
        &format!("reload-{n}"),
        &format!("cnv-reload-{n}"),
        "衣服洗了一次就起球了，质量太差，我要退货",
        None,
    );
    assert_eq!(app.taobao_push("tb", &body, HmacSha256).await.0, 200);
    let sent = app.standin.wait_delivered(n, Duration::from_secs(10)).await;
    sent.get(n - 1).expect("a reply").text.clone()
}

#[tokio::test]
async fn an_edited_reply_is_used_after_a_reload_and_a_broken_file_keeps_the_old_set() {
    let data = tempfile::tempdir().expect("tmp");
    anfu::built_in::export(data.path()).expect("export");
    let app = spawn_app_with(Options {
        data: Some(data.path().to_path_buf()),
        ..Options::default()
    })
    .await;
    assert!(reply_to(&app, 1).await.starts_with("亲，"));

    let hans = data.path().join("replies/zh-Hans.toml");
    let text = std::fs::read_to_string(&hans).expect("exported");
    std::fs::write(&hans, text.replace("亲，", "亲爱的顾客，")).expect("write");
    let (status, done) = app.agent(Method::POST, "/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["reloaded"], true);
    assert!(reply_to(&app, 2).await.starts_with("亲爱的顾客，"));

    let quality = data.path().join("intents/issue_type/quality.toml");
    let words = std::fs::read_to_string(&quality).expect("exported");
    std::fs::write(&quality, format!("{words}\n[[nonsense]]\n")).expect("write");
    let (status, refused) = app.agent(Method::POST, "/v1/admin/reload", None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["problems"][0]
            .as_str()
            .unwrap_or_default()
            .contains("quality.toml:"),
        "{refused}"
    );
    let (_, alerts) = app.agent(Method::GET, "/v1/alerts", None).await;
    assert!(
        alerts["alerts"]["data"]
            .as_str()
            .unwrap_or_default()
            .contains("quality.toml:"),
        "{alerts}"
    );
    assert!(
        reply_to(&app, 3).await.starts_with("亲爱的顾客，"),
        "the previous set answers"
    );

    std::fs::write(&quality, words).expect("write");
    let (status, _) = app.agent(Method::POST, "/v1/admin/reload", None).await;
    assert_eq!(status, 200);
    let (_, alerts) = app.agent(Method::GET, "/v1/alerts", None).await;
    assert!(alerts["alerts"].get("data").is_none(), "{alerts}");
    let (status, _) = app
        .client
        .post(format!("{}/v1/admin/reload", app.base))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("post");
    assert_eq!(status, 401, "the agent token is required");
}

#[tokio::test]
async fn a_shops_reply_settings_are_read_again_from_the_config_file() {
    let data = tempfile::tempdir().expect("tmp");
    anfu::built_in::export(data.path()).expect("export");
    let hans = data.path().join("replies/zh-Hans.toml");
    let text = std::fs::read_to_string(&hans).expect("exported");
    std::fs::write(&hans, text.replace("亲，", "{shop}亲，")).expect("write");
    let app = spawn_app_with(Options {
        data: Some(data.path().to_path_buf()),
        ..Options::default()
    })
    .await;
    let reply = reply_to(&app, 1).await;
    assert!(reply.starts_with("tb亲，"), "no name: the id. {reply}");

    let config = app.config_file.clone();
    let started = std::fs::read_to_string(&config).expect("config");
    let renamed = started
        .replacen("id = \"tb\"\n", "id = \"tb\"\nname = \"小鱼家旗舰店\"\n", 1)
        .replacen("timeout = \"2s\"", "timeout = \"3s\"", 1);
    std::fs::write(&config, &renamed).expect("write");
    let (status, done) = app.agent(Method::POST, "/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["shops"], 4, "{done}");
    assert_eq!(done["restart_needed"], serde_json::json!(["[http_client]"]));
    let reply = reply_to(&app, 2).await;
    assert!(reply.starts_with("小鱼家旗舰店亲，"), "{reply}");

    // A config the service would refuse at start is refused here too, naming the file.
    std::fs::write(
        &config,
        renamed.replacen(
            "platform = \"taobao\"",
            "platform = \"taobao\"\nlang = \"klingon\"",
            1,
        ),
    )
    .expect("write");
    let (status, refused) = app.agent(Method::POST, "/v1/admin/reload", None).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("anfu.toml"), "{refused}");
    let reply = reply_to(&app, 3).await;
    assert!(
        reply.starts_with("小鱼家旗舰店亲，"),
        "the previous settings answer: {reply}"
    );
}
