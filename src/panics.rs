//! A panic is a bug, never an outage. Every background loop and every job runs under
//! [`catch`]: a panicking job fails like any other failed job (retried with backoff, then
//! dead-lettered with the panic message as its `last_error`), and the loop goes on with the
//! next one. Each panic is counted in `/metrics` (`anfu_panics_total`) and raises an
//! operator alert, so the bug is seen and fixed rather than silently retried.
//!
//! [`Faults`] lets tests inject a panic into a named place of the running service.

use crate::app::AppState;
use futures_util::FutureExt;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

/// The alert key of panics in `place` (`job:process`, `poll:{shop}`, `sla`, …).
pub fn alert_key(place: &str) -> String {
    format!("panic:{place}")
}

/// Runs `work`, turning a panic inside it into `Err(message)`.
///
/// Unwind safety: what a panicking job leaves behind is in-memory state of that job only;
/// shared state is behind mutexes (poisoning is handled where they are locked) and the
/// database, whose transactions roll back when dropped.
pub async fn catch<F: Future>(work: F) -> Result<F::Output, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|payload| message(payload.as_ref()))
}

/// The text a panic was raised with.
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}

/// Counts a panic caught in `place` and tells the operator.
pub fn record(state: &AppState, place: &str, message: &str) {
    let family = place.split(':').next().unwrap_or(place);
    state.metrics.inc("anfu_panics_total", &[("place", family)]);
    tracing::error!(
        place,
        panic = message,
        "caught a panic (a bug): the loop goes on"
    );
    state.raise_alert(
        &alert_key(place),
        format!("a bug: {place} panicked ({message}); it was caught and the service goes on; see the log and report it"),
    );
}

/// Panics armed by tests: `arm("job:process", 1)` makes the next job of that kind panic once.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<HashMap<String, u32>>,
}

impl Faults {
    /// Makes the next `times` passes through `place` panic.
    pub fn arm(&self, place: &str, times: u32) {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        *armed.entry(place.to_string()).or_default() += times;
    }

    /// Panics if a fault is armed for `place` (and disarms one).
    pub fn fire(&self, place: &str) {
        let fire = {
            let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
            match armed.get_mut(place) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        if fire {
            panic!("injected fault at {place}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_its_message_and_an_armed_fault_fires_once() {
        let faults = Faults::default();
        faults.arm("sla", 1);
        let first = catch(async { faults.fire("sla") }).await;
        assert_eq!(first, Err("injected fault at sla".to_string()));
        assert_eq!(catch(async { faults.fire("sla") }).await, Ok(()));
        let formatted = catch(async { panic!("bad {}", 42) }).await;
        assert_eq!(formatted, Err::<(), _>("bad 42".to_string()));
    }
}
