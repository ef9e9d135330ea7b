//! When to ask JIRA again and how long to wait first.
//!
//! JIRA Cloud answers 429 when a client exceeds its rate budget and may say how long to
//! wait in `Retry-After`, in seconds or as an HTTP date. The header is a minimum, and it
//! can be `0`, which taken literally would hammer a server that just asked for calm; so a
//! rate-limit wait is never shorter than one second. Exponential backoff with jitter is
//! added on top so that several clients limited at once do not return in step.

use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;

/// The default shortest wait after a 429 or 503, whatever `Retry-After` says.
pub const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Requests sent at most for one call, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt; it doubles with each further attempt.
    pub base_delay: Duration,
    /// Cap on any single wait, `Retry-After` included (but not below
    /// `rate_limit_floor`).
    pub max_delay: Duration,
    /// Shortest wait after a 429 or 503 ([`MIN_RATE_LIMIT_WAIT`] unless a test needs
    /// the suite to run fast).
    pub rate_limit_floor: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            rate_limit_floor: MIN_RATE_LIMIT_WAIT,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff after failed attempt number `attempt` (from 1), with full
    /// jitter in its upper half, capped at `max_delay`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        let full = self.base_delay.saturating_mul(1u32 << doublings).min(self.max_delay);
        let half = full / 2;
        let jitter_ms = half.as_millis() as u64;
        let jitter = if jitter_ms == 0 { 0 } else { rand::rng().random_range(0..=jitter_ms) };
        half + Duration::from_millis(jitter)
    }

    /// The wait after a 429 or 503: `Retry-After` (or nothing) but at least
    /// `rate_limit_floor`, plus backoff, all capped at `max_delay` but never below the
    /// floor.
    pub fn rate_limit_wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let floor = retry_after.unwrap_or_default().max(self.rate_limit_floor);
        let wait = floor + self.backoff(attempt);
        wait.min(self.max_delay.max(self.rate_limit_floor))
    }
}

/// Reads `Retry-After` as whole seconds or as an HTTP date (then the time until it).
/// A value that is neither counts as absent.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let until = at.signed_duration_since(chrono::Utc::now());
    Some(until.to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(retry_after(&headers("7")), Some(Duration::from_secs(7)));
        let past = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after(&headers(past)), Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let wait = retry_after(&headers(&soon)).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(retry_after(&headers("soon")), None);
    }

    #[test]
    fn rate_limit_wait_is_never_below_one_second() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
            rate_limit_floor: MIN_RATE_LIMIT_WAIT,
        };
        assert!(policy.rate_limit_wait(1, Some(Duration::ZERO)) >= MIN_RATE_LIMIT_WAIT);
        assert!(policy.rate_limit_wait(1, None) >= MIN_RATE_LIMIT_WAIT);
        let long = RetryPolicy { max_delay: Duration::from_secs(5), ..policy };
        assert_eq!(long.rate_limit_wait(1, Some(Duration::from_secs(99))), Duration::from_secs(5));
    }

    #[test]
    fn backoff_doubles_and_stays_under_the_cap() {
        let policy = RetryPolicy::default();
        let third = policy.backoff(3);
        assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2));
        assert!(policy.backoff(30) <= policy.max_delay);
    }
}
