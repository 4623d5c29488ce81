//! The session hint: a value without secrets in storage shared by the
//! app's tabs (localStorage), saying until when this browser likely has a
//! session with the provider. With [`SilentRestore::WhenHinted`] only a
//! hinted page load tries the `prompt=none` round trip, so a first visit
//! never bounces through the provider. Beside it, the hashes of the
//! sessions signed out lately, so that no tab takes one of them again.
//!
//! [`SilentRestore::WhenHinted`]: super::SilentRestore::WhenHinted

use super::Session;
use super::options::SilentRestore;
use super::ports::Platform;

/// How long a sign-in keeps the hint (renewed with every new token).
const HINT_LIFETIME_MS: f64 = 30.0 * 24.0 * 3_600_000.0;
/// How many signed-out sessions the browser remembers.
const ENDED_REMEMBERED: usize = 8;

impl<P: Platform> Session<P> {
    fn hint_key(&self) -> String {
        format!("oidc.hint:{}:{}", self.config.issuer, self.config.client_id)
    }

    /// This browser has a session with the provider now.
    pub(crate) fn set_hint(&self) {
        // Whole milliseconds, written as an integer: formatting an `f64`
        // would pull float printing into the wasm for this one number.
        #[allow(clippy::cast_possible_truncation)]
        let until = (self.now_ms() + HINT_LIFETIME_MS).round() as i64;
        self.platform
            .write_hint(&self.hint_key(), &until.to_string());
    }

    /// Signed out, or the provider said `login_required`.
    pub(crate) fn clear_hint(&self) {
        self.platform.delete_hint(&self.hint_key());
    }

    fn ended_key(&self) -> String {
        format!(
            "oidc.ended:{}:{}",
            self.config.issuer, self.config.client_id
        )
    }

    /// Remembers, for the tabs that did not hear it (one back from the
    /// provider's logout page, one opened later), that the session whose
    /// identity hashes to `identity` was signed out: a hash, no secret.
    pub(crate) fn remember_ended(&self, identity: &str) {
        let key = self.ended_key();
        let known = self.platform.read_hint(&key).unwrap_or_default();
        let mut ended: Vec<&str> = known.split(' ').filter(|h| !h.is_empty()).collect();
        if ended.contains(&identity) {
            return;
        }
        ended.push(identity);
        let keep = ended.len().saturating_sub(ENDED_REMEMBERED);
        self.platform.write_hint(&key, &ended[keep..].join(" "));
    }

    /// Whether any tab of this browser signed out the session `identity`.
    pub(crate) fn was_ended(&self, identity: &str) -> bool {
        self.tabs.was_ended(identity)
            || self
                .platform
                .read_hint(&self.ended_key())
                .is_some_and(|ended| ended.split(' ').any(|h| h == identity))
    }

    /// Whether this page load may try a silent restore.
    pub(crate) fn may_restore_silently(&self) -> bool {
        match self.options.silent_restore {
            SilentRestore::Always => true,
            SilentRestore::Never => false,
            SilentRestore::WhenHinted => self
                .platform
                .read_hint(&self.hint_key())
                .and_then(|until| until.parse::<i64>().ok())
                // Milliseconds since 1970 are exact in an f64 for ages yet.
                .is_some_and(|until| {
                    #[allow(clippy::cast_precision_loss)]
                    let until = until as f64;
                    until > self.now_ms()
                }),
        }
    }
}
