//! The one error type of the client. Each variant is something the person (or
//! the developer wiring the app) can act on, and each has a stable snake_case
//! [`code`](AuthError::code), the value of the `data-error` test hook. Where
//! an app may act on the detail, the variant says it as an enum to match on
//! ([`IdTokenCheck`], [`ConfigProblem`], [`TokenResponseProblem`],
//! [`BrowserFeature`]); the code stays the same whatever the detail.
//!
//! No variant ever carries a token, code, verifier or other secret.

use thiserror::Error;

mod detail;

pub use detail::{BrowserFeature, ConfigProblem, IdTokenCheck, TokenResponseProblem};

/// Everything that can go wrong while signing in, refreshing or calling an API.
///
/// `Display` is short and technical (for logs and developers); the words a
/// person reads belong to the app, keyed by [`code`](AuthError::code).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The client configuration is missing, not JSON, or has an invalid field.
    #[error("invalid configuration: {0}")]
    ConfigInvalid(ConfigProblem),

    /// The provider's OpenID discovery document could not be fetched or is unusable.
    #[error("discovery failed: {0}")]
    DiscoveryFailed(String),

    /// The callback's `state` is missing, or no sign-in with that `state` was
    /// started in this tab (forged, replayed, expired or from another tab).
    #[error("state mismatch")]
    StateMismatch,

    /// A response came from (or names) another issuer than the configured one
    /// ([RFC 9207](https://www.rfc-editor.org/rfc/rfc9207)).
    #[error("issuer mismatch: {0}")]
    IssuerMismatch(String),

    /// The provider answered with an OAuth error (`access_denied`,
    /// `invalid_grant`, `login_required`, …).
    #[error("OAuth error {code}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        /// The `error` code the provider sent.
        code: String,
        /// Its `error_description`, if any (provider text, shown as plain text).
        description: Option<String>,
    },

    /// The callback URL carries neither a code nor an error.
    #[error("invalid callback: {0}")]
    CallbackInvalid(String),

    /// The token endpoint's answer is not a usable token response.
    #[error("invalid token response: {0}")]
    TokenResponseInvalid(TokenResponseProblem),

    /// The ID token failed the check it names.
    #[error("invalid ID token: {0}")]
    InvalidIdToken(IdTokenCheck),

    /// The userinfo endpoint describes another person than the ID token.
    #[error("userinfo names another subject")]
    UserinfoSubMismatch,

    /// A server answered with an unexpected HTTP status and no OAuth error.
    #[error("server error: HTTP {0}")]
    ServerError(u16),

    /// A request did not complete: offline, refused, blocked by CORS or timed out.
    #[error("network error: {0}")]
    Network(String),

    /// Called off the browser (the server half of an SSR app), where the
    /// client is inert.
    #[error("not in a browser")]
    NotInBrowser,

    /// An API call needs a signed-in person.
    #[error("not signed in")]
    NotSignedIn,

    /// The session ended (no refresh token, or it expired) and needs a new sign-in.
    #[error("session expired")]
    SessionExpired,

    /// The browser lacks something the client needs (sessionStorage, crypto).
    #[error("browser unsupported: {0}")]
    BrowserUnsupported(BrowserFeature),

    /// A token was to be sent to an origin outside `resource_origins`.
    #[error("resource not allowed: {0}")]
    ResourceNotAllowed(String),

    /// The API (named here) is `on_demand` and this session's sign-in did
    /// not ask for it: sign in with `SignInOptions::resource` first.
    #[error("resource not granted at sign-in: {0}")]
    ResourceNotGranted(String),

    /// Verified claims do not fit the app's own type (`claims_as`): one of
    /// its fields is missing, of another type, or given twice.
    #[error("claims do not fit the requested type: {0}")]
    ClaimsMismatch(String),
}

impl AuthError {
    /// The stable snake_case code for `data-error`: the provider's own OAuth
    /// error code where there is one, otherwise the client's.
    pub fn code(&self) -> &str {
        match self {
            Self::ConfigInvalid(_) => "config_invalid",
            Self::DiscoveryFailed(_) => "discovery_failed",
            Self::StateMismatch => "state_mismatch",
            Self::IssuerMismatch(_) => "issuer_mismatch",
            Self::OAuth { code, .. } => code,
            Self::CallbackInvalid(_) => "callback_invalid",
            Self::TokenResponseInvalid(_) => "token_response_invalid",
            Self::InvalidIdToken(_) => "invalid_id_token",
            Self::UserinfoSubMismatch => "userinfo_sub_mismatch",
            Self::ServerError(_) => "server_error",
            Self::Network(_) => "network_error",
            Self::NotInBrowser => "not_in_browser",
            Self::NotSignedIn => "not_signed_in",
            Self::SessionExpired => "session_expired",
            Self::BrowserUnsupported(_) => "browser_unsupported",
            Self::ResourceNotAllowed(_) => "resource_not_allowed",
            Self::ResourceNotGranted(_) => "resource_not_granted",
            Self::ClaimsMismatch(_) => "claims_mismatch",
        }
    }

    /// An OAuth error from the provider. The code goes into a DOM attribute
    /// and the description onto the page, so both are limited to what
    /// RFC 6749 §5.2 allows (printable ASCII) and to a sane length.
    pub fn oauth(code: &str, description: Option<&str>) -> Self {
        let code = if !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            code.to_owned()
        } else {
            "oauth_error".to_owned()
        };
        let description = description.map(|text| {
            text.chars()
                .filter(|c| (' '..='~').contains(c))
                .take(300)
                .collect::<String>()
        });
        Self::OAuth { code, description }
    }

    /// `prompt=none` answers that only mean "not signed in at the provider"
    /// ([OIDC Core §3.1.2.6](https://openid.net/specs/openid-connect-core-1_0.html#AuthError)):
    /// a silent attempt that gets one ends quietly, signed out.
    pub fn is_silent_sign_in_refusal(&self) -> bool {
        matches!(self, Self::OAuth { code, .. } if matches!(
            code.as_str(),
            "login_required" | "interaction_required" | "consent_required" | "account_selection_required"
        ))
    }

    /// True for failures that may pass by themselves (network, 5xx,
    /// `temporarily_unavailable`): a refresh token is never dropped for these.
    /// A 2xx answer that cannot be used is not transient: the server may
    /// already have rotated the refresh token, so retrying cannot help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) | Self::ServerError(_) => true,
            Self::OAuth { code, .. } => {
                matches!(code.as_str(), "temporarily_unavailable" | "server_error")
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        for (error, code) in [
            (AuthError::StateMismatch, "state_mismatch"),
            (AuthError::Network("x".into()), "network_error"),
            (AuthError::oauth("access_denied", None), "access_denied"),
            // The detail never shows in the code.
            (
                AuthError::InvalidIdToken(IdTokenCheck::Nonce),
                "invalid_id_token",
            ),
            (
                AuthError::ConfigInvalid(ConfigProblem::NotJson),
                "config_invalid",
            ),
            (
                AuthError::TokenResponseInvalid(TokenResponseProblem::NoAccessToken),
                "token_response_invalid",
            ),
            (
                AuthError::BrowserUnsupported(BrowserFeature::WebCrypto),
                "browser_unsupported",
            ),
        ] {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }

    #[test]
    fn hostile_oauth_codes_are_neutralised() {
        let err = AuthError::oauth("\"><script>", Some("bad\u{7}text<b>"));
        assert_eq!(err.code(), "oauth_error");
        let AuthError::OAuth { description, .. } = err else {
            panic!("not oauth")
        };
        assert_eq!(description.as_deref(), Some("badtext<b>"));
    }

    #[test]
    fn display_is_short_and_technical() {
        let err = AuthError::oauth("access_denied", Some("The user cancelled the sign-in."));
        assert_eq!(
            err.to_string(),
            "OAuth error access_denied: The user cancelled the sign-in."
        );
        assert_eq!(
            AuthError::oauth("invalid_grant", None).to_string(),
            "OAuth error invalid_grant"
        );
        assert_eq!(
            AuthError::ServerError(503).to_string(),
            "server error: HTTP 503"
        );
        assert_eq!(
            AuthError::InvalidIdToken(IdTokenCheck::Audience).to_string(),
            "invalid ID token: audience"
        );
        let field = ConfigProblem::Field {
            field: "redirect_uri",
            problem: "must not have a fragment".into(),
        };
        assert_eq!(
            AuthError::ConfigInvalid(field).to_string(),
            "invalid configuration: `redirect_uri` must not have a fragment"
        );
        assert_eq!(
            AuthError::TokenResponseInvalid(TokenResponseProblem::Status(404)).to_string(),
            "invalid token response: HTTP 404 without an OAuth error"
        );
        assert_eq!(
            AuthError::BrowserUnsupported(BrowserFeature::SessionStorage).to_string(),
            "browser unsupported: sessionStorage is not available"
        );
    }

    #[test]
    fn transient_failures_are_told_apart() {
        assert!(AuthError::Network("x".into()).is_transient());
        assert!(AuthError::ServerError(502).is_transient());
        assert!(AuthError::oauth("temporarily_unavailable", None).is_transient());
        assert!(!AuthError::oauth("invalid_grant", None).is_transient());
        assert!(
            !AuthError::TokenResponseInvalid(TokenResponseProblem::NoAccessToken).is_transient()
        );
        assert!(!AuthError::InvalidIdToken(IdTokenCheck::Signature).is_transient());
    }
}
