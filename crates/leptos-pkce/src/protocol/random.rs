//! Random values for PKCE verifiers, `state` and `nonce`: 32 bytes from the
//! platform's CSPRNG (`crypto.getRandomValues` in the browser), base64url
//! without padding, 43 characters.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::{AuthError, BrowserFeature};

/// Number of random bytes behind every verifier, state and nonce (256 bits).
pub(crate) const ENTROPY_BYTES: usize = 32;

/// Fills `bytes` from the platform's CSPRNG (`crypto.getRandomValues`).
pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), AuthError> {
    getrandom::fill(bytes).map_err(|_| AuthError::BrowserUnsupported(BrowserFeature::SecureRandom))
}

/// `N` bytes from the platform's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

/// base64url without padding ([RFC 7636 Appendix A](https://www.rfc-editor.org/rfc/rfc7636#appendix-A)).
pub(crate) fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_chars_and_differ() {
        let a = base64url(&random_bytes::<ENTROPY_BYTES>().expect("rng"));
        let b = base64url(&random_bytes::<ENTROPY_BYTES>().expect("rng"));
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }
}
