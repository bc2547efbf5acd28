//! The keys of the dictionary features of the message itself (`d:issue_type:logistics`,
//! `n:demand:refund`, `q:negation`) and of the rules' decision (`r:intent:complaint`), hashed
//! once for every label instead of char by char for every hit: a message has a dozen of
//! them, and hashing their names was 7 % of the model's cost per message.

use super::features::Fnv;
use crate::analysis::lexicon::{Cue, Label};
use crate::domain::{Demand, Intent, IssueType, Mood, Threat};
use std::sync::LazyLock;

/// The feature kinds of a dictionary hit.
pub const KINDS: [&str; 3] = ["d:", "n:", "q:"];

/// Every label, in the order of [`dense`].
fn every_label() -> impl Iterator<Item = Label> {
    let intents = Intent::ALL.iter().map(|v| Label::Intent(*v));
    let issues = IssueType::ALL.iter().map(|v| Label::Issue(*v));
    let demands = Demand::ALL.iter().map(|v| Label::Demand(*v));
    let moods = Mood::ALL.iter().map(|v| Label::Mood(*v));
    let threats = Threat::ALL.iter().map(|v| Label::Threat(*v));
    let cues = Cue::NAMES.iter().map(|(_, c)| Label::Cue(*c));
    intents
        .chain(issues)
        .chain(demands)
        .chain(moods)
        .chain(threats)
        .chain(cues)
}

/// Where each category starts in [`every_label`]'s order, fixed at compile time.
const ISSUES_AT: usize = Intent::ALL.len();
const DEMANDS_AT: usize = ISSUES_AT + IssueType::ALL.len();
const MOODS_AT: usize = DEMANDS_AT + Demand::ALL.len();
const THREATS_AT: usize = MOODS_AT + Mood::ALL.len();
const CUES_AT: usize = THREATS_AT + Threat::ALL.len();

/// A label's place in [`every_label`].
fn dense(label: Label) -> usize {
    match label {
        Label::Intent(v) => v.index(),
        Label::Issue(v) => ISSUES_AT + v.index(),
        Label::Demand(v) => DEMANDS_AT + v.index(),
        Label::Mood(v) => MOODS_AT + v.index(),
        Label::Threat(v) => THREATS_AT + v.index(),
        Label::Cue(c) => CUES_AT + Cue::NAMES.iter().position(|(_, n)| *n == c).unwrap_or(0),
    }
}

/// A feature's name for a label: `kind` + `category:value`, cues by their value alone.
pub fn name_parts(kind: &'static str, label: Label) -> [&'static str; 4] {
    let (category, name) = label.parts();
    if matches!(label, Label::Cue(_)) {
        [kind, name, "", ""]
    } else {
        [kind, category, ":", name]
    }
}

static KEYS: LazyLock<Vec<[u64; KINDS.len()]>> = LazyLock::new(|| {
    every_label()
        .map(|label| {
            KINDS.map(|kind| {
                let parts = name_parts(kind, label);
                parts.iter().fold(Fnv::START, |h, p| h.str(p)).0
            })
        })
        .collect()
});

/// The rules' decision as a feature's name: `r:intent:complaint`, `r:issue:logistics`,
/// `r:mood:calm`, `r:demand:refund`, and `r:threat` for any threat.
pub fn rule_parts(label: Label) -> [&'static str; 2] {
    match label {
        Label::Intent(v) => ["r:intent:", v.as_str()],
        Label::Issue(v) => ["r:issue:", v.as_str()],
        Label::Mood(v) => ["r:mood:", v.as_str()],
        Label::Demand(v) => ["r:demand:", v.as_str()],
        Label::Threat(_) => ["r:", "threat"],
        Label::Cue(v) => ["r:cue:", v.as_str()],
    }
}

static RULE_KEYS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    every_label()
        .map(|label| {
            let parts = rule_parts(label);
            parts.iter().fold(Fnv::START, |h, p| h.str(p)).0
        })
        .collect()
});

/// The key of the rules' decision feature for `label`, without a prefix.
pub fn rule_key(label: Label) -> u64 {
    RULE_KEYS[dense(label)]
}

/// The key of the feature `KINDS[kind]` + the label's name, without a prefix.
pub fn key(kind: usize, label: Label) -> u64 {
    KEYS[dense(label)][kind]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::model::features::hash_name;

    #[test]
    fn each_label_has_its_own_place() {
        for (place, label) in every_label().enumerate() {
            assert_eq!(dense(label), place, "{label:?}");
        }
    }

    #[test]
    fn every_label_has_its_names_hash() {
        for label in every_label() {
            for (k, kind) in KINDS.iter().enumerate() {
                let name: String = name_parts(kind, label).concat();
                assert_eq!(key(k, label), hash_name(&name), "{name}");
            }
            let name = rule_parts(label).concat();
            assert_eq!(rule_key(label), hash_name(&name), "{name}");
        }
    }
}
