//! How the session behaves beyond the provider's configuration: `Default`
//! and chained setters, one place for each setting.

use std::time::Duration;

/// When a page load without tokens (and no other tab to ask) tries one
/// `prompt=none` round trip to the provider to restore its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SilentRestore {
    /// On every such load: a first visit bounces through the provider too.
    Always,
    /// Only while the session hint says this browser had a session with
    /// this provider (set at sign-in, cleared at sign-out and when the
    /// provider says `login_required`): first visits stay on the page.
    #[default]
    WhenHinted,
    /// Never: a reload with no other tab open is signed out.
    Never,
}

/// How the session behaves, beyond the provider's configuration.
///
/// ```
/// # use std::time::Duration;
/// # use leptos_pkce::{engine::SessionOptions, SilentRestore};
/// let options = SessionOptions::default()
///     .silent_restore(SilentRestore::Never)
///     .refresh_margin(Duration::from_secs(30));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOptions {
    pub(crate) silent_restore: SilentRestore,
    pub(crate) refresh_margin: Duration,
}

impl Default for SessionOptions {
    /// Silent restore when hinted; refresh at most 60 s before expiry.
    fn default() -> Self {
        Self {
            silent_restore: SilentRestore::WhenHinted,
            refresh_margin: Duration::from_secs(60),
        }
    }
}

impl SessionOptions {
    /// When a page load without tokens (and no other tab to ask) tries
    /// one `prompt=none` round trip to restore the provider's session.
    #[must_use]
    pub fn silent_restore(mut self, when: SilentRestore) -> Self {
        self.silent_restore = when;
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
