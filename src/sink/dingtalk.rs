//! DingTalk custom robot: markdown, signed in the URL.

use super::card::{markdown, view};
use super::{check_code, post_json, HandoffEvent};
use crate::config::SinkConfig;
use crate::outbound::SendError;
use crate::signing::hmac_sha256;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::json;

/// 130101: sending too fast.
const TOO_FAST: i64 = 130101;
/// 300001: no such token; 310000: signature / keyword / IP check failed.
const AUTH: &[i64] = &[300001, 310000];

/// base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), not yet URL-encoded.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    B64.encode(hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    ))
}

/// `{url}&timestamp={ms}&sign={urlencoded}` (or `?` when the URL has no query yet).
pub fn signed_url(url: &str, secret: &str, timestamp_ms: i64) -> String {
    let query = serde_urlencoded::to_string([
        ("timestamp", timestamp_ms.to_string()),
        ("sign", sign(secret, timestamp_ms)),
    ])
    .unwrap_or_default();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

pub async fn deliver(
    client: &reqwest::Client,
    sink: &SinkConfig,
    event: &HandoffEvent,
) -> Result<(), SendError> {
    let v = view(event);
    post(client, sink, &v.title, &markdown(&v)).await
}

/// Posts one markdown message, signed when the robot has a secret.
pub async fn post(
    client: &reqwest::Client,
    sink: &SinkConfig,
    title: &str,
    text: &str,
) -> Result<(), SendError> {
    let body = json!({
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": [], "isAtAll": false},
    });
    let url = match sink.secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => signed_url(&sink.url, secret, chrono::Utc::now().timestamp_millis()),
        None => sink.url.clone(), // a robot secured by keyword or IP only
    };
    let answer = post_json(client, &url, &body).await?;
    check_code(&answer, "errcode", &[TOO_FAST], AUTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_url_appends_or_starts_the_query_and_encodes_the_sign() {
        let sig = sign("SECx", 1700000000000);
        assert_eq!(
            sig,
            B64.encode(hmac_sha256(b"SECx", b"1700000000000\nSECx"))
        );
        let encoded = serde_urlencoded::to_string([("s", sig.as_str())]).unwrap();
        let with = signed_url("https://r/send?access_token=t", "SECx", 1700000000000);
        assert_eq!(
            with,
            format!(
                "https://r/send?access_token=t&timestamp=1700000000000&{}",
                encoded.replacen("s=", "sign=", 1)
            )
        );
        assert!(
            signed_url("https://r/send", "SECx", 1).starts_with("https://r/send?timestamp=1&sign=")
        );
        let (_, sign_param) = with.split_once("&sign=").unwrap();
        assert!(!sign_param.contains(['+', '/', '=']), "{sign_param}");
    }
}
