//! The in-memory provider's DPoP and PAR: proofs checked (signature,
//! claims, nonce), tokens and codes bound to the proof's key, pushed
//! requests stored for the authorization endpoint.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::provider::{ISSUER, Provider, answer, oauth_error};
use crate::protocol::random::base64url;
use crate::session::HttpResponse;

impl Provider {
    /// Makes a successful answer DPoP-bound when it was proved.
    pub(crate) fn bind(
        &mut self,
        mut response: HttpResponse,
        proved: Option<String>,
    ) -> HttpResponse {
        let proved = proved.filter(|_| !self.bearer_only);
        if response.status == 200 {
            if let Some(jkt) = &proved {
                response.body = response
                    .body
                    .replace(r#""token_type":"Bearer""#, r#""token_type":"DPoP""#);
                self.bound_refresh = Some(jkt.clone());
            } else {
                self.bound_refresh = None;
            }
        }
        response.dpop_nonce = self.dpop_nonce.clone();
        response
    }

    /// Checks a DPoP proof: its key's thumbprint, or a refusal (a missing
    /// nonce, a bad signature or claim). `Ok(None)` without a proof.
    pub(crate) fn check_proof(
        &mut self,
        proof: Option<&str>,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<Option<String>, HttpResponse> {
        use base64::Engine as _;
        let Some(proof) = proof else { return Ok(None) };
        let decode = |part: &str| -> serde_json::Value {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default()
        };
        let parts: Vec<&str> = proof.split('.').collect();
        let (header, claims) = (decode(parts[0]), decode(parts[1]));
        let x = header["jwk"]["x"].as_str().unwrap_or_default().to_owned();
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap_or_default();
        let ath = access_token.map(|token| base64url(&Sha256::digest(token.as_bytes())));
        let valid = header["typ"] == "dpop+jwt"
            && signature == format!("dpop-sig:{x}").into_bytes()
            && claims["htm"] == method
            && claims["htu"] == url
            && claims["ath"].as_str() == ath.as_deref();
        if !valid {
            return Err(oauth_error("invalid_dpop_proof"));
        }
        if let Some(nonce) = &self.dpop_nonce
            && claims["nonce"].as_str() != Some(nonce.as_str())
        {
            let mut refusal = oauth_error("use_dpop_nonce");
            refusal.dpop_nonce = Some(nonce.clone());
            return Err(refusal);
        }
        self.proof_keys.push(x.clone());
        let key = crate::protocol::DpopPublicKey { x, y: "y".into() };
        Ok(Some(key.thumbprint()))
    }

    /// The pushed authorization request endpoint.
    pub(crate) fn push(&mut self, form: &str, proof: Option<&str>) -> HttpResponse {
        if let Some(code) = self.push_refusal {
            return oauth_error(code);
        }
        if let Err(refusal) = self.check_proof(proof, "POST", &format!("{ISSUER}/par"), None) {
            return refusal;
        }
        self.serial += 1;
        let uri = format!("urn:ietf:params:oauth:request_uri:{}", self.serial);
        self.pushed.insert(uri.clone(), form.to_owned());
        answer(201, json!({ "request_uri": uri, "expires_in": 60 }))
    }
}
