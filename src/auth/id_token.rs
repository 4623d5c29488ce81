//! ID token claims ([OIDC Core §2](https://openid.net/specs/openid-connect-core-1_0.html#IDToken),
//! validation per [§3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)).

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::error::AuthError;
use super::jws::{CompactJws, SigningAlg};
use super::random::base64url;
use super::secret::constant_time_eq;

/// Allowed difference between the provider's clock and the browser's, in
/// seconds, for `exp` and `iat`.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// `aud` is a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Audience {
    // By hand: `#[serde(untagged)]` would buffer every value first, which
    // costs the wasm build kilobytes.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;
        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Audience, E> {
                Ok(Audience::One(value.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(aud) = seq.next_element::<String>()? {
                    all.push(aud);
                }
                Ok(Audience::Many(all))
            }
        }
        deserializer.deserialize_any(AudienceVisitor)
    }
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
    /// The algorithm the signature was verified with (for `at_hash`).
    pub alg: Option<SigningAlg>,
}

/// Decodes an ID token's claims (the signature is checked separately).
pub fn decode(jwt: &str) -> Result<IdTokenClaims, AuthError> {
    CompactJws::parse(jwt)?.claims()
}

impl IdTokenClaims {
    /// Checks `iss`, `aud`/`azp`, `exp`, `iat` and `nonce`.
    pub fn validate(&self, expect: &IdTokenExpectations<'_>) -> Result<(), AuthError> {
        if self.iss != expect.issuer {
            return Err(AuthError::invalid_id_token("issuer"));
        }
        if !self.aud.contains(expect.client_id) {
            return Err(AuthError::invalid_id_token("audience"));
        }
        // With several audiences `azp` must be present; whenever present it
        // must be this client.
        let azp_required = self.aud.is_multiple();
        if (azp_required || self.azp.is_some()) && self.azp.as_deref() != Some(expect.client_id) {
            return Err(AuthError::invalid_id_token("authorized party"));
        }
        if self.exp + CLOCK_SKEW_SECONDS <= expect.now_s {
            return Err(AuthError::invalid_id_token("expired"));
        }
        if self.iat > expect.now_s + CLOCK_SKEW_SECONDS {
            return Err(AuthError::invalid_id_token("issued in the future"));
        }
        if let Some(expected) = expect.nonce {
            match &self.nonce {
                Some(nonce) if constant_time_eq(nonce, expected) => {}
                _ => return Err(AuthError::invalid_id_token("nonce")),
            }
        }
        Ok(())
    }

    /// Checks `at_hash` against the access token, when the claim is present
    /// ([OIDC Core §3.1.3.8](https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken)).
    pub fn check_at_hash(
        &self,
        alg: Option<SigningAlg>,
        access_token: &str,
    ) -> Result<(), AuthError> {
        let Some(claimed) = &self.at_hash else {
            return Ok(());
        };
        let expected = alg.map(|alg| at_hash(alg, access_token));
        if expected.is_some_and(|expected| constant_time_eq(&expected, claimed)) {
            Ok(())
        } else {
            Err(AuthError::invalid_id_token("at_hash"))
        }
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

/// base64url of the left half of the hash of `access_token`, with the hash
/// of the signing algorithm (SHA-512 for Ed25519).
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    use sha2::{Digest, Sha256, Sha512};
    match alg {
        SigningAlg::EdDsa => base64url(&Sha512::digest(access_token.as_bytes())[..32]),
        _ => base64url(&Sha256::digest(access_token.as_bytes())[..16]),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
        decode(&jwt(&base)).expect("decodes")
    }

    const EXPECT: IdTokenExpectations<'static> = IdTokenExpectations {
        issuer: "http://127.0.0.1:9000",
        client_id: "leptos-spa",
        nonce: Some("n0nce"),
        now_s: 1_500,
        alg: Some(SigningAlg::Rs256),
    };

    fn reason(overrides: serde_json::Value) -> Option<String> {
        claims(overrides)
            .validate(&EXPECT)
            .err()
            .map(|err| match err {
                AuthError::InvalidIdToken(why) => why,
                other => other.code().to_owned(),
            })
    }

    #[test]
    fn accepts_valid_claims_and_names_the_person() {
        assert_eq!(reason(serde_json::json!({})), None);
        assert_eq!(
            claims(serde_json::json!({})).display_name(),
            "Alice Liddell"
        );
        let anonymous = claims(serde_json::json!({"name": null}));
        assert_eq!(anonymous.display_name(), "alice");
    }

    #[test]
    fn names_the_failed_check() {
        use serde_json::json;
        assert_eq!(
            reason(json!({"iss": "http://evil"})).as_deref(),
            Some("issuer")
        );
        assert_eq!(reason(json!({"aud": "other"})).as_deref(), Some("audience"));
        assert_eq!(
            reason(json!({"aud": ["leptos-spa", "x"]})).as_deref(),
            Some("authorized party")
        );
        assert_eq!(
            reason(json!({"aud": ["leptos-spa", "x"], "azp": "leptos-spa"})),
            None
        );
        assert_eq!(reason(json!({"exp": 1_300})).as_deref(), Some("expired"));
        assert_eq!(reason(json!({"exp": 1_400})), None, "within clock skew");
        assert_eq!(
            reason(json!({"iat": 1_700})).as_deref(),
            Some("issued in the future")
        );
        assert_eq!(reason(json!({"nonce": "other"})).as_deref(), Some("nonce"));
        assert_eq!(reason(json!({"nonce": null})).as_deref(), Some("nonce"));
    }

    /// OIDC Core §A.3 example: at_hash of "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y".
    #[test]
    fn at_hash_matches_the_spec_example() {
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(SigningAlg::Rs256, token), "77QmUPtjPfzWtF2AnpK9RQ");
        let with = claims(serde_json::json!({"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}));
        assert!(with.check_at_hash(Some(SigningAlg::Rs256), token).is_ok());
        assert!(
            with.check_at_hash(Some(SigningAlg::Rs256), "other")
                .is_err()
        );
        assert!(with.check_at_hash(None, token).is_err());
        assert!(
            claims(serde_json::json!({}))
                .check_at_hash(None, token)
                .is_ok(),
            "absent: nothing to check"
        );
    }

    #[test]
    fn refuses_what_is_not_a_jwt() {
        for bad in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(decode(bad).expect_err(bad).code(), "invalid_id_token");
        }
    }
}
