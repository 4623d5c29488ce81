//! DPoP in the flow: which requests carry a proof, the server nonces
//! (remembered per origin; one retry when a server asks for a new one, a
//! second refusal is an error, not a loop) and which token types are
//! acceptable.

use super::Session;
use super::ports::{Endpoint, HttpRequest, HttpResponse, Platform};
use crate::protocol::{
    AuthError, DpopMode, DpopPublicKey, ProofClaims, TokenType, asks_for_nonce, proof,
    proof_signing_input,
};
use crate::protocol::{BrowserFeature, TokenResponseProblem};

impl<P: Platform> Session<P> {
    /// Whether this session asks for DPoP-bound tokens: always under
    /// `required`, under `auto` when the provider takes ES256 proofs.
    pub(crate) fn wants_dpop(&self) -> bool {
        match self.config.dpop {
            DpopMode::Required => true,
            DpopMode::Auto => self
                .metadata
                .dpop_signing_alg_values_supported
                .iter()
                .any(|alg| alg == "ES256"),
            _ => false,
        }
    }

    /// The page's DPoP key, when this session uses DPoP.
    pub(crate) async fn dpop_key(&self) -> Result<Option<DpopPublicKey>, AuthError> {
        if !self.wants_dpop() {
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
                iat: self.now_s(),
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
    /// the current access token.
    pub(crate) async fn resource_headers(
        &self,
        method: &str,
        url: &str,
    ) -> Result<(ResourceAuth, u64), AuthError> {
        let (token, token_type, generation) = self
            .with_tokens(|tokens| {
                tokens.map(|t| {
                    (
                        t.access_token().secret().to_owned(),
                        t.token_type(),
                        t.generation(),
                    )
                })
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

    /// Takes a resource server's nonce challenge into account: true when it
    /// asked for a new nonce (the call is then sent once more).
    pub(crate) fn resource_nonce_challenge(
        &self,
        url: &str,
        www_authenticate: Option<String>,
        nonce: Option<String>,
    ) -> bool {
        let asked = www_authenticate.is_some_and(|value| crate::protocol::asks_for_nonce(&value));
        asked && self.dpop.remember(url, nonce.as_ref())
    }
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
