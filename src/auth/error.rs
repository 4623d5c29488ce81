//! The one error type of the client. Each variant is something the person (or
//! the developer wiring the app) can act on, and each has a stable snake_case
//! [`code`](AuthError::code), the value of the `data-error` test hook.
//!
//! No variant ever carries a token, code, verifier or other secret.

use thiserror::Error;

/// Everything that can go wrong while signing in, refreshing or calling an API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// `config.json` is missing, not JSON, or has an invalid field.
    #[error(
        "The app's sign-in settings (config.json) are missing or invalid: {0}. Ask the site's administrator to fix them."
    )]
    ConfigInvalid(String),

    /// The provider's OpenID discovery document could not be fetched or is unusable.
    #[error(
        "Could not load the identity provider's settings: {0}. Try again later; if it persists, the provider address in config.json may be wrong."
    )]
    DiscoveryFailed(String),

    /// The callback's `state` is missing, or no sign-in with that `state` was
    /// started in this tab (forged, replayed, expired or from another tab).
    #[error(
        "This sign-in response does not match a sign-in started in this tab (it may be old, reused or forged), so it was rejected. Please sign in again."
    )]
    StateMismatch,

    /// A response came from (or names) another issuer than the configured one
    /// ([RFC 9207](https://www.rfc-editor.org/rfc/rfc9207)).
    #[error(
        "The sign-in response came from an unexpected identity provider ({0}), so it was rejected. Please sign in again."
    )]
    IssuerMismatch(String),

    /// The provider answered with an OAuth error (`access_denied`,
    /// `invalid_grant`, `login_required`, …).
    #[error("{}", oauth_message(.code, .description.as_deref()))]
    OAuth {
        /// The `error` code the provider sent.
        code: String,
        /// Its `error_description`, if any (provider text, shown as plain text).
        description: Option<String>,
    },

    /// The callback URL carries neither a code nor an error.
    #[error("The sign-in response is incomplete ({0}). Please sign in again.")]
    CallbackInvalid(String),

    /// The token endpoint's answer is not a usable token response.
    #[error("The identity provider sent an unusable token response ({0}). Please try again later.")]
    TokenResponseInvalid(String),

    /// The ID token failed validation; the reason says which check.
    #[error(
        "The identity provider's ID token failed verification ({0}), so the sign-in was refused."
    )]
    InvalidIdToken(String),

    /// The userinfo endpoint describes another person than the ID token.
    #[error(
        "The identity provider's profile answer names a different person than the sign-in, so it was discarded and the sign-in refused."
    )]
    UserinfoSubMismatch,

    /// A server answered with an unexpected HTTP status and no OAuth error.
    #[error("The identity provider had a problem (HTTP {0}). Please try again in a moment.")]
    ServerError(u16),

    /// A request did not complete: offline, refused, blocked by CORS or timed out.
    #[error("Could not reach {0}. Check your connection and try again.")]
    Network(String),

    /// An API call needs a signed-in person.
    #[error("You are not signed in. Please sign in first.")]
    NotSignedIn,

    /// The session ended (no refresh token, or it expired) and needs a new sign-in.
    #[error("Your session has ended. Please sign in again.")]
    SessionExpired,

    /// The browser lacks something the client needs (sessionStorage, crypto).
    #[error("This browser cannot complete the sign-in: {0}.")]
    BrowserUnsupported(String),
}

fn oauth_message(code: &str, description: Option<&str>) -> String {
    let hint = match code {
        "access_denied" => "The sign-in was cancelled or refused.",
        "invalid_grant" => "Your sign-in is no longer valid. Please sign in again.",
        "login_required" | "interaction_required" | "consent_required" => {
            "The identity provider needs you to sign in again."
        }
        "temporarily_unavailable" | "server_error" => {
            "The identity provider is having trouble. Please try again in a moment."
        }
        _ => "The identity provider refused the request.",
    };
    match description {
        Some(text) if !text.is_empty() => format!("{hint} The provider said: “{text}”"),
        _ => format!("{hint} (error: {code})"),
    }
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
            Self::NotSignedIn => "not_signed_in",
            Self::SessionExpired => "session_expired",
            Self::BrowserUnsupported(_) => "browser_unsupported",
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

    /// An ID token that failed the check named by `why`.
    pub fn invalid_id_token(why: &str) -> Self {
        Self::InvalidIdToken(why.to_owned())
    }

    /// True for failures that may pass by themselves (network, 5xx,
    /// `temporarily_unavailable`): a refresh token is never dropped for these.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) | Self::ServerError(_) | Self::TokenResponseInvalid(_) => true,
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
        assert_eq!(AuthError::StateMismatch.code(), "state_mismatch");
        assert_eq!(AuthError::Network("x".into()).code(), "network_error");
        assert_eq!(
            AuthError::oauth("access_denied", None).code(),
            "access_denied"
        );
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
    fn messages_show_the_provider_description() {
        let err = AuthError::oauth("access_denied", Some("The user cancelled the sign-in."));
        let text = err.to_string();
        assert!(text.contains("cancelled or refused"));
        assert!(text.contains("The user cancelled the sign-in."));
    }
}
