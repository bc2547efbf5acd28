//! `replies/agent.toml`: the drafts the console's reply box offers an agent, two or three per
//! ticket, chosen by the ticket's issue type, demands and mood. The agent edits a draft before
//! sending it: drafts are a head start, never sent by themselves.

use super::template::{Placeholder, Slots, Template};
use crate::analysis::data_error::{from_toml, line_of, DataError};
use crate::domain::{Demand, IssueType, Lang, Mood};
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// The most drafts offered at once: more would not be read.
pub const MAX_DRAFTS: usize = 3;
/// Unconditional drafts each language needs, so that every ticket gets at least two.
const MIN_FALLBACKS: usize = 2;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    draft: Vec<Spanned<RawDraft>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDraft {
    lang: Option<Spanned<String>>,
    issue: Option<Spanned<String>>,
    demand: Option<Spanned<String>>,
    mood: Option<Spanned<String>>,
    text: Spanned<String>,
}

/// One draft and when it fits (every condition set must hold).
#[derive(Debug, Clone)]
struct Draft {
    lang: Lang,
    issue: Option<IssueType>,
    demand: Option<Demand>,
    mood: Option<Mood>,
    text: Template,
}

impl Draft {
    fn conditions(&self) -> usize {
        usize::from(self.issue.is_some())
            + usize::from(self.demand.is_some())
            + usize::from(self.mood.is_some())
    }

    fn fits(&self, ticket: &Ticket, slots: &Slots) -> bool {
        self.lang == ticket.lang
            && self.issue.is_none_or(|i| ticket.issue == Some(i))
            && self.demand.is_none_or(|d| ticket.demands.contains(&d))
            && self.mood.is_none_or(|m| ticket.mood == m)
            && self.text.fits(slots)
    }
}

/// What the drafts are chosen by.
#[derive(Debug, Clone, Copy)]
pub struct Ticket<'a> {
    pub lang: Lang,
    pub issue: Option<IssueType>,
    pub demands: &'a [Demand],
    pub mood: Mood,
}

/// The validated drafts, in file order.
#[derive(Debug, Clone, Default)]
pub struct Drafts(Vec<Draft>);

impl Drafts {
    /// Loads the file; problems are appended to `errors` with their line.
    pub fn load(file: &Path, source: &str, errors: &mut Vec<DataError>) -> Drafts {
        let raw: RawFile = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(e) => {
                errors.push(from_toml(file, source, &e));
                return Drafts::default();
            }
        };
        let mut err = |byte: usize, reason: String| {
            errors.push(DataError::new(file, Some(line_of(source, byte)), reason));
        };
        let mut drafts = Vec::new();
        for raw in &raw.draft {
            let raw = raw.get_ref();
            let mut ok = true;
            let lang = parse_opt::<Lang>(field(&raw.lang, "lang"), &mut err, &mut ok);
            let issue = parse_opt::<IssueType>(field(&raw.issue, "issue"), &mut err, &mut ok);
            let demand = parse_opt::<Demand>(field(&raw.demand, "demand"), &mut err, &mut ok);
            let mood = parse_opt::<Mood>(field(&raw.mood, "mood"), &mut err, &mut ok);
            let text = Template::parse_with(raw.text.get_ref(), &Placeholder::DRAFT);
            match text {
                Ok(text) if ok => drafts.push(Draft {
                    lang: lang.unwrap_or(Lang::Hans),
                    issue,
                    demand,
                    mood,
                    text,
                }),
                Ok(_) => {}
                Err(reason) => err(raw.text.span().start, format!("[[draft]] text: {reason}")),
            }
        }
        for lang in Lang::ALL {
            let fallbacks = drafts
                .iter()
                .filter(|d| d.lang == *lang && d.conditions() == 0)
                .filter(|d| d.text.needs_no_optional_slot())
                .count();
            if fallbacks < MIN_FALLBACKS {
                err(
                    0,
                    format!(
                        "{lang}: {fallbacks} draft(s) without conditions and without {{buyer}} or \
                         {{order_id}}; at least {MIN_FALLBACKS} are needed so that every ticket \
                         gets drafts"
                    ),
                );
            }
        }
        Drafts(drafts)
    }

    /// Up to [`MAX_DRAFTS`] texts for the ticket, the most specific first (the more conditions
    /// a draft sets, the better it knows the case), then in file order.
    pub fn for_ticket(&self, ticket: &Ticket, slots: &Slots) -> Vec<String> {
        let mut fitting: Vec<(usize, &Draft)> = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, d)| d.fits(ticket, slots))
            .collect();
        fitting.sort_by_key(|(at, d)| (std::cmp::Reverse(d.conditions()), *at));
        let mut texts: Vec<String> = Vec::new();
        for (_, draft) in fitting {
            let text = draft.text.render(slots);
            if !texts.contains(&text) {
                texts.push(text);
            }
            if texts.len() == MAX_DRAFTS {
                break;
            }
        }
        texts
    }
}

/// A set field's value, where it starts and its name.
fn field<'a>(
    value: &'a Option<Spanned<String>>,
    name: &'a str,
) -> Option<(&'a str, usize, &'a str)> {
    value
        .as_ref()
        .map(|v| (v.get_ref().as_str(), v.span().start, name))
}

/// A label field: parsed, or an error at its line (and the draft left out).
fn parse_opt<T: std::str::FromStr>(
    field: Option<(&str, usize, &str)>,
    err: &mut impl FnMut(usize, String),
    ok: &mut bool,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let (value, byte, what) = field?;
    match value.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            err(byte, format!("[[draft]] {what}: {e}"));
            *ok = false;
            None
        }
    }
}
