//! What exactly went wrong, for the [`AuthError`](super::AuthError) variants
//! an app may act on: which ID token check failed, which configuration field
//! is wrong, what a token response lacks, which browser feature is missing.
//!
//! Each `Display` is short and technical, like the error's own.

use std::fmt;

/// The ID token check that failed ([`AuthError::InvalidIdToken`](super::AuthError::InvalidIdToken)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdTokenCheck {
    /// The token response carries no ID token.
    Missing,
    /// Not a signed JWT, or its header, claims or signature are unreadable
    /// (a claim given twice makes the claims unreadable).
    Malformed,
    /// The header has a `crit` member; no critical extension is supported.
    CriticalHeader,
    /// `alg` is not an asymmetric algorithm this client supports and the
    /// provider advertises (`none` and HMAC never are).
    Algorithm,
    /// The provider publishes no `jwks_uri`.
    NoKeys,
    /// The provider's key set is not a readable JWK Set.
    UnreadableKeys,
    /// No key has the token's `kid`, even after fetching the keys again.
    UnknownKey,
    /// The token has no `kid` and several keys would do: it is not guessed.
    AmbiguousKey,
    /// The signature does not verify.
    Signature,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` does not name this client.
    Audience,
    /// `azp` is not this client (required with several audiences).
    AuthorizedParty,
    /// `exp` has passed.
    Expired,
    /// `nbf` has not come yet.
    NotYetValid,
    /// `iat` lies in the future.
    IssuedInFuture,
    /// `nonce` is missing or not the one sent with the sign-in.
    Nonce,
    /// `at_hash` does not match the access token.
    AtHash,
    /// A refreshed ID token names another issuer or subject.
    SubjectChanged,
    /// A refreshed ID token has another `aud` or `azp`.
    AudienceChanged,
    /// A refreshed ID token has another `auth_time`.
    AuthTimeChanged,
    /// A refreshed ID token carries a `nonce` other than the original one.
    NonceChanged,
    /// `max_age` was asked for, and `auth_time` is missing or too old.
    AuthTime,
    /// The `acr` is not one of the values the sign-in required.
    Acr,
    /// A step-up came back for another person than the one signed in.
    StepUpSubject,
}

impl fmt::Display for IdTokenCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::CriticalHeader => "unsupported critical header",
            Self::Algorithm => "algorithm not allowed",
            Self::NoKeys => "the provider publishes no keys",
            Self::UnreadableKeys => "the provider's signing keys are unreadable",
            Self::UnknownKey => "unknown key",
            Self::AmbiguousKey => "several keys and no kid",
            Self::Signature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::AuthorizedParty => "authorized party",
            Self::Expired => "expired",
            Self::NotYetValid => "not yet valid",
            Self::IssuedInFuture => "issued in the future",
            Self::Nonce => "nonce",
            Self::AtHash => "at_hash",
            Self::SubjectChanged => "refreshed ID token names another person",
            Self::AudienceChanged => "refreshed ID token has another audience",
            Self::AuthTimeChanged => "refreshed ID token changes auth_time",
            Self::NonceChanged => "refreshed ID token changes the nonce",
            Self::AuthTime => "auth_time missing or older than max_age",
            Self::Acr => "acr not among those required",
            Self::StepUpSubject => "step-up signed in another person",
        })
    }
}

/// What is wrong with the client configuration ([`AuthError::ConfigInvalid`](super::AuthError::ConfigInvalid)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// The configuration could not be fetched from `url`.
    Unreachable {
        /// Where it was asked for.
        url: String,
    },
    /// `url` answered with another status than 200.
    Status {
        /// Where it was asked for.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The text is not JSON.
    NotJson,
    /// The JSON does not have the configuration's shape; the reason names
    /// the field (``missing field `client_id` ``, `invalid type: …`).
    Shape(String),
    /// A field's value is not allowed.
    Field {
        /// The field, as in `config.json` (`issuer`, `redirect_uri`, …).
        field: &'static str,
        /// What it must be (`must use https (http only for localhost)`).
        problem: String,
    },
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable { url } => write!(f, "{url} could not be loaded"),
            Self::Status { url, status } => write!(f, "{url} answered HTTP {status}"),
            Self::NotJson => f.write_str("not valid JSON"),
            Self::Shape(why) => f.write_str(why),
            Self::Field { field, problem } => write!(f, "`{field}` {problem}"),
        }
    }
}

/// What makes a token (or PAR) endpoint answer unusable
/// ([`AuthError::TokenResponseInvalid`](super::AuthError::TokenResponseInvalid)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenResponseProblem {
    /// A 4xx status without an OAuth error in the body.
    Status(u16),
    /// The body is not a JSON object of the expected shape (a member given
    /// twice included).
    NotJson,
    /// No (or an empty) `access_token`.
    NoAccessToken,
    /// `token_type` is missing, or neither `Bearer` nor `DPoP`.
    TokenType,
    /// `expires_in` is not a positive whole number.
    ExpiresIn,
    /// A pushed authorization answer without `request_uri`.
    NoRequestUri,
    /// A DPoP-bound token for a request sent without a DPoP proof.
    UnexpectedDpop,
    /// A Bearer token although the configuration requires DPoP.
    DpopRequired,
}

impl fmt::Display for TokenResponseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write!(f, "HTTP {status} without an OAuth error"),
            Self::NotJson => f.write_str("not a valid JSON token response"),
            Self::NoAccessToken => f.write_str("no access_token"),
            Self::TokenType => f.write_str("token_type is missing or neither Bearer nor DPoP"),
            Self::ExpiresIn => f.write_str("expires_in is not a positive whole number"),
            Self::NoRequestUri => f.write_str("no request_uri"),
            Self::UnexpectedDpop => f.write_str("a DPoP token for a request without a proof"),
            Self::DpopRequired => f.write_str("a Bearer token where DPoP is required"),
        }
    }
}

/// The browser feature that is missing or refused
/// ([`AuthError::BrowserUnsupported`](super::AuthError::BrowserUnsupported)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BrowserFeature {
    /// `sessionStorage` (blocked, full, or a private mode without it).
    SessionStorage,
    /// A secure random number generator (`crypto.getRandomValues`).
    SecureRandom,
    /// WebCrypto (`crypto.subtle`: absent outside a secure context, or failing).
    WebCrypto,
    /// A WebCrypto ECDSA P-256 key to sign DPoP proofs with.
    DpopKey,
}

impl fmt::Display for BrowserFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SessionStorage => "sessionStorage is not available",
            Self::SecureRandom => "no secure random number generator",
            Self::WebCrypto => "WebCrypto (crypto.subtle) is not available",
            Self::DpopKey => "no WebCrypto ECDSA P-256 key for DPoP",
        })
    }
}
