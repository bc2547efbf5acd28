//! `replies/next_steps.toml`: what the human agent should do next, per issue type, adjusted
//! by the buyer's main demand, with an escalation step first when the buyer threatens.

use crate::analysis::data_error::{from_toml, line_of, DataError};
use crate::domain::{Analysis, Demand, Intent, IssueType, Threat};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use toml::Spanned;

/// The most steps an agent is shown: more would not be read under time pressure.
const MAX_STEPS: usize = 2;

type RawSteps = Spanned<Vec<Spanned<String>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNextSteps {
    /// `default` or a threat label → the escalation step put first.
    #[serde(default)]
    threat: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Issue type → `default` or a demand label → steps.
    #[serde(default)]
    issue: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, RawSteps>>,
    /// `inquiry`, `praise`, `chitchat` → steps (optional: they are rarely handed off).
    #[serde(default)]
    intent: BTreeMap<Spanned<String>, RawSteps>,
}

#[derive(Debug, Clone, Default)]
struct IssueSteps {
    default: Vec<String>,
    by_demand: HashMap<Demand, Vec<String>>,
}

/// Loaded and validated next steps.
#[derive(Debug, Clone, Default)]
pub struct NextSteps {
    threat_default: String,
    by_threat: HashMap<Threat, String>,
    issues: HashMap<IssueType, IssueSteps>,
    intents: HashMap<Intent, Vec<String>>,
}

impl NextSteps {
    /// Loads the file; problems are appended to `errors`.
    pub fn load(file: &Path, source: &str, errors: &mut Vec<DataError>) -> NextSteps {
        let raw: RawNextSteps = match toml::from_str(source) {
            Ok(raw) => raw,
            Err(e) => {
                errors.push(from_toml(file, source, &e));
                return NextSteps::default();
            }
        };
        let mut err = |byte: usize, reason: String| {
            errors.push(DataError::new(file, Some(line_of(source, byte)), reason));
        };
        let mut steps = NextSteps::default();

        for (key, step) in &raw.threat {
            if step.get_ref().trim().is_empty() {
                err(
                    step.span().start,
                    format!("[threat] {}: empty step", key.get_ref()),
                );
            }
            match key.get_ref().as_str() {
                "default" => steps.threat_default = step.get_ref().clone(),
                name => match name.parse::<Threat>() {
                    Ok(t) => {
                        steps.by_threat.insert(t, step.get_ref().clone());
                    }
                    Err(e) => err(key.span().start, format!("[threat]: {e}, or `default`")),
                },
            }
        }
        if !raw.threat.keys().any(|k| k.get_ref() == "default") {
            err(0, "missing `[threat] default = \"...\"`".to_string());
        }

        for (issue_key, table) in &raw.issue {
            let issue = match issue_key.get_ref().parse::<IssueType>() {
                Ok(issue) => issue,
                Err(e) => {
                    err(
                        issue_key.span().start,
                        format!("[issue.{}]: {e}", issue_key.get_ref()),
                    );
                    continue;
                }
            };
            let mut entry = IssueSteps::default();
            for (key, list) in table {
                let what = format!("[issue.{}] {}", issue_key.get_ref(), key.get_ref());
                let parsed = check_steps(list, &what, &mut err);
                match key.get_ref().as_str() {
                    "default" => entry.default = parsed,
                    name => match name.parse::<Demand>() {
                        Ok(d) => {
                            entry.by_demand.insert(d, parsed);
                        }
                        Err(e) => err(key.span().start, format!("{what}: {e}, or `default`")),
                    },
                }
            }
            if !table.keys().any(|k| k.get_ref() == "default") {
                err(
                    issue_key.span().start,
                    format!("[issue.{}]: missing `default = [...]`", issue_key.get_ref()),
                );
            }
            steps.issues.insert(issue, entry);
        }
        for issue in IssueType::ALL {
            if !raw.issue.keys().any(|k| k.get_ref() == issue.as_str()) {
                err(
                    0,
                    format!("missing [issue.{issue}]: every issue type needs next steps"),
                );
            }
        }

        for (key, list) in &raw.intent {
            let what = format!("[intent] {}", key.get_ref());
            let parsed = check_steps(list, &what, &mut err);
            match key.get_ref().parse::<Intent>() {
                Ok(Intent::Complaint) => err(
                    key.span().start,
                    format!("{what}: complaints take their steps from [issue.*]"),
                ),
                Ok(intent) => {
                    steps.intents.insert(intent, parsed);
                }
                Err(e) => err(key.span().start, format!("{what}: {e}")),
            }
        }
        steps
    }

    /// Up to [`MAX_STEPS`] steps: the escalation step when threatened, then the steps for the
    /// first of the buyer's demands that the issue has its own steps for, else its default.
    pub fn for_analysis(&self, analysis: &Analysis) -> Vec<String> {
        let mut out = Vec::new();
        if !analysis.threats.is_empty() {
            let step = analysis
                .threats
                .iter()
                .find_map(|t| self.by_threat.get(t))
                .unwrap_or(&self.threat_default);
            out.push(step.clone());
        }
        if analysis.intent == Intent::Complaint {
            // The taxonomy sets an issue for every complaint; `other` covers a stray gap.
            let issue = analysis.issue_type.unwrap_or(IssueType::Other);
            if let Some(entry) = self.issues.get(&issue) {
                let list = analysis
                    .demands
                    .iter()
                    .find_map(|d| entry.by_demand.get(d))
                    .unwrap_or(&entry.default);
                out.extend(list.iter().cloned());
            }
        } else if let Some(list) = self.intents.get(&analysis.intent) {
            out.extend(list.iter().cloned());
        }
        out.truncate(MAX_STEPS);
        out
    }
}

fn check_steps(list: &RawSteps, what: &str, err: &mut impl FnMut(usize, String)) -> Vec<String> {
    let n = list.get_ref().len();
    if !(1..=MAX_STEPS).contains(&n) {
        err(
            list.span().start,
            format!("{what}: give 1 or 2 steps, not {n}"),
        );
    }
    for step in list.get_ref() {
        if step.get_ref().trim().is_empty() {
            err(step.span().start, format!("{what}: empty step"));
        }
    }
    list.get_ref().iter().map(|s| s.get_ref().clone()).collect()
}
