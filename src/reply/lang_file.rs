//! Loading one language's reply file (`replies/zh-Hans.toml`, `replies/zh-Hant.toml`):
//! complaint cells by issue × tone, and the switchable inquiry / praise / chitchat replies.

use super::template::Template;
use super::tone::Tone;
use crate::analysis::data_error::{from_toml, line_of, DataError};
use crate::domain::IssueType;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

type RawVariants = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLangFile {
    /// Issue key (an issue type, or `default` for any complaint) → tone key → variants.
    #[serde(default)]
    complaint: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, RawVariants>>,
    inquiry: Option<RawToggle>,
    praise: Option<RawToggle>,
    chitchat: Option<RawToggle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToggle {
    enabled: Spanned<bool>,
    variants: Option<RawVariants>,
}

/// A reply kind the operator may switch off.
#[derive(Debug, Clone, Default)]
pub struct Toggle {
    pub enabled: bool,
    pub variants: Vec<Template>,
}

/// One language's replies.
#[derive(Debug, Clone, Default)]
pub struct LangReplies {
    /// Keyed by issue (`None`: the generic complaint table) and tone.
    pub complaint: HashMap<(Option<IssueType>, Tone), Vec<Template>>,
    pub inquiry: Toggle,
    pub praise: Toggle,
    pub chitchat: Toggle,
}

/// Cells that must exist in every language so that every complaint gets a reply.
pub const REQUIRED_CELLS: [(Option<IssueType>, Tone); 2] =
    [(None, Tone::Default), (None, Tone::AngryThreat)];

struct Ctx<'a> {
    file: &'a Path,
    source: &'a str,
    errors: &'a mut Vec<DataError>,
}

impl Ctx<'_> {
    fn error(&mut self, byte: usize, reason: impl Into<String>) {
        let line = line_of(self.source, byte);
        self.errors
            .push(DataError::new(self.file, Some(line), reason.into()));
    }

    /// Parses every variant; `fallback` cells must also hold one that needs no optional slot,
    /// because nothing comes after them when the buyer's name or order number is unknown.
    fn variants(&mut self, raw: &RawVariants, what: &str, fallback: bool) -> Vec<Template> {
        let start = raw.span().start;
        if raw.get_ref().is_empty() {
            self.error(start, format!("{what}: empty variant list"));
            return Vec::new();
        }
        let mut parsed = Vec::new();
        for text in raw.get_ref() {
            match Template::parse(text.get_ref()) {
                Ok(t) => parsed.push(t),
                Err(reason) => self.error(text.span().start, format!("{what}: {reason}")),
            }
        }
        let all_parsed = parsed.len() == raw.get_ref().len();
        if fallback && all_parsed && !parsed.iter().any(Template::needs_no_optional_slot) {
            self.error(
                start,
                format!(
                    "{what}: needs at least one variant without {{buyer}} or {{order_id}}, \
                     used when those are unknown"
                ),
            );
        }
        parsed
    }
}

/// Loads one language file; problems are appended to `errors`.
pub fn load(file: &Path, source: &str, errors: &mut Vec<DataError>) -> LangReplies {
    let raw: RawLangFile = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(from_toml(file, source, &e));
            return LangReplies::default();
        }
    };
    let mut ctx = Ctx {
        file,
        source,
        errors,
    };
    let mut replies = LangReplies::default();
    for (issue_key, cells) in &raw.complaint {
        let issue = match issue_key.get_ref().as_str() {
            "default" => None,
            name => match name.parse::<IssueType>() {
                Ok(issue) => Some(issue),
                Err(e) => {
                    ctx.error(
                        issue_key.span().start,
                        format!("[complaint.{name}]: {e}, or `default`"),
                    );
                    continue;
                }
            },
        };
        for (tone_key, raw_variants) in cells {
            let what = format!("[complaint.{}] {}", issue_key.get_ref(), tone_key.get_ref());
            let Some(tone) = Tone::parse(tone_key.get_ref()) else {
                ctx.error(
                    tone_key.span().start,
                    format!(
                        "{what}: unknown mood `{}` (expected one of: {})",
                        tone_key.get_ref(),
                        Tone::KEYS.join(", ")
                    ),
                );
                continue;
            };
            let fallback = tone == Tone::Default || REQUIRED_CELLS.contains(&(issue, tone));
            let variants = ctx.variants(raw_variants, &what, fallback);
            replies.complaint.insert((issue, tone), variants);
        }
    }
    for (issue, tone) in REQUIRED_CELLS {
        if !replies.complaint.contains_key(&(issue, tone)) {
            ctx.error(
                0,
                format!(
                    "missing required fallback `[complaint.default] {} = [...]`: \
                     every complaint needs a reply in this language",
                    tone.key()
                ),
            );
        }
    }
    for (name, raw_toggle, slot) in [
        ("inquiry", &raw.inquiry, &mut replies.inquiry),
        ("praise", &raw.praise, &mut replies.praise),
        ("chitchat", &raw.chitchat, &mut replies.chitchat),
    ] {
        *slot = load_toggle(&mut ctx, name, raw_toggle.as_ref());
    }
    replies
}

fn load_toggle(ctx: &mut Ctx, name: &str, raw: Option<&RawToggle>) -> Toggle {
    let Some(raw) = raw else {
        ctx.error(
            0,
            format!("missing [{name}] (write `enabled = false` there to send no {name} reply)"),
        );
        return Toggle::default();
    };
    let enabled = *raw.enabled.get_ref();
    let what = format!("[{name}] variants");
    let variants = match &raw.variants {
        // Validated even when switched off, so switching it on later cannot break a reply.
        Some(v) => ctx.variants(v, &what, enabled),
        None if enabled => {
            ctx.error(
                raw.enabled.span().start,
                format!("[{name}] is enabled but has no `variants`"),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    Toggle { enabled, variants }
}
