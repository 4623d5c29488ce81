//! PKCE with the S256 method only ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)).
//! `plain` is never offered: OAuth 2.1 and RFC 9700 §2.1.1 forbid it where S256 is possible.

use sha2::{Digest, Sha256};

use super::error::AuthError;
use super::random::{ENTROPY_BYTES, base64url, random_bytes};
use super::secret::PkceCodeVerifier;

/// The only `code_challenge_method` this client sends.
pub(crate) const CODE_CHALLENGE_METHOD: &str = "S256";

/// `BASE64URL(SHA256(code_verifier))`, safe to put in a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceCodeChallenge(String);

impl PkceCodeChallenge {
    /// The challenge as sent in the authorization request.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PkceCodeVerifier {
    /// A verifier made from 32 random bytes: 43 characters, 256 bits of entropy
    /// ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
    pub fn new_random() -> Result<Self, AuthError> {
        Ok(Self::from_entropy(&random_bytes::<ENTROPY_BYTES>()?))
    }

    /// A verifier from given octets (deterministic, for tests and vectors).
    pub fn from_entropy(octets: &[u8; ENTROPY_BYTES]) -> Self {
        Self::new(base64url(octets))
    }

    /// The S256 challenge for this verifier
    /// ([RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)).
    pub fn challenge(&self) -> PkceCodeChallenge {
        PkceCodeChallenge(base64url(&Sha256::digest(self.secret().as_bytes())))
    }
}

/// A verifier must be 43–128 characters of `[A-Za-z0-9-._~]`
/// ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b_vector() {
        let octets = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = PkceCodeVerifier::from_entropy(&octets);
        assert_eq!(
            verifier.secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_verifiers_are_valid_and_unique() {
        let a = PkceCodeVerifier::new_random().expect("rng");
        let b = PkceCodeVerifier::new_random().expect("rng");
        assert!(is_valid_verifier(a.secret()));
        assert_eq!(a.secret().len(), 43);
        assert_ne!(a.secret(), b.secret());
        assert_eq!(a.challenge().as_str().len(), 43);
    }

    #[test]
    fn verifier_rules() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(42))));
        assert!(is_valid_verifier(&"a~._-".repeat(10)));
    }
}
