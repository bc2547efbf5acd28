//! Sliding-window limits: webhooks per shop (a flood gets 429 and the platform retries later)
//! and auto-replies per buyer (a buyer who writes in many conversations is not answered by
//! the bot without end). In memory, per instance: with several instances each enforces its
//! own share. Memory is bounded: keys idle for a window are forgotten, at most
//! [`MAX_KEYS`] are tracked.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keys tracked at most (buyers); the least recently used go first.
pub const MAX_KEYS: u64 = 100_000;

#[derive(Clone)]
pub struct Limiter {
    max: u32,
    window: Duration,
    hits: moka::sync::Cache<String, Arc<Mutex<VecDeque<Instant>>>>,
}

impl Limiter {
    /// `max` events per `window` per key; 0 means no limit.
    pub fn new(max: u32, window: Duration) -> Limiter {
        Limiter {
            max,
            window,
            hits: moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_idle(window)
                .build(),
        }
    }

    /// Counts an event for `key`; `Err(wait)` when the key is over its limit (not counted).
    pub fn hit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.max == 0 {
            return Ok(());
        }
        let slot = self.hits.get_with(key.to_string(), Arc::default);
        let mut times = slot.lock().expect("limiter lock");
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max as usize {
            let oldest = *times.front().expect("full, so not empty");
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_per_window_per_key_then_says_how_long_to_wait() {
        let l = Limiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(l.hit("a", t0 + Duration::from_secs(i)), Ok(()));
        }
        assert_eq!(
            l.hit("a", t0 + Duration::from_secs(10)),
            Err(Duration::from_secs(50))
        );
        assert_eq!(l.hit("b", t0), Ok(()), "keys are separate");
        assert_eq!(
            l.hit("a", t0 + Duration::from_secs(60)),
            Ok(()),
            "the oldest left"
        );
    }

    #[test]
    fn zero_means_unlimited() {
        let l = Limiter::new(0, Duration::from_secs(60));
        for _ in 0..1000 {
            assert_eq!(l.hit("a", Instant::now()), Ok(()));
        }
    }
}
