//! Rules that turn raw dictionary hits into weighted, explained signals.
//!
//! In order: segmentation keeps one-character terms honest; a longer phrase hides the shorter
//! terms of its category inside it (`不满意` hides `满意`); negation cancels a term or, for
//! praise, flips it into dissatisfaction (`不是很满意`); contrast words make the rest of the
//! sentence weigh more than what came before (`东西不错, 但是物流太慢`); degree adverbs mark
//! the terms they modify as strengthened or softened.

use super::clauses::Structure;
use super::cue_index::{strictly_contained, CueIndex, Work};
use super::lexicon::{Cue, Hit, Label};
use super::normalize::{is_han, Normalized};
use crate::domain::{Intent, Threat};
use std::collections::HashSet;

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

/// Applies the rules to the hits of one message (sorted by start, longest first, as
/// [`super::lexicon::Lexicon::find`] returns them). Every per-hit question is answered from a
/// [`CueIndex`], so the cost is linear in the number of hits; `work` counts the steps.
pub fn resolve(
    hits: Vec<Hit>,
    text: &Normalized,
    boundaries: &[bool],
    structure: &Structure,
    work: &Work,
) -> Resolved {
    let hits: Vec<Hit> = hits
        .into_iter()
        .filter(|h| stands_as_word(h, text, boundaries))
        .collect();
    work.add(hits.len());
    let (cues, labels): (Vec<Hit>, Vec<Hit>) =
        hits.iter().partition(|h| matches!(h.label, Label::Cue(_)));
    let labels = drop_contained(&labels);
    let cues = shield_negations(cues, &hits);
    let index = CueIndex::new(&cues, structure, work);

    let mut resolved = Resolved::default();
    for hit in labels {
        if matches!(hit.label, Label::Demand(_) | Label::Issue(_))
            && index.in_clause(Cue::Hypothetical, hit.start)
        {
            continue;
        }
        if matches!(hit.label, Label::Demand(_)) && index.in_clause(Cue::Done, hit.start) {
            continue;
        }
        if reports_someone_elses(&cues, &hit) {
            continue;
        }
        let negation = index.last_before(Cue::Negation, hit.start, NEGATION_REACH);
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
            factor: contrast_factor(&index, hit.start),
            degree: degree_before(&index, hit.start),
            flipped_by,
        });
    }
    resolved.cues = cues;
    resolved
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

/// Whether a cue of `kind` spans all of `hit` (`给了差评` around `差评`). Cues are few per
/// message, so a scan is cheaper than an index.
/// A threat word that does not threaten: a review the buyer already wrote (`给了差评`), or a
/// report someone else made (`被你们检举`, `保安投诉咗几次`).
fn reports_someone_elses(cues: &[Hit], hit: &Hit) -> bool {
    match hit.label {
        Label::Threat(Threat::BadReview) => covered(cues, Cue::ReviewGiven, hit),
        Label::Threat(Threat::Platform) => covered(cues, Cue::ReportedByOthers, hit),
        _ => false,
    }
}

fn covered(cues: &[Hit], kind: Cue, hit: &Hit) -> bool {
    cues.iter()
        .any(|c| c.label == Label::Cue(kind) && c.start <= hit.start && hit.end <= c.end)
}

/// Within one category the longest phrase wins: `不满意` hides `满意`, `退货退款` hides `退款`.
/// A term and a pattern matching the very same span for the same label count once.
fn drop_contained(labels: &[Hit]) -> Vec<Hit> {
    let contained = strictly_contained(labels, |h| h.label.category());
    let mut seen = HashSet::new();
    labels
        .iter()
        .zip(contained)
        .filter(|(h, inside)| !inside && seen.insert((h.start, h.end, h.label)))
        .map(|(h, _)| *h)
        .collect()
}

/// A negation word inside a longer term (`不错`, `能不能`, `不然`, `不好用`) negates nothing.
fn shield_negations(cues: Vec<Hit>, all: &[Hit]) -> Vec<Hit> {
    let shielded: HashSet<(usize, usize)> = all
        .iter()
        .zip(strictly_contained(all, |_| ()))
        .filter(|(_, inside)| *inside)
        .map(|(h, _)| (h.start, h.end))
        .collect();
    cues.into_iter()
        .filter(|c| c.label != Label::Cue(Cue::Negation) || !shielded.contains(&(c.start, c.end)))
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
    let until = (structure.clause_end(end) + 1).min(text.char_len());
    structure.asks_within(end, until)
}

/// Each contrast word earlier in the sentence adds half a weight; a contrast word later in
/// the sentence discounts the hit by a quarter.
fn contrast_factor(index: &CueIndex, at: usize) -> f32 {
    let (before, after) = index.contrasts_around(at);
    let base = 1.0 + 0.5 * before.min(2) as f32;
    if after {
        base * 0.75
    } else {
        base
    }
}

fn degree_before(index: &CueIndex, at: usize) -> Degree {
    if index
        .last_before(Cue::DegreeStrong, at, DEGREE_REACH)
        .is_some()
    {
        Degree::Strong
    } else if index
        .last_before(Cue::DegreeMild, at, DEGREE_REACH)
        .is_some()
    {
        Degree::Mild
    } else {
        Degree::Plain
    }
}
