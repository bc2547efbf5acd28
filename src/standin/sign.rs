//! The sending side of the webhook contracts: how a platform (or relay) signs a push.

use crate::config::TopSignMethod;
use crate::signing::{decode_whsec, esa_authorization, standard_webhooks_sign, top_sign};

/// The query string of a Taobao-style push of `body`, signed now.
pub fn taobao_query(app_key: &str, secret: &str, method: TopSignMethod, body: &[u8]) -> String {
    taobao_query_at(
        app_key,
        secret,
        method,
        body,
        &crate::platform::taobao::timestamp_now(),
    )
}

pub fn taobao_query_at(
    app_key: &str,
    secret: &str,
    method: TopSignMethod,
    body: &[u8],
    timestamp: &str,
) -> String {
    let mut params: Vec<(String, String)> = vec![
        ("app_key".into(), app_key.into()),
        ("timestamp".into(), timestamp.into()),
        ("sign_method".into(), method.as_str().into()),
    ];
    let sign = top_sign(method, secret, &params, body);
    params.push(("sign".into(), sign));
    serde_urlencoded::to_string(&params).expect("strings encode")
}

/// Standard Webhooks headers for `body` (id, timestamp, signature).
pub fn generic_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(String, String); 3] {
    let key = decode_whsec(secret).unwrap_or_default();
    [
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        (
            "webhook-signature".into(),
            format!("v1,{}", standard_webhooks_sign(&key, id, timestamp, body)),
        ),
    ]
}

pub fn rakuten_authorization(service_secret: &str, license_key: &str) -> String {
    esa_authorization(service_secret, license_key)
}

/// A Shopee push's `Authorization`, signed over the callback URL as registered.
pub fn shopee_push(partner_key: &str, callback_url: &str, body: &[u8]) -> String {
    crate::platform::shopee::sign::push(partner_key, callback_url, body)
}
