//! The callback: `state` first, then the provider's answer, the code
//! exchange, the ID token (with what the sign-in asked for: `max_age`,
//! `acr`, the same person on a step-up), and userinfo.

use futures::future::join;

use super::load::{self, CapturedCallback};
use super::phase::Phase;
use super::ports::{Endpoint, HttpRequest, Platform};
use super::{Session, TokenSet, UserProfile};
use crate::protocol::{
    AccessToken, AuthError, CallbackExpectations, IdTokenCheck, IdTokenExpectations,
    SILENT_SKIP_KEY, TokenResponse, TokenType, UserinfoClaims, VerifiedIdToken,
    authorization_code_form, parse_token_response, parse_userinfo, validate_callback,
};

impl<P: Platform> Session<P> {
    /// The callback: `state` first, then the provider's answer, then the
    /// code exchange (with the keys fetched meanwhile), the ID token, and
    /// userinfo when the ID token does not name the person (otherwise
    /// userinfo comes after signed-in: [`Session::complete_profile`]).
    pub(super) async fn finish_callback(
        &self,
        captured: CapturedCallback,
    ) -> Result<Phase, AuthError> {
        // Any other pending request of this tab is void now.
        load::purge_pending(&self.platform, None);
        // Without a pending request there is nothing to ask the provider.
        let metadata = match captured.pending {
            Some(_) => Some(self.provider().await?),
            None => None,
        };
        let expect = CallbackExpectations {
            issuer: &self.config.issuer,
            iss_parameter_required: metadata
                .is_some_and(|m| m.authorization_response_iss_parameter_supported),
            now_ms: self.now_ms(),
        };
        let code = validate_callback(captured.params, captured.pending.as_ref(), expect)?;
        let (Some(pending), Some(metadata)) = (captured.pending, metadata) else {
            return Err(AuthError::StateMismatch);
        };
        let form = authorization_code_form(
            code,
            pending.code_verifier,
            &pending.redirect_uri,
            &self.config.client_id,
            // The first API's token; the others' come from the refresh token.
            self.config.resource_server(0),
        );
        let exchange = self.send_to_provider(
            HttpRequest::new(Endpoint::Token, &metadata.token_endpoint, Some(form)),
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
            max_age_s: pending.max_age_s,
            acr_required: &pending.acr_required,
        };
        let verified = self.verify_id_token(id_token, &expect).await?;
        if pending
            .step_up_sub
            .as_ref()
            .is_some_and(|sub| *sub != verified.claims().sub)
        {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::StepUpSubject));
        }
        self.signed_in_with(response, verified, pending.apis).await
    }

    /// The signed-in phase from a verified sign-in: the profile from the ID
    /// token, and from userinfo at once when the ID token names nobody.
    async fn signed_in_with(
        &self,
        response: TokenResponse,
        verified: VerifiedIdToken,
        apis: Vec<usize>,
    ) -> Result<Phase, AuthError> {
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
        let tokens = TokenSet::new(response, verified, apis, self.now_ms());
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
        let Some(endpoint) = self.provider().await?.userinfo_endpoint.as_deref() else {
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
