//! Calls to protected resources: only to allowed origins, refreshed first
//! when the token is due, and replayed once after one refresh on a 401
//! (not when the 401 refuses the DPoP proof: see `dpop`).

use core::future::Future;
use std::rc::Rc;

use super::dpop::ProofResends;
use super::refresh::retried_later;
use super::{Platform, ResourceAuth, Session};
use crate::protocol::uri::parse_http_url;
use crate::protocol::{AccessToken, AuthError, refuses_proof};

/// A resource server's answer, as far as the engine needs it.
pub trait ResourceResponse {
    /// The HTTP status.
    fn status(&self) -> u16;
    /// A response header (`WWW-Authenticate`, `DPoP-Nonce`).
    fn header(&self, _name: &str) -> Option<String> {
        None
    }
}

impl ResourceResponse for u16 {
    fn status(&self) -> u16 {
        *self
    }
}

impl<P: Platform + 'static> Session<P> {
    /// Calls the resource `method url` with the access token: `send` gets
    /// the `Authorization` (and, for DPoP-bound tokens, `DPoP`) headers and
    /// sends the request. It may be called again: once after a refresh on a
    /// 401, once when a DPoP server asks for a nonce, once when it refuses
    /// the proof and its `Date` shows another clock (a 401 that refuses the
    /// proof never leads to a refresh). The token is the one of the URL's
    /// API (see [`resources`](crate::ClientConfig::resources)), fetched
    /// first if it was not yet; a URL that is no API's (nor on one of the
    /// [`resource_origins`](crate::ClientConfig::resource_origins)) is
    /// refused before anything is sent.
    pub async fn authorized<R, F, Fut>(
        self: &Rc<Self>,
        method: &str,
        url: &str,
        send: F,
    ) -> Result<R, AuthError>
    where
        R: ResourceResponse,
        F: Fn(ResourceAuth) -> Fut,
        Fut: Future<Output = Result<R, AuthError>>,
    {
        let Some(slot) = self.config.slot_for(url) else {
            let origin = parse_http_url(url)
                .map_or_else(|| "not an absolute URL".to_owned(), |u| u.origin());
            return Err(AuthError::ResourceNotAllowed(origin));
        };
        self.refresh_if_due(slot).await?;
        let (response, generation) = self.send_with_token(slot, method, url, &send).await?;
        if response.status() != 401 || refused_the_proof(&response) {
            // A refused proof is not the token's fault: a refresh cannot
            // fix it (and one per call would soon hit the refresh cap).
            return Ok(response);
        }
        // One refresh (unless another call already replaced the refused
        // token) and one retry.
        // Only this API's token: another API's stays as it is.
        let (current, refreshable) = self.with_tokens(|tokens| {
            (
                tokens.and_then(|t| t.api(slot)).map(|t| t.generation()),
                tokens.is_some_and(|t| t.refresh_token().is_some()),
            )
        });
        if current == Some(generation) {
            if !refreshable || !self.refresh_allowed() {
                return Ok(response);
            }
            self.refresh_api(slot).await?;
        }
        Ok(self.send_with_token(slot, method, url, &send).await?.0)
    }

    /// The current access token, refreshed first when it is due: for a
    /// client other than [`authorized`](Self::authorized) (a WebSocket).
    /// With [`resources`](crate::ClientConfig::resources), the first API's.
    pub async fn access_token(self: &Rc<Self>) -> Result<AccessToken, AuthError> {
        self.api_access_token(0).await
    }

    /// The access token of the API named `indicator` (its `resource` or
    /// `audience` in [`resources`](crate::ClientConfig::resources)),
    /// fetched or refreshed first when needed.
    pub async fn access_token_for(
        self: &Rc<Self>,
        indicator: &str,
    ) -> Result<AccessToken, AuthError> {
        let slot = self
            .config
            .slot_named(indicator)
            .ok_or_else(|| AuthError::ResourceNotAllowed(indicator.to_owned()))?;
        self.api_access_token(slot).await
    }

    /// Fetches the tokens of the APIs marked
    /// [`prefetch`](crate::ResourceServer::prefetch) that the session does
    /// not hold yet. The adapter calls it after
    /// [`complete_profile`](Self::complete_profile); a failure waits for
    /// the API's first call.
    pub async fn prefetch_api_tokens(self: &Rc<Self>) {
        for (slot, server) in self.config.resources.iter().enumerate().skip(1) {
            let missing = self.with_tokens(|tokens| {
                tokens.is_some_and(|t| {
                    t.grants(slot) && t.api(slot).is_none() && t.refresh_token().is_some()
                })
            });
            if server.prefetch && missing && self.refresh_api(slot).await.is_err() {
                return;
            }
        }
    }

    async fn api_access_token(self: &Rc<Self>, slot: usize) -> Result<AccessToken, AuthError> {
        self.refresh_if_due(slot).await?;
        self.with_tokens(|tokens| {
            let token = tokens?.api(slot)?.access_token().secret().to_owned();
            Some(AccessToken::new(token))
        })
        .ok_or(AuthError::NotSignedIn)
    }

    /// Before a call: fetch the API's token if it was not yet, refresh a
    /// due one. A transient failure does not stop a call whose token is
    /// still valid; with an expired token, one fresh attempt follows (a
    /// joined refresh may have hung on a server that has recovered since).
    async fn refresh_if_due(self: &Rc<Self>, slot: usize) -> Result<(), AuthError> {
        let now = self.now_ms();
        let usable = |session: &Self| {
            session.with_tokens(|tokens| {
                tokens
                    .and_then(|t| t.api(slot))
                    .is_some_and(|t| !t.is_expired(session.now_ms()))
            })
        };
        let refused = self.with_tokens(|tokens| tokens.is_some_and(|t| !t.grants(slot)));
        if refused {
            let name = self.config.resource_server(slot).map(|s| s.indicator());
            return Err(AuthError::ResourceNotGranted(
                name.unwrap_or_default().to_owned(),
            ));
        }
        let (due, expired, refreshable) = self
            .with_tokens(|tokens| {
                tokens.map(|t| {
                    (
                        self.refresher.is_due(t, slot, now),
                        t.api(slot).is_none_or(|t| t.is_expired(now)),
                        t.refresh_token().is_some(),
                    )
                })
            })
            .ok_or(AuthError::NotSignedIn)?;
        if !refreshable {
            return match (expired, slot) {
                (false, _) => Ok(()),
                (true, 0) => Err(self.end_session(AuthError::SessionExpired)),
                // No refresh token, so no token for another API: the
                // session itself goes on.
                (true, _) => Err(AuthError::SessionExpired),
            };
        }
        if !due || !self.refresh_allowed() {
            return Ok(());
        }
        let error = match self.refresh_api(slot).await {
            Ok(()) => return Ok(()),
            Err(error) if !retried_later(&error) => return Err(error),
            Err(error) => error,
        };
        if usable(self) {
            return Ok(());
        }
        if self.refresh_allowed() {
            return self.refresh_api(slot).await;
        }
        Err(error)
    }

    fn refresh_allowed(&self) -> bool {
        self.refresher.allows(self.now_ms())
    }

    /// Sends with the current token; once more if a DPoP server asks for
    /// a new nonce, once more if it refused the proof by its own clock
    /// (see [`resend_proved`](Self::resend_proved)).
    async fn send_with_token<R, F, Fut>(
        &self,
        slot: usize,
        method: &str,
        url: &str,
        send: &F,
    ) -> Result<(R, u64), AuthError>
    where
        R: ResourceResponse,
        F: Fn(ResourceAuth) -> Fut,
        Fut: Future<Output = Result<R, AuthError>>,
    {
        let mut resent = ProofResends::default();
        loop {
            let (auth, generation) = self.resource_headers(slot, method, url).await?;
            let proved = auth.dpop.is_some();
            let response = send(auth).await?;
            if !proved || !self.resend_proved(url, &response, &mut resent) {
                return Ok((response, generation));
            }
        }
    }
}

/// Whether a resource server refused the DPoP proof (not the token).
fn refused_the_proof(response: &impl ResourceResponse) -> bool {
    response
        .header("WWW-Authenticate")
        .is_some_and(|challenge| refuses_proof(&challenge))
}
