//! The evidence of the rules' decision: the spans behind each chosen label.

use crate::analysis::lexicon::{Cue, Hit, Label};
use crate::analysis::rules::Resolved;
use crate::domain::{Demand, Intent, IssueType, Mood, Threat};

/// The spans behind each chosen label, as `(label, start, end)`.
pub(super) fn support(
    resolved: &Resolved,
    intent: Intent,
    issue: Option<IssueType>,
    demands: &[Demand],
    mood: Mood,
    threats: &[Threat],
    sarcastic: bool,
) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut push = |hit: &Hit, label: String| out.push((label, hit.start, hit.end));
    for s in &resolved.signals {
        let keep = match s.hit.label {
            Label::Intent(i) => i == intent,
            Label::Issue(i) => Some(i) == issue,
            Label::Demand(d) => demands.contains(&d),
            Label::Mood(m) => m == mood && mood != Mood::Calm,
            Label::Threat(t) => threats.contains(&t),
            Label::Cue(_) => false,
        };
        if keep {
            let label = if s.flipped_by.is_some() {
                "rule:negated_praise".to_string()
            } else {
                s.hit.label.evidence_name()
            };
            push(&s.hit, label);
        }
    }
    for h in &resolved.cues {
        match h.label {
            Label::Cue(Cue::Insult) => push(h, "cue:insult".into()),
            Label::Cue(Cue::Sarcasm) if sarcastic => push(h, "cue:sarcasm".into()),
            _ => {}
        }
    }
    for n in &resolved.negated {
        out.push(("rule:negation".into(), n.negation.start, n.target.end));
    }
    out
}
