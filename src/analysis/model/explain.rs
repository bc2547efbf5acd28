//! Why the model chose a label: the spans of the features that pushed hardest towards it.
//!
//! A feature's push towards output `o` of a softmax head is its value times the weight of `o`
//! minus the head's mean weight (what it adds to `o` over the alternatives); for a demand it
//! is the weight itself. The strongest pushes with a span in the message are kept, and
//! overlapping spans merge, so an agent sees `一擦全是毛` rather than five n-grams.

use super::features::Features;
use super::Model;
use std::ops::Range;

/// At most this many spans per label.
const SPANS_PER_LABEL: usize = 3;
/// Pushes below this are noise, not reasons.
const MIN_PUSH: f32 = 0.05;

/// The spans behind output `output` of head `head`, as `(start, end)`, merged and sorted.
pub fn spans(
    model: &Model,
    features: &Features,
    head: Range<usize>,
    output: usize,
) -> Vec<(usize, usize)> {
    let softmax = head.len() > 1;
    let mut pushes: Vec<(f32, (usize, usize))> = Vec::new();
    for ((key, value), span) in features
        .keys
        .iter()
        .zip(&features.values)
        .zip(&features.spans)
    {
        let (Some(span), Some(row)) = (span, model.row(*key)) else {
            continue;
        };
        // One character (`不`, `？`) explains nothing to an agent on its own.
        if span.1 - span.0 < 2 {
            continue;
        }
        let base = if softmax {
            row[head.clone()].iter().sum::<f32>() / head.len() as f32
        } else {
            0.0
        };
        let push = (row[output] - base) * value;
        if push >= MIN_PUSH {
            pushes.push((push, *span));
        }
    }
    pushes.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<(usize, usize)> = pushes
        .iter()
        .take(SPANS_PER_LABEL)
        .map(|(_, s)| *s)
        .collect();
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
