//! Signing in: what the page load does once the session has started, and
//! the authorization request (with its options, a step-up included). The
//! callback is `callback.rs`.

use std::rc::Rc;

use super::Session;
use super::load::{self, CapturedCallback, LogoutReturn, PageLoad};
use super::phase::Phase;
use super::ports::{Endpoint, HttpRequest, Platform};
use crate::protocol::{
    AuthError, AuthorizationRequest, Prompt, RequestSecrets, SILENT_SKIP_KEY, SignInOptions,
    parse_pushed_authorization_response, pushed_authorization_url,
};

impl<P: Platform> Session<P> {
    /// Once after [`new`](Self::new): finishes the callback `captured`
    /// (see [`CapturedCallback::capture`]) or a logout return, or tries a
    /// silent restore, or settles signed out.
    pub async fn resume(self: &Rc<Self>, captured: Option<CapturedCallback>) {
        let page = load::classify(
            &self.platform,
            captured,
            self.config.callback_path(),
            self.may_restore_silently(),
        );
        let silent_restore = matches!(page, PageLoad::SilentRestore);
        match page {
            PageLoad::Callback(captured) => {
                self.transition(Phase::SigningIn, false);
                let silent = captured.is_silent();
                match self.finish_callback(*captured).await {
                    // Every open tab of the app signs in with this one.
                    Ok(signed_in) => self.transition(signed_in, true),
                    Err(error) if silent && error.is_silent_sign_in_refusal() => {
                        load::set_marker(&self.platform, SILENT_SKIP_KEY);
                        self.clear_hint();
                        self.transition(Phase::SignedOut, false);
                    }
                    Err(error) => self.transition(Phase::Failed(error), false),
                }
            }
            PageLoad::LogoutReturn(LogoutReturn::Forged) => {
                self.transition(Phase::Failed(AuthError::StateMismatch), false);
            }
            PageLoad::LogoutReturn(_) => self.transition(Phase::SignedOut, false),
            PageLoad::Idle | PageLoad::SilentRestore => {
                // Tokens live in memory only: a new tab or a reload first
                // asks the other tabs for their session…
                if self.join_other_tabs().await {
                    return;
                }
                if silent_restore {
                    // …then the provider, without any prompt.
                    let here = SignInOptions::default()
                        .return_to(self.platform.current_path())
                        .prompt(Prompt::None);
                    let _ = self.sign_in_with(here).await;
                } else {
                    self.transition(Phase::SignedOut, false);
                }
            }
        }
    }

    /// A page restored from the back/forward cache heard no other tab
    /// meanwhile: it asks them before its next refresh (its refresh token
    /// may be spent). It may also show a sign-in that left for the provider
    /// and never came back: it is signed out.
    pub fn on_page_restored(&self) {
        self.tabs.set_stale(true);
        if matches!(self.state.borrow().phase, Phase::SigningIn) {
            self.transition(Phase::SignedOut, false);
        }
    }

    /// Sends the person to the provider; they come back to `return_to` (an
    /// in-app path; anything else becomes `/`).
    pub async fn sign_in(&self, return_to: &str) {
        let _ = self
            .sign_in_with(SignInOptions::default().return_to(return_to))
            .await;
    }

    /// Sends the person to the provider with `options` (`login_hint`,
    /// `prompt`, `max_age`, `acr_values`, …). Signed in, it is a step-up:
    /// this session stays (in every tab) until the new tokens are verified,
    /// and they must name the same person; an error starting it leaves the
    /// session as it was and is returned. Signed out, an error is also
    /// shown.
    pub async fn sign_in_with(&self, options: SignInOptions) -> Result<(), AuthError> {
        let options = match options.return_to {
            Some(_) => options,
            None => options.return_to(self.platform.current_path()),
        };
        let step_up_sub = self.with_tokens(|t| t.map(|t| t.claims().sub.clone()));
        if step_up_sub.is_none() {
            self.transition(Phase::SigningIn, false);
        }
        let silent = options.prompt == Some(Prompt::None);
        match self.authorization_url(&options, step_up_sub.clone()).await {
            // The silent attempt replaces this history entry: Back must
            // not land on a page that redirects again.
            Ok(url) => {
                self.platform.navigate(&url, silent);
                Ok(())
            }
            Err(error) if step_up_sub.is_some() => Err(error),
            Err(error) => {
                self.transition(Phase::Failed(error.clone()), false);
                Err(error)
            }
        }
    }

    /// The authorization request (bound to the DPoP key, pushed when the
    /// provider or the configuration wants it), its pending half stored.
    async fn authorization_url(
        &self,
        options: &SignInOptions,
        step_up_sub: Option<String>,
    ) -> Result<String, AuthError> {
        let metadata = self.provider().await?;
        self.platform.step_started("oidc:pkce");
        let secrets = RequestSecrets::from_source(&mut |bytes| self.platform.fill_random(bytes));
        let request = secrets.and_then(|secrets| {
            AuthorizationRequest::with_secrets(
                &self.config,
                metadata,
                options,
                self.now_ms(),
                secrets,
            )
        });
        self.platform.step_ended("oidc:pkce");
        let mut request = request?;
        request.pending.step_up_sub = step_up_sub;
        // Under DPoP the code is bound at the token request, by the proof of
        // the callback page's key: this page's key lives in memory only and
        // dies with the redirect, so neither `dpop_jkt` nor a proof on the
        // pushed request could name a key the callback still has (PKCE
        // protects the code in between). The key is made now all the same,
        // so a browser without it fails before leaving.
        self.dpop_key().await?;
        let pushed = self.config.par || metadata.require_pushed_authorization_requests;
        let url = if pushed {
            let endpoint = metadata
                .pushed_authorization_request_endpoint
                .as_deref()
                .ok_or_else(|| {
                    AuthError::DiscoveryFailed("no pushed_authorization_request_endpoint".into())
                })?;
            let push =
                HttpRequest::new(Endpoint::PushedAuthorization, endpoint, Some(request.form));
            let answer = self.platform.send(push).await?;
            let request_uri = parse_pushed_authorization_response(answer.status, &answer.body)?;
            pushed_authorization_url(
                &metadata.authorization_endpoint,
                &self.config.client_id,
                &request_uri,
            )
        } else {
            request.url
        };
        load::save_pending(&self.platform, &request.pending)?;
        Ok(url)
    }
}
