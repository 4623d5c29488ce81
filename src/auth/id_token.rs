//! ID token claims ([OIDC Core §2](https://openid.net/specs/openid-connect-core-1_0.html#IDToken),
//! validation per [§3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::error::AuthError;
use super::secret::constant_time_eq;

/// Allowed difference between the provider's clock and the browser's, in
/// seconds, for `exp` and `iat`.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// `aud` is a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Self::One(aud) => aud == client_id,
            Self::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }

    fn is_multiple(&self) -> bool {
        matches!(self, Self::Many(auds) if auds.len() > 1)
    }
}

/// The claims the client checks or shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the person's stable identifier at the provider.
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Echo of the request's nonce.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Authorized party.
    #[serde(default)]
    pub azp: Option<String>,
    /// Access token hash.
    #[serde(default)]
    pub at_hash: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Preferred username.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// What an ID token must match.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenExpectations<'a> {
    /// The configured issuer.
    pub issuer: &'a str,
    /// This client's id.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request (`None` on refresh).
    pub nonce: Option<&'a str>,
    /// Now, seconds since the epoch.
    pub now_s: i64,
}

/// A compact JWS split into its parts, not yet verified.
#[derive(Debug)]
pub struct DecodedJwt {
    /// The decoded protected header (JSON).
    pub header: serde_json::Value,
    /// The decoded claims.
    pub claims: IdTokenClaims,
}

fn invalid(why: &str) -> AuthError {
    AuthError::InvalidIdToken(why.to_owned())
}

/// Decodes the header and claims of a compact JWS.
pub fn decode(jwt: &str) -> Result<DecodedJwt, AuthError> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a signed JWT"));
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("unreadable header"))?;
    let claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("unreadable claims"))?;
    Ok(DecodedJwt { header, claims })
}

impl IdTokenClaims {
    /// Checks `iss`, `aud`/`azp`, `exp`, `iat` and `nonce`.
    pub fn validate(&self, expect: &IdTokenExpectations<'_>) -> Result<(), AuthError> {
        if self.iss != expect.issuer {
            return Err(invalid("issuer"));
        }
        if !self.aud.contains(expect.client_id) {
            return Err(invalid("audience"));
        }
        // With several audiences `azp` must be present; whenever present it
        // must be this client.
        let azp_required = self.aud.is_multiple();
        if (azp_required || self.azp.is_some()) && self.azp.as_deref() != Some(expect.client_id) {
            return Err(invalid("authorized party"));
        }
        if self.exp + CLOCK_SKEW_SECONDS <= expect.now_s {
            return Err(invalid("expired"));
        }
        if self.iat > expect.now_s + CLOCK_SKEW_SECONDS {
            return Err(invalid("issued in the future"));
        }
        if let Some(expected) = expect.nonce {
            match &self.nonce {
                Some(nonce) if constant_time_eq(nonce, expected) => {}
                _ => return Err(invalid("nonce")),
            }
        }
        Ok(())
    }

    /// The name to greet the person with.
    pub fn display_name(&self) -> &str {
        [&self.name, &self.preferred_username, &self.email]
            .into_iter()
            .flatten()
            .find(|value| !value.trim().is_empty())
            .map_or(self.sub.as_str(), String::as_str)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::auth::random::base64url;

    pub(crate) fn jwt(claims: &serde_json::Value) -> String {
        let header = base64url(br#"{"alg":"RS256","kid":"k1"}"#);
        let payload = base64url(claims.to_string().as_bytes());
        format!("{header}.{payload}.c2ln")
    }

    fn claims(overrides: serde_json::Value) -> IdTokenClaims {
        let mut base = serde_json::json!({
            "iss": "http://127.0.0.1:9000", "sub": "alice", "aud": "leptos-spa",
            "exp": 2_000, "iat": 1_000, "nonce": "n0nce", "name": "Alice Liddell"
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
            for (key, value) in extra {
                base.insert(key.clone(), value.clone());
            }
        }
        decode(&jwt(&base)).expect("decodes").claims
    }

    const EXPECT: IdTokenExpectations<'static> = IdTokenExpectations {
        issuer: "http://127.0.0.1:9000",
        client_id: "leptos-spa",
        nonce: Some("n0nce"),
        now_s: 1_500,
    };

    fn reason(overrides: serde_json::Value) -> Option<String> {
        claims(overrides).validate(&EXPECT).err().map(|err| match err {
            AuthError::InvalidIdToken(why) => why,
            other => other.code().to_owned(),
        })
    }

    #[test]
    fn accepts_valid_claims_and_names_the_person() {
        assert_eq!(reason(serde_json::json!({})), None);
        assert_eq!(claims(serde_json::json!({})).display_name(), "Alice Liddell");
        let anonymous = claims(serde_json::json!({"name": null}));
        assert_eq!(anonymous.display_name(), "alice");
    }

    #[test]
    fn names_the_failed_check() {
        use serde_json::json;
        assert_eq!(reason(json!({"iss": "http://evil"})).as_deref(), Some("issuer"));
        assert_eq!(reason(json!({"aud": "other"})).as_deref(), Some("audience"));
        assert_eq!(reason(json!({"aud": ["leptos-spa", "x"]})).as_deref(), Some("authorized party"));
        assert_eq!(reason(json!({"aud": ["leptos-spa", "x"], "azp": "leptos-spa"})), None);
        assert_eq!(reason(json!({"exp": 1_300})).as_deref(), Some("expired"));
        assert_eq!(reason(json!({"exp": 1_400})), None, "within clock skew");
        assert_eq!(reason(json!({"iat": 1_700})).as_deref(), Some("issued in the future"));
        assert_eq!(reason(json!({"nonce": "other"})).as_deref(), Some("nonce"));
        assert_eq!(reason(json!({"nonce": null})).as_deref(), Some("nonce"));
    }

    #[test]
    fn refuses_what_is_not_a_jwt() {
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(decode(bad).expect_err(bad).code(), "invalid_id_token");
        }
    }
}
