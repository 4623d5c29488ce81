//! Compact JWS parsing and the algorithm policy for ID tokens
//! ([RFC 7515](https://www.rfc-editor.org/rfc/rfc7515), [RFC 8725 §3.1–3.2](https://www.rfc-editor.org/rfc/rfc8725#section-3.1)).
//! Signatures themselves are checked by the browser's WebCrypto.

use serde::Deserialize;

use super::codec::from_json;
use super::error::{AuthError, IdTokenCheck};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The asymmetric algorithms this client verifies. `none` and every HMAC
/// algorithm are refused outright: a public client has no shared secret,
/// and "HS256 keyed with the public key" is a classic forgery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

/// A SHA-2 hash, computed by the platform (WebCrypto's `digest` in the
/// browser, so the wasm carries no SHA-512 code for the rare Ed25519 case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The WebCrypto name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha512 => "SHA-512",
        }
    }
}

impl SigningAlg {
    /// From the JOSE `alg` name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "PS256" => Some(Self::Ps256),
            "ES256" => Some(Self::Es256),
            "EdDSA" | "Ed25519" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Whether `name` (a JOSE `alg` value) denotes this algorithm; Ed25519
    /// has two names ([RFC 9864](https://www.rfc-editor.org/rfc/rfc9864)).
    pub fn is_named(self, name: &str) -> bool {
        Self::from_name(name) == Some(self)
    }

    /// The hash this algorithm signs with, which `at_hash` uses too
    /// ([OIDC Core §3.1.3.6](https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken)):
    /// SHA-512 for Ed25519.
    pub fn hash(self) -> HashAlg {
        match self {
            Self::EdDsa => HashAlg::Sha512,
            _ => HashAlg::Sha256,
        }
    }

    /// The JWK `kty` a key for this algorithm has.
    pub fn key_type(self) -> &'static str {
        match self {
            Self::Rs256 | Self::Ps256 => "RSA",
            Self::Es256 => "EC",
            Self::EdDsa => "OKP",
        }
    }

    /// The JWK `crv` required, for curve-based keys.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            Self::Es256 => Some("P-256"),
            Self::EdDsa => Some("Ed25519"),
            Self::Rs256 | Self::Ps256 => None,
        }
    }
}

/// The protected header fields the client reads (each at most once).
#[derive(Debug, Clone, Deserialize)]
pub struct JwsHeader {
    /// Signature algorithm.
    pub alg: String,
    /// Key id.
    pub kid: Option<String>,
    /// Critical extensions: none is understood, so any makes the token invalid.
    pub crit: Option<Vec<String>>,
}

/// A compact JWS split into header, signing input and signature.
#[derive(Debug)]
pub struct CompactJws<'a> {
    /// The decoded protected header.
    pub header: JwsHeader,
    /// `BASE64URL(header) . BASE64URL(payload)`: the bytes that were signed.
    pub signing_input: &'a str,
    /// `BASE64URL(payload)`.
    pub payload: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Why a token that is not a readable compact JWS is refused.
const MALFORMED: AuthError = AuthError::InvalidIdToken(IdTokenCheck::Malformed);

/// A base64url part, decoded as UTF-8 text.
fn decode_text(part: &str) -> Result<String, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(MALFORMED)
}

impl<'a> CompactJws<'a> {
    /// Splits `jwt` (three base64url parts).
    pub fn parse(jwt: &'a str) -> Result<Self, AuthError> {
        let (signing_input, signature) = jwt.rsplit_once('.').ok_or(MALFORMED)?;
        let (header, payload) = signing_input.split_once('.').ok_or(MALFORMED)?;
        if payload.contains('.') {
            return Err(MALFORMED);
        }
        let header = from_json(&decode_text(header)?).map_err(|_| MALFORMED)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| MALFORMED)?;
        Ok(Self {
            header,
            signing_input,
            payload,
            signature,
        })
    }

    /// The payload's JSON text, decoded from base64url (not yet verified!).
    pub fn payload_json(&self) -> Result<String, AuthError> {
        decode_text(self.payload)
    }

    /// The algorithm to verify with: the header's `alg`, if it is
    /// asymmetric, supported here, and advertised by the provider
    /// (`RS256` when the provider lists none, per Discovery §3).
    pub fn allowed_alg(&self, advertised: &[String]) -> Result<SigningAlg, AuthError> {
        allowed_alg(&self.header, &self.signature, advertised)
    }
}

/// See [`CompactJws::allowed_alg`].
pub(crate) fn allowed_alg(
    header: &JwsHeader,
    signature: &[u8],
    advertised: &[String],
) -> Result<SigningAlg, AuthError> {
    let name = header.alg.as_str();
    if header.crit.is_some() {
        return Err(AuthError::InvalidIdToken(IdTokenCheck::CriticalHeader));
    }
    let advertised_ok = if advertised.is_empty() {
        name == "RS256"
    } else {
        advertised.iter().any(|alg| alg == name)
    };
    match SigningAlg::from_name(name) {
        Some(alg) if advertised_ok && !signature.is_empty() => Ok(alg),
        _ => Err(AuthError::InvalidIdToken(IdTokenCheck::Algorithm)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::random::base64url;

    fn token(header: &str, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            base64url(header.as_bytes()),
            base64url(b"{}"),
            base64url(signature)
        )
    }

    fn alg_of(
        header: &str,
        signature: &[u8],
        advertised: &[&str],
    ) -> Result<SigningAlg, AuthError> {
        let jwt = token(header, signature);
        let advertised: Vec<String> = advertised.iter().map(|s| (*s).to_owned()).collect();
        CompactJws::parse(&jwt).and_then(|jws| jws.allowed_alg(&advertised))
    }

    #[test]
    fn accepts_advertised_asymmetric_algorithms() {
        assert_eq!(
            alg_of(r#"{"alg":"RS256","kid":"k1"}"#, b"sig", &[]),
            Ok(SigningAlg::Rs256)
        );
        assert_eq!(
            alg_of(r#"{"alg":"ES256"}"#, b"sig", &["RS256", "ES256"]),
            Ok(SigningAlg::Es256)
        );
        let jwt = token(r#"{"alg":"PS256","kid":"k"}"#, b"s");
        let jws = CompactJws::parse(&jwt).expect("parses");
        assert_eq!(jws.header.kid.as_deref(), Some("k"));
        assert_eq!(jws.signature, b"s");
        assert_eq!(jws.signing_input.matches('.').count(), 1);
    }

    #[test]
    fn refuses_none_hmac_unadvertised_and_crit() {
        for (header, signature, advertised) in [
            (r#"{"alg":"none"}"#, &b""[..], &["none", "RS256"][..]),
            (r#"{"alg":"HS256"}"#, b"mac", &["HS256", "RS256"]),
            (r#"{"alg":"ES256"}"#, b"sig", &["RS256"]),
            (r#"{"alg":"ES256"}"#, b"sig", &[]),
            (r#"{"alg":"RS512"}"#, b"sig", &["RS512"]),
            (r#"{"alg":"RS256"}"#, b"", &["RS256"]),
        ] {
            assert_eq!(
                alg_of(header, signature, advertised),
                Err(AuthError::InvalidIdToken(IdTokenCheck::Algorithm)),
                "{header} {advertised:?}"
            );
        }
        assert_eq!(
            alg_of(r#"{"alg":"RS256","crit":["exp"]}"#, b"sig", &["RS256"]),
            Err(AuthError::InvalidIdToken(IdTokenCheck::CriticalHeader))
        );
        let twice = token(r#"{"alg":"RS256","alg":"none"}"#, b"sig");
        assert_eq!(
            CompactJws::parse(&twice).map(|_| ()),
            Err(AuthError::InvalidIdToken(IdTokenCheck::Malformed))
        );
        for bad in ["a.b", "a.b.c.d"] {
            let err = CompactJws::parse(bad).expect_err(bad);
            assert_eq!(err, AuthError::InvalidIdToken(IdTokenCheck::Malformed));
        }
    }
}
