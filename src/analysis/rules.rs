//! Rules that turn raw dictionary hits into weighted, explained signals.
//!
//! In order: segmentation keeps one-character terms honest; a longer phrase hides the shorter
//! terms of its category inside it (`不满意` hides `满意`); negation cancels a term or, for
//! praise, flips it into dissatisfaction (`不是很满意`); contrast words make the rest of the
//! sentence weigh more than what came before (`东西不错, 但是物流太慢`); degree adverbs mark
//! the terms they modify as strengthened or softened.

use super::clauses::Structure;
use super::lexicon::{Cue, Hit, Label};
use super::normalize::{is_han, Normalized};
use crate::domain::Intent;

/// How far (in chars) a negation or degree word may stand before the term it modifies.
const NEGATION_REACH: usize = 3;
const DEGREE_REACH: usize = 2;
/// How far after a negated term a `就` makes it a condition (`不退款我就投诉`), not a negation.
const CONDITION_REACH: usize = 5;

/// Strength modifier from a degree adverb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Degree {
    Plain,
    Strong,
    Mild,
}

/// A hit that survived the rules, with its weight multiplier.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub hit: Hit,
    /// Contrast multiplier (1.0 when no contrast word is involved).
    pub factor: f32,
    pub degree: Degree,
    /// Praise turned into dissatisfaction by a negation: `(negation start, negation end)`.
    pub flipped_by: Option<(usize, usize)>,
}

impl Signal {
    /// The hit's weight after contrast and degree.
    pub fn score(&self) -> f32 {
        let degree = match self.degree {
            Degree::Plain => 1.0,
            Degree::Strong => 1.5,
            Degree::Mild => 0.75,
        };
        f32::from(self.hit.weight) * self.factor * degree
    }
}

/// A term cancelled by a negation, kept for the evidence trail.
#[derive(Debug, Clone, Copy)]
pub struct Negated {
    pub negation: Hit,
    pub target: Hit,
}

/// The outcome of the rules: label signals, the cues that remain, and what was negated.
#[derive(Debug, Default)]
pub struct Resolved {
    pub signals: Vec<Signal>,
    pub cues: Vec<Hit>,
    pub negated: Vec<Negated>,
}

impl Resolved {
    /// Cue hits of one kind.
    pub fn cues_of(&self, cue: Cue) -> impl Iterator<Item = &Hit> {
        self.cues.iter().filter(move |h| h.label == Label::Cue(cue))
    }
}

/// Applies the rules to the hits of one message.
pub fn resolve(
    hits: Vec<Hit>,
    text: &Normalized,
    boundaries: &[bool],
    structure: &Structure,
) -> Resolved {
    let hits: Vec<Hit> = hits
        .into_iter()
        .filter(|h| stands_as_word(h, text, boundaries))
        .collect();
    let (cues, labels): (Vec<Hit>, Vec<Hit>) =
        hits.iter().partition(|h| matches!(h.label, Label::Cue(_)));
    let labels = drop_contained(&labels);
    let cues = shield_negations(cues, &hits);

    let mut resolved = Resolved::default();
    for hit in labels {
        if matches!(hit.label, Label::Demand(_) | Label::Issue(_))
            && in_clause_with(Cue::Hypothetical, &cues, structure, &hit)
        {
            continue;
        }
        if matches!(hit.label, Label::Demand(_))
            && in_clause_with(Cue::Done, &cues, structure, &hit)
        {
            continue;
        }
        let negation = cues.iter().rev().find(|n| {
            n.label == Label::Cue(Cue::Negation)
                && n.end <= hit.start
                && hit.start - n.end <= NEGATION_REACH
                && structure.same_clause(n.start, hit.start)
        });
        let mut flipped_by = None;
        if let Some(negation) = negation {
            if !is_condition(text, structure, negation.end, hit.end)
                && !is_rhetorical(text, structure, negation, hit.end)
            {
                resolved.negated.push(Negated {
                    negation: *negation,
                    target: hit,
                });
                if hit.label != Label::Intent(Intent::Praise) {
                    continue;
                }
                flipped_by = Some((negation.start, negation.end));
            }
        }
        let mut hit = hit;
        if flipped_by.is_some() {
            hit.label = Label::Intent(Intent::Complaint);
            hit.start = flipped_by.map_or(hit.start, |(s, _)| s);
        }
        resolved.signals.push(Signal {
            hit,
            factor: contrast_factor(&cues, structure, hit.start),
            degree: degree_before(&cues, structure, hit.start),
            flipped_by,
        });
    }
    resolved.cues = cues;
    resolved
}

/// Whether a cue of this kind shares the hit's clause.
///
/// Hypothetical: `退款一般几天到账`, `支持七天无理由退货吗`, `还没发货的话能改吗` — the remedy
/// or problem is a topic or a supposition, not something asked for or reported.
/// Done: `退款已经到账了`, `东西我都寄回去了` — the remedy has happened; what the buyer still
/// wants is something else.
fn in_clause_with(cue: Cue, cues: &[Hit], structure: &Structure, hit: &Hit) -> bool {
    cues.iter()
        .any(|c| c.label == Label::Cue(cue) && structure.same_clause(c.start, hit.start))
}

/// One-Han-character terms count only as a word of their own (`差` but not `差不多`); a
/// negation character needs only to start a word (`不` in `不好吃`).
fn stands_as_word(hit: &Hit, text: &Normalized, boundaries: &[bool]) -> bool {
    let on_boundaries = || {
        boundaries.get(hit.start).copied().unwrap_or(true)
            && boundaries.get(hit.end).copied().unwrap_or(true)
    };
    // Contrast words hide inside other words (`转不过来`, `就是个摆设`): only a word of its own
    // is a contrast.
    if hit.label == Label::Cue(Cue::Contrast) {
        return on_boundaries();
    }
    if hit.len() != 1 || !text.slice(hit.start, hit.end).chars().all(is_han) {
        return true;
    }
    let starts = boundaries.get(hit.start).copied().unwrap_or(true);
    let ends = boundaries.get(hit.end).copied().unwrap_or(true);
    match hit.label {
        Label::Cue(Cue::Negation) => starts,
        _ => starts && ends,
    }
}

/// Within one category the longest phrase wins: `不满意` hides `满意`, `退货退款` hides `退款`.
/// A term and a pattern matching the very same span for the same label count once.
fn drop_contained(labels: &[Hit]) -> Vec<Hit> {
    labels
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            !labels.iter().enumerate().any(|(j, o)| {
                o.label.category() == h.label.category()
                    && (o.strictly_contains(h)
                        || (j < *i && o.label == h.label && o.start == h.start && o.end == h.end))
            })
        })
        .map(|(_, h)| *h)
        .collect()
}

/// A negation word inside a longer term (`不错`, `能不能`, `不然`, `不好用`) negates nothing.
fn shield_negations(cues: Vec<Hit>, all: &[Hit]) -> Vec<Hit> {
    cues.into_iter()
        .filter(|c| {
            c.label != Label::Cue(Cue::Negation) || !all.iter().any(|o| o.strictly_contains(c))
        })
        .filter(|c| c.label != Label::Cue(Cue::PseudoNegation))
        .collect()
}

/// `不退款我就投诉`, `不退我就取消`: a `就` between the negation and shortly after the term
/// makes the negation a condition, not a denial.
fn is_condition(text: &Normalized, structure: &Structure, from: usize, end: usize) -> bool {
    let until = (end + CONDITION_REACH).min(text.char_len());
    text.slice(from, until)
        .chars()
        .enumerate()
        .take_while(|(i, _)| structure.same_clause(from, from + i))
        .any(|(_, c)| c == '就')
}

/// `这不是虚假宣传吗?`: `不是 … 吗` asks for agreement, it does not deny.
fn is_rhetorical(text: &Normalized, structure: &Structure, negation: &Hit, end: usize) -> bool {
    let word = text.slice(negation.start, negation.end);
    if !matches!(word, "不是" | "不就是" | "难道不是" | "难道不") {
        return false;
    }
    let mut clause_end = end;
    while clause_end < text.char_len() && structure.same_clause(end, clause_end) {
        clause_end += 1;
    }
    let rest = text.slice(end, (clause_end + 1).min(text.char_len()));
    rest.contains('吗') || rest.contains('?') || rest.contains('么')
}

/// Each contrast word earlier in the sentence adds half a weight; a contrast word later in
/// the sentence discounts the hit by a quarter.
fn contrast_factor(cues: &[Hit], structure: &Structure, at: usize) -> f32 {
    let sentence = structure.sentence_of(at);
    let mut before = 0u8;
    let mut after = false;
    for c in cues.iter().filter(|c| c.label == Label::Cue(Cue::Contrast)) {
        if structure.sentence_of(c.start) != sentence {
            continue;
        }
        if c.end <= at {
            before = before.saturating_add(1);
        } else {
            after = true;
        }
    }
    let base = 1.0 + 0.5 * f32::from(before.min(2));
    if after {
        base * 0.75
    } else {
        base
    }
}

fn degree_before(cues: &[Hit], structure: &Structure, at: usize) -> Degree {
    let near = |cue: Cue| {
        cues.iter().any(|d| {
            d.label == Label::Cue(cue)
                && d.end <= at
                && at - d.end <= DEGREE_REACH
                && structure.same_clause(d.start, at)
        })
    };
    if near(Cue::DegreeStrong) {
        Degree::Strong
    } else if near(Cue::DegreeMild) {
        Degree::Mild
    } else {
        Degree::Plain
    }
}
