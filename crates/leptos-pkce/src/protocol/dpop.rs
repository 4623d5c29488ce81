//! DPoP proofs ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)): the
//! JWT a client signs with its (non-extractable) P-256 key for every request
//! that carries or obtains a token. Signing itself is the platform's
//! (WebCrypto); this module builds what is signed and reads the server's
//! nonce challenges.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::random::base64url;

/// The public half of a P-256 DPoP key: its JWK coordinates (base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopPublicKey {
    /// The `x` coordinate.
    pub x: String,
    /// The `y` coordinate.
    pub y: String,
}

/// Members in the lexicographic order RFC 7638 requires for a thumbprint.
#[derive(Serialize)]
struct EcJwk<'a> {
    crv: &'a str,
    kty: &'a str,
    x: &'a str,
    y: &'a str,
}

impl DpopPublicKey {
    fn jwk(&self) -> EcJwk<'_> {
        EcJwk {
            crv: "P-256",
            kty: "EC",
            x: &self.x,
            y: &self.y,
        }
    }

    /// The JWK SHA-256 thumbprint ([RFC 7638](https://www.rfc-editor.org/rfc/rfc7638)):
    /// the `dpop_jkt` that binds an authorization code to this key.
    pub fn thumbprint(&self) -> String {
        let members = serde_json::to_string(&self.jwk()).unwrap_or_default();
        base64url(&Sha256::digest(members.as_bytes()))
    }
}

#[derive(Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: EcJwk<'a>,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: &'a str,
    htm: &'a str,
    htu: &'a str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

/// What a proof says about its request.
#[derive(Debug, Clone, Copy)]
pub struct ProofClaims<'a> {
    /// A fresh unique id.
    pub jti: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The request URL (query and fragment are left out of `htu`).
    pub url: &'a str,
    /// Now, seconds since the epoch.
    pub iat: i64,
    /// The access token the request carries, for `ath`.
    pub access_token: Option<&'a str>,
    /// The server's latest nonce, if it asked for one.
    pub nonce: Option<&'a str>,
}

/// `BASE64URL(header) . BASE64URL(claims)`: what the key signs.
pub fn proof_signing_input(key: &DpopPublicKey, claims: &ProofClaims<'_>) -> String {
    let header = Header {
        typ: "dpop+jwt",
        alg: "ES256",
        jwk: key.jwk(),
    };
    let claims = Claims {
        jti: claims.jti,
        htm: claims.method,
        htu: &htu(claims.url),
        iat: claims.iat,
        ath: claims
            .access_token
            .map(|token| base64url(&Sha256::digest(token.as_bytes()))),
        nonce: claims.nonce,
    };
    let part =
        |json: Result<String, serde_json::Error>| base64url(json.unwrap_or_default().as_bytes());
    format!(
        "{}.{}",
        part(serde_json::to_string(&header)),
        part(serde_json::to_string(&claims))
    )
}

/// The compact proof from its signing input and ES256 signature (`r‖s`).
pub fn proof(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", base64url(signature))
}

/// The URL without query and fragment (RFC 9449 §4.2).
pub fn htu(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

/// Whether a resource server's `WWW-Authenticate` asks for a DPoP nonce
/// (RFC 9449 §9).
pub fn asks_for_nonce(www_authenticate: &str) -> bool {
    www_authenticate.contains("use_dpop_nonce")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn decode(part: &str) -> serde_json::Value {
        let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
        serde_json::from_slice(&bytes).expect("json")
    }

    /// RFC 7638 §3.1 uses an RSA key; this P-256 vector is RFC 9449 §6.1's
    /// `jkt` for the key of its examples.
    #[test]
    fn thumbprint_matches_rfc_9449() {
        let key = DpopPublicKey {
            x: "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs".into(),
            y: "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA".into(),
        };
        assert_eq!(
            key.thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn a_proof_names_the_request_and_the_token() {
        let key = DpopPublicKey {
            x: "x".into(),
            y: "y".into(),
        };
        let input = proof_signing_input(
            &key,
            &ProofClaims {
                jti: "j1",
                method: "GET",
                url: "https://api.example.com/v1/me?q=1#frag",
                iat: 1_700_000_000,
                access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
                nonce: Some("n\"1"),
            },
        );
        let (header, claims) = input.split_once('.').expect("two parts");
        let header = decode(header);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert!(header["jwk"].get("d").is_none(), "no private member");
        let claims = decode(claims);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://api.example.com/v1/me");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["jti"], "j1");
        // RFC 9449 §7.1 example: the ath of that access token.
        assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert_eq!(claims["nonce"], "n\"1");
        assert_eq!(proof(&input, b"sig"), format!("{input}.c2ln"));
    }

    #[test]
    fn proofs_without_a_token_or_nonce_leave_them_out() {
        let key = DpopPublicKey {
            x: "x".into(),
            y: "y".into(),
        };
        let input = proof_signing_input(
            &key,
            &ProofClaims {
                jti: "j",
                method: "POST",
                url: "https://id.example.com/token",
                iat: 1,
                access_token: None,
                nonce: None,
            },
        );
        let claims = decode(input.split_once('.').expect("parts").1);
        assert!(claims.get("ath").is_none() && claims.get("nonce").is_none());
    }

    #[test]
    fn nonce_challenges_are_recognised() {
        assert!(asks_for_nonce(
            r#"DPoP error="use_dpop_nonce", error_description="x""#
        ));
        assert!(!asks_for_nonce(r#"DPoP error="invalid_token""#));
    }
}
