//! What the app shows: the session's status, a non-blocking warning, and
//! who is signed in.

use crate::protocol::{AuthError, IdTokenClaims, UserinfoClaims};

/// Where the session stands. The `data-state` test hook is [`AuthStatus::as_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStatus {
    /// Loading the configuration and the provider's metadata.
    Starting,
    /// Nobody is signed in.
    SignedOut,
    /// On the way to the provider, or finishing a callback.
    SigningIn,
    /// Signed in; the tokens are in memory.
    SignedIn(UserProfile),
    /// Something failed; the error says what.
    Error(AuthError),
}

impl AuthStatus {
    /// `starting`, `signed-out`, `signing-in`, `signed-in` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::SignedOut => "signed-out",
            Self::SigningIn => "signing-in",
            Self::SignedIn(_) => "signed-in",
            Self::Error(_) => "error",
        }
    }

    /// The error's code, when in error (the `data-error` test hook).
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Self::Error(error) => Some(error.code()),
            _ => None,
        }
    }

    /// Whether someone is signed in.
    pub fn is_signed_in(&self) -> bool {
        matches!(self, Self::SignedIn(_))
    }

    /// Who is signed in, if anyone.
    pub fn profile(&self) -> Option<&UserProfile> {
        match self {
            Self::SignedIn(profile) => Some(profile),
            _ => None,
        }
    }
}

/// A problem that does not end the session.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthWarning {
    /// A background refresh failed for a reason that may pass; it is
    /// retried at `retry_at_ms` (ms since the epoch) with the same token.
    RefreshRetrying {
        /// What went wrong.
        cause: AuthError,
        /// When the next attempt is due.
        retry_at_ms: f64,
    },
    /// The browser is offline; refreshing waits for the connection.
    Offline,
}

/// Who signed in, from the verified ID token (and a matching userinfo answer).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserProfile {
    /// Subject identifier at the provider.
    pub sub: String,
    /// The name to show.
    pub name: String,
    /// Email, if shared.
    pub email: Option<String>,
    /// How strongly the person authenticated (`acr`), as verified.
    pub acr: Option<String>,
    /// How the person authenticated (`amr`: `pwd`, `otp`, …), as verified.
    pub amr: Vec<String>,
}

impl UserProfile {
    /// Fills in what a (matching) userinfo answer adds.
    pub(crate) fn merge_userinfo(&mut self, userinfo: &UserinfoClaims) {
        if let Some(name) = userinfo
            .name
            .as_ref()
            .or(userinfo.preferred_username.as_ref())
            .filter(|name| !name.trim().is_empty())
        {
            self.name.clone_from(name);
        }
        if userinfo.email.is_some() {
            self.email.clone_from(&userinfo.email);
        }
    }
}

impl From<&IdTokenClaims> for UserProfile {
    fn from(claims: &IdTokenClaims) -> Self {
        Self {
            sub: claims.sub.clone(),
            name: claims.display_name().to_owned(),
            email: claims.email.clone(),
            acr: claims.acr.clone(),
            amr: claims.amr.clone().unwrap_or_default(),
        }
    }
}
