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

impl Probabilities {
    pub fn intent(&self) -> (Intent, f32) {
        let i = argmax(&self.0[INTENT]);
        (Intent::ALL[i], self.0[INTENT.start + i])
    }

    pub fn issue(&self) -> (IssueType, f32) {
        let i = argmax(&self.0[ISSUE]);
        (IssueType::ALL[i], self.0[ISSUE.start + i])
    }

    pub fn mood(&self) -> (Mood, f32) {
        let i = argmax(&self.0[MOOD]);
        (Mood::ALL[i], self.0[MOOD.start + i])
    }

    /// The likeliest intensity from 1 to 3 (for a mood that is not calm).
    pub fn intensity_when_upset(&self) -> u8 {
        1 + argmax(&self.0[INTENSITY.start + 1..INTENSITY.end]) as u8
    }

    pub fn demand(&self, d: Demand) -> f32 {
        self.0[DEMANDS.start + d.index()]
    }
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
