// Shared by the platform targets: one config with a shop per platform, built once.
use anfu::config::{Config, ShopConfig};
use std::sync::OnceLock;

const CONFIG: &str = r#"
[server]
agent_token = "fuzz-token"
[[shops]]
id = "tb"
platform = "taobao"
api_base = "https://tb.invalid"
app_key = "12345678"
secret = "tb-secret"
session = "tb-session"
[[shops]]
id = "rk"
platform = "rakuten"
api_base = "https://rk.invalid"
service_secret = "SP338276_a"
license_key = "SL338276_b"
mode = "push"
[[shops]]
id = "gen"
platform = "generic"
api_base = "https://gen.invalid"
secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"#;

pub fn shop(id: &str) -> &'static ShopConfig {
    static CFG: OnceLock<Config> = OnceLock::new();
    CFG.get_or_init(|| {
        Config::from_layers(Some(CONFIG), None, Vec::<(String, String)>::new())
            .expect("fuzz config is valid")
    })
    .shop(id)
    .expect("shop exists")
}
