//! When to refresh, and how often at most: the refresh policy, pure.
//!
//! - A refresh is due `min(margin, 25 % of the lifetime)` before expiry.
//! - The timer refreshes in the background no sooner than
//!   [`MIN_BACKGROUND_INTERVAL_MS`] after the previous refresh, and only for
//!   lifetimes of at least [`MIN_BACKGROUND_LIFETIME_MS`]: shorter-lived
//!   tokens are refreshed on demand, when a call needs one.
//! - At most [`MAX_REFRESHES_PER_MINUTE`] refreshes start in any minute,
//!   whatever asks for them, so a provider sending `expires_in: 1` cannot
//!   make the client hammer it.
//! - After a transient failure: capped exponential backoff with jitter.

use super::backoff::retry_delay_ms;
use super::tokens::ApiToken;

/// The part of a token's lifetime before expiry at which it is due.
pub(crate) const REFRESH_MARGIN_FRACTION: f64 = 0.25;
/// Minimum time between two background refreshes.
pub(crate) const MIN_BACKGROUND_INTERVAL_MS: f64 = 5_000.0;
/// Tokens that live shorter than this are refreshed on demand only.
pub(crate) const MIN_BACKGROUND_LIFETIME_MS: f64 = 10_000.0;
/// Refreshes allowed to start within one minute.
pub(crate) const MAX_REFRESHES_PER_MINUTE: usize = 12;

/// What the policy remembers between refreshes.
#[derive(Debug, Default, Clone)]
pub(crate) struct RefreshHistory {
    /// Start times of the refreshes of the last minute.
    starts: Vec<f64>,
    /// Consecutive transient failures.
    pub(crate) failures: u32,
    /// When the next attempt after a failure is due.
    pub(crate) retry_at_ms: Option<f64>,
}

impl RefreshHistory {
    /// Records a refresh starting at `now_ms`.
    pub(crate) fn started(&mut self, now_ms: f64) {
        self.starts.retain(|at| now_ms - at < 60_000.0);
        self.starts.push(now_ms);
    }

    /// A refresh succeeded.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
        self.retry_at_ms = None;
    }

    /// A refresh failed transiently; returns when to try again.
    pub(crate) fn failed(&mut self, now_ms: f64, random_unit: f64) -> f64 {
        self.failures = self.failures.saturating_add(1);
        let at = now_ms + f64::from(retry_delay_ms(self.failures, random_unit));
        self.retry_at_ms = Some(at);
        at
    }

    /// Whether the per-minute cap still allows a refresh at `now_ms`.
    pub(crate) fn allows(&self, now_ms: f64) -> bool {
        self.starts
            .iter()
            .filter(|at| now_ms - **at < 60_000.0)
            .count()
            < MAX_REFRESHES_PER_MINUTE
    }

    /// When the cap allows the next refresh.
    fn allowed_from(&self, now_ms: f64) -> f64 {
        let recent: Vec<f64> = self
            .starts
            .iter()
            .copied()
            .filter(|at| now_ms - at < 60_000.0)
            .collect();
        if recent.len() < MAX_REFRESHES_PER_MINUTE {
            return now_ms;
        }
        recent[recent.len() - MAX_REFRESHES_PER_MINUTE] + 60_000.0
    }

    fn last_start(&self) -> Option<f64> {
        self.starts.last().copied()
    }
}

/// The refresh policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RefreshPolicy {
    /// The most a refresh is due before expiry.
    pub(crate) margin_ms: f64,
}

impl RefreshPolicy {
    /// When `token` is due for refresh; `None` without a known lifetime.
    /// (Callers check that there is a refresh token.)
    pub(crate) fn due_at(self, token: &ApiToken) -> Option<f64> {
        let expires_at = token.expires_at_ms()?;
        let lifetime = token.lifetime_ms()?;
        Some(expires_at - (lifetime * REFRESH_MARGIN_FRACTION).min(self.margin_ms))
    }

    /// Whether a call should refresh first.
    pub(crate) fn is_due(self, token: &ApiToken, now_ms: f64) -> bool {
        self.due_at(token).is_some_and(|due| now_ms >= due)
    }

    /// When the timer should refresh in the background, if at all.
    pub(crate) fn background_at(
        self,
        token: &ApiToken,
        history: &RefreshHistory,
        now_ms: f64,
    ) -> Option<f64> {
        let at = match history.retry_at_ms {
            Some(retry) => retry,
            None => {
                if token.lifetime_ms()? < MIN_BACKGROUND_LIFETIME_MS {
                    return None;
                }
                let due = self.due_at(token)?;
                history
                    .last_start()
                    .map_or(due, |last| due.max(last + MIN_BACKGROUND_INTERVAL_MS))
            }
        };
        Some(at.max(history.allowed_from(now_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_the_last_minute() {
        let mut history = RefreshHistory::default();
        for i in 0..MAX_REFRESHES_PER_MINUTE {
            assert!(history.allows(1_000.0 * i as f64));
            history.started(1_000.0 * i as f64);
        }
        assert!(!history.allows(20_000.0));
        assert_eq!(history.allowed_from(20_000.0), 60_000.0);
        assert!(history.allows(60_000.0), "the first start left the window");
    }

    #[test]
    fn failures_back_off_and_success_resets() {
        let mut history = RefreshHistory::default();
        let first = history.failed(0.0, 0.0);
        let second = history.failed(0.0, 0.0);
        assert_eq!((first, second), (1_000.0, 2_000.0));
        assert_eq!(history.failures, 2);
        history.succeeded();
        assert_eq!((history.failures, history.retry_at_ms), (0, None));
    }
}
