//! Refreshing: one flight at a time (concurrent callers share it), the
//! rotated refresh token kept the moment a 2xx carries it, transient
//! failures (and a second DPoP nonce refusal) retried with backoff,
//! anything else ending the session.

use std::rc::Rc;

use futures::FutureExt as _;

use super::ports::{Endpoint, HttpRequest, LockGuard, Platform};
use super::{AuthWarning, Session};
use crate::protocol::{
    AuthError, IdTokenExpectations, parse_token_response, refresh_form, rotated_refresh_token,
};

impl<P: Platform + 'static> Session<P> {
    /// Refreshes the first API's token (the only one without
    /// [`resources`](crate::ClientConfig::resources)) now; concurrent
    /// callers share one request.
    pub async fn refresh(self: &Rc<Self>) -> Result<(), AuthError> {
        self.refresh_api(0).await
    }

    /// Refreshes (or first fetches) the token of the API of `slot`. One
    /// refresh at a time, whatever the API: they all present the one
    /// refresh token, which each of them may rotate. Callers for the same
    /// API share its flight; others wait for it to land, then go.
    pub(crate) async fn refresh_api(self: &Rc<Self>, slot: usize) -> Result<(), AuthError> {
        loop {
            let (flight, ours) = self.refresher.join_or_start(slot, || {
                let session = Rc::clone(self);
                async move {
                    session.platform.step_started("oidc:refresh");
                    let result = session.refresh_once(slot).await;
                    session.platform.step_ended("oidc:refresh");
                    session.refresher.landed();
                    session.notify();
                    result
                }
                .boxed_local()
                .shared()
            });
            let result = flight.await;
            if ours {
                return result;
            }
        }
    }

    /// Whether a refresh is in flight.
    pub fn is_refreshing(&self) -> bool {
        self.refresher.is_refreshing()
    }

    /// The generation of the API token of `slot`, if held.
    fn api_generation(&self, slot: usize) -> Option<u64> {
        self.with_tokens(|tokens| tokens?.api(slot).map(super::tokens::ApiToken::generation))
    }

    async fn refresh_once(self: &Rc<Self>, slot: usize) -> Result<(), AuthError> {
        let before = self.api_generation(slot);
        let changed = |session: &Self| session.api_generation(slot) != before;
        if self.caught_up_with_other_tabs().await && changed(self) {
            return Ok(());
        }
        let guard = loop {
            match self.take_refresh_turn().await? {
                Some(guard) => break guard,
                // Another tab refreshed meanwhile; its tokens are adopted.
                // They may be another API's: then go on with the new
                // refresh token.
                None if changed(self) => return Ok(()),
                None => {}
            }
        };
        let resource = self.config.resource_server(slot);
        let (form, presented) = {
            let state = self.state.borrow();
            let tokens = state.phase.tokens().ok_or(AuthError::NotSignedIn)?;
            let refresh_token = tokens.refresh_token().ok_or(AuthError::SessionExpired)?;
            // The first API's refresh keeps every scope (and the ID token);
            // another's asks for its own scopes only.
            let form = refresh_form(refresh_token, &self.config.client_id, resource, slot != 0);
            (form, refresh_token.secret().to_owned())
        };
        let token_endpoint = &self.provider().await?.token_endpoint;
        self.refresher.started(self.now_ms());
        let epoch = self.epoch.get();
        let answer = self
            .send_to_provider(
                HttpRequest::new(Endpoint::Token, token_endpoint, Some(form)),
                None,
            )
            .await;
        if self.epoch.get() != epoch || self.state.borrow().phase.tokens().is_none() {
            // Signed out while the request was in flight: drop the answer.
            return Err(AuthError::NotSignedIn);
        }
        let presented = Some(presented);
        if self.refresh_token_now() != presented {
            // Another tab's session was adopted meanwhile: its tokens are
            // not this answer's to change. The token presented may be
            // spent at the server, so its lock stays held.
            self.refresher.hold(guard);
            return Ok(());
        }
        let result = match answer {
            Ok((answer, proved)) => {
                self.apply_answer(slot, answer.status, &answer.body, proved)
                    .await
            }
            Err(error) => Err(error),
        };
        if self.refresh_token_now() != presented {
            // Rotated: the token presented is spent, and no tab may present
            // it again. (Unrotated, the lock is released for the retry.)
            self.refresher.hold(guard);
        }
        self.settle_refresh(result)
    }

    /// After messages were missed (the page sat in the back/forward cache),
    /// asks the other tabs first: true when one of them had newer tokens
    /// (it may have spent this tab's refresh token).
    async fn caught_up_with_other_tabs(&self) -> bool {
        if !self.tabs.is_stale() {
            return false;
        }
        self.tabs.set_stale(false);
        let before = self.refresh_token_now();
        self.join_other_tabs().await;
        self.refresh_token_now() != before
    }

    /// The outcome of a refresh: the other tabs hear of new tokens; a
    /// transient failure is retried with backoff; anything else ends the
    /// session.
    fn settle_refresh(&self, result: Result<(), AuthError>) -> Result<(), AuthError> {
        match result {
            Ok(()) => {
                self.refresher.succeeded();
                self.update(|state| state.warning = None);
                self.broadcast_tokens();
                Ok(())
            }
            Err(error) if retried_later(&error) => {
                let retry_at_ms = self.refresher.failed(self.now_ms(), self.random_unit());
                self.update(|state| {
                    state.warning = Some(AuthWarning::RefreshRetrying {
                        cause: error.clone(),
                        retry_at_ms,
                    });
                });
                Err(error)
            }
            Err(error) => Err(self.end_session(error)),
        }
    }

    /// Waits for this tab's turn to present its refresh token: `None` when
    /// the tokens changed meanwhile (another tab refreshed and broadcast),
    /// else the cross-tab lock (itself `None` where there are no locks).
    async fn take_refresh_turn(&self) -> Result<Option<Option<LockGuard>>, AuthError> {
        loop {
            let presented = self.current_refresh_token()?;
            let turn = self.lock_refresh_token(&presented).await;
            let now = self.current_refresh_token()?;
            match turn {
                _ if now != presented => return Ok(None),
                Ok(guard) => return Ok(Some(guard)),
                // Woken by a change that kept the token: wait again.
                Err(()) => {}
            }
        }
    }

    /// The current refresh token; ends a session that has none.
    fn current_refresh_token(&self) -> Result<String, AuthError> {
        if self.state.borrow().phase.tokens().is_none() {
            return Err(AuthError::NotSignedIn);
        }
        self.refresh_token_now()
            .ok_or_else(|| self.end_session(AuthError::SessionExpired))
    }

    fn refresh_token_now(&self) -> Option<String> {
        let state = self.state.borrow();
        let tokens = state.phase.tokens()?;
        tokens
            .refresh_token()
            .map(|token| token.secret().to_owned())
    }

    /// A token endpoint answer to a refresh: the rotated refresh token is
    /// kept first, whatever else the answer holds.
    async fn apply_answer(
        &self,
        slot: usize,
        status: u16,
        body: &str,
        proved: bool,
    ) -> Result<(), AuthError> {
        let parsed = parse_token_response(status, body);
        let rotated = match &parsed {
            Ok(_) => None,
            Err(_) => rotated_refresh_token(status, body),
        };
        let mut response = match parsed {
            Ok(response) => response,
            Err(error) => {
                self.rotate(rotated);
                return Err(error);
            }
        };
        self.rotate(response.refresh_token.take());
        self.check_token_type(response.token_type, proved)?;
        let verified = match response.id_token.take() {
            None => None,
            Some(id_token) => {
                let previous = self
                    .state
                    .borrow()
                    .phase
                    .tokens()
                    .map(|tokens| tokens.claims().clone());
                let expect = IdTokenExpectations {
                    issuer: &self.config.issuer,
                    client_id: &self.config.client_id,
                    nonce: None,
                    now_s: self.now_s(),
                    access_token: Some(response.access_token.secret()),
                    previous: previous.as_ref(),
                    max_age_s: None,
                    acr_required: &[],
                };
                Some(self.verify_id_token(id_token, &expect).await?)
            }
        };
        let now = self.now_ms();
        let mut state = self.state.borrow_mut();
        let tokens = state.phase.tokens_mut().ok_or(AuthError::NotSignedIn)?;
        tokens.apply_refresh(slot, response, verified, now);
        Ok(())
    }

    fn rotate(&self, refresh_token: Option<crate::protocol::RefreshToken>) {
        if let Some(tokens) = self.state.borrow_mut().phase.tokens_mut() {
            tokens.rotate(refresh_token);
        }
    }

    /// When the adapter's timer should next call [`on_timer`](Self::on_timer):
    /// the background refresh (or its retry), or the expiry of a session
    /// that cannot be refreshed.
    pub fn next_wake_at_ms(&self) -> Option<f64> {
        let state = self.state.borrow();
        let tokens = state.phase.tokens()?;
        if tokens.refresh_token().is_none() {
            return tokens.expires_at_ms();
        }
        self.refresher.background_at(tokens, self.now_ms())
    }

    /// The browser went offline: refreshing waits for the connection, and
    /// the person is told while signed in.
    pub fn on_offline(&self) {
        if self.state.borrow().phase.tokens().is_some() {
            self.update(|state| state.warning = Some(AuthWarning::Offline));
        }
    }

    /// The timer fired, or the page woke up (visible, focused, back
    /// online): refresh if one is due, end a session that expired without
    /// a refresh token, or note that the browser is offline.
    pub async fn on_timer(self: &Rc<Self>, online: bool) {
        let now = self.now_ms();
        let (due_slots, expired_for_good) = {
            let state = self.state.borrow();
            let Some(tokens) = state.phase.tokens() else {
                return;
            };
            let due = self.refresher.timer_due(tokens, now);
            (
                due,
                tokens.refresh_token().is_none() && tokens.is_expired(now),
            )
        };
        let due = !due_slots.is_empty();
        if expired_for_good {
            self.end_session(AuthError::SessionExpired);
        } else if !online {
            if due {
                self.update(|state| state.warning = Some(AuthWarning::Offline));
            }
        } else if due {
            for slot in due_slots {
                if self.refresh_api(slot).await.is_err() {
                    break;
                }
            }
        } else if self.warning() == Some(AuthWarning::Offline) {
            self.update(|state| state.warning = None);
        }
    }
}

/// Whether a failed refresh keeps the session and is tried again with the
/// backoff: a transient failure, or a token endpoint that asked for a DPoP
/// nonce again right after one was answered (nonces rotating under a
/// concurrent request): a refresh token that was refused, not spent, may
/// pass with the latest nonce later.
pub(crate) fn retried_later(error: &AuthError) -> bool {
    error.is_transient()
        || matches!(error, AuthError::OAuth { code, .. } if code == "use_dpop_nonce")
}
