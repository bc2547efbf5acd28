//! Hot reload of the data (SIGHUP, or `POST /v1/admin/reload`): the dictionaries with the
//! model weights, and the replies, read from where the config says. The new set is validated
//! whole first; a bad file keeps the running set and raises the `data` operator alert naming
//! file and line. Work in flight keeps the set it started with (each takes a snapshot), and
//! nothing restarts: webhooks and the consoles' live connections carry on.

use crate::analysis::{Analyzer, DataErrors};
use crate::app::AppState;
use crate::reply::ReplyBook;
use std::sync::{Arc, RwLock};

/// A value that is swapped whole while readers hold the snapshot they took.
pub struct Swappable<T>(RwLock<Arc<T>>);

impl<T> Swappable<T> {
    pub fn new(value: T) -> Swappable<T> {
        Swappable(RwLock::new(Arc::new(value)))
    }

    /// The current value; it stays valid for as long as it is held, whatever is swapped in.
    pub fn get(&self) -> Arc<T> {
        // A writer only ever swaps an Arc: a poisoned lock still holds a whole value.
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(value);
    }
}

/// What a reload loaded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reloaded {
    pub terms: usize,
    pub model: bool,
}

/// The operator alert a bad reload raises (cleared by a good one).
pub const ALERT: &str = "data";

/// Loads and validates the configured data, then swaps it in; on any problem nothing changes
/// and the alert lists the problems with file and line.
pub async fn reload(state: &AppState) -> Result<Reloaded, DataErrors> {
    let data = state.config.data.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let analyzer = Analyzer::from_dir(&data.intents);
        let replies = ReplyBook::from_dir(&data.replies);
        match (analyzer, replies) {
            (Ok(a), Ok(r)) => Ok((a, r)),
            (a, r) => {
                let mut problems = a.err().map(|e| e.0).unwrap_or_default();
                problems.extend(r.err().map(|e| e.0).unwrap_or_default());
                Err(DataErrors(problems))
            }
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(DataErrors(vec![crate::analysis::DataError::new(
            &state.config.data.intents,
            None,
            format!("loading panicked: {e}"),
        )]))
    });
    match loaded {
        Ok((analyzer, replies)) => {
            let done = Reloaded {
                terms: analyzer.vocabulary_size(),
                model: analyzer.model().is_some(),
            };
            state.analysis.replace(analyzer);
            state.replies.set(replies);
            state.clear_alert(ALERT);
            state
                .metrics
                .inc("anfu_data_reloads_total", &[("result", "ok")]);
            tracing::info!(terms = done.terms, model = done.model, "data reloaded");
            Ok(done)
        }
        Err(problems) => {
            state.raise_alert(
                ALERT,
                format!("the data was not reloaded; the previous set keeps running: {problems}"),
            );
            state
                .metrics
                .inc("anfu_data_reloads_total", &[("result", "refused")]);
            tracing::error!(%problems, "data reload refused");
            Err(problems)
        }
    }
}
