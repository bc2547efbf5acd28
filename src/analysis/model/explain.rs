//! Why the model chose a label: the spans of the features that pushed hardest towards it.
//!
//! A feature's push towards output `o` of a softmax head is its value times the weight of `o`
//! minus the head's mean weight (what it adds to `o` over the alternatives); for a demand it
//! is the weight itself. The strongest pushes with a span in the message are kept, and
//! overlapping spans merge, so an agent sees `一擦全是毛` rather than five n-grams.

use super::features::{Features, NO_ROW};
use super::Model;
use std::ops::Range;

/// At most this many spans per label.
const SPANS_PER_LABEL: usize = 3;
/// Pushes below this are noise, not reasons.
const MIN_PUSH: f32 = 0.05;

/// The features of one message that can explain a label: known to the model, with a span of
/// two characters or more (one character, `不` or `？`, explains nothing to an agent alone).
pub struct Explainer<'a> {
    model: &'a Model,
    /// `(row, value, span)` of each such feature.
    candidates: Vec<(u32, f32, (usize, usize))>,
}

impl<'a> Explainer<'a> {
    pub fn new(model: &'a Model, features: &Features) -> Explainer<'a> {
        let candidates = features
            .rows
            .iter()
            .zip(&features.values)
            .zip(&features.spans)
            .filter_map(|((&row, &value), span)| {
                let span = (*span)?;
                (row != NO_ROW && span.1 - span.0 >= 2).then_some((row, value, span))
            })
            .collect();
        Explainer { model, candidates }
    }

    /// The spans behind each asked output (`(head, output)`), merged and sorted, in one pass
    /// over the message's features: each row is read once.
    pub fn spans(&self, asks: &[(Range<usize>, usize)]) -> Vec<Vec<(usize, usize)>> {
        let mut best: Vec<Vec<(f32, (usize, usize))>> =
            vec![Vec::with_capacity(SPANS_PER_LABEL + 1); asks.len()];
        for &(row, value, span) in &self.candidates {
            let weights = self.model.row_at(row);
            for ((head, output), best) in asks.iter().zip(best.iter_mut()) {
                let push = (weights[*output] - self.model.head_mean(row, head)) * value;
                if push < MIN_PUSH || (best.len() == SPANS_PER_LABEL && push <= best[2].0) {
                    continue;
                }
                let at = best.partition_point(|(p, _)| *p >= push);
                best.insert(at, (push, span));
                best.truncate(SPANS_PER_LABEL);
            }
        }
        best.into_iter().map(merged).collect()
    }
}

/// The chosen spans in text order, overlapping ones merged.
fn merged(best: Vec<(f32, (usize, usize))>) -> Vec<(usize, usize)> {
    let mut chosen: Vec<(usize, usize)> = best.into_iter().map(|(_, s)| s).collect();
    chosen.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in chosen {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}
