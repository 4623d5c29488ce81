//! Signing out: the tokens are forgotten first, the refresh token revoked
//! ([RFC 7009](https://www.rfc-editor.org/rfc/rfc7009)), then RP-initiated
//! logout at the provider, whose return must carry this tab's `state`.

use super::Session;
use super::load;
use super::phase::Phase;
use super::ports::{Endpoint, HttpRequest, Platform};
use crate::protocol::{LOGOUT_PREFIX, SILENT_SKIP_KEY, end_session_url, revocation_form};

impl<P: Platform> Session<P> {
    /// Signs out: forgets the tokens, revokes the refresh token, and ends
    /// the provider's session where the provider offers these.
    pub async fn sign_out(&self) {
        load::set_marker(&self.platform, SILENT_SKIP_KEY);
        self.clear_hint();
        let shown = self.status().profile().cloned();
        // Every tab drops its tokens before the provider round trip.
        let tokens = self
            .transition_from(Phase::SigningOut(shown), true)
            .into_tokens();
        // A session that had tokens loaded the metadata; a failed start-up
        // may not have, and then it is asked for here.
        let metadata = self.provider().await.ok();
        if let (Some(endpoint), Some(refresh_token)) = (
            metadata.and_then(|m| m.revocation_endpoint.as_deref()),
            tokens.as_ref().and_then(|tokens| tokens.refresh_token()),
        ) {
            // Best effort (RFC 7009 §2.2): the session ends either way.
            let form = revocation_form(refresh_token, &self.config.client_id);
            let _ = self
                .send_to_provider(
                    HttpRequest::new(Endpoint::Revocation, endpoint, Some(form)),
                    None,
                )
                .await;
        }
        let state = self.random_token::<32>();
        if let (Some(endpoint), Ok(state)) = (
            metadata.and_then(|m| m.end_session_endpoint.as_deref()),
            state,
        ) {
            let post_logout = self.config.post_logout_redirect_uri.as_deref();
            // Only a return to this app carries the `state` back.
            if post_logout.is_some() {
                load::set_marker(&self.platform, &format!("{LOGOUT_PREFIX}{state}"));
            }
            let url = end_session_url(
                endpoint,
                tokens.as_ref().map(|tokens| tokens.id_token()),
                &self.config.client_id,
                post_logout,
                &state,
            );
            self.platform.navigate(&url, false);
        } else {
            self.transition(Phase::SignedOut, false);
        }
    }
}
