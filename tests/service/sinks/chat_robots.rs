//! The group-chat robots: DingTalk, WeCom, Feishu and Slack.

use super::*;

#[tokio::test]
async fn dingtalk_signs_the_url_and_sends_markdown() {
    let fake = Fake::start(200, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let mut s = sink(
        "dingtalk",
        format!("{}/robot/send?access_token=abc", fake.base),
    );
    s.secret = Some("SECtest".into());
    deliver(&client(), &s, &event(card())).await.unwrap();

    let seen = fake.last();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/robot/send");
    let query = seen.query.clone().unwrap();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&query).unwrap();
    assert_eq!(params[0], ("access_token".into(), "abc".into()));
    assert_eq!(params[1].0, "timestamp");
    let ts: i64 = params[1].1.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp_millis() - ts).abs() < 60_000,
        "ms timestamp"
    );
    let expected = hmac_b64(b"SECtest", format!("{ts}\nSECtest").as_bytes());
    assert_eq!(params[2], ("sign".into(), expected.clone()));
    assert!(
        query.ends_with(&format!("&sign={}", percent(&expected))),
        "sign is URL-encoded: {query}"
    );

    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body["at"], json!({"atMobiles": [], "isAtAll": false}));
    let title = body["markdown"]["title"].as_str().unwrap();
    assert!(title.contains("P1") && title.contains("#42"), "{title}");
    let text = body["markdown"]["text"].as_str().unwrap();
    assert_masked(text);
    for label in [
        "优先级",
        "订单号",
        "问题类型",
        "诉求",
        "情绪",
        "威胁",
        "处理时限",
        "建议",
    ] {
        assert!(text.contains(label), "{label} in {text}");
    }
    assert!(text.contains("https://anfu.example/console#/handoffs/42"));
    assert_eq!(body.as_object().unwrap().len(), 3);

    // 130101 (too fast) is retryable; an unknown errcode is permanent.
    fake.then(
        200,
        vec![],
        r#"{"errcode":130101,"errmsg":"send too fast"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(200, vec![], r#"{"errcode":400101,"errmsg":"bad"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    fake.then(
        200,
        vec![],
        r#"{"errcode":310000,"errmsg":"sign not match"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn wecom_markdown_within_4096_bytes() {
    let fake = Fake::start(200, r#"{"errcode":0,"errmsg":"ok"}"#).await;
    let s = sink("wecom", format!("{}/cgi-bin/webhook/send?key=k", fake.base));
    deliver(&client(), &s, &event(card())).await.unwrap();
    let seen = fake.last();
    assert_eq!(seen.path, "/cgi-bin/webhook/send");
    assert_eq!(seen.query.as_deref(), Some("key=k"));
    let body = seen.json();
    assert_eq!(body["msgtype"], "markdown");
    assert_eq!(body.as_object().unwrap().len(), 2);
    assert_masked(body["markdown"]["content"].as_str().unwrap());

    // A long transcript: trimmed to fit, the newest line kept, no broken characters.
    let mut long = card();
    long.transcript = (0..60)
        .map(|i| TranscriptLine {
            message_key: format!("m{i}"),
            text: format!("第{i}句：{}", "东西坏了太生气了".repeat(20)),
            sent_at: None,
            kind: Default::default(),
        })
        .collect();
    long.transcript.push(TranscriptLine {
        message_key: "last".into(),
        text: format!("最后一句，电话{PHONE}，地址{ADDRESS}"),
        sent_at: None,
        kind: Default::default(),
    });
    deliver(&client(), &s, &event(long)).await.unwrap();
    let seen = fake.last();
    assert!(std::str::from_utf8(&seen.body).is_ok());
    let content = seen.json()["markdown"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.len() <= 4096, "{} bytes", content.len());
    assert!(
        content.len() > 3000,
        "trimmed only as needed: {}",
        content.len()
    );
    assert!(content.contains("最后一句"));
    assert!(!content.contains("第0句"));
    assert_masked(&content);
    assert!(content.contains("处理时限") && content.contains("打开控制台"));

    // 45009 is retryable, 500 retryable, 400 permanent.
    fake.then(
        200,
        vec![],
        r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#,
    );
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(500, vec![], "oops");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Retryable { .. }), "{e:?}");
    fake.then(400, vec![], "bad");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
}

#[tokio::test]
async fn feishu_signs_the_body_and_sends_a_card() {
    let fake = Fake::start(200, r#"{"code":0,"msg":"success"}"#).await;
    let mut s = sink("feishu", format!("{}/open-apis/bot/v2/hook/x", fake.base));
    s.secret = Some("fs-secret".into());
    deliver(&client(), &s, &event(card())).await.unwrap();
    let body = fake.last().json();
    assert_eq!(body["msg_type"], "interactive");
    let ts = body["timestamp"].as_str().unwrap();
    let ts_n: i64 = ts.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - ts_n).abs() < 60,
        "seconds"
    );
    assert_eq!(
        body["sign"],
        hmac_b64(format!("{ts}\nfs-secret").as_bytes(), b"")
    );
    let card_json = &body["card"];
    assert_eq!(card_json["header"]["template"], "red");
    assert!(card_json["header"]["title"]["content"]
        .as_str()
        .unwrap()
        .contains("#42"));
    let text = card_json["elements"].to_string();
    assert_masked(&text);
    assert!(text.contains("https://anfu.example/console#/handoffs/42"));
    assert!(text.contains("问题类型"));

    fake.then(200, vec![], r#"{"code":11232,"msg":"frequency limited"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(retry_after_of(e).is_some());
    fake.then(200, vec![], r#"{"code":19021,"msg":"sign match fail"}"#);
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn slack_blocks_and_retry_after() {
    let fake = Fake::start(200, "ok").await;
    let s = sink("slack", format!("{}/services/T/B/X", fake.base));
    deliver(&client(), &s, &event(card())).await.unwrap();
    let body = fake.last().json();
    assert!(body["text"].as_str().unwrap().contains("#42"));
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[1]["type"], "section");
    assert!(blocks[1]["fields"].as_array().unwrap().len() <= 10);
    assert_eq!(blocks.last().unwrap()["type"], "actions");
    assert_eq!(
        blocks.last().unwrap()["elements"][0]["url"],
        "https://anfu.example/console#/handoffs/42"
    );
    assert_masked(&body.to_string());

    fake.then(429, vec![("retry-after", "7".into())], "rate_limited");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert_eq!(retry_after_of(e), Some(Duration::from_secs(7)));
    fake.then(500, vec![], "");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert_eq!(retry_after_of(e), None);
    fake.then(400, vec![], "invalid_blocks");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent { .. }), "{e:?}");
    fake.then(403, vec![], "invalid_token");
    let e = deliver(&client(), &s, &event(card())).await.unwrap_err();
    assert!(matches!(e, SendError::AuthExpired { .. }), "{e:?}");
}
