//! Training: multinomial logistic regression by stochastic gradient descent, deterministic.
//!
//! The same seed and the same lines give the same weights, byte for byte: the vocabulary is
//! numbered in order of first appearance, the shuffle comes from a seeded generator, and
//! nothing depends on hash-map iteration order. Regularisation is L2 on every row an example
//! touches (the usual sparse approximation) plus a minimum count: a feature seen in fewer
//! than `min_count` lines gets no weight, so one writer's quirks cannot be memorised.

use super::features::Features;
use super::heads::{gradient, Outputs, Targets, ISSUE, OUTPUTS};
use super::weights::{FastMap, Model};

/// One labelled line, featurised.
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Features,
    pub targets: Targets,
    /// Who wrote it, for leave-one-writer-out cross-validation.
    pub writer: String,
}

/// Knobs of the training run.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub epochs: usize,
    pub seed: u64,
    /// Step size at the first epoch; it decays as `rate / (1 + epoch)`.
    pub rate: f32,
    pub l2: f32,
    pub min_count: u32,
    /// Features whose largest weight is below this are dropped after training.
    pub prune: f32,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            epochs: 12,
            seed: 1,
            rate: 0.1,
            l2: 1e-4,
            min_count: 2,
            prune: 0.1,
        }
    }
}

/// Numbers the features seen in at least `min_count` examples, in order of first appearance.
fn vocabulary(examples: &[&Example], min_count: u32) -> (FastMap<u32>, Vec<String>) {
    let mut counts: FastMap<u32> = FastMap::default();
    let mut order: Vec<(u64, String)> = Vec::new();
    for ex in examples {
        let names = ex.features.names.as_deref().unwrap_or(&[]);
        let mut seen_here: FastMap<()> = FastMap::default();
        for (i, key) in ex.features.keys.iter().enumerate() {
            if seen_here.insert(*key, ()).is_some() {
                continue;
            }
            let c = counts.entry(*key).or_insert(0);
            if *c == 0 {
                order.push((*key, names.get(i).cloned().unwrap_or_default()));
            }
            *c += 1;
        }
    }
    let mut rows = FastMap::default();
    let mut names = Vec::new();
    for (key, name) in order {
        if counts[&key] >= min_count {
            rows.insert(key, names.len() as u32);
            names.push(name);
        }
    }
    (rows, names)
}

/// Whether a feature may weigh on the issue type. A threat says how far the buyer will go,
/// not what went wrong: left in, "不然差评" pulled a broken cup from `damaged` to `quality`
/// because one writer's threats came with quality complaints.
fn feeds_issue(name: &str) -> bool {
    !name.contains("threat")
}

/// Trains a model on `examples`.
pub fn train(examples: &[&Example], options: &TrainOptions) -> Model {
    let (rows, names) = vocabulary(examples, options.min_count);
    let issue_blind: Vec<bool> = names.iter().map(|n| !feeds_issue(n)).collect();
    let mut weights = vec![0f32; names.len() * OUTPUTS];
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut active: Vec<(usize, f32)> = Vec::new();
    for epoch in 0..options.epochs {
        rng.shuffle(&mut order);
        let rate = options.rate / (1.0 + epoch as f32);
        for &i in &order {
            let ex = examples[i];
            active.clear();
            for (key, value) in ex.features.keys.iter().zip(&ex.features.values) {
                if let Some(&row) = rows.get(key) {
                    active.push((row as usize * OUTPUTS, *value));
                }
            }
            let mut sums = [0f32; OUTPUTS];
            for &(at, value) in &active {
                for (s, w) in sums.iter_mut().zip(&weights[at..at + OUTPUTS]) {
                    *s += w * value;
                }
            }
            let g = gradient(&Outputs(sums).probabilities(), &ex.targets);
            for &(at, value) in &active {
                let row = &mut weights[at..at + OUTPUTS];
                for (w, g) in row.iter_mut().zip(&g) {
                    *w -= rate * (g * value + options.l2 * *w);
                }
                if issue_blind[at / OUTPUTS] {
                    row[ISSUE].iter_mut().for_each(|w| *w = 0.0);
                }
            }
        }
    }
    prune(names, weights, options.prune)
}

/// Drops the features whose every weight is below `threshold`: they change no decision but
/// cost memory, and a smaller table keeps the dictionaries' automata in the cache.
fn prune(names: Vec<String>, weights: Vec<f32>, threshold: f32) -> Model {
    let mut kept_names = Vec::new();
    let mut kept = Vec::new();
    for (name, row) in names.into_iter().zip(weights.chunks(OUTPUTS)) {
        if row.iter().any(|w| w.abs() >= threshold) {
            kept_names.push(name);
            kept.extend_from_slice(row);
        }
    }
    Model::from_rows(kept_names, kept)
}

/// Leave-one-writer-out: for each writer, a model trained on every other writer's lines.
/// Returns `(writer, model)` pairs in writer order.
pub fn leave_one_writer_out(examples: &[Example], options: &TrainOptions) -> Vec<(String, Model)> {
    let mut writers: Vec<String> = examples.iter().map(|e| e.writer.clone()).collect();
    writers.sort();
    writers.dedup();
    writers
        .into_iter()
        .map(|held_out| {
            let rest: Vec<&Example> = examples.iter().filter(|e| e.writer != held_out).collect();
            let model = train(&rest, options);
            (held_out, model)
        })
        .collect()
}
