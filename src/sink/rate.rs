//! DingTalk and WeCom robots take at most 20 messages a minute each; past that they answer
//! 130101 / 45009 and drop the message. The limiter keeps a rolling minute per robot URL.

use super::SinkKind;
use crate::config::SinkConfig;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const RATE_LIMIT_PER_MINUTE: usize = 20;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct RateLimiter {
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Whether a sink kind is limited here.
    pub fn limits(sink: &SinkConfig) -> bool {
        matches!(
            SinkKind::parse(&sink.kind),
            Some(SinkKind::DingTalk | SinkKind::WeCom)
        )
    }

    /// For a sink of any kind: unlimited kinds always get `None`.
    pub fn next_slot_for(&self, sink: &SinkConfig, now: Instant) -> Option<Duration> {
        if RateLimiter::limits(sink) {
            self.next_slot(&sink.url, now)
        } else {
            None
        }
    }

    /// `None`: send now (the send is recorded). `Some(wait)`: the robot has had its 20 this
    /// minute; try again after `wait` (reschedule, never drop).
    pub fn next_slot(&self, sink_url: &str, now: Instant) -> Option<Duration> {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let times = sent.entry(sink_url.to_string()).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() < RATE_LIMIT_PER_MINUTE {
            times.push_back(now);
            return None;
        }
        let oldest = *times.front()?;
        Some((oldest + WINDOW).saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_a_minute_per_url_then_wait_for_the_oldest() {
        let rl = RateLimiter::new();
        let t0 = Instant::now();
        for i in 0..20 {
            assert_eq!(
                rl.next_slot("a", t0 + Duration::from_secs(i)),
                None,
                "send {i}"
            );
        }
        // The 21st at t0+30s waits until the first leaves the window (t0+60s).
        assert_eq!(
            rl.next_slot("a", t0 + Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        // Another robot is not affected.
        assert_eq!(rl.next_slot("b", t0 + Duration::from_secs(30)), None);
        // A refused attempt is not recorded: at t0+60s one slot is free, then none.
        assert_eq!(rl.next_slot("a", t0 + Duration::from_secs(60)), None);
        assert_eq!(
            rl.next_slot("a", t0 + Duration::from_secs(60)),
            Some(Duration::from_secs(1))
        );
        // After a quiet minute, all twenty again.
        let later = t0 + Duration::from_secs(200);
        for _ in 0..20 {
            assert_eq!(rl.next_slot("a", later), None);
        }
        assert_eq!(rl.next_slot("a", later), Some(WINDOW));
    }

    #[test]
    fn only_robots_are_limited() {
        let rl = RateLimiter::new();
        let now = Instant::now();
        for kind in ["slack", "webhook", "feishu", "chatwoot"] {
            let s = SinkConfig {
                kind: kind.into(),
                url: "u".into(),
                ..Default::default()
            };
            for _ in 0..30 {
                assert_eq!(rl.next_slot_for(&s, now), None, "{kind}");
            }
        }
        let s = SinkConfig {
            kind: "wecom".into(),
            url: "w".into(),
            ..Default::default()
        };
        for _ in 0..20 {
            assert_eq!(rl.next_slot_for(&s, now), None);
        }
        assert!(rl.next_slot_for(&s, now).is_some());
    }
}
