//! Spending a store's shared quota politely: the retry policy (backoff with jitter), and one
//! gate per store hash (bounded concurrency plus a "do not call before" instant set from the
//! `X-Rate-Limit-*` headers and 429s). Every handle on the same store shares its gate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// How the client retries and throttles. The defaults suit production and keep tests fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First backoff delay; doubles per failed attempt.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Attempts of one call before a transient failure (5xx, timeout, dropped connection,
    /// unparsable body) is given up.
    pub max_attempts: u32,
    /// Consecutive 429 answers before a call gives up with `RateLimited`.
    pub max_throttled: u32,
    /// Wait for the quota to refill when `X-Rate-Limit-Requests-Left` falls to this.
    pub low_water: u64,
    /// Calls in flight per store.
    pub concurrency: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_attempts: 8,
            max_throttled: 8,
            low_water: 2,
            concurrency: 3,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1-based): `base × 2^(n-1)` capped at
    /// `max_delay`, with jitter (a random point in its upper half) so that callers spread out.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=spread))
    }
}

/// A store's API quota as its last answer reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// Requests left in the current window.
    pub left: u64,
    /// When the window starts afresh.
    pub reset_at: chrono::DateTime<chrono::Utc>,
}

/// One store's gate.
#[derive(Debug)]
pub(super) struct StoreGate {
    /// Bounds the calls in flight.
    pub permits: Semaphore,
    /// No call starts before this instant.
    not_before: Mutex<Option<Instant>>,
    /// The quota the last answer reported.
    seen: Mutex<Option<Quota>>,
}

impl StoreGate {
    fn new(concurrency: usize) -> Self {
        Self {
            permits: Semaphore::new(concurrency.max(1)),
            not_before: Mutex::new(None),
            seen: Mutex::new(None),
        }
    }

    /// Notes the quota an answer reported (answers without the headers change nothing).
    pub fn saw(&self, rate: &RateHeaders) {
        if let Some(left) = rate.left {
            let reset =
                chrono::Duration::from_std(rate.reset.unwrap_or_default()).unwrap_or_default();
            if let Ok(mut g) = self.seen.lock() {
                *g = Some(Quota {
                    left,
                    reset_at: chrono::Utc::now() + reset,
                });
            }
        }
    }

    /// The quota the last answer reported.
    pub fn quota(&self) -> Option<Quota> {
        self.seen.lock().ok().and_then(|g| *g)
    }

    /// Sleeps until the store may be called again.
    pub async fn ready(&self) {
        loop {
            let until = self.not_before.lock().map(|g| *g).unwrap_or(None);
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Holds every call of this store for `wait` (never shortens a longer hold).
    pub fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut g) = self.not_before.lock() {
            if g.is_none_or(|t| t < until) {
                *g = Some(until);
            }
        }
    }
}

/// The gates of every store this client has called, by store hash.
#[derive(Debug, Default)]
pub(super) struct Gates(Mutex<HashMap<String, Arc<StoreGate>>>);

impl Gates {
    /// The gate of `hash`, when this client has called that store.
    pub fn get(&self, hash: &str) -> Option<Arc<StoreGate>> {
        self.0.lock().ok().and_then(|map| map.get(hash).cloned())
    }

    /// The gate of `hash` (created on first use).
    pub fn of(&self, hash: &str, concurrency: usize) -> Arc<StoreGate> {
        match self.0.lock() {
            Ok(mut map) => map
                .entry(hash.to_string())
                .or_insert_with(|| Arc::new(StoreGate::new(concurrency)))
                .clone(),
            // A poisoned map only loses sharing, never correctness of one call.
            Err(_) => Arc::new(StoreGate::new(concurrency)),
        }
    }
}

/// The rate-limit headers of an answer.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RateHeaders {
    /// `X-Rate-Limit-Requests-Left`.
    pub left: Option<u64>,
    /// `X-Rate-Limit-Time-Reset-Ms`.
    pub reset: Option<Duration>,
    /// `X-Retry-After` (seconds; `Retry-After` as a fallback).
    pub retry_after: Option<Duration>,
}

impl RateHeaders {
    /// Reads the headers (names are case-insensitive).
    pub fn read(headers: &HeaderMap) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        Self {
            left: number("x-rate-limit-requests-left"),
            reset: number("x-rate-limit-time-reset-ms").map(Duration::from_millis),
            retry_after: number("x-retry-after")
                .or_else(|| number("retry-after"))
                .map(Duration::from_secs),
        }
    }

    /// The wait a 429 asks for: the longer of the reset and the retry-after (`None` when the
    /// answer carries neither, i.e. platform overload: back off instead).
    pub fn throttle_wait(&self) -> Option<Duration> {
        match (self.reset, self.retry_after) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default().max(b.unwrap_or_default())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_in_its_upper_half() {
        let p = RetryPolicy::default();
        for _ in 0..50 {
            let first = p.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = p.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = p.backoff(30);
            assert!(late >= Duration::from_millis(2500) && late <= Duration::from_secs(5));
        }
    }

    #[test]
    fn a_429_waits_the_longer_of_reset_and_retry_after() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-rate-limit-time-reset-ms",
            HeaderValue::from_static("1500"),
        );
        h.insert("x-retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            RateHeaders::read(&h).throttle_wait(),
            Some(Duration::from_secs(3))
        );
        h.insert("x-retry-after", HeaderValue::from_static("1"));
        assert_eq!(
            RateHeaders::read(&h).throttle_wait(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(RateHeaders::read(&HeaderMap::new()).throttle_wait(), None);
    }
}
