//! The authorization response at the redirect URI
//! ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2),
//! [RFC 9207](https://www.rfc-editor.org/rfc/rfc9207)).

use super::error::AuthError;
use super::pending::PendingRequest;
use super::secret::{AuthorizationCode, constant_time_eq};

/// The parameters of a callback URL's query.
#[derive(Debug, Default)]
pub struct CallbackParams {
    /// `code`, on success.
    pub code: Option<AuthorizationCode>,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `error`, on failure.
    pub error: Option<String>,
    /// `error_description`, on failure.
    pub error_description: Option<String>,
    /// `iss` ([RFC 9207](https://www.rfc-editor.org/rfc/rfc9207)).
    pub iss: Option<String>,
    /// A parameter that appeared more than once (RFC 6749 §3.1 forbids it).
    pub duplicated: Option<String>,
}

impl CallbackParams {
    /// Parses `location.search` (with or without the leading `?`).
    pub fn from_query(query: &str) -> Self {
        let mut params = Self::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot_taken = match key.as_ref() {
                "code" => params
                    .code
                    .replace(AuthorizationCode::new(value.into_owned()))
                    .is_some(),
                "state" => params.state.replace(value.into_owned()).is_some(),
                "error" => params.error.replace(value.into_owned()).is_some(),
                "error_description" => params
                    .error_description
                    .replace(value.into_owned())
                    .is_some(),
                "iss" => params.iss.replace(value.into_owned()).is_some(),
                _ => false,
            };
            if slot_taken {
                params.duplicated.get_or_insert(key.into_owned());
            }
        }
        params
    }

    /// Whether the query looks like an authorization response at all.
    pub fn is_authorization_response(&self) -> bool {
        self.code.is_some() || self.error.is_some() || self.state.is_some()
    }
}

/// What the client expects of a callback.
#[derive(Debug, Clone, Copy)]
pub struct CallbackExpectations<'a> {
    /// The configured issuer.
    pub issuer: &'a str,
    /// The provider advertises `authorization_response_iss_parameter_supported`.
    pub iss_parameter_required: bool,
    /// Now, in milliseconds since the epoch.
    pub now_ms: f64,
}

/// Checks a callback against the pending request this tab stored under the
/// callback's `state`. Order matters: `state` first (before anything else is
/// trusted), then the issuer (mix-up defence), then the provider's error,
/// then the code.
pub fn validate_callback(
    params: CallbackParams,
    pending: Option<&PendingRequest>,
    expect: CallbackExpectations<'_>,
) -> Result<AuthorizationCode, AuthError> {
    let (Some(state), Some(pending)) = (params.state.as_deref(), pending) else {
        return Err(AuthError::StateMismatch);
    };
    if !constant_time_eq(state, pending.state.secret()) || pending.is_expired(expect.now_ms) {
        return Err(AuthError::StateMismatch);
    }
    if pending.issuer != expect.issuer {
        return Err(AuthError::IssuerMismatch(pending.issuer.clone()));
    }
    match params.iss.as_deref() {
        Some(iss) if iss != expect.issuer => return Err(AuthError::IssuerMismatch(shown(iss))),
        None if expect.iss_parameter_required => {
            return Err(AuthError::IssuerMismatch(
                "no issuer named in the response".into(),
            ));
        }
        _ => {}
    }
    if let Some(name) = params.duplicated {
        return Err(AuthError::CallbackInvalid(format!(
            "parameter `{name}` appears twice"
        )));
    }
    if let Some(error) = params.error.as_deref() {
        return Err(AuthError::oauth(error, params.error_description.as_deref()));
    }
    params
        .code
        .filter(|code| !code.secret().is_empty())
        .ok_or_else(|| AuthError::CallbackInvalid("no authorization code".into()))
}

/// An attacker-chosen value, fit to be shown: printable ASCII, at most
/// 100 characters.
fn shown(value: &str) -> String {
    let mut text: String = value
        .chars()
        .filter(|c| (' '..='~').contains(c))
        .take(100)
        .collect();
    if value.chars().count() > 100 {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::secret::{CsrfState, Nonce, PkceCodeVerifier};

    const ISSUER: &str = "http://127.0.0.1:9000";

    fn pending() -> PendingRequest {
        PendingRequest {
            state: CsrfState::new("good-state".into()),
            code_verifier: PkceCodeVerifier::new("v".repeat(43)),
            nonce: Nonce::new("n".into()),
            issuer: ISSUER.into(),
            redirect_uri: "http://localhost:8080/callback".into(),
            return_to: "/".into(),
            created_at_ms: 1_000.0,
            silent: false,
            max_age_s: None,
            acr_required: Vec::new(),
            step_up_sub: None,
            apis: Vec::new(),
        }
    }

    fn expect(iss_required: bool) -> CallbackExpectations<'static> {
        CallbackExpectations {
            issuer: ISSUER,
            iss_parameter_required: iss_required,
            now_ms: 2_000.0,
        }
    }

    fn check(query: &str, iss_required: bool) -> Result<String, String> {
        validate_callback(
            CallbackParams::from_query(query),
            Some(&pending()),
            expect(iss_required),
        )
        .map(|code| code.secret().to_owned())
        .map_err(|err| err.code().to_owned())
    }

    #[test]
    fn accepts_matching_state_and_issuer() {
        assert_eq!(
            check(
                "?code=abc&state=good-state&iss=http%3A%2F%2F127.0.0.1%3A9000",
                true
            ),
            Ok("abc".into())
        );
        assert_eq!(check("code=abc&state=good-state", false), Ok("abc".into()));
    }

    #[test]
    fn state_is_checked_before_anything_else() {
        assert_eq!(
            check("code=abc&state=bad-state", false),
            Err("state_mismatch".into())
        );
        assert_eq!(check("code=abc", false), Err("state_mismatch".into()));
        assert_eq!(
            check("error=access_denied&state=other", false),
            Err("state_mismatch".into())
        );
        assert_eq!(
            check("code=abc&state=bad&iss=http://evil", true),
            Err("state_mismatch".into())
        );
        let none = validate_callback(
            CallbackParams::from_query("code=a&state=good-state"),
            None,
            expect(false),
        );
        assert_eq!(none.expect_err("no pending").code(), "state_mismatch");
    }

    #[test]
    fn expired_pending_requests_are_refused() {
        let late = CallbackExpectations {
            now_ms: 1_000.0 + 11.0 * 60_000.0,
            ..expect(false)
        };
        let result = validate_callback(
            CallbackParams::from_query("code=a&state=good-state"),
            Some(&pending()),
            late,
        );
        assert_eq!(result.expect_err("expired").code(), "state_mismatch");
    }

    #[test]
    fn issuer_mix_up_is_refused() {
        assert_eq!(
            check("code=abc&state=good-state&iss=http://evil.example", false),
            Err("issuer_mismatch".into())
        );
        assert_eq!(
            check("code=abc&state=good-state", true),
            Err("issuer_mismatch".into())
        );
    }

    #[test]
    fn a_long_or_hostile_issuer_is_cut_before_it_is_shown() {
        let long = format!("https://{}.example/\u{7}", "a".repeat(5_000));
        let query = format!(
            "code=abc&state=good-state&iss={}",
            form_urlencoded::byte_serialize(long.as_bytes()).collect::<String>()
        );
        let err = validate_callback(
            CallbackParams::from_query(&query),
            Some(&pending()),
            expect(false),
        )
        .expect_err("mix-up");
        let AuthError::IssuerMismatch(shown) = err else {
            panic!("not an issuer mismatch: {err:?}")
        };
        assert_eq!(shown.chars().count(), 101);
        assert!(shown.ends_with('…'));
        assert!(!shown.contains('\u{7}'));
    }

    #[test]
    fn provider_errors_keep_their_code() {
        let result = validate_callback(
            CallbackParams::from_query(
                "error=access_denied&error_description=User+said+no&state=good-state",
            ),
            Some(&pending()),
            expect(false),
        );
        let err = result.expect_err("denied");
        assert_eq!(err.code(), "access_denied");
        assert!(err.to_string().contains("User said no"));
    }

    #[test]
    fn malformed_responses_are_refused() {
        assert_eq!(
            check("state=good-state", false),
            Err("callback_invalid".into())
        );
        assert_eq!(
            check("code=&state=good-state", false),
            Err("callback_invalid".into())
        );
        assert_eq!(
            check("code=a&code=b&state=good-state", false),
            Err("callback_invalid".into())
        );
        assert!(!CallbackParams::from_query("?tab=1").is_authorization_response());
    }
}
