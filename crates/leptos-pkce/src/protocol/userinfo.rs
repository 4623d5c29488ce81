//! The userinfo answer ([OIDC Core §5.3](https://openid.net/specs/openid-connect-core-1_0.html#UserInfo)).
//! Its `sub` must be the ID token's, or the answer is discarded (§5.3.2:
//! otherwise a token substitution could swap the person).

use super::error::AuthError;

/// The profile claims the app shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserinfoClaims {
    /// Subject.
    pub sub: String,
    /// Full name.
    pub name: Option<String>,
    /// Preferred username.
    pub preferred_username: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// Reads a 200 userinfo body. `Ok(None)` when it is not a JSON object with a
/// `sub` (for instance a signed userinfo JWT, which this client does not
/// request); an error when it names another subject.
pub fn parse_userinfo(body: &str, id_token_sub: &str) -> Result<Option<UserinfoClaims>, AuthError> {
    let claims = super::json::read_object(body, |fields| {
        Ok(UserinfoClaims {
            sub: fields.str("sub")?,
            name: fields.opt_str("name")?,
            preferred_username: fields.opt_str("preferred_username")?,
            email: fields.opt_str("email")?,
        })
    });
    let Some(claims) = claims else {
        return Ok(None);
    };
    if claims.sub != id_token_sub {
        return Err(AuthError::UserinfoSubMismatch);
    }
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
    }
}
