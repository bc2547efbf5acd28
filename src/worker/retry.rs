//! When to try a failed job again: exponential backoff with jitter, and the platform's
//! `Retry-After` when it asks for longer.

use crate::store::Millis;
use std::time::Duration;

/// Delay before attempt `attempts + 1`: base · 2^(attempts−1), capped, then jittered into
/// [½, 1] of itself so that many failed jobs do not retry in lockstep. A longer `Retry-After`
/// wins, up to the cap: a platform asking for years must not park a job for years.
pub fn backoff(
    base: Duration,
    cap: Duration,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = exp.min(cap);
    let jittered = capped.mul_f64(0.5 + fastrand::f64() * 0.5);
    match retry_after {
        Some(asked) if asked > jittered => asked.min(cap),
        _ => jittered,
    }
}

/// When a job waiting `delay` from `now` is due; saturates instead of overflowing.
pub fn due_at(now: Millis, delay: Duration) -> Millis {
    now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_and_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        let cases = [
            (1, 50, 100),
            (2, 100, 200),
            (3, 200, 400),
            (4, 400, 800),
            (9, 500, 1000),
        ];
        for (attempts, lo, hi) in cases {
            for _ in 0..50 {
                let d = backoff(base, cap, attempts, None).as_millis() as u64;
                assert!((lo..=hi).contains(&d), "attempt {attempts}: {d}ms");
            }
        }
    }

    #[test]
    fn retry_after_wins_when_longer() {
        let d = backoff(
            Duration::from_millis(100),
            Duration::from_secs(10),
            1,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(d, Duration::from_secs(3));
        let d = backoff(
            Duration::from_secs(10),
            Duration::from_secs(60),
            1,
            Some(Duration::from_secs(1)),
        );
        assert!(d >= Duration::from_secs(5));
    }

    #[test]
    fn retry_after_is_capped_at_the_maximum() {
        let cap = Duration::from_secs(600);
        let years = Duration::from_secs(10 * 365 * 86_400);
        for asked in [years, Duration::from_secs(u64::MAX), Duration::MAX] {
            let d = backoff(Duration::from_millis(500), cap, 1, Some(asked));
            assert!(d <= cap, "asked {asked:?}, waits {d:?}");
        }
        // Within the cap it still wins when longer.
        let d = backoff(
            Duration::from_millis(100),
            cap,
            1,
            Some(Duration::from_secs(30)),
        );
        assert_eq!(d, Duration::from_secs(30));
    }

    #[test]
    fn due_times_saturate() {
        assert_eq!(due_at(1_000, Duration::from_millis(500)), 1_500);
        assert_eq!(due_at(1_000, Duration::MAX), i64::MAX);
        assert_eq!(due_at(i64::MAX - 1, Duration::from_secs(1)), i64::MAX);
    }
}
