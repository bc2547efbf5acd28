//! Merging the three layers into one TOML table, then into typed sections.

use super::{Config, ConfigError};
use serde::de::DeserializeOwned;
use std::path::Path;
use toml::{Table, Value};

const DEFAULTS: &str = include_str!("../../config/default.toml");

pub(super) fn merged(
    text: Option<&str>,
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Table, ConfigError> {
    let mut table: Table = DEFAULTS
        .parse()
        .map_err(|e| ConfigError(format!("built-in defaults: {e}")))?;
    if let Some(text) = text {
        let name = file.map_or("config".into(), |p| p.display().to_string());
        let user: Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| crate::analysis::data_error::line_of(text, s.start))
                .unwrap_or(0);
            ConfigError(format!("{name}:{line}: {}", e.message().trim()))
        })?;
        merge(&mut table, user);
    }
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("ANFU_") && k.contains("__"))
        .collect();
    vars.sort();
    for (key, value) in vars {
        apply_env(&mut table, &key, value)?;
    }
    Ok(table)
}

/// Tables merge key by key; anything else (values, arrays of shops) is replaced.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `ANFU_SERVER__LISTEN=…` sets server.listen; `ANFU_SHOPS__XIAOYU__SECRET=…` sets the secret
/// of the shop whose id is "xiaoyu" (so secrets can stay out of the file).
fn apply_env(table: &mut Table, var: &str, value: String) -> Result<(), ConfigError> {
    let path: Vec<String> = var["ANFU_".len()..]
        .split("__")
        .map(|p| p.to_ascii_lowercase())
        .collect();
    let (section, rest) = path.split_first().expect("split yields one part");
    if section == "shops" || section == "sinks" {
        let [id, key] = rest else {
            return Err(ConfigError(format!(
                "{var}: expected ANFU_{}__<ID>__<KEY>",
                section.to_uppercase()
            )));
        };
        let list = table
            .get_mut(section.as_str())
            .and_then(Value::as_array_mut)
            .ok_or_else(|| ConfigError(format!("{var}: no [[{section}]] is configured")))?;
        let entry = list
            .iter_mut()
            .filter_map(Value::as_table_mut)
            .enumerate()
            .find(|(i, t)| {
                // Shops by `id`, sinks by `name` (or by position when unnamed).
                t.get("id")
                    .or_else(|| t.get("name"))
                    .and_then(Value::as_str)
                    .map_or(i.to_string() == *id, |s| s.eq_ignore_ascii_case(id))
            })
            .map(|(_, t)| t)
            .ok_or_else(|| ConfigError(format!("{var}: no {section} entry with id `{id}`")))?;
        set(entry, key, value, var)
    } else {
        let [key] = rest else {
            return Err(ConfigError(format!("{var}: expected ANFU_SECTION__KEY")));
        };
        let section_table = table
            .get_mut(section.as_str())
            .and_then(Value::as_table_mut)
            .ok_or_else(|| ConfigError(format!("{var}: unknown section `{section}`")))?;
        // SLA keys are upper case in the file.
        let key = if section == "sla" {
            key.to_ascii_uppercase()
        } else {
            key.clone()
        };
        set(section_table, &key, value, var)
    }
}

/// Keeps the type of the value it replaces (numbers stay numbers, ids stay strings).
fn set(table: &mut Table, key: &str, value: String, var: &str) -> Result<(), ConfigError> {
    let typed = match table.get(key) {
        Some(Value::Integer(_)) => Value::Integer(
            value
                .parse()
                .map_err(|_| ConfigError(format!("{var}: `{value}` is not a whole number")))?,
        ),
        Some(Value::Boolean(_)) => Value::Boolean(
            value
                .parse()
                .map_err(|_| ConfigError(format!("{var}: `{value}` is not true or false")))?,
        ),
        _ => Value::String(value),
    };
    table.insert(key.to_string(), typed);
    Ok(())
}

fn section<T: DeserializeOwned>(table: &mut Table, name: &str) -> Result<T, ConfigError> {
    let value = table
        .remove(name)
        .ok_or_else(|| ConfigError(format!("missing section [{name}]")))?;
    value
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError(format!("[{name}]: {}", e.message().trim())))
}

fn list<T: DeserializeOwned>(table: &mut Table, name: &str) -> Result<Vec<T>, ConfigError> {
    let Some(value) = table.remove(name) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(ConfigError(format!(
            "{name} must be a list of [[{name}]] tables"
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .map(|s| format!(" (id `{s}`)"))
                .unwrap_or_default();
            item.try_into().map_err(|e: toml::de::Error| {
                ConfigError(format!("{name}[{i}]{id}: {}", e.message().trim()))
            })
        })
        .collect()
}

/// `KEY_file = "/run/secrets/x"` (or `ANFU_…__KEY_FILE`) sets `KEY` to that file's contents,
/// trailing newline removed, so secrets can live in mounted files (Docker, Kubernetes,
/// systemd credentials) rather than in the config or the environment.
pub(super) fn read_secret_files(table: &mut Table, at: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = table.keys().cloned().collect();
    for key in keys {
        let here = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        match table.get_mut(&key) {
            Some(Value::Table(inner)) => read_secret_files(inner, &here)?,
            Some(Value::Array(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    if let Value::Table(inner) = item {
                        read_secret_files(inner, &format!("{here}[{i}]"))?;
                    }
                }
            }
            _ => {}
        }
        let Some(base) = key.strip_suffix("_file") else {
            continue;
        };
        let Some(Value::String(path)) = table.get(&key).cloned() else {
            return Err(ConfigError(format!("{here} must be a file path")));
        };
        // The built-in defaults leave secrets empty: only a value someone set conflicts.
        if table
            .get(base)
            .is_some_and(|v| v.as_str().is_none_or(|s| !s.is_empty()))
        {
            return Err(ConfigError(format!(
                "{here} and {} are both set: keep one",
                here.trim_end_matches("_file")
            )));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError(format!("{here}: cannot read {path}: {e}")))?;
        let value = text.trim_end_matches(['\n', '\r']).to_string();
        table.remove(&key);
        table.insert(base.to_string(), Value::String(value));
    }
    Ok(())
}

pub(super) fn typed(mut table: Table) -> Result<Config, ConfigError> {
    let config = Config {
        server: section(&mut table, "server")?,
        storage: section(&mut table, "storage")?,
        data: section(&mut table, "data")?,
        conversation: section(&mut table, "conversation")?,
        sla: section(&mut table, "sla")?,
        worker: section(&mut table, "worker")?,
        http_client: section(&mut table, "http_client")?,
        log: section(&mut table, "log")?,
        limits: section(&mut table, "limits")?,
        shops: shops(list(&mut table, "shops")?)?,
        sinks: list(&mut table, "sinks")?,
        file: None,
    };
    if let Some(unknown) = table.keys().next() {
        return Err(ConfigError(format!("unknown key `{unknown}`")));
    }
    Ok(config)
}

/// Types each shop by its platform; every missing key is reported at once.
fn shops(raw: Vec<super::shops::RawShop>) -> Result<Vec<super::ShopConfig>, ConfigError> {
    let mut problems = Vec::new();
    let mut typed = Vec::new();
    for (i, shop) in raw.into_iter().enumerate() {
        let at = format!("shops[{i}] (id `{}`)", shop.id());
        typed.extend(shop.typed(&at, &mut problems));
    }
    if problems.is_empty() {
        Ok(typed)
    } else {
        Err(ConfigError(problems.join("; ")))
    }
}
