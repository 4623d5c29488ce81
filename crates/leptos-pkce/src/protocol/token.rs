//! Token requests and responses ([RFC 6749 §4.1.3–§5](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3),
//! [§6](https://www.rfc-editor.org/rfc/rfc6749#section-6)). A public client: no
//! client secret is ever sent; `client_id` identifies it.

use core::fmt;

use serde::Deserialize;
use serde::de::{self, Visitor};

use super::codec::from_json;
use super::error::{AuthError, TokenResponseProblem};
use super::resources::ResourceServer;
use super::secret::{AccessToken, AuthorizationCode, IdToken, PkceCodeVerifier, RefreshToken};
use super::uri::form_encode;

/// The form body that exchanges a code (consuming it and its verifier).
pub fn authorization_code_form(
    code: AuthorizationCode,
    code_verifier: PkceCodeVerifier,
    redirect_uri: &str,
    client_id: &str,
    resource: Option<&ResourceServer>,
) -> String {
    let target = resource.map(|server| server.token_params(false));
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", code_verifier.secret()),
    ];
    form.extend(target.iter().flatten().map(|(k, v)| (*k, v.as_str())));
    form_encode(&form)
}

/// The form body that redeems a refresh token; with `resource`, for that
/// API's token ([RFC 8707 §2.2](https://www.rfc-editor.org/rfc/rfc8707#section-2.2)),
/// with only its scopes when `scoped`.
pub fn refresh_form(
    refresh_token: &RefreshToken,
    client_id: &str,
    resource: Option<&ResourceServer>,
    scoped: bool,
) -> String {
    let target = resource.map(|server| server.token_params(scoped));
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret()),
        ("client_id", client_id),
    ];
    form.extend(target.iter().flatten().map(|(k, v)| (*k, v.as_str())));
    form_encode(&form)
}

/// How an access token is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TokenType {
    /// `Authorization: Bearer` ([RFC 6750](https://www.rfc-editor.org/rfc/rfc6750)).
    Bearer,
    /// `Authorization: DPoP` with a proof ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
    Dpop,
}

impl TokenType {
    /// The `Authorization` scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Bearer => "Bearer",
            Self::Dpop => "DPoP",
        }
    }
}

/// A successful, checked token response.
#[derive(Debug)]
pub struct TokenResponse {
    /// Bearer, or DPoP-bound.
    pub token_type: TokenType,
    /// The access token.
    pub access_token: AccessToken,
    /// A (rotated) refresh token, if issued.
    pub refresh_token: Option<RefreshToken>,
    /// The ID token, if issued.
    pub id_token: Option<IdToken>,
    /// Lifetime of the access token in seconds, if stated.
    pub expires_in: Option<u64>,
    /// Granted scope, if it differs from the request or is stated.
    pub scope: Option<String>,
}

/// A token endpoint's JSON answer as sent, each member read at most once;
/// [`into_response`](Self::into_response) checks it.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<AccessToken>,
    token_type: Option<String>,
    expires_in: Option<Lifetime>,
    refresh_token: Option<RefreshToken>,
    id_token: Option<IdToken>,
    scope: Option<String>,
}

/// `expires_in`: a number of seconds, or (as some providers send it) a
/// numeric string. Any other number, string or boolean is `Invalid`, which
/// refuses the answer with that reason.
enum Lifetime {
    Seconds(u64),
    Invalid,
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LifetimeVisitor)
    }
}

struct LifetimeVisitor;

impl Visitor<'_> for LifetimeVisitor {
    type Value = Lifetime;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number of seconds")
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Lifetime, E> {
        Ok(Lifetime::Seconds(seconds))
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Lifetime, E> {
        Ok(u64::try_from(seconds).map_or(Lifetime::Invalid, Lifetime::Seconds))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lifetime, E> {
        Ok(Lifetime::Invalid)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Lifetime, E> {
        Ok(text.parse().map_or(Lifetime::Invalid, Lifetime::Seconds))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lifetime, E> {
        Ok(Lifetime::Invalid)
    }
}

impl TokenAnswer {
    /// Checks the answer: a non-empty `access_token`, `token_type` Bearer
    /// or DPoP and, if present, a positive `expires_in`.
    fn into_response(self) -> Result<TokenResponse, AuthError> {
        let invalid = AuthError::TokenResponseInvalid;
        let access_token = self
            .access_token
            .filter(|token| !token.secret().is_empty())
            .ok_or_else(|| invalid(TokenResponseProblem::NoAccessToken))?;
        let token_type = match self.token_type.as_deref() {
            // RFC 6749 §5.1: the type is case-insensitive.
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => TokenType::Bearer,
            Some(kind) if kind.eq_ignore_ascii_case("dpop") => TokenType::Dpop,
            _ => return Err(invalid(TokenResponseProblem::TokenType)),
        };
        let expires_in = match self.expires_in {
            None => None,
            Some(Lifetime::Seconds(0) | Lifetime::Invalid) => {
                return Err(invalid(TokenResponseProblem::ExpiresIn));
            }
            Some(Lifetime::Seconds(seconds)) => Some(seconds),
        };
        Ok(TokenResponse {
            token_type,
            access_token,
            refresh_token: self
                .refresh_token
                .filter(|token| !token.secret().is_empty()),
            id_token: self.id_token.filter(|token| !token.secret().is_empty()),
            expires_in,
            scope: self.scope,
        })
    }
}

/// An OAuth error answer ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)).
#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    error_description: Option<String>,
}

/// A non-2xx answer of the token (or PAR) endpoint: its OAuth error, or a
/// server failure.
pub(crate) fn error_response(status: u16, body: &str) -> AuthError {
    if let Ok(answer) = from_json::<ErrorAnswer>(body) {
        return AuthError::oauth(&answer.error, answer.error_description.as_deref());
    }
    if status >= 500 {
        AuthError::ServerError(status)
    } else {
        AuthError::TokenResponseInvalid(TokenResponseProblem::Status(status))
    }
}

/// Interprets the token endpoint's answer: an OAuth error (400/401 with
/// `error`), a server failure, or a response that must be a JSON object
/// with a non-empty `access_token`, `token_type` Bearer and, if present, a
/// positive `expires_in`.
pub fn parse_token_response(status: u16, body: &str) -> Result<TokenResponse, AuthError> {
    if !(200..300).contains(&status) {
        return Err(error_response(status, body));
    }
    from_json::<TokenAnswer>(body)
        .map_err(|_| AuthError::TokenResponseInvalid(TokenResponseProblem::NotJson))?
        .into_response()
}

/// The rotated refresh token of a 2xx answer that is otherwise unusable
/// (no `access_token`, a wrong `token_type`, …): the server has rotated the
/// token all the same, so the client must keep the new one.
pub fn rotated_refresh_token(status: u16, body: &str) -> Option<RefreshToken> {
    if !(200..300).contains(&status) {
        return None;
    }
    /// Only the member looked for.
    #[derive(Deserialize)]
    struct Rotated {
        refresh_token: Option<RefreshToken>,
    }
    from_json::<Rotated>(body)
        .ok()?
        .refresh_token
        .filter(|token| !token.secret().is_empty())
}

#[cfg(test)]
mod tests;
