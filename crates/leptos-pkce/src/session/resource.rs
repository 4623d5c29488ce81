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
    /// proof never leads to a refresh). URLs outside
    /// [`resource_origins`](crate::ClientConfig::resource_origins) are
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
        if !self.config.allows_resource(url) {
            let origin = parse_http_url(url)
                .map_or_else(|| "not an absolute URL".to_owned(), |u| u.origin());
            return Err(AuthError::ResourceNotAllowed(origin));
        }
        self.refresh_if_due().await?;
        let (response, generation) = self.send_with_token(method, url, &send).await?;
        if response.status() != 401 || refused_the_proof(&response) {
            // A refused proof is not the token's fault: a refresh cannot
            // fix it (and one per call would soon hit the refresh cap).
            return Ok(response);
        }
        // One refresh (unless another call already replaced the refused
        // token) and one retry.
        let (current, refreshable) = self.with_tokens(|tokens| {
            (
                tokens.map(|t| t.generation()),
                tokens.is_some_and(|t| t.refresh_token().is_some()),
            )
        });
        if current == Some(generation) {
            if !refreshable || !self.refresh_allowed() {
                return Ok(response);
            }
            self.refresh().await?;
        }
        Ok(self.send_with_token(method, url, &send).await?.0)
    }

    /// The current access token, refreshed first when it is due: for a
    /// client other than [`authorized`](Self::authorized) (a WebSocket).
    pub async fn access_token(self: &Rc<Self>) -> Result<AccessToken, AuthError> {
        self.refresh_if_due().await?;
        self.with_tokens(|tokens| {
            tokens.map(|tokens| AccessToken::new(tokens.access_token().secret().to_owned()))
        })
        .ok_or(AuthError::NotSignedIn)
    }

    /// Before a call: refresh a due token. A transient failure does not
    /// stop a call whose token is still valid; with an expired token, one
    /// fresh attempt follows (a joined refresh may have hung on a server
    /// that has recovered since).
    async fn refresh_if_due(self: &Rc<Self>) -> Result<(), AuthError> {
        let now = self.now_ms();
        let (due, expired, refreshable) = self
            .with_tokens(|tokens| {
                tokens.map(|t| {
                    (
                        self.refresher.is_due(t, now),
                        t.is_expired(now),
                        t.refresh_token().is_some(),
                    )
                })
            })
            .ok_or(AuthError::NotSignedIn)?;
        if !refreshable {
            return if expired {
                Err(self.end_session(AuthError::SessionExpired))
            } else {
                Ok(())
            };
        }
        if !due || !self.refresh_allowed() {
            return Ok(());
        }
        let error = match self.refresh().await {
            Ok(()) => return Ok(()),
            Err(error) if !retried_later(&error) => return Err(error),
            Err(error) => error,
        };
        let still_valid =
            self.with_tokens(|tokens| tokens.is_some_and(|t| !t.is_expired(self.now_ms())));
        if still_valid {
            return Ok(());
        }
        if self.refresh_allowed() {
            return self.refresh().await;
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
            let (auth, generation) = self.resource_headers(method, url).await?;
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
