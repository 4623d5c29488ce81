//! Signature verification with the browser's WebCrypto (`SubtleCrypto`):
//! no RSA, elliptic-curve or SHA-512 code in the wasm, and no C toolchain
//! to build it.

use js_sys::{Array, JSON, Object};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use crate::protocol::Jwk;
use crate::protocol::{AuthError, BrowserFeature};
use crate::protocol::{HashAlg, SigningAlg};

/// A JS object from JSON text (WebCrypto's parameter dictionaries).
pub(super) fn object(json: &str) -> Option<Object> {
    JSON::parse(json).ok()?.dyn_into().ok()
}

/// `importKey` and `verify` parameters for each algorithm.
fn parameters(alg: SigningAlg) -> (&'static str, &'static str) {
    match alg {
        SigningAlg::Rs256 => (
            r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256"}"#,
            r#"{"name":"RSASSA-PKCS1-v1_5"}"#,
        ),
        SigningAlg::Ps256 => (
            r#"{"name":"RSA-PSS","hash":"SHA-256"}"#,
            r#"{"name":"RSA-PSS","saltLength":32}"#,
        ),
        SigningAlg::Es256 => (
            r#"{"name":"ECDSA","namedCurve":"P-256"}"#,
            r#"{"name":"ECDSA","hash":"SHA-256"}"#,
        ),
        SigningAlg::EdDsa => (r#"{"name":"Ed25519"}"#, r#"{"name":"Ed25519"}"#),
    }
}

/// The `alg` hash of `data`, by `crypto.subtle.digest`.
pub(super) async fn digest(alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, AuthError> {
    const FAILED: AuthError = AuthError::BrowserUnsupported(BrowserFeature::WebCrypto);
    let digesting = subtle()?
        .digest_with_str_and_u8_array(alg.name(), data)
        .map_err(|_| FAILED)?;
    let buffer = JsFuture::from(digesting).await.map_err(|_| FAILED)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// `crypto.subtle`, or the error to show where there is none (an insecure
/// context, an old browser).
pub(super) fn subtle() -> Result<web_sys::SubtleCrypto, AuthError> {
    web_sys::window()
        .and_then(|window| window.crypto().ok())
        .map(|crypto| crypto.subtle())
        .ok_or(AuthError::BrowserUnsupported(BrowserFeature::WebCrypto))
}

/// Whether `signature` over `signing_input` verifies with `key` under `alg`.
/// A key the browser cannot import (malformed, or an algorithm it lacks)
/// counts as a failed signature.
pub(super) async fn verify(
    alg: SigningAlg,
    key: &Jwk,
    signing_input: &str,
    signature: &[u8],
) -> Result<bool, AuthError> {
    let subtle = subtle()?;
    let (import_params, verify_params) = parameters(alg);
    let (Some(key_data), Some(import_params), Some(verify_params)) = (
        object(&key.public_json()),
        object(import_params),
        object(verify_params),
    ) else {
        return Ok(false);
    };
    let usages = Array::of1(&JsValue::from_str("verify"));
    let Ok(import) =
        subtle.import_key_with_object("jwk", &key_data, &import_params, false, &usages)
    else {
        return Ok(false);
    };
    let Ok(crypto_key) = JsFuture::from(import)
        .await
        .and_then(|key| key.dyn_into::<CryptoKey>())
    else {
        return Ok(false);
    };
    let Ok(verifying) = subtle.verify_with_object_and_u8_array_and_u8_array(
        &verify_params,
        &crypto_key,
        signature,
        signing_input.as_bytes(),
    ) else {
        return Ok(false);
    };
    Ok(JsFuture::from(verifying)
        .await
        .ok()
        .and_then(|ok| ok.as_bool())
        .unwrap_or(false))
}
