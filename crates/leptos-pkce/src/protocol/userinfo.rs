//! The userinfo answer ([OIDC Core §5.3](https://openid.net/specs/openid-connect-core-1_0.html#UserInfo)).
//! Its `sub` must be the ID token's, or the answer is discarded (§5.3.2:
//! otherwise a token substitution could swap the person).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::codec::{claims_as, from_json};
use super::error::AuthError;

/// The profile claims the app shows, and the whole answer for the claims
/// it reads itself ([`claims_as`](Self::claims_as)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserinfoClaims {
    /// Subject.
    pub sub: String,
    /// Full name.
    pub name: Option<String>,
    /// Preferred username.
    pub preferred_username: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// The answer's JSON text.
    #[serde(skip)]
    json: String,
}

impl UserinfoClaims {
    /// All the claims of the answer as the app's own type (`roles`,
    /// `groups`, …); see [`VerifiedIdToken::claims_as`](super::VerifiedIdToken::claims_as).
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        claims_as(&self.json)
    }
}

/// Reads a 200 userinfo body. `Ok(None)` when it is not a JSON object with a
/// `sub` (for instance a signed userinfo JWT, which this client does not
/// request); an error when it names another subject.
pub fn parse_userinfo(body: &str, id_token_sub: &str) -> Result<Option<UserinfoClaims>, AuthError> {
    let Ok(mut claims) = from_json::<UserinfoClaims>(body) else {
        return Ok(None);
    };
    if claims.sub != id_token_sub {
        return Err(AuthError::UserinfoSubMismatch);
    }
    claims.json = body.to_owned();
    Ok(Some(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_must_match() {
        let ok = parse_userinfo(r#"{"sub":"alice","name":"Alice"}"#, "alice").expect("same sub");
        assert_eq!(ok.and_then(|c| c.name).as_deref(), Some("Alice"));
        let err = parse_userinfo(r#"{"sub":"mallory"}"#, "alice").expect_err("other sub");
        assert_eq!(err.code(), "userinfo_sub_mismatch");
        assert_eq!(parse_userinfo("eyJ.signed.jwt", "alice"), Ok(None));
        assert_eq!(
            parse_userinfo(r#"{"sub":"alice","sub":"mallory"}"#, "alice"),
            Ok(None),
            "a subject given twice is no answer"
        );
    }

    #[derive(Deserialize)]
    struct AppClaims {
        roles: Vec<String>,
    }

    #[test]
    fn the_app_reads_its_own_claims() {
        let claims = parse_userinfo(r#"{"sub":"alice","roles":["admin","audit"]}"#, "alice")
            .expect("same sub")
            .expect("claims");
        let roles = claims.claims_as::<AppClaims>().expect("roles").roles;
        assert_eq!(roles, ["admin", "audit"]);
        let none = parse_userinfo(r#"{"sub":"alice","roles":"admin"}"#, "alice")
            .expect("same sub")
            .expect("claims");
        let err = none.claims_as::<AppClaims>().err().expect("not a list");
        assert_eq!(err.code(), "claims_mismatch");
    }
}
