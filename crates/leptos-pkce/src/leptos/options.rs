//! Where the configuration comes from, and how the session behaves:
//! `Default` plus chained setters, each setting in one place.

use std::time::Duration;

use crate::protocol::ClientConfig;
use crate::session::{SessionOptions, SilentRestore};

/// Where the client configuration comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConfigSource {
    /// Fetch this URL (normally `/config.json` on the app's own origin).
    Url(String),
    /// Use this configuration as it is.
    Inline(ClientConfig),
}

impl Default for ConfigSource {
    /// `/config.json` on the app's own origin.
    fn default() -> Self {
        Self::Url("/config.json".into())
    }
}

/// Options for [`provide_auth_with_options`](crate::provide_auth_with_options).
///
/// ```
/// # use std::time::Duration;
/// # use leptos_pkce::{AuthOptions, ConfigSource, SilentRestore};
/// let options = AuthOptions::default()
///     .source(ConfigSource::Url("/auth.json".into()))
///     .silent_restore(SilentRestore::WhenHinted)
///     .refresh_margin(Duration::from_secs(30));
/// # let _ = options;
/// ```
/// The request timeout is part of the configuration
/// (`request_timeout_ms` in `config.json`, or [`ClientConfig::request_timeout_ms`]).
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    pub(crate) source: ConfigSource,
    pub(crate) session: SessionOptions,
}

impl AuthOptions {
    /// Where the configuration comes from (default: `/config.json`).
    #[must_use]
    pub fn source(mut self, source: ConfigSource) -> Self {
        self.source = source;
        self
    }

    /// When a page load without tokens, with no other tab to ask, tries
    /// one `prompt=none` round trip (default: when the session hint says
    /// this browser had a session, so first visits stay on the page).
    #[must_use]
    pub fn silent_restore(mut self, when: SilentRestore) -> Self {
        self.session = self.session.silent_restore(when);
        self
    }

    /// Refresh at most this long before expiry (default: 60 s; never more
    /// than a quarter of the token's lifetime).
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.session = self.session.refresh_margin(margin);
        self
    }
}
