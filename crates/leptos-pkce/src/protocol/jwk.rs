//! The provider's JSON Web Key Set ([RFC 7517](https://www.rfc-editor.org/rfc/rfc7517))
//! and the choice of the key that verifies an ID token.

use serde::{Deserialize, Serialize};

use super::codec::{from_json, null_as_default, to_json};
use super::error::{AuthError, IdTokenCheck};
use super::jws::SigningAlg;

/// One public key. Unknown members are ignored; a key of a type this
/// client cannot use simply never matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC`, `OKP`, … (empty if the key states none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub kty: String,
    /// Key id.
    pub kid: Option<String>,
    /// Intended use (`sig` or `enc`).
    #[serde(rename = "use")]
    pub key_use: Option<String>,
    /// Algorithm the key is meant for.
    pub alg: Option<String>,
    /// RSA modulus.
    pub n: Option<String>,
    /// RSA exponent.
    pub e: Option<String>,
    /// Curve.
    pub crv: Option<String>,
    /// Curve point x.
    pub x: Option<String>,
    /// Curve point y.
    pub y: Option<String>,
}

/// A JWK Set. Keys of types this client cannot use are skipped, not fatal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a `jwks_uri` document.
    pub fn from_json(text: &str) -> Result<Self, AuthError> {
        from_json(text).map_err(|_| AuthError::InvalidIdToken(IdTokenCheck::UnreadableKeys))
    }

    /// The key that verifies a token signed with `alg` (and `kid`, if any).
    pub fn choose(&self, alg: SigningAlg, kid: Option<&str>) -> KeyChoice<'_> {
        let mut candidates = self.keys.iter().filter(|key| key.suits(alg));
        match kid {
            Some(kid) => candidates
                .find(|key| key.kid.as_deref() == Some(kid))
                .map_or(KeyChoice::UnknownKid, KeyChoice::Found),
            None => match (candidates.next(), candidates.next()) {
                (Some(key), None) => KeyChoice::Found(key),
                (None, _) => KeyChoice::UnknownKid,
                (Some(_), Some(_)) => KeyChoice::Ambiguous,
            },
        }
    }
}

/// Outcome of [`JwkSet::choose`].
#[derive(Debug, PartialEq, Eq)]
pub enum KeyChoice<'a> {
    /// Exactly this key.
    Found(&'a Jwk),
    /// No suitable key has that id (refetch the set once: keys rotate).
    UnknownKid,
    /// No `kid`, and several keys would do: refuse rather than guess.
    Ambiguous,
}

impl Jwk {
    fn suits(&self, alg: SigningAlg) -> bool {
        self.kty == alg.key_type()
            && self.key_use.as_deref().is_none_or(|u| u == "sig")
            && self.alg.as_deref().is_none_or(|a| alg.is_named(a))
            && alg
                .curve()
                .is_none_or(|curve| self.crv.as_deref() == Some(curve))
    }

    /// JSON for WebCrypto's JWK import: the public members it needs, and
    /// nothing else (an `alg` or `key_ops` member could clash with the import).
    pub fn public_json(&self) -> String {
        to_json(&PublicKeyMembers {
            kty: &self.kty,
            n: self.n.as_deref(),
            e: self.e.as_deref(),
            crv: self.crv.as_deref(),
            x: self.x.as_deref(),
            y: self.y.as_deref(),
        })
    }
}

/// The members of [`Jwk::public_json`], absent ones left out.
#[derive(Serialize)]
struct PublicKeyMembers<'a> {
    kty: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = r#"{"keys":[
        {"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"},
        {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
        {"kty":"EC","kid":"e1","crv":"P-256","x":"x","y":"y"},
        {"kty":"oct","kid":"secret","k":"c2VjcmV0"},
        {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"x"}
    ]}"#;

    #[test]
    fn chooses_by_kid_type_and_use() {
        let set = JwkSet::from_json(SET).expect("set");
        assert_eq!(set.keys.len(), 5);
        assert!(
            matches!(set.choose(SigningAlg::Rs256, Some("k1")), KeyChoice::Found(k) if k.kid.as_deref() == Some("k1"))
        );
        assert_eq!(
            set.choose(SigningAlg::Rs256, Some("enc")),
            KeyChoice::UnknownKid,
            "encryption key"
        );
        assert_eq!(
            set.choose(SigningAlg::Rs256, Some("e1")),
            KeyChoice::UnknownKid,
            "wrong type"
        );
        assert_eq!(
            set.choose(SigningAlg::Ps256, Some("k1")),
            KeyChoice::UnknownKid,
            "key pinned to RS256"
        );
        assert_eq!(
            set.choose(SigningAlg::Rs256, Some("k9")),
            KeyChoice::UnknownKid
        );
        assert!(
            matches!(set.choose(SigningAlg::Es256, None), KeyChoice::Found(_)),
            "single candidate"
        );
        assert!(matches!(
            set.choose(SigningAlg::EdDsa, Some("ed")),
            KeyChoice::Found(_)
        ));
    }

    /// RFC 9864 names the Ed25519 algorithm `Ed25519`; older keys say `EdDSA`.
    #[test]
    fn ed25519_keys_match_either_algorithm_name() {
        for name in ["EdDSA", "Ed25519"] {
            let set = JwkSet::from_json(&format!(
                r#"{{"keys":[{{"kty":"OKP","kid":"ed","crv":"Ed25519","alg":"{name}","x":"x"}}]}}"#
            ))
            .expect("set");
            assert!(
                matches!(
                    set.choose(SigningAlg::EdDsa, Some("ed")),
                    KeyChoice::Found(_)
                ),
                "{name}"
            );
            assert_eq!(
                set.choose(SigningAlg::Es256, Some("ed")),
                KeyChoice::UnknownKid
            );
        }
    }

    #[test]
    fn refuses_to_guess_between_several_keys() {
        let set = JwkSet::from_json(
            r#"{"keys":[{"kty":"RSA","kid":"a","n":"1","e":"AQAB"},{"kty":"RSA","kid":"b","n":"2","e":"AQAB"}]}"#,
        )
        .expect("set");
        assert_eq!(set.choose(SigningAlg::Rs256, None), KeyChoice::Ambiguous);
        assert_eq!(
            JwkSet::from_json("nope"),
            Err(AuthError::InvalidIdToken(IdTokenCheck::UnreadableKeys))
        );
    }

    #[test]
    fn public_json_has_only_key_material() {
        let set = JwkSet::from_json(SET).expect("set");
        assert_eq!(
            set.keys[0].public_json(),
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#
        );
        assert_eq!(
            set.keys[2].public_json(),
            r#"{"kty":"EC","crv":"P-256","x":"x","y":"y"}"#
        );
    }
}
