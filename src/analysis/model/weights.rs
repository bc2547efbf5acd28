//! The weights file `intents/model.tsv`: what `anfu train` writes and the analyzer loads.
//!
//! A text file, so a reviewer can see what a word weighs, and validated line by line (`⇥` is
//! a tab):
//!
//! ```text
//! anfu-model ⇥ 1
//! outputs ⇥ intent:complaint intent:inquiry … demand:cancel
//! trained ⇥ 7107 lines ⇥ seed 1
//! terms ⇥ <16 hex digits per dictionary term the model was trained with, space-separated>
//! f ⇥ c2:擦全 ⇥ 0:0.412 14:-0.05 …
//! ```
//!
//! One `f` line per feature: its name and the non-zero weights by output index. `terms`
//! lists hashes of the `(label, term)` pairs of `intents/` at training time, so that a term
//! a shop added later is known to be new and can outrank the model (see [`super::combine`]).

use super::features::{hash_name, Features, NO_ROW};
use super::heads::{Outputs, INTENSITY, INTENT, ISSUE, MOOD, OUTPUTS};
use super::row_index::RowIndex;
use crate::analysis::DataError;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

/// The keys are FNV hashes already: hashing them again would only cost time.
#[derive(Default)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub type FastMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

const MAGIC: &str = "anfu-model";
const VERSION: &str = "1";

/// Weights are rounded to thousandths, the file's precision, so a model read back from its
/// file scores exactly as the one training built.
const SCALE: f32 = 1000.0;
/// The largest weight a row holds (training's L2 keeps weights far inside it).
const MAX_WEIGHT: f32 = 32.0;
/// Slots per row: the outputs padded to 32, so that a row is two whole 64-byte cache lines
/// and adding it is eight 4-lane vector multiply-adds.
pub(super) const ROW_WIDTH: usize = 32;
const _: () = assert!(OUTPUTS <= ROW_WIDTH);

/// The heads whose outputs share one softmax.
const SOFTMAX_HEADS: [std::ops::Range<usize>; 4] = [INTENT, ISSUE, MOOD, INTENSITY];

/// Takes the mean off every weight of one head, and returns it.
fn centre(head: &mut [f32]) -> f32 {
    let mean = head.iter().sum::<f32>() / head.len() as f32;
    for w in head.iter_mut() {
        *w -= mean;
    }
    mean
}

#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Row(pub(super) [f32; ROW_WIDTH]);

impl Row {
    /// Rounded to thousandths and clamped to ±[`MAX_WEIGHT`].
    fn quantize(weights: &[f32]) -> Row {
        let mut row = Row([0.0; ROW_WIDTH]);
        for (slot, w) in row.0.iter_mut().zip(weights) {
            *slot = (w.clamp(-MAX_WEIGHT, MAX_WEIGHT) * SCALE).round() / SCALE;
        }
        row
    }
}

/// A trained linear model: one row of [`OUTPUTS`] weights per feature.
#[derive(Debug, Clone, Default)]
pub struct Model {
    rows: RowIndex,
    /// Each row with its softmax heads centred (see [`Model::from_rows`]).
    weights: Vec<Row>,
    /// Per row, what centring took off each softmax head, to write the file's weights back.
    head_means: Vec<[f32; 4]>,
    /// Feature names by row, kept when trained or loaded (for writing and explaining).
    names: Vec<String>,
    /// Hashes of the dictionary `(label, term)` pairs it was trained with.
    pub trained_terms: HashSet<u64>,
    /// Free text for the `trained` line.
    pub provenance: String,
}

impl Model {
    /// A model with these rows (names and dense weights, `OUTPUTS` per row), rounded to
    /// thousandths.
    ///
    /// Each softmax head of a row is then centred (its mean taken off every output): a
    /// softmax does not change when the same amount is added to all its inputs, so the
    /// probabilities stay what they were, and a centred weight is directly what a feature
    /// adds to one output over the alternatives, which is what explaining needs
    /// ([`super::explain`]) without a second table to look up per feature.
    pub fn from_rows(names: Vec<String>, weights: Vec<f32>) -> Model {
        let mut weights: Vec<Row> = weights.chunks(OUTPUTS).map(Row::quantize).collect();
        let head_means = weights
            .iter_mut()
            .map(|row| SOFTMAX_HEADS.map(|head| centre(&mut row.0[head])))
            .collect();
        let rows = RowIndex::with_keys(names.iter().map(|n| hash_name(n)));
        Model {
            rows,
            weights,
            head_means,
            names,
            ..Model::default()
        }
    }

    /// Number of features with weights.
    pub fn features(&self) -> usize {
        self.names.len()
    }

    /// The row of one feature key ([`NO_ROW`] when it has no weights).
    pub fn row_of(&self, key: u64) -> u32 {
        self.rows.get(key)
    }

    /// Looks up each feature's row once, for scoring and explaining.
    pub fn resolve(&self, features: &mut Features) {
        features.rows.clear();
        features
            .rows
            .extend(features.keys.iter().map(|k| self.rows.get(*k)));
    }

    /// The weights of a resolved row, softmax heads centred: what the feature adds to each
    /// output over the other outputs of its head (a demand's own weight for a demand).
    pub fn row_at(&self, row: u32) -> &[f32] {
        &self.weights[row as usize].0[..OUTPUTS]
    }

    /// A row's weights as trained (in thousandths), for the file.
    fn trained_row(&self, index: usize) -> [f32; OUTPUTS] {
        let mut row: [f32; OUTPUTS] = std::array::from_fn(|o| self.weights[index].0[o]);
        for (head, mean) in SOFTMAX_HEADS.into_iter().zip(self.head_means[index]) {
            for w in &mut row[head] {
                *w = ((*w + mean) * SCALE).round() / SCALE;
            }
        }
        row
    }

    /// A resolved row with its padding, for vector code.
    pub(super) fn padded_row(&self, row: u32) -> &[f32; ROW_WIDTH] {
        &self.weights[row as usize].0
    }

    /// The raw output sums of a message's resolved features.
    pub fn score(&self, features: &Features) -> Outputs {
        let mut sums = [0f32; ROW_WIDTH];
        for (&row, &value) in features.rows.iter().zip(&features.values) {
            if row != NO_ROW {
                let weights = self.padded_row(row);
                for i in 0..ROW_WIDTH {
                    sums[i] += weights[i] * value;
                }
            }
        }
        Outputs(std::array::from_fn(|o| sums[o]))
    }

    /// The file's text: weights in thousandths, zeros left out.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.names.len() * 64);
        out.push_str(&format!("{MAGIC}\t{VERSION}\n"));
        out.push_str(&format!(
            "outputs\t{}\n",
            super::heads::output_names().join(" ")
        ));
        out.push_str(&format!("trained\t{}\n", self.provenance));
        let mut terms: Vec<u64> = self.trained_terms.iter().copied().collect();
        terms.sort_unstable();
        let terms: Vec<String> = terms.iter().map(|t| format!("{t:016x}")).collect();
        out.push_str(&format!("terms\t{}\n", terms.join(" ")));
        for (index, name) in self.names.iter().enumerate() {
            let cells: Vec<String> = self
                .trained_row(index)
                .iter()
                .enumerate()
                .filter(|(_, w)| **w != 0.0)
                .map(|(o, w)| format!("{o}:{w}"))
                .collect();
            if !cells.is_empty() {
                out.push_str(&format!("f\t{name}\t{}\n", cells.join(" ")));
            }
        }
        out
    }

    /// Reads and validates a weights file.
    ///
    /// # Errors
    /// Every malformed line, with the file and line number; a file for another taxonomy
    /// (its `outputs` line differs) or another format version.
    pub fn from_file(path: &Path) -> Result<Model, Vec<DataError>> {
        let text = crate::built_in::read_to_string(path).map_err(|e| {
            vec![DataError::new(
                path,
                None,
                format!("cannot read the model: {e} (run `anfu train`)"),
            )]
        })?;
        parse(path, &text)
    }
}

fn parse(path: &Path, text: &str) -> Result<Model, Vec<DataError>> {
    let mut errors = Vec::new();
    let mut names = Vec::new();
    let mut weights = Vec::new();
    let mut model = Model::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let expected_outputs = super::heads::output_names().join(" ");
    for (index, line) in text.lines().enumerate() {
        let n = index + 1;
        let mut err = |msg: String| errors.push(DataError::new(path, Some(n), msg));
        let mut cells = line.splitn(3, '\t');
        let kind = cells.next().unwrap_or("");
        match (n, kind) {
            (1, MAGIC) if cells.next() == Some(VERSION) => {}
            (1, _) => err(format!("not an anfu model (expected `{MAGIC}\t{VERSION}`)")),
            (_, "outputs") if cells.next() == Some(expected_outputs.as_str()) => {}
            (_, "outputs") => err("outputs differ from this build's taxonomy: retrain".into()),
            (_, "trained") => model.provenance = cells.next().unwrap_or("").to_string(),
            (_, "terms") => {
                for t in cells.next().unwrap_or("").split_whitespace() {
                    match u64::from_str_radix(t, 16) {
                        Ok(h) => {
                            model.trained_terms.insert(h);
                        }
                        Err(_) => err(format!("term hash `{t}` is not hexadecimal")),
                    }
                }
            }
            (_, "f") => {
                let (Some(name), Some(cells)) = (cells.next(), cells.next()) else {
                    err("a feature line needs a name and weights".into());
                    continue;
                };
                if !seen.insert(hash_name(name)) {
                    err(format!("feature `{name}` listed twice"));
                    continue;
                }
                let mut row = [0f32; OUTPUTS];
                for cell in cells.split(' ') {
                    let parsed = cell.split_once(':').and_then(|(o, w)| {
                        let o: usize = o.parse().ok().filter(|o| *o < OUTPUTS)?;
                        let w: f32 = w.parse().ok().filter(|w: &f32| w.abs() <= MAX_WEIGHT)?;
                        Some((o, w))
                    });
                    match parsed {
                        Some((o, w)) => row[o] = w,
                        None => err(format!(
                            "`{cell}` is not output:weight (a weight is within ±32)"
                        )),
                    }
                }
                names.push(name.to_string());
                weights.extend_from_slice(&row);
            }
            (_, "") => {}
            (_, other) => err(format!("unknown line kind `{other}`")),
        }
    }
    if names.is_empty() && errors.is_empty() {
        errors.push(DataError::new(path, None, "the model has no features"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let trained_terms = std::mem::take(&mut model.trained_terms);
    let provenance = std::mem::take(&mut model.provenance);
    let mut model = Model::from_rows(names, weights);
    model.trained_terms = trained_terms;
    model.provenance = provenance;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_model_reads_back_and_bad_lines_are_named() {
        let mut weights = vec![0f32; 2 * OUTPUTS];
        weights[0] = 1.25;
        weights[OUTPUTS + 3] = -0.5;
        let mut m = Model::from_rows(vec!["c1:坏".into(), "w:快递".into()], weights);
        m.trained_terms.insert(42);
        let text = m.to_text();
        let back = parse(Path::new("m.tsv"), &text).expect("reads back");
        let mut features = Features {
            keys: vec![hash_name("c1:坏"), hash_name("w:快递"), hash_name("w:不在")],
            ..Features::default()
        };
        back.resolve(&mut features);
        // In memory the intent head is centred: 1.25 over 0, 0, 0 adds 0.9375 over the mean.
        assert_eq!(back.row_at(features.rows[0])[0], 0.9375);
        assert_eq!(back.row_at(features.rows[1])[3], -0.375);
        assert_eq!(
            back.to_text(),
            text,
            "the file keeps the weights as trained"
        );
        assert_eq!(features.rows[2], NO_ROW);
        assert!(back.trained_terms.contains(&42));

        let broken = text.replace("0:1.25", "99:x");
        let errors = parse(Path::new("m.tsv"), &broken).expect_err("bad cell");
        assert!(errors[0].to_string().contains("m.tsv:5"), "{}", errors[0]);
    }
}
