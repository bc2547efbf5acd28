//! `anfu eval`: accuracy of the analyzer on labelled files, measured rather than claimed.
//!
//! Two kinds of file are understood, by their fields:
//! - the dev-set schema (`intent`, `issue_type`, `demands`, …): per-field accuracy,
//!   precision / recall / F1, confusion matrices and the misclassified lines;
//! - review-polarity sets (`label` 1 = positive, 0 = negative): negative-detection
//!   precision / recall / F1, where negative = intent complaint or a mood other than calm.

use crate::analysis::{Analyzer, Turn};
use crate::domain::{Analysis, Demand, Intent, IssueType, Lang, Mood, Priority, Threat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

mod render;
pub use render::render;

/// Why an eval file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{path}: no labelled lines")]
    Empty { path: String },
}

/// A line of the dev-set schema, parsed into domain types.
#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    pub intent: Intent,
    pub issue_type: Option<IssueType>,
    pub demands: Vec<Demand>,
    pub mood: Mood,
    pub intensity: u8,
    pub threats: Vec<Threat>,
    pub order_id: Option<String>,
    pub lang: Lang,
    /// Earlier turns of the conversation (corpus conversations: every turn but the last).
    #[serde(default)]
    pub context: Vec<Turn>,
    /// Who wrote the line (the training corpus), for cross-validation by writer.
    #[serde(default)]
    pub writer: Option<String>,
}

/// Reads one labelled line; a corpus conversation (`turns`) becomes its last turn's text
/// with the earlier turns as context.
pub fn parse_labelled(line: &str) -> Result<Labelled, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(line)?;
    if let Some(turns) = value.as_object_mut().and_then(|o| o.remove("turns")) {
        let mut turns: Vec<Turn> = serde_json::from_value(turns)?;
        let last = turns.pop().map(|t| t.text).unwrap_or_default();
        value["text"] = serde_json::Value::String(last);
        value["context"] = serde_json::to_value(turns)?;
    }
    serde_json::from_value(value)
}

/// A review with a polarity label.
#[derive(Debug, Clone, Deserialize)]
pub struct Polar {
    #[serde(default)]
    pub id: Option<String>,
    pub text: String,
    /// 1 positive, 0 negative.
    pub label: u8,
}

/// A loaded eval file.
#[derive(Debug, Clone)]
pub enum EvalSet {
    Labelled(Vec<Labelled>),
    Polarity(Vec<Polar>),
}

/// Reads a JSONL eval file; its first line decides the schema.
///
/// # Errors
/// Unreadable file, a line that is not JSON of the detected schema (with its line number),
/// or a file with no lines.
pub fn load(path: &Path) -> Result<EvalSet, EvalError> {
    let shown = path.display().to_string();
    let raw = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: shown.clone(),
        source,
    })?;
    let lines: Vec<(usize, &str)> = raw
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let Some((_, first)) = lines.first() else {
        return Err(EvalError::Empty { path: shown });
    };
    let polarity = serde_json::from_str::<serde_json::Value>(first)
        .map(|v| v.get("intent").is_none() && v.get("label").is_some())
        .unwrap_or(false);
    let bad = |line: usize, e: serde_json::Error| EvalError::Line {
        path: shown.clone(),
        line,
        reason: e.to_string(),
    };
    if polarity {
        let rows = lines
            .iter()
            .map(|(n, l)| serde_json::from_str::<Polar>(l).map_err(|e| bad(*n, e)))
            .collect::<Result<_, _>>()?;
        Ok(EvalSet::Polarity(rows))
    } else {
        let rows = lines
            .iter()
            .map(|(n, l)| parse_labelled(l).map_err(|e| bad(*n, e)))
            .collect::<Result<_, _>>()?;
        Ok(EvalSet::Labelled(rows))
    }
}

/// Precision, recall and F1 from counts.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Prf {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    pub fn from_counts(tp: usize, fp: usize, fn_: usize) -> Prf {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Rows = gold, columns = predicted.
pub type Confusion = BTreeMap<String, BTreeMap<String, usize>>;

/// The report for a dev-set-schema file.
#[derive(Debug, Clone, Serialize)]
pub struct LabelledReport {
    pub lines: usize,
    pub intent_accuracy: f64,
    pub intent: BTreeMap<String, Prf>,
    pub complaint: Prf,
    /// Over all lines (null when not a complaint counts as a label).
    pub issue_type_accuracy: f64,
    /// Over the lines whose gold intent is complaint.
    pub issue_type_accuracy_on_complaints: f64,
    pub demands: Prf,
    pub mood_accuracy: f64,
    pub intensity_accuracy: f64,
    pub intensity_mean_abs_error: f64,
    pub threats: Prf,
    pub order_id_accuracy: f64,
    pub lang_accuracy: f64,
    pub priority_accuracy: f64,
    pub intent_confusion: Confusion,
    pub issue_type_confusion: Confusion,
    /// Lines with at least one wrong field: `(id, text, wrong fields, prediction)`.
    #[serde(skip)]
    pub errors: Vec<Miss>,
}

/// A misclassified line.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub id: String,
    pub text: String,
    pub wrong: Vec<String>,
    pub predicted: Analysis,
}

/// The report for a polarity file.
#[derive(Debug, Clone, Serialize)]
pub struct PolarityReport {
    pub lines: usize,
    pub accuracy: f64,
    pub negative: Prf,
    /// How many lines were detected as each script (a check for converted sets).
    pub lang: BTreeMap<String, usize>,
}

/// Either report.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    Labelled(Box<LabelledReport>),
    Polarity(PolarityReport),
}

/// Runs the analyzer over a loaded set.
pub fn evaluate(analyzer: &Analyzer, set: &EvalSet) -> Report {
    match set {
        EvalSet::Labelled(rows) => Report::Labelled(Box::new(evaluate_labelled(analyzer, rows))),
        EvalSet::Polarity(rows) => Report::Polarity(evaluate_polarity(analyzer, rows)),
    }
}

/// Whether a record counts as negative for review-polarity sets.
pub fn is_negative(a: &Analysis) -> bool {
    a.intent == Intent::Complaint || a.mood != Mood::Calm
}

fn evaluate_polarity(analyzer: &Analyzer, rows: &[Polar]) -> PolarityReport {
    let (mut tp, mut fp, mut fn_, mut correct) = (0, 0, 0, 0);
    let mut lang = BTreeMap::new();
    for row in rows {
        let analysis = analyzer.analyze(&row.text);
        *lang.entry(analysis.lang.as_str().to_string()).or_default() += 1;
        let predicted = is_negative(&analysis);
        let gold = row.label == 0;
        match (gold, predicted) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
        if gold == predicted {
            correct += 1;
        }
    }
    PolarityReport {
        lines: rows.len(),
        accuracy: correct as f64 / rows.len().max(1) as f64,
        negative: Prf::from_counts(tp, fp, fn_),
        lang,
    }
}

fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) => "null".into(),
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

fn set_counts<T: PartialEq>(gold: &[T], predicted: &[T]) -> (usize, usize, usize) {
    let tp = predicted.iter().filter(|p| gold.contains(p)).count();
    (tp, predicted.len() - tp, gold.len() - tp)
}

fn evaluate_labelled(analyzer: &Analyzer, rows: &[Labelled]) -> LabelledReport {
    evaluate_labelled_with(rows, |row| {
        analyzer.analyze_in_context(&row.text, &row.context)
    })
}

/// Scores `predict` on labelled rows (cross-validation predicts each with its own model).
pub fn evaluate_labelled_with(
    rows: &[Labelled],
    predict: impl Fn(&Labelled) -> Analysis,
) -> LabelledReport {
    let n = rows.len().max(1) as f64;
    let mut intent_confusion = Confusion::new();
    let mut issue_type_confusion = Confusion::new();
    let (mut demand_counts, mut threat_counts) = ((0, 0, 0), (0, 0, 0));
    let mut hits: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut complaints, mut issue_on_complaints, mut intensity_error) = (0usize, 0usize, 0usize);
    let mut errors = Vec::new();

    for (i, row) in rows.iter().enumerate() {
        let p = predict(row);
        let gold_priority = Priority::derive(row.intent, row.intensity, !row.threats.is_empty());
        let mut wrong = Vec::new();
        let mut check = |field: &'static str, ok: bool, wrong: &mut Vec<String>| {
            if ok {
                *hits.entry(field).or_default() += 1;
            } else {
                wrong.push(field.to_string());
            }
        };
        check("intent", p.intent == row.intent, &mut wrong);
        check("issue_type", p.issue_type == row.issue_type, &mut wrong);
        check("demands", p.demands == row.demands, &mut wrong);
        check("mood", p.mood == row.mood, &mut wrong);
        check("intensity", p.intensity == row.intensity, &mut wrong);
        check("threats", same_set(&p.threats, &row.threats), &mut wrong);
        check("order_id", p.order_id == row.order_id, &mut wrong);
        check("lang", p.lang == row.lang, &mut wrong);
        check("priority", p.priority == gold_priority, &mut wrong);

        *intent_confusion
            .entry(name(&row.intent))
            .or_default()
            .entry(name(&p.intent))
            .or_default() += 1;
        if row.intent == Intent::Complaint {
            complaints += 1;
            if p.issue_type == row.issue_type {
                issue_on_complaints += 1;
            }
            *issue_type_confusion
                .entry(name(&row.issue_type))
                .or_default()
                .entry(name(&p.issue_type))
                .or_default() += 1;
        }
        intensity_error += usize::from(p.intensity.abs_diff(row.intensity));
        let d = set_counts(&row.demands, &p.demands);
        demand_counts = (
            demand_counts.0 + d.0,
            demand_counts.1 + d.1,
            demand_counts.2 + d.2,
        );
        let t = set_counts(&row.threats, &p.threats);
        threat_counts = (
            threat_counts.0 + t.0,
            threat_counts.1 + t.1,
            threat_counts.2 + t.2,
        );

        if !wrong.is_empty() {
            errors.push(Miss {
                id: row.id.clone().unwrap_or_else(|| format!("line {}", i + 1)),
                text: row.text.clone(),
                wrong,
                predicted: p,
            });
        }
    }

    let intent = Intent::ALL
        .iter()
        .map(|label| {
            (
                label.as_str().to_string(),
                class_prf(&intent_confusion, label.as_str()),
            )
        })
        .collect::<BTreeMap<_, _>>();
    let acc = |field: &str| *hits.get(field).unwrap_or(&0) as f64 / n;
    LabelledReport {
        lines: rows.len(),
        intent_accuracy: acc("intent"),
        complaint: intent.get("complaint").copied().unwrap_or_default(),
        intent,
        issue_type_accuracy: acc("issue_type"),
        issue_type_accuracy_on_complaints: issue_on_complaints as f64 / complaints.max(1) as f64,
        demands: Prf::from_counts(demand_counts.0, demand_counts.1, demand_counts.2),
        mood_accuracy: acc("mood"),
        intensity_accuracy: acc("intensity"),
        intensity_mean_abs_error: intensity_error as f64 / n,
        threats: Prf::from_counts(threat_counts.0, threat_counts.1, threat_counts.2),
        order_id_accuracy: acc("order_id"),
        lang_accuracy: acc("lang"),
        priority_accuracy: acc("priority"),
        intent_confusion,
        issue_type_confusion,
        errors,
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn class_prf(confusion: &Confusion, label: &str) -> Prf {
    let tp = confusion
        .get(label)
        .and_then(|r| r.get(label))
        .copied()
        .unwrap_or(0);
    let gold: usize = confusion.get(label).map_or(0, |r| r.values().sum());
    let predicted: usize = confusion.values().filter_map(|r| r.get(label)).sum();
    Prf::from_counts(tp, predicted - tp, gold - tp)
}
