//! Hot reload of the data (SIGHUP, or `POST /v1/admin/reload`): the dictionaries with the
//! model weights, the replies, read from where the config says, and the shops' reply
//! settings, read again from the config file. The new set is validated
//! whole first; a bad file keeps the running set and raises the `data` operator alert naming
//! file and line. Work in flight keeps the set it started with (each takes a snapshot), and
//! nothing restarts: webhooks and the consoles' live connections carry on.

use crate::analysis::{Analyzer, DataError, DataErrors};
use crate::app::AppState;
use crate::config::{Config, ShopConfig};
use crate::reply::ReplyBook;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// A value that is swapped whole while readers hold the snapshot they took.
pub struct Swappable<T>(RwLock<Arc<T>>);

impl<T> Swappable<T> {
    pub fn new(value: T) -> Swappable<T> {
        Swappable(RwLock::new(Arc::new(value)))
    }

    /// The current value; it stays valid for as long as it is held, whatever is swapped in.
    pub fn get(&self) -> Arc<T> {
        // A writer only ever swaps an Arc: a poisoned lock still holds a whole value.
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }
}

/// What a reload loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reloaded {
    pub terms: usize,
    pub model: bool,
    /// Shops whose reply settings were read again from the config file (0 without one).
    pub shops: usize,
    /// What changed in the config file that only a restart applies (kept as started).
    pub restart_needed: Vec<String>,
}

/// The operator alert a bad reload raises (cleared by a good one).
pub const ALERT: &str = "data";

/// Everything a reload reads, validated whole.
struct Loaded {
    analyzer: Analyzer,
    replies: ReplyBook,
    config: Option<Config>,
}

fn load(data: &crate::config::DataConfig, file: Option<&Path>) -> Result<Loaded, DataErrors> {
    let analyzer = Analyzer::from_dir(&data.intents);
    let replies = ReplyBook::from_dir(&data.replies);
    let config = file
        .map(|f| Config::load(Some(f), std::env::vars()).map_err(|e| DataError::new(f, None, e.0)));
    let mut problems = Vec::new();
    let analyzer = analyzer.map_err(|e| problems.extend(e.0));
    let replies = replies.map_err(|e| problems.extend(e.0));
    let config = config.transpose().map_err(|e| problems.push(e));
    match (analyzer, replies, config) {
        (Ok(analyzer), Ok(replies), Ok(config)) => Ok(Loaded {
            analyzer,
            replies,
            config,
        }),
        _ => Err(DataErrors(problems)),
    }
}

/// Loads and validates the configured data, and the shops' reply settings from the config
/// file the service started with, then swaps them in; on any problem nothing changes and the
/// alert lists the problems with file and line.
pub async fn reload(state: &AppState) -> Result<Reloaded, DataErrors> {
    let data = state.config.data.clone();
    let file = state.config.file.clone();
    let loaded = tokio::task::spawn_blocking(move || load(&data, file.as_deref()))
        .await
        .unwrap_or_else(|e| {
            Err(DataErrors(vec![DataError::new(
                &state.config.data.intents,
                None,
                format!("loading panicked: {e}"),
            )]))
        });
    match loaded {
        Ok(loaded) => {
            let mut done = Reloaded {
                terms: loaded.analyzer.vocabulary_size(),
                model: loaded.analyzer.model().is_some(),
                shops: 0,
                restart_needed: Vec::new(),
            };
            if let Some(fresh) = &loaded.config {
                let (shops, restart) = with_settings(&state.shops.get(), &state.config, fresh);
                done.shops = shops.len();
                done.restart_needed = restart;
                state.shops.set(shops);
            }
            state.analysis.replace(loaded.analyzer);
            state.replies.set(loaded.replies);
            state.clear_alert(ALERT);
            state
                .metrics
                .inc("anfu_data_reloads_total", &[("result", "ok")]);
            if done.restart_needed.is_empty() {
                tracing::info!(
                    terms = done.terms,
                    model = done.model,
                    shops = done.shops,
                    "data reloaded"
                );
            } else {
                tracing::warn!(terms = done.terms, shops = done.shops, restart_needed = ?done.restart_needed, "data and shop settings reloaded; the rest of the config changes only at a restart");
            }
            Ok(done)
        }
        Err(problems) => {
            state.raise_alert(
                ALERT,
                format!("the data was not reloaded; the previous set keeps running: {problems}"),
            );
            state
                .metrics
                .inc("anfu_data_reloads_total", &[("result", "refused")]);
            tracing::error!(%problems, "data reload refused");
            Err(problems)
        }
    }
}

/// The running shops by id.
pub type Shops = std::collections::HashMap<String, Arc<ShopConfig>>;

pub fn shops_of(shops: &[ShopConfig]) -> Shops {
    shops
        .iter()
        .map(|s| (s.id.clone(), Arc::new(s.clone())))
        .collect()
}

/// The running shops with the reply settings `fresh` gives them (name, language, business
/// hours and their clock, follow-up, review invitation), and what in `fresh` only a restart
/// can apply: shops added or removed, a shop's platform keys or API base, the data folders,
/// and any other section. Those are compared through their `Debug` form, which prints every
/// field, so no section has to implement equality just for this.
pub fn with_settings(running: &Shops, started: &Config, fresh: &Config) -> (Shops, Vec<String>) {
    let mut shops = running.clone();
    let mut restart = Vec::new();
    let same =
        |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") == format!("{b:?}");
    for new in &fresh.shops {
        let Some(old) = running.get(&new.id) else {
            restart.push(format!("shop `{}` added", new.id));
            continue;
        };
        if !same(&old.keys, &new.keys) || old.api_base != new.api_base {
            restart.push(format!("shop `{}`: platform keys or api_base", new.id));
        }
        let mut updated = ShopConfig::clone(old);
        updated.name = new.name.clone();
        updated.lang = new.lang;
        updated.hours = new.hours.clone();
        updated.utc_offset = new.utc_offset;
        updated.followup_after = new.followup_after;
        updated.invite_review = new.invite_review;
        shops.insert(new.id.clone(), Arc::new(updated));
    }
    for id in running.keys() {
        if !fresh.shops.iter().any(|s| &s.id == id) {
            restart.push(format!("shop `{id}` removed"));
        }
    }
    let sections: [(&str, &dyn std::fmt::Debug, &dyn std::fmt::Debug); 10] = [
        ("server", &started.server, &fresh.server),
        ("storage", &started.storage, &fresh.storage),
        ("data", &started.data, &fresh.data),
        ("conversation", &started.conversation, &fresh.conversation),
        ("sla", &started.sla, &fresh.sla),
        ("worker", &started.worker, &fresh.worker),
        ("http_client", &started.http_client, &fresh.http_client),
        ("log", &started.log, &fresh.log),
        ("limits", &started.limits, &fresh.limits),
        ("sinks", &started.sinks, &fresh.sinks),
    ];
    for (name, a, b) in sections {
        if !same(a, b) {
            restart.push(format!("[{name}]"));
        }
    }
    (shops, restart)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(shops: &str) -> Config {
        let text = format!("[server]\nagent_token = \"t\"\n{shops}");
        Config::from_layers(Some(&text), None, Vec::<(String, String)>::new()).expect("valid")
    }

    const TB: &str = "[[shops]]\nid = \"tb\"\nplatform = \"taobao\"\napi_base = \"https://gw\"\napp_key = \"1\"\nsecret = \"s\"\nsession = \"x\"\n";

    #[test]
    fn reply_settings_apply_and_the_rest_waits_for_a_restart() {
        let started = config(TB);
        let running = shops_of(&started.shops);
        let renamed = config(&format!(
            "{}name = \"小鱼\"\nlang = \"zh-Hant\"\ninvite_review = true\n",
            TB.replace("session = \"x\"", "session = \"rotated\"")
        ));
        let (shops, restart) = with_settings(&running, &started, &renamed);
        let tb = &shops["tb"];
        assert_eq!(tb.display_name(), "小鱼");
        assert_eq!(tb.lang, crate::domain::Lang::Hant);
        assert!(tb.invite_review);
        assert_eq!(
            tb.taobao().map(|k| k.session.as_str()),
            Some("x"),
            "keys as started"
        );
        assert_eq!(restart, ["shop `tb`: platform keys or api_base"]);

        let moved = config(&TB.replace("tb", "tb2"));
        let (shops, restart) = with_settings(&running, &started, &moved);
        assert!(shops.contains_key("tb") && !shops.contains_key("tb2"));
        assert_eq!(restart, ["shop `tb2` added", "shop `tb` removed"]);

        let (_, restart) = with_settings(&running, &started, &config(TB));
        assert!(restart.is_empty(), "{restart:?}");
    }
}
