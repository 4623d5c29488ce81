//! DPoP proofs ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)): the
//! JWT a client signs with its (non-extractable) P-256 key for every request
//! that carries or obtains a token. Signing itself is the platform's
//! (WebCrypto); this module builds what is signed and reads the server's
//! nonce challenges.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::codec::to_json;
use super::random::base64url;

/// The public half of a P-256 DPoP key: its JWK coordinates (base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpopPublicKey {
    /// The `x` coordinate.
    pub x: String,
    /// The `y` coordinate.
    pub y: String,
}

/// The public JWK of a [`DpopPublicKey`], members in the lexicographic
/// order RFC 7638 requires for a thumbprint.
#[derive(Serialize)]
struct PublicJwk<'a> {
    crv: &'static str,
    kty: &'static str,
    x: &'a str,
    y: &'a str,
}

impl DpopPublicKey {
    fn jwk(&self) -> PublicJwk<'_> {
        PublicJwk {
            crv: "P-256",
            kty: "EC",
            x: &self.x,
            y: &self.y,
        }
    }

    /// The JWK SHA-256 thumbprint ([RFC 7638](https://www.rfc-editor.org/rfc/rfc7638)):
    /// the `dpop_jkt` that binds an authorization code to this key.
    pub fn thumbprint(&self) -> String {
        base64url(&Sha256::digest(to_json(&self.jwk()).as_bytes()))
    }
}

/// The proof's protected header (RFC 9449 §4.2).
#[derive(Serialize)]
struct ProofHeader<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: PublicJwk<'a>,
}

/// What a proof says about its request; written as the proof's claims
/// (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProofClaims<'a> {
    /// A fresh unique id.
    pub jti: &'a str,
    /// The HTTP method.
    #[serde(rename = "htm")]
    pub method: &'a str,
    /// The request URL (query and fragment are left out of `htu`).
    #[serde(rename = "htu", serialize_with = "write_htu")]
    pub url: &'a str,
    /// Now, seconds since the epoch.
    pub iat: i64,
    /// The access token the request carries, for `ath`.
    #[serde(
        rename = "ath",
        serialize_with = "write_ath",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_token: Option<&'a str>,
    /// The server's latest nonce, if it asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
}

fn write_htu<S: Serializer>(url: &&str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&htu(url))
}

/// `ath`: base64url of the access token's SHA-256 (RFC 9449 §4.2); only
/// called for a token that is there.
fn write_ath<S: Serializer>(token: &Option<&str>, serializer: S) -> Result<S::Ok, S::Error> {
    let hash = Sha256::digest(token.unwrap_or_default().as_bytes());
    serializer.serialize_str(&base64url(&hash))
}

/// `BASE64URL(header) . BASE64URL(claims)`: what the key signs.
pub fn proof_signing_input(key: &DpopPublicKey, claims: &ProofClaims<'_>) -> String {
    let header = ProofHeader {
        typ: "dpop+jwt",
        alg: "ES256",
        jwk: key.jwk(),
    };
    let mut input = base64url(to_json(&header).as_bytes());
    input.push('.');
    input.push_str(&base64url(to_json(claims).as_bytes()));
    input
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
    // A byte window rather than `str::contains`: no substring searcher in
    // the wasm build.
    www_authenticate
        .as_bytes()
        .windows(14)
        .any(|window| window == b"use_dpop_nonce")
}

/// Whether a resource server's `WWW-Authenticate` refuses the DPoP proof
/// itself (`invalid_dpop_proof`, RFC 9449 §7.1): a new access token
/// cannot fix that, a proof dated by the server's clock may.
pub fn refuses_proof(www_authenticate: &str) -> bool {
    www_authenticate
        .as_bytes()
        .windows(18)
        .any(|window| window == b"invalid_dpop_proof")
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

    /// A key whose coordinates do not matter to the test.
    fn placeholder_key() -> DpopPublicKey {
        DpopPublicKey {
            x: "x".into(),
            y: "y".into(),
        }
    }

    #[test]
    fn a_proof_names_the_request_and_the_token() {
        let key = placeholder_key();
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
        let key = placeholder_key();
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
        assert!(refuses_proof(
            r#"DPoP error="invalid_dpop_proof", algs="ES256""#
        ));
        assert!(!refuses_proof(r#"DPoP error="invalid_token""#));
    }
}
