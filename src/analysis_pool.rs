//! The analyzer as the service runs it: off the async runtime, a bounded number at once, on a
//! capped amount of text.
//!
//! Analysis is CPU work (milliseconds for a long text). On a runtime thread it would hold up
//! every webhook and health check behind it: three concurrent 600 KB texts once kept
//! `/healthz` silent for 16 s. So analyses run on tokio's blocking pool, at most one per core,
//! and read at most `limits.max_analysis_chars` of the newest text (the full message is still
//! stored and shown to agents). A panic in the analyzer comes back as an error.

use crate::analysis::{Analyzer, Turn};
use crate::domain::Analysis;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("the analyzer panicked: {0}")]
    Panicked(String),
    #[error("the analysis pool is shutting down")]
    Closed,
}

#[derive(Clone)]
pub struct AnalysisPool {
    /// Swapped whole by a reload; each analysis keeps the analyzer it started with.
    analyzer: Arc<crate::reload::Swappable<Analyzer>>,
    permits: Arc<Semaphore>,
    max_chars: usize,
}

impl AnalysisPool {
    /// At most one analysis per core at once; `max_chars` 0 reads the whole text.
    pub fn new(analyzer: Analyzer, max_chars: usize) -> AnalysisPool {
        let concurrency = std::thread::available_parallelism().map_or(1, |n| n.get());
        AnalysisPool {
            analyzer: Arc::new(crate::reload::Swappable::new(analyzer)),
            permits: Arc::new(Semaphore::new(concurrency)),
            max_chars,
        }
    }

    /// The analyzer now (a reload swaps in another; this one stays valid while held).
    pub fn analyzer(&self) -> Arc<Analyzer> {
        self.analyzer.get()
    }

    /// Swaps in a new analyzer (a reload); analyses already started finish with the old.
    pub fn replace(&self, analyzer: Analyzer) {
        self.analyzer.set(analyzer);
    }

    /// Analyses the newest `max_chars` of `text` on the blocking pool, waiting for a free slot.
    pub async fn analyze(&self, text: String) -> Result<Analysis, AnalysisError> {
        self.analyze_in_context(text, Vec::new()).await
    }

    /// [`AnalysisPool::analyze`] after the conversation's earlier turns, oldest first.
    pub async fn analyze_in_context(
        &self,
        text: String,
        context: Vec<Turn>,
    ) -> Result<Analysis, AnalysisError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AnalysisError::Closed)?;
        let analyzer = self.analyzer.get();
        let max_chars = self.max_chars;
        let joined = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            analyze_newest(&analyzer, &text, &context, max_chars)
        })
        .await;
        match joined {
            Ok(analysis) => Ok(analysis),
            Err(e) if e.is_panic() => Err(AnalysisError::Panicked(crate::panics::message(
                e.into_panic().as_ref(),
            ))),
            Err(_) => Err(AnalysisError::Closed),
        }
    }
}

/// Analyses the newest `max_chars` characters of `text` (all of it when `max_chars` is 0).
/// Evidence offsets still index `text` itself.
pub fn analyze_newest(
    analyzer: &Analyzer,
    text: &str,
    context: &[Turn],
    max_chars: usize,
) -> Analysis {
    let skip = match max_chars {
        0 => 0,
        max => text.chars().count().saturating_sub(max),
    };
    let from = text.char_indices().nth(skip).map_or(text.len(), |(b, _)| b);
    let mut analysis = analyzer.analyze_in_context(&text[from..], context);
    for e in &mut analysis.evidence {
        e.start += skip;
        e.end += skip;
    }
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
        Analyzer::from_dir(&dir).expect("intents load")
    }

    #[test]
    fn reads_only_the_newest_text_and_keeps_offsets_in_the_whole() {
        let analyzer = analyzer();
        let complaint = "质量太差了，我要退货退款，不然就给差评！";
        let window = complaint.chars().count();
        let text = format!("{}{complaint}", "谢谢".repeat(3000));
        let whole: Vec<char> = text.chars().collect();
        let capped = analyze_newest(&analyzer, &text, &[], window);
        assert_eq!(capped.intent.as_str(), "complaint");
        assert!(!capped.evidence.is_empty());
        for e in &capped.evidence {
            assert!(e.start >= 6000, "{e:?}");
            let quoted: String = whole[e.start..e.end].iter().collect();
            assert_eq!(quoted, e.text);
        }
        // The complaint before the window is not read.
        let older = format!("{complaint}{}", "谢谢".repeat(3000));
        assert_ne!(
            analyze_newest(&analyzer, &older, &[], window)
                .intent
                .as_str(),
            "complaint"
        );
        assert_eq!(
            analyze_newest(&analyzer, &older, &[], 0).intent.as_str(),
            "complaint"
        );
    }
}
