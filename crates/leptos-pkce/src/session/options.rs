//! How the session behaves beyond the provider's configuration: `Default`
//! and chained setters, one place for each setting.

use std::time::Duration;

/// How the session behaves, beyond the provider's configuration.
///
/// ```
/// # use std::time::Duration;
/// # use leptos_pkce::engine::SessionOptions;
/// let options = SessionOptions::default()
///     .silent_restore(false)
///     .refresh_margin(Duration::from_secs(30));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    pub(crate) silent_restore: bool,
    pub(crate) refresh_margin: Duration,
}

impl Default for SessionOptions {
    /// Silent restore on; refresh at most 60 s before expiry.
    fn default() -> Self {
        Self {
            silent_restore: true,
            refresh_margin: Duration::from_secs(60),
        }
    }
}

impl SessionOptions {
    /// Whether a page load without tokens (and no other tab to ask) tries
    /// one `prompt=none` round trip to restore the provider's session.
    #[must_use]
    pub fn silent_restore(mut self, on: bool) -> Self {
        self.silent_restore = on;
        self
    }

    /// Refresh at most this long before expiry (never more than a quarter
    /// of the token's lifetime).
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The margin in milliseconds, as the policy counts.
    pub(crate) fn refresh_margin_ms(&self) -> f64 {
        self.refresh_margin.as_secs_f64() * 1000.0
    }
}
