//! DPoP in the flow: which requests carry a proof, the server nonces
//! (remembered per origin; one retry when a server asks for a new one, a
//! second refusal is an error, not a loop), a resource server's clock
//! (one retry dated by its `Date` when it refuses a proof) and which token
//! types are acceptable.

use super::ports::{Endpoint, HttpRequest, HttpResponse, Platform};
use super::{ResourceResponse, Session};
use crate::protocol::{
    AuthError, DpopMode, DpopPublicKey, ProofClaims, TokenType, asks_for_nonce, parse_http_date,
    proof, proof_signing_input, refuses_proof,
};
use crate::protocol::{BrowserFeature, TokenResponseProblem};

impl<P: Platform> Session<P> {
    /// Whether this session asks for DPoP-bound tokens: always under
    /// `required`, under `auto` when the provider takes ES256 proofs.
    pub(crate) async fn wants_dpop(&self) -> Result<bool, AuthError> {
        Ok(match self.config.dpop {
            DpopMode::Required => true,
            DpopMode::Auto => self
                .provider()
                .await?
                .dpop_signing_alg_values_supported
                .iter()
                .any(|alg| alg == "ES256"),
            _ => false,
        })
    }

    /// The page's DPoP key, when this session uses DPoP.
    pub(crate) async fn dpop_key(&self) -> Result<Option<DpopPublicKey>, AuthError> {
        if !self.wants_dpop().await? {
            return Ok(None);
        }
        match self.platform.dpop_key().await {
            Some(key) => Ok(Some(key)),
            None if self.config.dpop == DpopMode::Required => {
                Err(AuthError::BrowserUnsupported(BrowserFeature::DpopKey))
            }
            None => Ok(None),
        }
    }

    /// A proof for `method url` (with `ath` for `access_token`).
    async fn make_proof(
        &self,
        key: &DpopPublicKey,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<String, AuthError> {
        let jti = self.random_token::<16>()?;
        let nonce = self.dpop.nonce_for(url);
        let input = proof_signing_input(
            key,
            &ProofClaims {
                jti: &jti,
                method,
                url,
                iat: self.now_s().saturating_add(self.dpop.clock_offset(url)),
                access_token,
                nonce: nonce.as_deref(),
            },
        );
        let signature = self.platform.dpop_sign(&input).await?;
        Ok(proof(&input, &signature))
    }

    /// Sends a request to the provider, with a proof when this session uses
    /// DPoP (and `access_token` for `ath`). Returns the answer and whether
    /// it was proved.
    pub(crate) async fn send_to_provider(
        &self,
        request: HttpRequest,
        access_token: Option<&str>,
    ) -> Result<(HttpResponse, bool), AuthError> {
        let Some(key) = self.dpop_key().await? else {
            return Ok((self.platform.send(request).await?, false));
        };
        let mut request = request;
        let mut retried = false;
        loop {
            let (method, url) = (request.method(), request.url.clone());
            request.dpop = Some(self.make_proof(&key, method, &url, access_token).await?);
            let again = HttpRequest {
                endpoint: request.endpoint,
                url: request.url.clone(),
                authorization: request.authorization.clone(),
                form: request.form.clone(),
                dpop: None,
            };
            let answer = self.platform.send(request).await?;
            let new_nonce = self.dpop.remember(&url, answer.dpop_nonce.as_ref());
            let challenged = match again.endpoint {
                Endpoint::Userinfo => answer.status == 401,
                _ => answer.status == 400 && asks_for_nonce(&answer.body),
            };
            if challenged && new_nonce && !retried {
                retried = true;
                request = again;
                continue;
            }
            return Ok((answer, true));
        }
    }

    /// Whether a token endpoint answer's type fits how it was asked for.
    pub(crate) fn check_token_type(
        &self,
        token_type: TokenType,
        proved: bool,
    ) -> Result<(), AuthError> {
        match (token_type, proved) {
            (TokenType::Dpop, false) => Err(AuthError::TokenResponseInvalid(
                TokenResponseProblem::UnexpectedDpop,
            )),
            (TokenType::Bearer, true) if self.config.dpop == DpopMode::Required => Err(
                AuthError::TokenResponseInvalid(TokenResponseProblem::DpopRequired),
            ),
            _ => Ok(()),
        }
    }

    /// The `Authorization` and `DPoP` headers for a resource request with
    /// the current access token of the API of `slot`.
    pub(crate) async fn resource_headers(
        &self,
        slot: usize,
        method: &str,
        url: &str,
    ) -> Result<(ResourceAuth, u64), AuthError> {
        let (token, token_type, generation) = self
            .with_tokens(|tokens| {
                let t = tokens?.api(slot)?;
                Some((
                    t.access_token().secret().to_owned(),
                    t.token_type(),
                    t.generation(),
                ))
            })
            .ok_or(AuthError::NotSignedIn)?;
        let dpop = match token_type {
            TokenType::Dpop => {
                let key = self
                    .platform
                    .dpop_key()
                    .await
                    .ok_or(AuthError::BrowserUnsupported(BrowserFeature::DpopKey))?;
                Some(self.make_proof(&key, method, url, Some(&token)).await?)
            }
            _ => None,
        };
        let auth = ResourceAuth {
            authorization: format!("{} {token}", token_type.scheme()),
            dpop,
        };
        Ok((auth, generation))
    }

    /// Reads a resource server's answer to a proved request: its
    /// `DPoP-Nonce` is remembered whatever the status (RFC 9449 §9). True
    /// when the call is worth sending once more: the server asked for a
    /// nonce it had not given yet, or it refused the proof and its `Date`
    /// shows a clock that this tab's proofs did not follow (their `iat`
    /// follows it from now on). Each reason counts once per call.
    pub(crate) fn resend_proved(
        &self,
        url: &str,
        response: &impl ResourceResponse,
        resent: &mut ProofResends,
    ) -> bool {
        let new_nonce = self
            .dpop
            .remember(url, response.header("DPoP-Nonce").as_ref());
        if response.status() != 401 {
            return false;
        }
        let challenge = response.header("WWW-Authenticate").unwrap_or_default();
        if asks_for_nonce(&challenge) {
            return new_nonce && !core::mem::replace(&mut resent.nonce, true);
        }
        if !refuses_proof(&challenge) {
            return false;
        }
        let server_s = response.header("Date").as_deref().and_then(parse_http_date);
        let moved =
            server_s.is_some_and(|server_s| self.dpop.learn_clock(url, server_s, self.now_s()));
        moved && !core::mem::replace(&mut resent.clock, true)
    }
}

/// Which reasons to send a resource call again were used.
#[derive(Debug, Default)]
pub(crate) struct ProofResends {
    nonce: bool,
    clock: bool,
}

/// The headers of an authorized resource request.
#[derive(Clone)]
pub struct ResourceAuth {
    /// `Authorization`: `Bearer <token>` or `DPoP <token>`.
    pub authorization: String,
    /// The `DPoP` proof, for DPoP-bound tokens.
    pub dpop: Option<String>,
}

impl core::fmt::Debug for ResourceAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ResourceAuth([redacted])")
    }
}
