//! The one place where the rules' decision and the model's probabilities become the labels.
//!
//! Precedence, field by field (documented for shop operators in `intents/README.md`):
//!
//! 1. **Threats and order numbers come from the rules alone.** They are hard evidence: a
//!    named regulator or a `差评` is there or it is not.
//! 2. **A term added to `intents/` after the model was trained outranks the model** for its
//!    field: if a message hits such a term (not negated), the term's label is the field's
//!    value (the strongest such term when several), and an issue term makes the message a
//!    complaint. A shop corrects the analyzer today and retrains (`anfu train`) later.
//! 3. **Insults and threats set a floor:** a threat makes the message a complaint and the
//!    mood at least angry 2 (two threats: 3); an insult makes it angry 3.
//! 4. **Otherwise the model decides:** intent, issue type, mood and intensity from the
//!    model, which sees the rules' decision among its features and has learned from many
//!    writers how far to trust it. It also reads the conversation before the message (the
//!    words and dictionary hits of its earlier turns), so a short follow-up keeps the
//!    conversation's issue: "已经三天了" after "我的快递到哪了" is logistics, after a refund
//!    that has not arrived it is after-sales. (A rule did this once: a follow-up of 16
//!    characters or fewer that named no problem took the latest earlier turn's strongest
//!    issue hit. With the earlier turns' words the model does better across writers:
//!    issue type on the corpus's 1 841 conversation lines 0.782 with the rule, 0.793
//!    without it.)
//! 5. **Demands are the model's** (probability ≥ 0.5) **and the rules'** (a remedy word asked
//!    for, not negated, not hypothetical) **that the model does not rule out** (probability
//!    ≥ 0.1), plus fresh demand terms. The rules find remedies the corpus rarely names, the
//!    model finds asks without a remedy word ("都五天了" → expedite) and knows when a remedy
//!    word asks for nothing ("退货的运费谁出" is a question). Leave-one-writer-out demands F1:
//!    the plain union 0.699, with the floor 0.738 (0.740 at 0.2 and 0.3: the smallest floor
//!    that takes the gain was kept). The record lists them in the order the buyer states
//!    them (see `pipeline.rs`).

use super::heads::{logit, Outputs};
use crate::analysis::decide::Decision;
use crate::analysis::lexicon::{Cue, Label};
use crate::analysis::rules::Resolved;
use crate::domain::{Demand, Intent, IssueType, Mood, Threat};

/// A demand is listed at this probability or above.
pub const DEMAND_THRESHOLD: f32 = 0.5;
/// A demand the rules found is listed unless the model puts it below this.
pub const RULE_DEMAND_FLOOR: f32 = 0.1;

/// Who decided a field, for the evidence trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Rules,
    Model,
}

/// The combined labels and where each came from.
#[derive(Debug, Clone)]
pub struct Combined {
    pub intent: Intent,
    pub intent_from: Source,
    pub issue_type: Option<IssueType>,
    pub issue_from: Source,
    /// Each demand with its source.
    pub demands: Vec<(Demand, Source)>,
    pub mood: Mood,
    pub mood_from: Source,
    pub intensity: u8,
    pub threats: Vec<Threat>,
}

/// What fresh (added after training) terms say, the strongest hit per field.
#[derive(Default)]
struct Fresh {
    intent: Option<(Intent, f32)>,
    issue: Option<(IssueType, f32)>,
    mood: Option<(Mood, f32)>,
    demands: Vec<Demand>,
}

fn stronger<T>(slot: &mut Option<(T, f32)>, value: T, score: f32) {
    if slot.as_ref().is_none_or(|(_, s)| score > *s) {
        *slot = Some((value, score));
    }
}

fn fresh_fields(resolved: &Resolved) -> Fresh {
    let mut f = Fresh::default();
    for s in resolved.signals.iter().filter(|s| s.hit.fresh) {
        let score = s.score();
        match s.hit.label {
            Label::Intent(i) => stronger(&mut f.intent, i, score),
            Label::Issue(i) => {
                stronger(&mut f.intent, Intent::Complaint, score);
                stronger(&mut f.issue, i, score);
            }
            Label::Mood(m) => stronger(&mut f.mood, m, score),
            Label::Demand(d) => f.demands.push(d),
            Label::Threat(_) | Label::Cue(_) => {}
        }
    }
    f
}

/// Combines the rules' `decision` and the model's output sums `p` under the precedence above.
pub fn combine(decision: &Decision, resolved: &Resolved, p: &Outputs) -> Combined {
    let fresh = fresh_fields(resolved);
    let threats = decision.threats.clone();
    let insult = resolved.cues_of(Cue::Insult).next().is_some();

    let (mut intent, mut intent_from) = match fresh.intent {
        Some((i, _)) => (i, Source::Rules),
        None => (p.intent(), Source::Model),
    };
    if !threats.is_empty() && intent != Intent::Complaint {
        (intent, intent_from) = (Intent::Complaint, Source::Rules);
    }

    let (issue_type, issue_from) = match intent {
        Intent::Complaint if fresh.issue.is_some() => (fresh.issue.map(|(i, _)| i), Source::Rules),
        Intent::Complaint => (Some(p.issue()), Source::Model),
        _ => (None, Source::Model),
    };

    let (mut mood, mut mood_from) = match fresh.mood {
        Some((m, _)) => (m, Source::Rules),
        None => (p.mood(), Source::Model),
    };
    let mut intensity = if mood == Mood::Calm {
        0
    } else {
        p.intensity_when_upset()
    };
    let floor = match (insult, threats.len()) {
        (true, _) | (_, 2..) => 3,
        (_, 1) => 2,
        _ => 0,
    };
    if floor > 0 && (mood == Mood::Calm || insult) {
        (mood, mood_from) = (Mood::Angry, Source::Rules);
    }
    intensity = intensity.max(floor);
    if mood == Mood::Calm {
        intensity = 0;
    } else if intensity == 0 {
        intensity = 1;
    }

    // Compared as log-odds: the same decisions as the probabilities, without an `exp`.
    let (listed, floor) = (logit(DEMAND_THRESHOLD), logit(RULE_DEMAND_FLOOR));
    let mut demands: Vec<(Demand, Source, f32)> = Demand::ALL
        .iter()
        .map(|d| (*d, Source::Model, p.demand_logit(*d)))
        .filter(|(_, _, odds)| *odds >= listed)
        .collect();
    let rules = decision
        .demands
        .iter()
        .copied()
        .filter(|d| p.demand_logit(*d) >= floor);
    for d in rules.chain(fresh.demands) {
        if !demands.iter().any(|(have, _, _)| *have == d) {
            demands.push((d, Source::Rules, f32::INFINITY));
        }
    }
    // The record lists demands as the buyer states them (`pipeline.rs` orders them by their
    // first span); this order, the rules' finds first and then the model's by confidence, only
    // decides between demands without a span.
    demands.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));

    Combined {
        intent,
        intent_from,
        issue_type,
        issue_from,
        demands: demands.into_iter().map(|(d, s, _)| (d, s)).collect(),
        mood,
        mood_from,
        intensity,
        threats,
    }
}
