//! ID tokens: parsed once, the signing key chosen by `kid` (the key set
//! refetched once when the `kid` is unknown: keys rotate), the signature
//! checked by the [`SignatureVerifier`] port, then the claims. Only a
//! [`VerifiedIdToken`] comes out.

use std::cell::RefCell;
use std::rc::Rc;

use super::Session;
use super::ports::{Endpoint, HttpRequest, Platform};
use crate::protocol::IdTokenCheck;
use crate::protocol::{
    AuthError, IdToken, IdTokenExpectations, IdTokenJws, JwkSet, KeyChoice, SignedIdToken,
    VerifiedIdToken,
};

/// How long a fetched key set is used before it is fetched again.
pub(crate) const KEYS_TTL_MS: f64 = 10.0 * 60.0 * 1000.0;

/// The provider's key set, with when it was fetched.
#[derive(Debug, Default)]
pub(crate) struct KeyCache(RefCell<Option<(Rc<JwkSet>, f64)>>);

impl<P: Platform> Session<P> {
    /// Verifies `id_token` against the provider's keys and `expect`.
    pub(crate) async fn verify_id_token(
        &self,
        id_token: IdToken,
        expect: &IdTokenExpectations<'_>,
    ) -> Result<VerifiedIdToken, AuthError> {
        let signed = self.check_signature(id_token).await?;
        let access_token_hash = match expect.access_token {
            Some(token) => Some(
                self.platform
                    .digest(signed.alg().hash(), token.as_bytes())
                    .await?,
            ),
            None => None,
        };
        signed.into_verified(access_token_hash.as_deref(), expect)
    }

    /// Verifies the ID token another tab sent with its session: the
    /// signature with this tab's keys, then issuer and audience. The claims
    /// and the person come from the token, never from the message.
    pub(crate) async fn verify_carried_id_token(
        &self,
        id_token: IdToken,
    ) -> Result<VerifiedIdToken, AuthError> {
        self.check_signature(id_token)
            .await?
            .into_carried(&self.config.issuer, &self.config.client_id)
    }

    /// The signature step: the key chosen by `kid` (the key set refetched
    /// once for an unknown one: keys rotate), checked by the port.
    async fn check_signature(&self, id_token: IdToken) -> Result<SignedIdToken, AuthError> {
        let jws = IdTokenJws::parse(id_token)?;
        let alg = jws.allowed_alg(&self.provider().await?.id_token_signing_alg_values_supported)?;
        let mut refetched = false;
        loop {
            let keys = self.signing_keys(refetched).await?;
            match keys.choose(alg, jws.kid()) {
                KeyChoice::Found(key) => {
                    return jws
                        .check_signature(alg, async |input, signature| {
                            self.platform
                                .verify_signature(alg, key, input, signature)
                                .await
                        })
                        .await;
                }
                KeyChoice::Ambiguous => {
                    return Err(AuthError::InvalidIdToken(IdTokenCheck::AmbiguousKey));
                }
                KeyChoice::UnknownKid if !refetched => refetched = true,
                KeyChoice::UnknownKid => {
                    return Err(AuthError::InvalidIdToken(IdTokenCheck::UnknownKey));
                }
            }
        }
    }

    /// Loads the key set into the cache (while a code is exchanged); a
    /// failure here is retried, and reported, by the verification.
    pub(crate) async fn prefetch_signing_keys(&self) {
        if self.provider().await.is_ok_and(|m| m.jwks_uri.is_some()) {
            let _ = self.signing_keys(false).await;
        }
    }

    /// The provider's key set: cached, or fetched when `fresh`, not yet
    /// loaded, or older than [`KEYS_TTL_MS`].
    async fn signing_keys(&self, fresh: bool) -> Result<Rc<JwkSet>, AuthError> {
        let now = self.now_ms();
        if !fresh
            && let Some((keys, fetched_at)) = self.keys.0.borrow().as_ref()
            && now - fetched_at < KEYS_TTL_MS
        {
            return Ok(Rc::clone(keys));
        }
        let url = self
            .provider()
            .await?
            .jwks_uri
            .as_deref()
            .ok_or(AuthError::InvalidIdToken(IdTokenCheck::NoKeys))?;
        let answer = self
            .platform
            .send(HttpRequest::new(Endpoint::Keys, url, None))
            .await?;
        if answer.status != 200 {
            return Err(AuthError::ServerError(answer.status));
        }
        let keys = Rc::new(JwkSet::from_json(&answer.body)?);
        *self.keys.0.borrow_mut() = Some((Rc::clone(&keys), now));
        Ok(keys)
    }
}
