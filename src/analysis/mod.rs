//! The analyzer: turns one Chinese buyer message into an explainable [`Analysis`].
//!
//! Pure and synchronous, no I/O after loading. The pipeline:
//! normalise ([`normalize`]) → segment ([`segment`], jieba with every dictionary term added)
//! → dictionary and pattern hits ([`lexicon`]) → rules ([`rules`]: segmentation check,
//! containment, negation, contrast, degree) → decision ([`decide`]) → record, with the order
//! number ([`order_id`]) and script ([`lang`]) alongside.
//!
//! ```no_run
//! use anfu::analysis::Analyzer;
//! let analyzer = Analyzer::from_dir("intents".as_ref()).expect("valid intents/");
//! let record = analyzer.analyze("质量太差了，我要退货退款！订单号3721458805123456789");
//! assert_eq!(record.intent.as_str(), "complaint");
//! ```

pub mod clauses;
pub mod cue_index;
pub mod data_error;
pub mod decide;
pub mod gate;
pub mod lang;
pub mod lexicon;
pub mod normalize;
pub mod order_id;
pub mod rules;
pub mod segment;

use crate::domain::{Analysis, Evidence, Priority};
use clauses::Structure;
use cue_index::Work;
pub use data_error::{DataError, DataErrors};
use lexicon::Lexicon;
use normalize::Normalized;
use order_id::OrderIdRules;
use segment::Segmenter;
use std::path::Path;

/// Dictionaries, order-number rules and the segmenter, loaded once and shared.
#[derive(Debug)]
pub struct Analyzer {
    lexicon: Lexicon,
    order_ids: OrderIdRules,
    segmenter: Segmenter,
}

impl Analyzer {
    /// Loads and validates `dir` (an `intents/` folder) and builds the matchers.
    ///
    /// # Errors
    /// Every problem in the folder's files, each with file and line.
    pub fn from_dir(dir: &Path) -> Result<Analyzer, DataErrors> {
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
        Ok(Analyzer {
            lexicon,
            order_ids,
            segmenter,
        })
    }

    /// Non-fatal findings from loading (terms listed twice under one label).
    pub fn warnings(&self) -> &[DataError] {
        &self.lexicon.warnings
    }

    /// Number of distinct dictionary terms and patterns.
    pub fn vocabulary_size(&self) -> usize {
        self.lexicon.len()
    }

    /// The segmenter, for benchmarks that compare against segmentation alone.
    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// Analyses one message (or a burst of messages joined with newlines).
    pub fn analyze(&self, text: &str) -> Analysis {
        self.analyze_counting(text).0
    }

    /// [`Analyzer::analyze`], also returning how many steps the rules took (dictionary hits
    /// plus index probes): linear in the text, which the fuzz target checks per character.
    pub fn analyze_counting(&self, text: &str) -> (Analysis, u64) {
        let work = Work::default();
        let normalized = Normalized::new(text);
        let lang = lang::detect(text, &normalized);
        let order = self.order_ids.find(&normalized);
        let original: Vec<char> = text.chars().collect();
        let order_id = order
            .as_ref()
            .map(|m| original[m.start..m.end].iter().collect::<String>());

        let boundaries = self
            .segmenter
            .boundaries(&normalized.text, normalized.char_len());
        let structure = Structure::new(&normalized.text);
        let hits = self.lexicon.find(&normalized);
        let resolved = rules::resolve(hits, &normalized, &boundaries, &structure, &work);
        let decision = decide::decide(&resolved, &structure);

        let mut evidence: Vec<Evidence> = decision
            .support
            .iter()
            .map(|(label, start, end)| Evidence {
                label: label.clone(),
                text: original[*start..*end].iter().collect(),
                start: *start,
                end: *end,
            })
            .collect();
        if let Some(m) = &order {
            evidence.push(Evidence {
                label: format!("order_id:{}", m.format),
                text: original[m.start..m.end].iter().collect(),
                start: m.start,
                end: m.end,
            });
        }
        evidence.sort_by(|a, b| (a.start, a.end, &a.label).cmp(&(b.start, b.end, &b.label)));
        evidence.dedup();

        let priority = Priority::derive(
            decision.intent,
            decision.intensity,
            !decision.threats.is_empty(),
        );
        let analysis = Analysis {
            intent: decision.intent,
            issue_type: decision.issue_type,
            demands: decision.demands,
            mood: decision.mood,
            intensity: decision.intensity,
            threats: decision.threats,
            order_id,
            lang,
            priority,
            evidence,
        };
        (analysis, work.steps())
    }
}
