//! Token requests and responses ([RFC 6749 §4.1.3–§5](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3),
//! [§6](https://www.rfc-editor.org/rfc/rfc6749#section-6)). A public client: no
//! client secret is ever sent; `client_id` identifies it.

use super::error::AuthError;
use super::json::{self, BadField, Fields, Value};
use super::secret::{AccessToken, AuthorizationCode, IdToken, PkceCodeVerifier, RefreshToken};
use super::uri::form_encode;

/// The form body that exchanges a code (consuming it and its verifier).
pub fn authorization_code_form(
    code: AuthorizationCode,
    code_verifier: PkceCodeVerifier,
    redirect_uri: &str,
    client_id: &str,
) -> String {
    form_encode(&[
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", code_verifier.secret()),
    ])
}

/// The form body that redeems a refresh token.
pub fn refresh_form(refresh_token: &RefreshToken, client_id: &str) -> String {
    form_encode(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret()),
        ("client_id", client_id),
    ])
}

/// How an access token is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// `expires_in`: a number of seconds, or (as some providers send it) a
/// numeric string.
enum Lifetime {
    Absent,
    Seconds(u64),
    Invalid,
}

impl Lifetime {
    fn read(fields: &Fields<'_>) -> Result<Self, BadField> {
        Ok(match fields.get("expires_in")? {
            None | Some(Value::Null) => Self::Absent,
            Some(Value::Number(text) | Value::String(text)) => {
                text.parse().map_or(Self::Invalid, Self::Seconds)
            }
            Some(Value::Bool(_)) => Self::Invalid,
            Some(_) => return Err(BadField("expires_in")),
        })
    }
}

/// A non-2xx answer of the token (or PAR) endpoint: its OAuth error, or a
/// server failure.
pub(crate) fn error_response(status: u16, body: &str) -> AuthError {
    let error = json::read_object(body, |fields| {
        Ok((fields.str("error")?, fields.opt_str("error_description")?))
    });
    if let Some((code, description)) = error {
        return AuthError::oauth(&code, description.as_deref());
    }
    if status >= 500 {
        AuthError::ServerError(status)
    } else {
        AuthError::TokenResponseInvalid(format!("HTTP {status} without an OAuth error"))
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
    let invalid = |why: &str| AuthError::TokenResponseInvalid(why.to_owned());
    let raw = json::read_object(body, |fields| {
        Ok((
            fields.opt_str("access_token")?,
            fields.opt_str("token_type")?,
            Lifetime::read(fields)?,
            fields.opt_str("refresh_token")?,
            fields.opt_str("id_token")?,
            fields.opt_str("scope")?,
        ))
    })
    .ok_or_else(|| invalid("not a valid JSON token response"))?;
    let (access_token, token_type, expires_in, refresh_token, id_token, scope) = raw;
    let access_token = access_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| invalid("no access_token"))?;
    let token_type = match token_type.as_deref() {
        // RFC 6749 §5.1: the type is case-insensitive.
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => TokenType::Bearer,
        Some(kind) if kind.eq_ignore_ascii_case("dpop") => TokenType::Dpop,
        Some(_) => return Err(invalid("token_type is neither Bearer nor DPoP")),
        None => return Err(invalid("no token_type")),
    };
    let expires_in = match expires_in {
        Lifetime::Absent => None,
        Lifetime::Seconds(0) => return Err(invalid("expires_in is zero")),
        Lifetime::Seconds(seconds) => Some(seconds),
        Lifetime::Invalid => return Err(invalid("expires_in is not a whole number")),
    };
    Ok(TokenResponse {
        token_type,
        access_token: AccessToken::new(access_token),
        refresh_token: refresh_token
            .filter(|t| !t.is_empty())
            .map(RefreshToken::new),
        id_token: id_token.filter(|t| !t.is_empty()).map(IdToken::new),
        expires_in,
        scope,
    })
}

/// The rotated refresh token of a 2xx answer that is otherwise unusable
/// (no `access_token`, a wrong `token_type`, …): the server has rotated the
/// token all the same, so the client must keep the new one.
pub fn rotated_refresh_token(status: u16, body: &str) -> Option<RefreshToken> {
    if !(200..300).contains(&status) {
        return None;
    }
    json::read_object(body, |fields| fields.opt_str("refresh_token"))?
        .filter(|token| !token.is_empty())
        .map(RefreshToken::new)
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
        );
        assert_eq!(
            body,
            "grant_type=authorization_code&code=c0de&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&client_id=leptos-spa&code_verifier=ver"
        );
        assert!(!body.contains("client_secret"));
        let refresh = refresh_form(&RefreshToken::new("r t".into()), "leptos-spa");
        assert_eq!(
            refresh,
            "grant_type=refresh_token&refresh_token=r+t&client_id=leptos-spa"
        );
    }

    #[test]
    fn finds_the_rotated_token_in_an_unusable_answer() {
        let body = r#"{"token_type":"Bearer","refresh_token":"rt2"}"#;
        assert_eq!(
            parse_token_response(200, body).map(|_| ()),
            Err(AuthError::TokenResponseInvalid("no access_token".into()))
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
        for lifetime in ["1.5", "true", "\"soon\"", "{}"] {
            let body =
                format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{lifetime}}}"#);
            assert_eq!(
                parse_token_response(200, &body).expect_err(&body).code(),
                "token_response_invalid"
            );
        }
        assert_eq!(response.refresh_token.expect("rt").secret(), "rt");
    }

    #[test]
    fn refuses_unusable_responses() {
        let cases = [
            (
                200,
                r#"{"token_type":"Bearer","expires_in":60}"#,
                "token_response_invalid",
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"mac","expires_in":60}"#,
                "token_response_invalid",
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"Bearer","expires_in":-5}"#,
                "token_response_invalid",
            ),
            (
                200,
                r#"{"access_token":"at","token_type":"Bearer","expires_in":0}"#,
                "token_response_invalid",
            ),
            (
                200,
                "<html><body>Welcome</body></html>",
                "token_response_invalid",
            ),
            (200, "[]", "token_response_invalid"),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
                "invalid_grant",
            ),
            (500, "Internal Server Error", "server_error"),
            (404, "Not found", "token_response_invalid"),
        ];
        for (status, body, code) in cases {
            let err = parse_token_response(status, body).expect_err(body);
            assert_eq!(err.code(), code, "{status} {body}");
            assert!(!err.to_string().contains("\"at\""));
        }
    }
}
