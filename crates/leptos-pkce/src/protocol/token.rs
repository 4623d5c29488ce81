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
mod tests {
    use super::*;

    #[test]
    fn code_form_has_no_secret_and_all_walkthrough_fields() {
        let body = authorization_code_form(
            AuthorizationCode::new("c0de".into()),
            PkceCodeVerifier::new("ver".into()),
            "http://localhost:8080/callback",
            "leptos-spa",
            None,
        );
        assert_eq!(
            body,
            "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&client_id=leptos-spa&code_verifier=ver"
        );
        assert!(!body.contains("client_secret"));
        let refresh = refresh_form(&RefreshToken::new("r t".into()), "leptos-spa", None, true);
        assert_eq!(
            refresh,
            "grant_type=refresh_token&refresh_token=r+t&client_id=leptos-spa"
        );
    }

    #[test]
    fn forms_name_the_api_their_token_is_for() {
        let orders = ResourceServer::new("https://orders.example", "https://orders.example/")
            .with_scopes(["orders:read", "orders:list"]);
        let code = authorization_code_form(
            AuthorizationCode::new("c".into()),
            PkceCodeVerifier::new("v".into()),
            "http://localhost:8080/callback",
            "spa",
            Some(&orders),
        );
        assert!(code.ends_with("&code_verifier=v&resource=https%3A%2F%2Forders.example%2F"));
        let token = RefreshToken::new("r".into());
        assert_eq!(
            refresh_form(&token, "spa", Some(&orders), true),
            "grant_type=refresh_token&refresh_token=r&client_id=spa&resource=https%3A%2F%2Forders.example%2F&scope=orders%3Aread+orders%3Alist"
        );
        assert!(
            !refresh_form(&token, "spa", Some(&orders), false).contains("scope="),
            "the first API's refresh keeps every scope"
        );
        let mut auth0 = orders.clone();
        auth0.resource = None;
        auth0.audience = Some("orders".into());
        assert!(refresh_form(&token, "spa", Some(&auth0), false).ends_with("&audience=orders"));
    }

    #[test]
    fn finds_the_rotated_token_in_an_unusable_answer() {
        let body = r#"{"token_type":"Bearer","refresh_token":"rt2"}"#;
        assert_eq!(
            parse_token_response(200, body).map(|_| ()),
            Err(AuthError::TokenResponseInvalid(
                TokenResponseProblem::NoAccessToken
            ))
        );
        assert_eq!(
            rotated_refresh_token(200, body).map(|t| t.secret().to_owned()),
            Some("rt2".into())
        );
        assert!(rotated_refresh_token(400, body).is_none());
        assert!(rotated_refresh_token(200, "<html>").is_none());
        assert!(rotated_refresh_token(200, r#"{"refresh_token":""}"#).is_none());
    }

    #[test]
    fn parses_a_good_response() {
        let body = r#"{"access_token":"at","token_type":"bearer","expires_in":"60","refresh_token":"rt","id_token":"a.b.c","scope":"openid"}"#;
        let response = parse_token_response(200, body).expect("valid");
        assert_eq!(response.access_token.secret(), "at");
        assert_eq!(response.expires_in, Some(60));
        for (lifetime, expected) in [("null", None), ("3600", Some(3600)), ("\"5\"", Some(5))] {
            let body =
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{lifetime}}}"#);
            assert_eq!(
                parse_token_response(200, &body).expect(&body).expires_in,
                expected
            );
        }
        for (lifetime, problem) in [
            ("1.5", TokenResponseProblem::ExpiresIn),
            ("true", TokenResponseProblem::ExpiresIn),
            ("\"soon\"", TokenResponseProblem::ExpiresIn),
            ("{}", TokenResponseProblem::NotJson),
        ] {
            let body =
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{lifetime}}}"#);
            assert_eq!(
                parse_token_response(200, &body).map(|_| ()),
                Err(AuthError::TokenResponseInvalid(problem)),
                "{lifetime}"
            );
        }
        assert_eq!(response.refresh_token.expect("rt").secret(), "rt");
    }

    /// Which copy would the client use, which would another reader? Neither:
    /// a member given twice refuses the answer.
    #[test]
    fn refuses_a_member_given_twice() {
        for body in [
            r#"{"access_token":"a1","token_type":"Bearer","access_token":"a2"}"#,
            r#"{"access_token":"at","token_type":"Bearer","token_type":"DPoP"}"#,
            r#"{"access_token":"at","token_type":"Bearer","id_token":"a.b.c","id_token":"d.e.f"}"#,
        ] {
            assert_eq!(
                parse_token_response(200, body).map(|_| ()),
                Err(AuthError::TokenResponseInvalid(
                    TokenResponseProblem::NotJson
                )),
                "{body}"
            );
        }
        let error = r#"{"error":"invalid_grant","error":"access_denied"}"#;
        assert_eq!(
            parse_token_response(400, error).map(|_| ()),
            Err(AuthError::TokenResponseInvalid(
                TokenResponseProblem::Status(400)
            ))
        );
    }

    #[test]
    fn refuses_unusable_responses() {
        let invalid = AuthError::TokenResponseInvalid;
        let cases = [
            (
                200,
                r#"{"token_type":"Bearer","expires_in":60}"#,
                invalid(TokenResponseProblem::NoAccessToken),
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"mac","expires_in":60}"#,
                invalid(TokenResponseProblem::TokenType),
            ),
            (
                200,
                r#"{"access_token":"at","expires_in":60}"#,
                invalid(TokenResponseProblem::TokenType),
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"Bearer","expires_in":-5}"#,
                invalid(TokenResponseProblem::ExpiresIn),
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"Bearer","expires_in":0}"#,
                invalid(TokenResponseProblem::ExpiresIn),
            ),
            (
                200,
                "<html><body>Welcome</body></html>",
                invalid(TokenResponseProblem::NotJson),
            ),
            (200, "[]", invalid(TokenResponseProblem::NotJson)),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
                AuthError::oauth("invalid_grant", Some("grant request is invalid")),
            ),
            (500, "Internal Server Error", AuthError::ServerError(500)),
            (404, "Not found", invalid(TokenResponseProblem::Status(404))),
        ];
        for (status, body, expected) in cases {
            let err = parse_token_response(status, body).expect_err(body);
            assert!(!err.to_string().contains("\"at\""));
            assert_eq!(err, expected, "{status} {body}");
        }
    }
}
