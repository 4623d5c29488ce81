//! The one pending authorization request a tab keeps between the redirect to
//! the provider and the callback, in sessionStorage (per tab), removed on
//! every outcome of the callback. Besides it, only two markers without any
//! secret go there ([`SILENT_SKIP_KEY`], [`LOGOUT_PREFIX`]); no token ever does.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codec::{from_json, to_json};
use super::secret::{CsrfState, Nonce, PkceCodeVerifier};

/// Prefix of the sessionStorage keys. The full key ends with the request's
/// `state`, so a second sign-in (say, in a duplicated tab, which copies
/// sessionStorage) neither overwrites nor consumes this one.
pub(crate) const STORAGE_PREFIX: &str = "oidc.pending.";

/// Set (in sessionStorage) when this tab should not try a silent
/// `prompt=none` sign-in on load: after one came back `login_required`, or
/// after the person signed out. Removed by the next successful sign-in.
pub(crate) const SILENT_SKIP_KEY: &str = "oidc.silent.skip";

/// Prefix of the key that remembers the `state` of a pending RP-initiated
/// logout, to validate the return.
pub(crate) const LOGOUT_PREFIX: &str = "oidc.logout.";

/// A pending request older than this is ignored and purged.
pub(crate) const PENDING_TTL_MS: f64 = 10.0 * 60.0 * 1000.0;

/// What the callback needs to finish the flow this tab started.
#[derive(Debug, Deserialize, Serialize)]
pub struct PendingRequest {
    /// The `state` sent; the callback must return it.
    pub state: CsrfState,
    /// The PKCE verifier for the token request.
    pub code_verifier: PkceCodeVerifier,
    /// The `nonce` the ID token must carry.
    pub nonce: Nonce,
    /// The issuer the request went to (mix-up defence).
    pub issuer: String,
    /// The exact `redirect_uri` sent; the token request repeats it.
    pub redirect_uri: String,
    /// The in-app path to return to (already sanitized).
    pub return_to: String,
    /// Milliseconds since the epoch when the request was made (stored as a
    /// whole number).
    #[serde(serialize_with = "write_whole_ms", deserialize_with = "read_whole_ms")]
    pub created_at_ms: f64,
    /// Whether this was a `prompt=none` attempt (its failures are quiet).
    #[serde(default)]
    pub silent: bool,
    /// The `max_age` asked for: the ID token must then carry `auth_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_s: Option<u64>,
    /// The `acr` values one of which the ID token must carry (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr_required: Vec<String>,
    /// A step-up from a session of this `sub`: the new one must be it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up_sub: Option<String>,
    /// The slots of the APIs (of `resources`) this sign-in named: the
    /// session may fetch tokens for these only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<usize>,
}

impl PendingRequest {
    /// The sessionStorage key for a request with this `state`.
    pub fn storage_key(state: &str) -> String {
        format!("{STORAGE_PREFIX}{state}")
    }

    /// Whether the request is too old to be completed.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        !(self.created_at_ms..=self.created_at_ms + PENDING_TTL_MS).contains(&now_ms)
    }

    /// Serialized for sessionStorage.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// Read back from sessionStorage; `None` if it is not ours or is damaged.
    pub fn from_json(text: &str) -> Option<Self> {
        from_json(text).ok()
    }
}

/// Epoch milliseconds fit an `i64` for the next 290 million years.
#[allow(clippy::cast_possible_truncation)]
fn write_whole_ms<S: Serializer>(ms: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(ms.round() as i64)
}

/// What [`write_whole_ms`] wrote: a whole number only.
#[allow(clippy::cast_precision_loss)]
fn read_whole_ms<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    i64::deserialize(deserializer).map(|ms| ms as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(created_at_ms: f64) -> PendingRequest {
        PendingRequest {
            state: CsrfState::new("st".into()),
            code_verifier: PkceCodeVerifier::new("v".repeat(43)),
            nonce: Nonce::new("n".into()),
            issuer: "http://127.0.0.1:9000".into(),
            redirect_uri: "http://localhost:8080/callback".into(),
            return_to: "/profile".into(),
            created_at_ms,
            silent: false,
            max_age_s: None,
            acr_required: Vec::new(),
            step_up_sub: None,
            apis: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_expires() {
        let pending = sample(1_000.0);
        let back = PendingRequest::from_json(&pending.to_json()).expect("round trip");
        assert!(back.state.ct_eq(pending.state.secret()));
        assert_eq!(back.return_to, "/profile");
        assert!(!back.is_expired(2_000.0));
        assert!(back.is_expired(1_000.0 + PENDING_TTL_MS + 1.0));
        assert!(back.is_expired(0.0), "from the future");
        assert!(PendingRequest::from_json("{}").is_none());
        let written = pending.to_json();
        assert!(
            written.contains(r#""created_at_ms":1000,"silent":false}"#),
            "{written}"
        );
        let fractional = written.replace(":1000,", ":1000.5,");
        assert!(PendingRequest::from_json(&fractional).is_none());
        assert_eq!(PendingRequest::storage_key("abc"), "oidc.pending.abc");
    }
}
