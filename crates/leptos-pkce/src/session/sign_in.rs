//! Signing in: the authorization request, what the page load does once the
//! session has started, and the callback (state, issuer, code exchange, ID
//! token, userinfo).

use std::rc::Rc;

use futures::future::join;

use super::load::{self, CapturedCallback, LogoutReturn, PageLoad};
use super::phase::Phase;
use super::ports::{Endpoint, HttpRequest, Platform};
use super::{Session, TokenSet, UserProfile};
use crate::protocol::IdTokenCheck;
use crate::protocol::{
    AccessToken, AuthError, AuthorizationRequest, CallbackExpectations, IdTokenExpectations,
    Prompt, RequestSecrets, SILENT_SKIP_KEY, TokenType, UserinfoClaims, authorization_code_form,
    parse_pushed_authorization_response, parse_token_response, parse_userinfo,
    pushed_authorization_url, validate_callback,
};

impl<P: Platform> Session<P> {
    /// Once after [`start`](Self::start): finishes the callback `captured`
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
                    let here = self.platform.current_path();
                    self.start_sign_in(&here, Prompt::None).await;
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
        self.start_sign_in(return_to, Prompt::Default).await;
    }

    async fn start_sign_in(&self, return_to: &str, prompt: Prompt) {
        self.transition(Phase::SigningIn, false);
        match self.authorization_url(return_to, prompt).await {
            // The silent attempt replaces this history entry: Back must
            // not land on a page that redirects again.
            Ok(url) => self.platform.navigate(&url, prompt == Prompt::None),
            Err(error) => self.transition(Phase::Failed(error), false),
        }
    }

    /// The authorization request (bound to the DPoP key, pushed when the
    /// provider or the configuration wants it), its pending half stored.
    async fn authorization_url(
        &self,
        return_to: &str,
        prompt: Prompt,
    ) -> Result<String, AuthError> {
        self.platform.step_started("oidc:pkce");
        let secrets = RequestSecrets::from_source(&mut |bytes| self.platform.fill_random(bytes));
        let request = secrets.map(|secrets| {
            AuthorizationRequest::with_secrets(
                &self.config,
                &self.metadata,
                return_to,
                prompt,
                self.now_ms(),
                secrets,
            )
        });
        self.platform.step_ended("oidc:pkce");
        let request = request?;
        // Under DPoP the code is bound at the token request, by the proof of
        // the callback page's key: this page's key lives in memory only and
        // dies with the redirect, so neither `dpop_jkt` nor a proof on the
        // pushed request could name a key the callback still has (PKCE
        // protects the code in between). The key is made now all the same,
        // so a browser without it fails before leaving.
        self.dpop_key().await?;
        let pushed = self.config.par || self.metadata.require_pushed_authorization_requests;
        let url = if pushed {
            let endpoint = self
                .metadata
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
                &self.metadata.authorization_endpoint,
                &self.config.client_id,
                &request_uri,
            )
        } else {
            request.url
        };
        load::save_pending(&self.platform, &request.pending)?;
        Ok(url)
    }

    /// The callback: `state` first, then the provider's answer, then the
    /// code exchange (with the keys fetched meanwhile), the ID token, and
    /// userinfo when the ID token does not name the person (otherwise
    /// userinfo comes after signed-in: [`Session::complete_profile`]).
    async fn finish_callback(&self, captured: CapturedCallback) -> Result<Phase, AuthError> {
        // Any other pending request of this tab is void now.
        load::purge_pending(&self.platform, None);
        let expect = CallbackExpectations {
            issuer: &self.config.issuer,
            iss_parameter_required: self.metadata.authorization_response_iss_parameter_supported,
            now_ms: self.now_ms(),
        };
        let code = validate_callback(captured.params, captured.pending.as_ref(), expect)?;
        let pending = captured.pending.ok_or(AuthError::StateMismatch)?;
        let form = authorization_code_form(
            code,
            pending.code_verifier,
            &pending.redirect_uri,
            &self.config.client_id,
        );
        let exchange = self.send_to_provider(
            HttpRequest::new(Endpoint::Token, &self.metadata.token_endpoint, Some(form)),
            None,
        );
        // The ID token's check needs the keys: fetch them meanwhile.
        let (answer, ()) = join(exchange, self.prefetch_signing_keys()).await;
        let (answer, proved) = answer?;
        let mut response = parse_token_response(answer.status, &answer.body)?;
        self.check_token_type(response.token_type, proved)?;
        let id_token = response
            .id_token
            .take()
            .ok_or(AuthError::InvalidIdToken(IdTokenCheck::Missing))?;
        let expect = IdTokenExpectations {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce: Some(pending.nonce.secret()),
            now_s: self.now_s(),
            access_token: Some(response.access_token.secret()),
            previous: None,
        };
        let verified = self.verify_id_token(id_token, &expect).await?;
        let mut profile = UserProfile::from(verified.claims());
        let userinfo_due = verified.claims().names_the_person();
        let userinfo = if userinfo_due {
            None
        } else {
            self.load_userinfo(&response.access_token, response.token_type, &profile.sub)
                .await?
        };
        if let Some(userinfo) = &userinfo {
            profile.merge_userinfo(userinfo);
        }
        let tokens = TokenSet::new(response, verified, self.now_ms());
        self.platform.delete(SILENT_SKIP_KEY);
        self.refresher.reset();
        let mut phase = Phase::signed_in(tokens, profile, userinfo_due);
        if let Some(session) = phase.session_mut() {
            session.userinfo = userinfo;
        }
        Ok(phase)
    }

    /// Asks userinfo after a sign-in that showed the ID token's names, so
    /// its round trip is not on the way to signed-in: a matching answer
    /// adds to the profile (every tab asks its own, so all show the same
    /// name); a different `sub`
    /// ends the session everywhere, as it would have ended the sign-in
    /// ([OIDC Core §5.3.2](https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse)).
    /// Does nothing when nothing is due; the adapter calls it once after
    /// [`resume`](Self::resume).
    pub async fn complete_profile(&self) {
        let due = {
            let mut state = self.state.borrow_mut();
            match state.phase.session_mut() {
                Some(session) if session.userinfo_due => {
                    session.userinfo_due = false;
                    let tokens = &session.tokens;
                    Some((
                        session.profile.clone(),
                        AccessToken::new(tokens.access_token().secret().to_owned()),
                        tokens.token_type(),
                    ))
                }
                _ => None,
            }
        };
        let Some((mut profile, token, token_type)) = due else {
            return;
        };
        let epoch = self.epoch.get();
        match self.load_userinfo(&token, token_type, &profile.sub).await {
            Ok(None) => {}
            // Signed out meanwhile: the answer belongs to nobody now.
            _ if self.epoch.get() != epoch => {}
            Ok(Some(userinfo)) => {
                profile.merge_userinfo(&userinfo);
                self.update(|state| {
                    if let Some(session) = state.phase.session_mut()
                        && session.profile.sub == profile.sub
                    {
                        session.profile = profile;
                        session.userinfo = Some(userinfo);
                    }
                });
            }
            Err(error) => self.transition(Phase::Failed(error), true),
        }
    }

    /// Userinfo, when the provider has it and accepts this access token. A
    /// refusal (some providers bind access tokens to an API) leaves the ID
    /// token's claims; a different `sub` fails the sign-in.
    async fn load_userinfo(
        &self,
        access_token: &AccessToken,
        token_type: TokenType,
        sub: &str,
    ) -> Result<Option<UserinfoClaims>, AuthError> {
        let Some(endpoint) = self.metadata.userinfo_endpoint.as_deref() else {
            return Ok(None);
        };
        let token = access_token.secret();
        let mut request = HttpRequest::new(Endpoint::Userinfo, endpoint, None);
        request.authorization = Some(format!("{} {token}", token_type.scheme()));
        let proof_for = (token_type == TokenType::Dpop).then_some(token);
        let answer = match proof_for {
            Some(token) => self
                .send_to_provider(request, Some(token))
                .await
                .map(|(a, _)| a),
            None => self.platform.send(request).await,
        };
        match answer {
            Ok(answer) if answer.status == 200 => parse_userinfo(&answer.body, sub),
            _ => Ok(None),
        }
    }

    /// Whole seconds since the epoch (JWT times).
    pub(crate) fn now_s(&self) -> i64 {
        // Truncation is intended: JWT times are whole seconds.
        #[allow(clippy::cast_possible_truncation)]
        let seconds = (self.now_ms() / 1000.0).floor() as i64;
        seconds
    }
}
