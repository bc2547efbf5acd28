//! The analyzer: turns one Chinese buyer message into an explainable [`Analysis`].
//!
//! Pure and synchronous, no I/O after loading. The pipeline:
//! normalise ([`normalize`]) → segment ([`segment`], jieba with every dictionary term added)
//! → dictionary and pattern hits ([`lexicon`]) → rules ([`rules`]: segmentation check,
//! containment, negation, contrast, degree) → the rules' decision ([`decide`]) → the learned
//! model's features and probabilities ([`model`], over the message and its conversation
//! [`context`]) → one combination ([`model::combine`]) → record with evidence, the order
//! number ([`order_id`]) and script ([`lang`]) alongside ([`pipeline`]).
//!
//! Without `intents/model.tsv` the rules decide alone (and `anfu check` says so).
//!
//! ```no_run
//! use anfu::analysis::Analyzer;
//! let analyzer = Analyzer::from_dir("intents".as_ref()).expect("valid intents/");
//! let record = analyzer.analyze("质量太差了，我要退货退款！订单号3721458805123456789");
//! assert_eq!(record.intent.as_str(), "complaint");
//! ```

pub mod clauses;
pub mod context;
pub mod cue_index;
pub mod data_error;
pub mod decide;
pub mod gate;
pub mod lang;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod order_id;
pub mod pipeline;
pub mod rules;
pub mod segment;

use crate::domain::Analysis;
pub use context::Turn;
pub use data_error::{DataError, DataErrors};
use lexicon::Lexicon;
use model::features::Features;
use model::Model;
use order_id::OrderIdRules;
use segment::Segmenter;
use std::path::Path;

/// Dictionaries, order-number rules, the segmenter and the model, loaded once and shared.
#[derive(Debug)]
pub struct Analyzer {
    lexicon: Lexicon,
    order_ids: OrderIdRules,
    segmenter: Segmenter,
    model: Option<Model>,
    warnings: Vec<DataError>,
}

impl Analyzer {
    /// Loads and validates `dir` (an `intents/` folder, with its `model.tsv` when present)
    /// and builds the matchers.
    ///
    /// # Errors
    /// Every problem in the folder's files, each with file and line.
    pub fn from_dir(dir: &Path) -> Result<Analyzer, DataErrors> {
        let mut analyzer = Analyzer::rules_only(dir)?;
        let path = dir.join(model::MODEL_FILE);
        if !crate::built_in::exists(&path) {
            analyzer.warnings.push(DataError::new(
                &path,
                None,
                "no model: the rules decide alone (run `anfu train`)",
            ));
            return Ok(analyzer);
        }
        let model = Model::from_file(&path).map_err(DataErrors)?;
        let fresh = analyzer.lexicon.mark_fresh(&model.trained_terms);
        if fresh > 0 {
            analyzer.warnings.push(DataError::new(
                &path,
                None,
                format!("{fresh} dictionary entries are newer than the model: they outrank it until `anfu train` runs again"),
            ));
        }
        analyzer.model = Some(model);
        Ok(analyzer)
    }

    /// [`Analyzer::from_dir`] without the model: what `anfu train` featurises with.
    ///
    /// # Errors
    /// As [`Analyzer::from_dir`], for the dictionaries and order-number rules.
    pub fn rules_only(dir: &Path) -> Result<Analyzer, DataErrors> {
        let lexicon = Lexicon::from_dir(dir);
        let order_ids = OrderIdRules::from_file(&dir.join("order_id.toml"));
        let (lexicon, order_ids) = match (lexicon, order_ids) {
            (Ok(l), Ok(o)) => (l, o),
            (l, o) => {
                let mut errors = Vec::new();
                errors.extend(l.err().map(|e| e.0).unwrap_or_default());
                errors.extend(o.err().map(|e| e.0).unwrap_or_default());
                return Err(DataErrors(errors));
            }
        };
        let segmenter = Segmenter::new(lexicon.terms());
        let warnings = lexicon.warnings.clone();
        Ok(Analyzer {
            lexicon,
            order_ids,
            segmenter,
            model: None,
            warnings,
        })
    }

    /// Non-fatal findings from loading (terms listed twice under one label, no model, terms
    /// newer than the model).
    pub fn warnings(&self) -> &[DataError] {
        &self.warnings
    }

    /// Number of distinct dictionary terms and patterns.
    pub fn vocabulary_size(&self) -> usize {
        self.lexicon.len()
    }

    /// The loaded model, if any.
    pub fn model(&self) -> Option<&Model> {
        self.model.as_ref()
    }

    /// Hashes of the dictionary entries, which a newly trained model records.
    pub fn entry_keys(&self) -> Vec<u64> {
        self.lexicon.entry_keys()
    }

    /// The segmenter, for benchmarks that compare against segmentation alone.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Analyses one message (or a burst of messages joined with newlines).
    pub fn analyze(&self, text: &str) -> Analysis {
        self.analyze_in_context(text, &[])
    }

    /// Analyses the newest message of a conversation; `context` holds the earlier turns,
    /// oldest first.
    pub fn analyze_in_context(&self, text: &str, context: &[Turn]) -> Analysis {
        self.run(text, context, self.model.as_ref(), false).analysis
    }

    /// [`Analyzer::analyze`], also returning how many steps the rules took (dictionary hits
    /// plus index probes): linear in the text, which the fuzz target checks per character.
    pub fn analyze_counting(&self, text: &str) -> (Analysis, u64) {
        let run = self.run(text, &[], self.model.as_ref(), false);
        (run.analysis, run.steps)
    }

    /// Analyses with another model (cross-validation) or none (`None`: the rules alone).
    pub fn analyze_with(&self, text: &str, context: &[Turn], model: Option<&Model>) -> Analysis {
        self.run(text, context, model, false).analysis
    }

    /// The named features of a message, for training.
    pub fn features(&self, text: &str, context: &[Turn]) -> Features {
        self.run(text, context, None, true).features
    }
}
