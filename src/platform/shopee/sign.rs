//! Shopee's signature schemes (platforms.md §7), each lower-case hex HMAC-SHA256 keyed with
//! the partner key:
//! - a push: over `callback_url + "|" + raw body`, the callback URL exactly as registered in
//!   the Shopee console (behind a proxy it differs from the URL anfu sees);
//! - a shop API call: over `partner_id + api_path + timestamp + access_token + shop_id`;
//! - a public API call (token refresh): over `partner_id + api_path + timestamp`.

use crate::signing::{hmac_sha256, same};

fn hex_hmac(partner_key: &str, message: &[u8]) -> String {
    hex::encode(hmac_sha256(partner_key.as_bytes(), message))
}

/// The `Authorization` a push to `callback_url` with `body` carries.
pub fn push(partner_key: &str, callback_url: &str, body: &[u8]) -> String {
    let mut message = format!("{callback_url}|").into_bytes();
    message.extend_from_slice(body);
    hex_hmac(partner_key, &message)
}

/// Whether a push's `Authorization` header is Shopee's (constant-time; case-insensitive hex).
pub fn push_is_genuine(partner_key: &str, callback_url: &str, body: &[u8], header: &str) -> bool {
    same(
        &header.trim().to_ascii_lowercase(),
        &push(partner_key, callback_url, body),
    )
}

/// The `sign` of a shop API call (send a message, read a conversation).
pub fn shop_api(
    partner_key: &str,
    partner_id: u64,
    api_path: &str,
    timestamp: i64,
    access_token: &str,
    shop_id: u64,
) -> String {
    let base = format!("{partner_id}{api_path}{timestamp}{access_token}{shop_id}");
    hex_hmac(partner_key, base.as_bytes())
}

/// The `sign` of a public API call (the access-token refresh).
pub fn public_api(partner_key: &str, partner_id: u64, api_path: &str, timestamp: i64) -> String {
    let base = format!("{partner_id}{api_path}{timestamp}");
    hex_hmac(partner_key, base.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "shpk-test-partner-key";
    /// §7's push body, on one line without spaces after separators.
    const BODY: &str = r#"{"msg_id":"a1","shop_id":14701711,"code":10,"timestamp":1726044722,"data":{"type":"message","content":{"message_id":"2302748948493123953","shop_id":14701711,"from_id":165105353,"from_user_name":"buyer_tw","to_id":947151379,"to_user_name":"seller_tw","message_type":"text","content":{"text":"收到的杯子破了"},"conversation_id":"709122092476686867","created_timestamp":1726044721,"region":"TW"}}}"#;
    const CALLBACK: &str = "https://anfu.example/webhooks/shopee/tw1";

    #[test]
    fn a_push_signature_matches_the_vector() {
        let want = "170174a72b7f3c60e0b1fd447591ab0ac9ce28ef44ff8be8d42d19192565758b";
        assert_eq!(push(KEY, CALLBACK, BODY.as_bytes()), want);
        assert!(push_is_genuine(KEY, CALLBACK, BODY.as_bytes(), want));
        assert!(push_is_genuine(
            KEY,
            CALLBACK,
            BODY.as_bytes(),
            &want.to_uppercase()
        ));
    }

    #[test]
    fn a_forged_or_misaddressed_push_is_refused() {
        let genuine = push(KEY, CALLBACK, BODY.as_bytes());
        let other_body = BODY.replace("破了", "好了");
        assert!(!push_is_genuine(
            KEY,
            CALLBACK,
            other_body.as_bytes(),
            &genuine
        ));
        let other_url = "http://10.0.0.5:8080/webhooks/shopee/tw1";
        assert!(!push_is_genuine(KEY, other_url, BODY.as_bytes(), &genuine));
        assert!(!push_is_genuine(
            "other-key",
            CALLBACK,
            BODY.as_bytes(),
            &genuine
        ));
        assert!(!push_is_genuine(KEY, CALLBACK, BODY.as_bytes(), ""));
    }

    #[test]
    fn the_shop_api_sign_matches_shopees_documented_example() {
        let token = "59777174636562737266615546704c6d";
        assert_eq!(
            shop_api(
                KEY,
                2001887,
                "/api/v2/shop/get_shop_info",
                1655714431,
                token,
                14701711
            ),
            "aa9fac92635a70d58e27bf96c164a67ebbebe2902f059d5e9935a51d30e7f429"
        );
    }

    #[test]
    fn the_public_api_sign_matches_the_vector() {
        assert_eq!(
            public_api(KEY, 2001887, "/api/v2/auth/access_token/get", 1655714431),
            "4c72b65ac9599832b0287d1ab89525f9afbebb19677782436f853f5b85132bea"
        );
    }
}
