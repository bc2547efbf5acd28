//! Order-number extraction: platform formats from `intents/order_id.toml`, with the context
//! words that rule a number out (couriers, phones, invoices) and the lead-ins that make a
//! number the order number when a message holds several.

use super::data_error::{from_toml, line_of, DataError, DataErrors};
use super::normalize::{normalize_term, Normalized};
use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderIdFile {
    format: Vec<FormatDef>,
    #[serde(default)]
    not_after: Vec<Spanned<String>>,
    #[serde(default)]
    lead_ins: Vec<Spanned<String>>,
    #[serde(default = "default_context")]
    context_chars: usize,
}

fn default_context() -> usize {
    8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatDef {
    name: String,
    pattern: Spanned<String>,
}

/// A number found in a message, with the format it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderIdMatch {
    pub format: String,
    /// Char offsets into the original text.
    pub start: usize,
    pub end: usize,
}

/// Compiled order-number rules.
#[derive(Debug)]
pub struct OrderIdRules {
    formats: Vec<(String, Regex)>,
    /// Context words; index < `not_after_count` means "not an order id".
    context: AhoCorasick,
    not_after_count: usize,
    context_chars: usize,
}

impl OrderIdRules {
    /// Loads `order_id.toml`.
    ///
    /// # Errors
    /// Unreadable or malformed TOML, unknown keys, empty context words, patterns that do not
    /// compile; each with file and line.
    pub fn from_file(file: &Path) -> Result<OrderIdRules, DataErrors> {
        let source = crate::built_in::read_to_string(file).map_err(|e| {
            DataErrors(vec![DataError::new(
                file,
                None,
                format!("cannot read: {e}"),
            )])
        })?;
        let parsed: OrderIdFile =
            toml::from_str(&source).map_err(|e| DataErrors(vec![from_toml(file, &source, &e)]))?;
        let mut errors = Vec::new();
        let mut formats = Vec::new();
        for f in &parsed.format {
            let line = line_of(&source, f.pattern.span().start);
            // Anchored to whole numbers later, so the pattern itself stays readable.
            match Regex::new(f.pattern.get_ref()) {
                Ok(r) => formats.push((f.name.clone(), r)),
                Err(e) => errors.push(DataError::new(
                    file,
                    Some(line),
                    format!("bad regular expression for format `{}`: {e}", f.name),
                )),
            }
        }
        if parsed.format.is_empty() {
            errors.push(DataError::new(file, None, "no [[format]] defined"));
        }
        let mut words = Vec::new();
        for list in [&parsed.not_after, &parsed.lead_ins] {
            for w in list {
                let normalized = normalize_term(w.get_ref());
                if normalized.is_empty() {
                    let line = line_of(&source, w.span().start);
                    errors.push(DataError::new(file, Some(line), "empty context word"));
                }
                words.push(normalized);
            }
        }
        if !errors.is_empty() {
            return Err(DataErrors(errors));
        }
        let context = AhoCorasick::new(&words).map_err(|e| {
            DataErrors(vec![DataError::new(
                file,
                None,
                format!("cannot compile context words: {e}"),
            )])
        })?;
        Ok(OrderIdRules {
            formats,
            context,
            not_after_count: parsed.not_after.len(),
            context_chars: parsed.context_chars,
        })
    }

    /// The order number of a message: candidates that match a format as a whole number and
    /// are not ruled out by their context; one after a lead-in (`订单号`) wins, else the first.
    pub fn find(&self, text: &Normalized) -> Option<OrderIdMatch> {
        let mut best: Option<(bool, OrderIdMatch)> = None;
        for (name, regex) in &self.formats {
            for m in regex.find_iter(&text.text) {
                if !stands_alone(&text.text, m.start(), m.end()) {
                    continue;
                }
                let start = text.char_at_byte(m.start());
                let end = text.char_at_byte(m.end());
                let Some(has_lead_in) = self.judge_context(text, start) else {
                    continue;
                };
                let candidate = OrderIdMatch {
                    format: name.clone(),
                    start,
                    end,
                };
                let better = match &best {
                    None => true,
                    Some((best_lead, best_m)) => {
                        (has_lead_in && !best_lead)
                            || (has_lead_in == *best_lead && candidate.start < best_m.start)
                    }
                };
                if better {
                    best = Some((has_lead_in, candidate));
                }
            }
        }
        best.map(|(_, m)| m)
    }

    /// `None` if the nearest context word before `start` rules the number out, else whether
    /// that word is an order lead-in.
    fn judge_context(&self, text: &Normalized, start: usize) -> Option<bool> {
        let from = start.saturating_sub(self.context_chars);
        let window = text.slice(from, start);
        let nearest = self
            .context
            .find_overlapping_iter(window)
            .max_by_key(|m| m.end());
        match nearest {
            Some(m) if m.pattern().as_usize() < self.not_after_count => None,
            Some(_) => Some(true),
            None => Some(false),
        }
    }
}

/// A candidate must be a whole token: no letter, digit or joining hyphen right before or after
/// it (`SF1302256789012` is a tracking number, not a 12-digit id inside it).
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let joins =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    !joins(before) && !joins(after)
}
