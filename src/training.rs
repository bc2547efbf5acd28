//! `anfu train`: the model from the corpus, and leave-one-writer-out cross-validation.
//!
//! The corpus is `fixtures/corpus/settled/*.jsonl` (every writer's lines with the third
//! reading's labels); `--extra FILE` adds a shop's own labelled lines in the same schema.
//! The test sets are refused by name: `../shared/dev-set/` and
//! `fixtures/labelled/holdout.jsonl` measure the analyzer and must never teach it.

use crate::analysis::model::heads::Targets;
use crate::analysis::model::train::{self, Example, TrainOptions};
use crate::analysis::model::Model;
use crate::analysis::Analyzer;
use crate::domain::Intent;
use crate::eval::{self, EvalError, EvalSet, Labelled, LabelledReport};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Read(#[from] EvalError),
    #[error("{0}: a test set, never training data")]
    TestSet(String),
    #[error("{0}: not in the labelled schema (intent, issue_type, demands, …)")]
    NotLabelled(String),
    #[error("{0}: no .jsonl files")]
    NoCorpus(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

fn is_test_set(path: &Path) -> bool {
    let shown = path
        .canonicalize()
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string();
    shown.contains("dev-set") || shown.ends_with("holdout.jsonl") || shown.contains("/eval/")
}

/// Reads one labelled file; lines without a writer get `default_writer`.
fn read_file(path: &Path, default_writer: &str) -> Result<Vec<Labelled>, TrainError> {
    if is_test_set(path) {
        return Err(TrainError::TestSet(path.display().to_string()));
    }
    match eval::load(path)? {
        EvalSet::Labelled(mut rows) => {
            for row in &mut rows {
                row.writer.get_or_insert_with(|| default_writer.to_string());
            }
            Ok(rows)
        }
        EvalSet::Polarity(_) => Err(TrainError::NotLabelled(path.display().to_string())),
    }
}

/// The corpus folder's `*.jsonl` files (sorted, so the order and the weights are stable)
/// plus each `extra` file.
///
/// # Errors
/// An unreadable or malformed file (with its line), a test set, or an empty folder.
pub fn load_corpus(dir: &Path, extra: &[PathBuf]) -> Result<Vec<Labelled>, TrainError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| EvalError::Read {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(TrainError::NoCorpus(dir.display().to_string()));
    }
    let mut lines = Vec::new();
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("corpus");
        lines.extend(read_file(file, stem)?);
    }
    for file in extra {
        lines.extend(read_file(file, "extra")?);
    }
    Ok(lines)
}

/// Featurises labelled lines with the rules-only analyzer.
pub fn examples(analyzer: &Analyzer, lines: &[Labelled]) -> Vec<Example> {
    lines
        .iter()
        .map(|l| Example {
            features: {
                let mut features = analyzer.features(&l.text, &l.context);
                if let (Intent::Complaint, Some(issue)) = (l.intent, l.issue_type) {
                    features.push_issue(issue);
                }
                features
            },
            targets: Targets {
                intent: l.intent,
                issue: l.issue_type,
                mood: l.mood,
                intensity: l.intensity,
                demands: l.demands.clone(),
            },
            writer: l.writer.clone().unwrap_or_default(),
        })
        .collect()
}

/// Trains on every example (see [`examples`]) and records what the model was trained with.
pub fn train_model(analyzer: &Analyzer, examples: &[Example], options: &TrainOptions) -> Model {
    let refs: Vec<&Example> = examples.iter().collect();
    let mut model = train::train(&refs, options);
    model.trained_terms = analyzer.entry_keys().into_iter().collect();
    let mut writers: Vec<&str> = examples.iter().map(|e| e.writer.as_str()).collect();
    writers.sort_unstable();
    writers.dedup();
    model.provenance = format!(
        "{} lines from {} writers\tseed {}\tepochs {}\tl2 {}\tmin_count {}\t{} features",
        examples.len(),
        writers.len(),
        options.seed,
        options.epochs,
        options.l2,
        options.min_count,
        model.features()
    );
    model
}

/// Writes the model to `path`.
///
/// # Errors
/// The file cannot be written.
pub fn write_model(model: &Model, path: &Path) -> Result<(), TrainError> {
    std::fs::write(path, model.to_text()).map_err(|source| TrainError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Leave-one-writer-out results: each writer scored by a model that never saw its lines.
#[derive(Debug, serde::Serialize)]
pub struct CrossValidation {
    pub writers: Vec<(String, LabelledReport)>,
    /// Every line, each predicted by the model that did not see its writer.
    pub pooled: LabelledReport,
    /// The lines read in a conversation (with earlier turns), pooled the same way.
    pub conversations: LabelledReport,
}

/// Leave-one-writer-out cross-validation of the rules + model combination; `examples` are
/// `lines` featurised (see [`examples`]), in the same order.
pub fn cross_validate(
    analyzer: &Analyzer,
    lines: &[Labelled],
    examples: &[Example],
    options: &TrainOptions,
) -> CrossValidation {
    let models = train::leave_one_writer_out(examples, options);
    let writer_of = |l: &Labelled| l.writer.clone().unwrap_or_default();
    let predict = |l: &Labelled| {
        let held_out = writer_of(l);
        let model = models.iter().find(|(w, _)| *w == held_out).map(|(_, m)| m);
        analyzer.analyze_with(&l.text, &l.context, model)
    };
    let writers = models
        .iter()
        .map(|(w, _)| {
            let rows: Vec<Labelled> = lines
                .iter()
                .filter(|l| writer_of(l) == *w)
                .cloned()
                .collect();
            (w.clone(), eval::evaluate_labelled_with(&rows, predict))
        })
        .collect();
    let in_conversation: Vec<Labelled> = lines
        .iter()
        .filter(|l| !l.context.is_empty())
        .cloned()
        .collect();
    CrossValidation {
        writers,
        pooled: eval::evaluate_labelled_with(lines, predict),
        conversations: eval::evaluate_labelled_with(&in_conversation, predict),
    }
}

/// A markdown table of the cross-validation, one row per writer and one pooled.
pub fn render(cv: &CrossValidation) -> String {
    let mut out = String::from(
        "| held-out writer | lines | complaint F1 | issue_type | demands F1 | mood | intensity | threats F1 |\n|---|---|---|---|---|---|---|---|\n",
    );
    let rows = cv.writers.iter().map(|(w, r)| (w.as_str(), r)).chain([
        ("all (pooled)", &cv.pooled),
        ("in a conversation (pooled)", &cv.conversations),
    ]);
    for (w, r) in rows {
        let _ = writeln!(
            out,
            "| {w} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.lines,
            r.complaint.f1,
            r.issue_type_accuracy,
            r.demands.f1,
            r.mood_accuracy,
            r.intensity_accuracy,
            r.threats.f1
        );
    }
    out
}

/// What `anfu train` was asked to do: its command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Run {
    #[arg(long, default_value = "intents", env = "ANFU_INTENTS")]
    pub intents: PathBuf,
    /// The labelled corpus: every .jsonl file in this folder.
    #[arg(long, default_value = "fixtures/corpus/settled")]
    pub corpus: PathBuf,
    /// A shop's own labelled lines (same schema), added to the corpus; repeatable.
    #[arg(long)]
    pub extra: Vec<PathBuf>,
    #[arg(long, help = "Write the weights here instead of `<intents>/model.tsv`")]
    pub out: Option<PathBuf>,
    /// Also cross-validate, leaving one writer out at a time, and print the table.
    #[arg(long)]
    pub cv: bool,
    /// With --cv: also write the full report (every miss) as JSON here.
    #[arg(long)]
    pub cv_json: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Passes over the corpus (default 12).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// L2 regularisation per step (default 1e-4).
    #[arg(long)]
    pub l2: Option<f32>,
    /// Lines a feature must appear in to get a weight (default 2).
    #[arg(long)]
    pub min_count: Option<u32>,
    /// The chance a feature is hidden from the intent head in a step (default 0.4).
    #[arg(long)]
    pub intent_dropout: Option<f32>,
    /// The chance a feature is hidden from the issue head in a step (default 0.6).
    #[arg(long)]
    pub issue_dropout: Option<f32>,
    /// Training runs of those heads with different dropout masks, averaged (default 5).
    #[arg(long)]
    pub dropout_draws: Option<u32>,
    /// Training runs of every head with different shuffles, averaged.
    #[arg(long)]
    pub shuffle_draws: Option<u32>,
}

impl Run {
    /// The training options: the defaults with what was given on the command line.
    pub fn options(&self) -> TrainOptions {
        let defaults = TrainOptions::default();
        TrainOptions {
            seed: self.seed,
            epochs: self.epochs.unwrap_or(defaults.epochs),
            l2: self.l2.unwrap_or(defaults.l2),
            min_count: self.min_count.unwrap_or(defaults.min_count),
            intent_dropout: (self.intent_dropout)
                .unwrap_or(defaults.intent_dropout)
                .clamp(0.0, 0.95),
            issue_dropout: (self.issue_dropout)
                .unwrap_or(defaults.issue_dropout)
                .clamp(0.0, 0.95),
            dropout_draws: self.dropout_draws.unwrap_or(defaults.dropout_draws),
            shuffle_draws: self.shuffle_draws.unwrap_or(defaults.shuffle_draws),
            ..defaults
        }
    }
}

/// `anfu train`: optionally cross-validates, then trains on everything and writes the model.
/// Returns the report to print.
///
/// # Errors
/// Bad dictionaries or corpus (with file and line), a test set given as training data, or
/// an unwritable output.
pub fn command(run: &Run) -> Result<String, String> {
    let started = std::time::Instant::now();
    let analyzer = Analyzer::rules_only(&run.intents).map_err(|e| e.to_string())?;
    let lines = load_corpus(&run.corpus, &run.extra).map_err(|e| e.to_string())?;
    let options = run.options();
    let examples = examples(&analyzer, &lines);
    let mut report = String::new();
    if run.cv {
        let cv = cross_validate(&analyzer, &lines, &examples, &options);
        let _ = write!(report, "leave-one-writer-out\n{}", render(&cv));
        if let Some(json) = &run.cv_json {
            let full = serde_json::json!({"cv": &cv, "misses": &cv.pooled.errors});
            std::fs::write(json, full.to_string()).map_err(|e| e.to_string())?;
        }
    }
    let model = train_model(&analyzer, &examples, &options);
    let path = run
        .out
        .clone()
        .unwrap_or_else(|| run.intents.join(crate::analysis::model::MODEL_FILE));
    write_model(&model, &path).map_err(|e| e.to_string())?;
    let _ = writeln!(
        report,
        "{}: {} features from {} lines in {:.1} s",
        path.display(),
        model.features(),
        lines.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(report)
}
