//! Typed, layered configuration: embedded defaults → the TOML file → `ANFU_SECTION__KEY`
//! environment variables. Validated once at start; unknown keys and missing secrets are
//! errors that name the key.

mod duration;
mod layers;
mod shops;
mod sinks;

pub use duration::HumanDuration;
pub use sinks::{SinkConfig, SinkKind};

use crate::domain::Priority;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Everything `anfu serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub data: DataConfig,
    pub conversation: ConversationConfig,
    pub sla: SlaConfig,
    pub worker: WorkerConfig,
    pub http_client: HttpClientConfig,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub shops: Vec<ShopConfig>,
    pub sinks: Vec<SinkConfig>,
    /// The file it was read from, if any: a reload reads it again.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub agent_token: String,
    pub max_body: usize,
    /// How agents reach this service (for links in handoff cards); empty: no links.
    pub public_url: String,
    /// Serve `/metrics` on this address instead of the main listener ("" = main listener).
    pub metrics_listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub url: String,
    /// SQLite only: the database file's size cap in bytes (0: none), enforced with
    /// `PRAGMA max_page_count`. Reaching it behaves like a full disk.
    pub max_size: u64,
    /// How long finished jobs and the messages of settled conversations are kept (0: for
    /// ever).
    pub keep: HumanDuration,
}

/// Which store `storage.url` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageBackend {
    Sqlite,
    Postgres,
}

impl StorageConfig {
    /// By the URL's scheme: `sqlite:` or `postgres:`/`postgresql:`. The error names the key
    /// and the scheme only (a database URL may carry a password).
    pub fn backend(&self) -> Result<StorageBackend, String> {
        let scheme = self.url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Ok(StorageBackend::Sqlite),
            "postgres" | "postgresql" => Ok(StorageBackend::Postgres),
            _ => Err(format!(
                "storage.url: unsupported scheme `{scheme}` (use sqlite://PATH or postgres://USER@HOST/DB)"
            )),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub intents: PathBuf,
    pub replies: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationConfig {
    pub burst_window: HumanDuration,
    pub cooldown: HumanDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    #[serde(rename = "P1")]
    pub p1: HumanDuration,
    #[serde(rename = "P2")]
    pub p2: HumanDuration,
    #[serde(rename = "P3")]
    pub p3: HumanDuration,
    /// How often the SLA timer looks for overdue tickets.
    pub check_every: HumanDuration,
    /// Tickets this close to their due time are announced as about to breach (at most half
    /// of the priority's SLA, so a short SLA is not "about to breach" from the start).
    pub warn_before: HumanDuration,
    /// A P1 ticket nobody claims this long after it opened is announced once to the sinks
    /// marked `escalation = true` (a supervisors' group).
    pub escalate_after: HumanDuration,
    /// A buyer complaining again within this time after their ticket was resolved reopens it
    /// (marked repeat, one priority higher); later, a new ticket opens.
    pub reopen_within: HumanDuration,
}

impl SlaConfig {
    /// How long before the due time a ticket of priority `p` is about to breach.
    pub fn warn_lead(&self, p: Priority) -> std::time::Duration {
        self.warn_before.0.min(self.for_priority(p).0 / 2)
    }

    pub fn for_priority(&self, p: Priority) -> HumanDuration {
        match p {
            Priority::P1 => self.p1,
            Priority::P2 => self.p2,
            Priority::P3 => self.p3,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    pub concurrency: usize,
    /// Jobs one worker claims in one query and runs side by side.
    pub claim_batch: usize,
    /// Replies in flight to one shop's platform at most, across this instance's workers.
    pub sends_per_shop: usize,
    pub max_attempts: u32,
    /// Attempts for handoff notices: a group robot down for hours must not lose tickets.
    pub notify_max_attempts: u32,
    pub retry_base: HumanDuration,
    pub retry_max: HumanDuration,
    pub lease: HumanDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    pub timeout: HumanDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Webhook requests per shop per minute; past it 429 + Retry-After. 0: no limit.
    pub webhooks_per_shop_per_minute: u32,
    /// Bot replies per buyer per hour, across conversations; past it tickets still open. 0: no limit.
    pub replies_per_buyer_per_hour: u32,
    /// The newest characters of a message or conversation the analyzer reads. 0: all.
    pub max_analysis_chars: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` for people, `json` (one object per line) for log collectors.
    pub format: LogFormat,
    /// The default filter, e.g. "info" or "anfu=debug,info"; RUST_LOG wins when set.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    Taobao,
    Rakuten,
    Generic,
    Shopee,
}

impl PlatformKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::Taobao => "taobao",
            PlatformKind::Rakuten => "rakuten",
            PlatformKind::Generic => "generic",
            PlatformKind::Shopee => "shopee",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RakutenMode {
    #[default]
    Poll,
    Push,
}

pub use crate::signing::TopSignMethod;
pub use shops::{GenericKeys, PlatformKeys, RakutenKeys, ShopConfig, ShopeeKeys, TaobaoKeys};

/// A configuration problem, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults, then `file` (if any), then the `ANFU_` variables of `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = match file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?,
            ),
            None => None,
        };
        Config::from_layers(text.as_deref(), file, env)
    }

    /// Like [`Config::load`] with the file's text given (tests, demo).
    pub fn from_layers(
        text: Option<&str>,
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = layers::merged(text, file, env)?;
        layers::read_secret_files(&mut table, "")?;
        let mut config = layers::typed(table)?;
        sinks::name_all(&mut config.sinks);
        config.file = file.map(Path::to_path_buf);
        config.validate()?;
        Ok(config)
    }

    pub fn shop(&self, id: &str) -> Option<&ShopConfig> {
        self.shops.iter().find(|s| s.id == id)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.server.agent_token.trim().is_empty() {
            problems.push("server.agent_token is missing (the agent API needs a secret)".into());
        }
        if self.worker.concurrency == 0 {
            problems.push("worker.concurrency must be at least 1".into());
        }
        if !(1..=64).contains(&self.worker.claim_batch) {
            problems.push("worker.claim_batch must be from 1 to 64".into());
        }
        if self.worker.sends_per_shop == 0 {
            problems.push("worker.sends_per_shop must be at least 1".into());
        }
        match self.storage.backend() {
            Err(e) => problems.push(e),
            Ok(StorageBackend::Postgres) if self.storage.max_size > 0 => problems.push(
                "storage.max_size applies to SQLite only (size PostgreSQL's disk or quota instead)"
                    .into(),
            ),
            Ok(_) => {}
        }
        let mut seen = std::collections::HashSet::new();
        for (i, shop) in self.shops.iter().enumerate() {
            let at = format!("shops[{i}] (id `{}`)", shop.id);
            if shop.id.is_empty()
                || !shop
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.push(format!("{at}.id must be letters, digits, - or _"));
            }
            if !seen.insert(shop.id.clone()) {
                problems.push(format!("{at}.id is used twice"));
            }
            if !(shop.api_base.starts_with("http://") || shop.api_base.starts_with("https://")) {
                problems.push(format!("{at}.api_base must be an http(s) URL"));
            }
        }
        problems.extend(sinks::problems(&self.sinks));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests;
