//! The config file of a test instance: every shop, sink and option the tests use, on a
//! SQLite file in the test's own folder.

use super::*;

pub(super) fn config_text(db: &std::path::Path, base: &str, o: &Options) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
agent_token = "{TOKEN}"
max_body = {max_body}
{server}
[storage]
url = "{url}"
{storage}
[data]
intents = "{intents}"
replies = "{replies}"
[conversation]
{conversation}
[sla]
{sla}
[worker]
concurrency = 2
max_attempts = {max_attempts}
retry_base = "50ms"
retry_max = "2s"
lease = "30s"
{worker}
[http_client]
timeout = "2s"
[[shops]]
id = "tb"
platform = "taobao"
api_base = "{base}"
app_key = "{APP_KEY}"
secret = "{TB_SECRET}"
session = "tb-session"
[[shops]]
id = "rk"
platform = "rakuten"
api_base = "{base}"
service_secret = "{RK_SERVICE}"
license_key = "{RK_LICENSE}"
mode = "push"
[[shops]]
id = "rkpoll"
platform = "rakuten"
api_base = "{base}"
service_secret = "{RK_SERVICE}"
license_key = "{RK_LICENSE}"
mode = "poll"
poll_interval = "200ms"
[[shops]]
id = "gen"
platform = "generic"
api_base = "{base}"
secret = "{GEN_SECRET}"
{gen_shop}
{sinks}
{extra}
"#,
        url = o
            .storage_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", db.display())),
        intents = o
            .data
            .clone()
            .unwrap_or_else(root)
            .join("intents")
            .display(),
        replies = o
            .data
            .clone()
            .unwrap_or_else(root)
            .join("replies")
            .display(),
        conversation = o.conversation,
        max_body = o.max_body,
        sinks = o.sinks.replace("{base}", base),
        sla = o.sla,
        gen_shop = o.gen_shop,
        server = o.server,
        extra = o.extra.replace("{base}", base),
        worker = o.worker,
        max_attempts = o.max_attempts,
        storage = o.storage,
    )
}
