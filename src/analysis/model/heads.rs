//! The model's heads: which output index means what, and how raw sums become probabilities.
//!
//! One linear layer with 31 outputs: intent (softmax over 4), issue type (softmax over 10,
//! trained on complaints only), mood (softmax over 4), intensity (softmax over 0–3) and one
//! sigmoid per demand (a message can ask for several).

use crate::domain::{Demand, Intent, IssueType, Mood};
use std::ops::Range;

pub const INTENT: Range<usize> = 0..4;
pub const ISSUE: Range<usize> = 4..14;
pub const MOOD: Range<usize> = 14..18;
pub const INTENSITY: Range<usize> = 18..22;
pub const DEMANDS: Range<usize> = 22..31;
pub const OUTPUTS: usize = 31;

/// The output names, as written in the weights file (`intent:complaint`, `intensity:2`, …).
pub fn output_names() -> Vec<String> {
    let mut names = Vec::with_capacity(OUTPUTS);
    names.extend(Intent::ALL.iter().map(|v| format!("intent:{v}")));
    names.extend(IssueType::ALL.iter().map(|v| format!("issue_type:{v}")));
    names.extend(Mood::ALL.iter().map(|v| format!("mood:{v}")));
    names.extend((0..4).map(|v| format!("intensity:{v}")));
    names.extend(Demand::ALL.iter().map(|v| format!("demand:{v}")));
    names
}

/// Raw output sums for one message.
#[derive(Debug, Clone, Copy)]
pub struct Outputs(pub [f32; OUTPUTS]);

/// What a label is trained towards.
#[derive(Debug, Clone)]
pub struct Targets {
    pub intent: Intent,
    pub issue: Option<IssueType>,
    pub mood: Mood,
    pub intensity: u8,
    pub demands: Vec<Demand>,
}

/// Softmax over a slice, in place.
fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Probabilities per head.
#[derive(Debug, Clone, Copy)]
pub struct Probabilities(pub [f32; OUTPUTS]);

impl Outputs {
    pub fn probabilities(&self) -> Probabilities {
        let mut p = self.0;
        softmax(&mut p[INTENT]);
        softmax(&mut p[ISSUE]);
        softmax(&mut p[MOOD]);
        softmax(&mut p[INTENSITY]);
        for x in &mut p[DEMANDS] {
            *x = sigmoid(*x);
        }
        Probabilities(p)
    }
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The decisions read straight from the raw sums: a softmax keeps the order of its inputs, so
/// its argmax is the sums' argmax, and a sigmoid is at least `p` exactly when its input is at
/// least `logit(p)`. Analysing a message needs no `exp` (31 of them were 5 % of the model's
/// cost); training still needs the probabilities.
impl Outputs {
    pub fn intent(&self) -> Intent {
        Intent::ALL[argmax(&self.0[INTENT])]
    }

    pub fn issue(&self) -> IssueType {
        IssueType::ALL[argmax(&self.0[ISSUE])]
    }

    pub fn mood(&self) -> Mood {
        Mood::ALL[argmax(&self.0[MOOD])]
    }

    /// The likeliest intensity from 1 to 3 (for a mood that is not calm).
    pub fn intensity_when_upset(&self) -> u8 {
        1 + argmax(&self.0[INTENSITY.start + 1..INTENSITY.end]) as u8
    }

    /// The demand's log-odds: its probability is `sigmoid` of this.
    pub fn demand_logit(&self, d: Demand) -> f32 {
        self.0[DEMANDS.start + d.index()]
    }

    /// Adds a weight row's demand columns (a feature known only once the issue is decided).
    pub fn add_demands(&mut self, row: &[f32]) {
        for (sum, w) in self.0[DEMANDS].iter_mut().zip(&row[DEMANDS]) {
            *sum += w;
        }
    }
}

/// The log-odds of a probability: `sigmoid(logit(p)) == p`.
pub fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}

/// The gradient of the log loss for one example: `p - y` on every head that has a target.
/// Issue type is only trained on complaints.
pub fn gradient(p: &Probabilities, t: &Targets) -> [f32; OUTPUTS] {
    let mut g = p.0;
    g[INTENT.start + t.intent.index()] -= 1.0;
    match t.issue {
        Some(issue) => g[ISSUE.start + issue.index()] -= 1.0,
        None => g[ISSUE].iter_mut().for_each(|x| *x = 0.0),
    }
    g[MOOD.start + t.mood.index()] -= 1.0;
    g[INTENSITY.start + usize::from(t.intensity.min(3))] -= 1.0;
    for d in &t.demands {
        g[DEMANDS.start + d.index()] -= 1.0;
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_from_the_sums_are_the_probabilities_decisions() {
        let mut sums = [0f32; OUTPUTS];
        for (i, x) in sums.iter_mut().enumerate() {
            *x = ((i * 7919) % 13) as f32 * 0.37 - 2.0;
        }
        let out = Outputs(sums);
        let p = out.probabilities().0;
        let best = |r: Range<usize>| argmax(&p[r.clone()]) == argmax(&sums[r]);
        assert!(best(INTENT) && best(ISSUE) && best(MOOD) && best(INTENSITY));
        for d in Demand::ALL {
            let prob = p[DEMANDS.start + d.index()];
            for threshold in [0.1, 0.5] {
                assert_eq!(prob >= threshold, out.demand_logit(*d) >= logit(threshold));
            }
        }
        assert!((sigmoid(logit(0.1)) - 0.1).abs() < 1e-6);
    }
}
