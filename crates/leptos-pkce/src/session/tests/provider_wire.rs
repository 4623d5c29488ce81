//! What the in-memory provider ([`super::provider`]) puts on the wire:
//! JSON answers, OAuth errors, "signed" ID tokens, and the faults a test
//! scripts at its token endpoint.

use serde_json::json;

use crate::protocol::random::base64url;
use crate::session::HttpResponse;

/// What the token endpoint does with the next request instead of its job.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// Answer with this status and body.
    Answer(u16, &'static str),
    /// No answer at all (connection refused, offline).
    Network,
    /// Process the request (rotating the token), then the answer is lost.
    ProcessedThenLost,
    /// Ask for a DPoP nonce (400 `use_dpop_nonce` with this `DPoP-Nonce`).
    NonceChallenge(&'static str),
    /// Process it, then answer with an ID token for another subject.
    OtherSubject,
    /// Process it, then answer with an ID token whose header names a
    /// published key but whose signature does not verify.
    BadSignature,
}

pub(crate) fn answer(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse::new(status, body.to_string())
}

pub(crate) fn oauth_error(code: &str) -> HttpResponse {
    answer(400, json!({ "error": code }))
}

/// A compact JWS whose "signature" names the key that signed it (or, when
/// `corrupt`, names no key while its header still names `kid`).
pub(crate) fn sign(kid: &str, claims: &serde_json::Value, corrupt: bool) -> String {
    let header = base64url(json!({"alg": "RS256", "kid": kid}).to_string().as_bytes());
    let payload = base64url(claims.to_string().as_bytes());
    let signature = if corrupt {
        "sig:corrupted".to_owned()
    } else {
        format!("sig:{kid}")
    };
    format!("{header}.{payload}.{}", base64url(signature.as_bytes()))
}
