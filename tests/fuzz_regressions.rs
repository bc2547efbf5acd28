//! Inputs found while fuzzing (`fuzz/`, see FUZZING.md) that once panicked. Each must now be
//! refused or handled without a panic.

use anfu::config::{Config, ShopConfig};
use anfu::platform::generic::{self, SignatureHeaders};

fn config() -> Config {
    let text = r#"
[server]
agent_token = "fuzz-token"
[[shops]]
id = "gen"
platform = "generic"
api_base = "https://gen.invalid"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#;
    Config::from_layers(Some(text), None, Vec::<(String, String)>::new()).expect("valid config")
}

fn shop<'a>(config: &'a Config, id: &str) -> &'a ShopConfig {
    config.shop(id).expect("shop exists")
}

/// `now - timestamp` overflowed i64 (a panic in debug builds, a wrong answer in release) for a
/// `webhook-timestamp` near i64::MIN.
#[test]
fn generic_verify_refuses_a_timestamp_near_i64_min_without_overflow() {
    let config = config();
    for timestamp in [
        "-9223372036854775808",
        "-9223372036854775807",
        "9223372036854775807",
    ] {
        let headers = SignatureHeaders {
            id: Some("msg_1"),
            timestamp: Some(timestamp),
            signature: Some("v1,AAAA"),
        };
        let err = generic::verify(shop(&config, "gen"), &headers, b"{}")
            .expect_err("far-off timestamps are refused");
        assert_eq!(err.code, "stale-timestamp", "{timestamp}");
    }
}
