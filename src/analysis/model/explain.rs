//! Why the model chose a label: the spans of the features that pushed hardest towards it.
//!
//! A feature's push towards output `o` is its value times its weight for `o`. The model keeps
//! the rows of its softmax heads centred (see [`Model::from_rows`]), so for intent, issue and
//! mood that weight is already what the feature adds to `o` over the alternatives; for a
//! demand it is the weight itself. The strongest pushes with a span in the message are kept,
//! and overlapping spans merge, so an agent sees `一擦全是毛` rather than five n-grams.

use super::features::{Features, NO_ROW};
use super::Model;

/// At most this many spans per label.
const SPANS_PER_LABEL: usize = 3;
/// Pushes below this are noise, not reasons.
const MIN_PUSH: f32 = 0.05;
/// Outputs explained at once: intent, issue, mood and every demand.
pub const MAX_OUTPUTS: usize = 3 + crate::domain::Demand::ALL.len();

type Span = (usize, usize);

/// The strongest pushes towards one output so far, strongest first.
#[derive(Clone, Copy)]
struct Strongest {
    pushes: [(f32, Span); SPANS_PER_LABEL],
    len: usize,
}

impl Strongest {
    const EMPTY: Strongest = Strongest {
        pushes: [(0.0, (0, 0)); SPANS_PER_LABEL],
        len: 0,
    };

    /// The least push that is kept: a reason at all, and stronger than the weakest kept once
    /// there are enough (the first of equal pushes stays, hence the next float up).
    fn floor(&self) -> f32 {
        if self.len == SPANS_PER_LABEL {
            self.pushes[SPANS_PER_LABEL - 1].0.next_up()
        } else {
            MIN_PUSH
        }
    }

    fn offer(&mut self, push: f32, span: Span) {
        let mut at = self.len.min(SPANS_PER_LABEL - 1);
        while at > 0 && self.pushes[at - 1].0 < push {
            self.pushes[at] = self.pushes[at - 1];
            at -= 1;
        }
        self.pushes[at] = (push, span);
        self.len = (self.len + 1).min(SPANS_PER_LABEL);
    }

    /// The chosen spans in text order, overlapping ones merged, each given to `out`.
    fn merged(mut self, mut out: impl FnMut(Span)) {
        let chosen = &mut self.pushes[..self.len];
        chosen.sort_unstable_by_key(|(_, span)| *span);
        let mut open: Option<Span> = None;
        for &(_, (start, end)) in chosen.iter() {
            match &mut open {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => {
                    if let Some(done) = open.replace((start, end)) {
                        out(done);
                    }
                }
            }
        }
        if let Some(done) = open {
            out(done);
        }
    }
}

/// The spans behind each asked output index, merged and in text order, as `(the output's
/// place in outputs, span)`, in one pass over the message's features: each row is read
/// once. Only features known to the model with a span of two characters or more can explain
/// (one character, `不` or `？`, explains nothing to an agent alone).
pub fn spans(model: &Model, features: &Features, outputs: &[usize]) -> Vec<(usize, Span)> {
    let mut best = [Strongest::EMPTY; MAX_OUTPUTS];
    let best = &mut best[..outputs.len().min(MAX_OUTPUTS)];
    // Each output's floor, kept beside it: the inner loop is a load, a multiply and a compare
    // per output, and a push that is kept (rare) updates its floor.
    let mut floors = [MIN_PUSH; MAX_OUTPUTS];
    let floors = &mut floors[..best.len()];
    let rows = features
        .rows
        .iter()
        .zip(&features.values)
        .zip(&features.spans);
    for ((&row, &value), span) in rows {
        let Some(span) = *span else { continue };
        if row == NO_ROW || span.1 - span.0 < 2 {
            continue;
        }
        let weights = model.row_at(row);
        for ((&output, best), floor) in outputs.iter().zip(best.iter_mut()).zip(floors.iter_mut()) {
            let push = weights[output] * value;
            if push >= *floor {
                best.offer(push, span);
                *floor = best.floor();
            }
        }
    }
    let mut found = Vec::with_capacity(best.len() * SPANS_PER_LABEL);
    for (k, best) in best.iter().enumerate() {
        best.merged(|span| found.push((k, span)));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_three_strongest_in_text_order_merging_overlaps() {
        let mut s = Strongest::EMPTY;
        for (push, span) in [(0.2, (0, 2)), (0.9, (5, 7)), (0.5, (1, 3)), (0.1, (9, 11))] {
            if push >= s.floor() {
                s.offer(push, span);
            }
        }
        assert_eq!(
            s.floor(),
            0.2f32.next_up(),
            "an equal push does not displace the first"
        );
        assert_eq!(s.len, 3);
        assert_eq!(s.pushes.map(|p| p.0), [0.9, 0.5, 0.2]);
        let mut merged = Vec::new();
        s.merged(|span| merged.push(span));
        assert_eq!(merged, vec![(0, 3), (5, 7)]);
    }
}
