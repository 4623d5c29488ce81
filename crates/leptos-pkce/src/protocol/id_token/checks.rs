//! The checks of an ID token's claims, in the order OIDC Core lists them
//! ([§3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)),
//! and the continuity of a refreshed one (§12.2).

use super::{CLOCK_SKEW_SECONDS, IdTokenClaims, IdTokenExpectations, at_hash};
use crate::protocol::error::{AuthError, IdTokenCheck};
use crate::protocol::secret::constant_time_eq;

impl IdTokenClaims {
    /// Checks `iss`, `aud`/`azp`, `exp`, `nbf`, `iat`, `nonce` and, on
    /// refresh, continuity with the previous ID token.
    pub(super) fn validate(&self, expect: &IdTokenExpectations<'_>) -> Result<(), AuthError> {
        self.check_audience(expect.issuer, expect.client_id)?;
        if self.exp.saturating_add(CLOCK_SKEW_SECONDS) <= expect.now_s {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::Expired));
        }
        if self
            .nbf
            .is_some_and(|nbf| nbf.saturating_sub(CLOCK_SKEW_SECONDS) > expect.now_s)
        {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::NotYetValid));
        }
        if self.iat.saturating_sub(CLOCK_SKEW_SECONDS) > expect.now_s {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::IssuedInFuture));
        }
        self.check_authentication(expect)?;
        if let Some(expected) = expect.nonce {
            match &self.nonce {
                Some(nonce) if constant_time_eq(nonce, expected) => {}
                _ => return Err(AuthError::InvalidIdToken(IdTokenCheck::Nonce)),
            }
        }
        match expect.previous {
            Some(previous) => self.continues(previous),
            None => Ok(()),
        }
    }

    /// `auth_time` within `max_age` (with the clock skew), and `acr` among
    /// those required.
    fn check_authentication(&self, expect: &IdTokenExpectations<'_>) -> Result<(), AuthError> {
        if let Some(max_age) = expect.max_age_s {
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            let fresh = self.auth_time.is_some_and(|at| {
                at.saturating_add(max_age)
                    .saturating_add(CLOCK_SKEW_SECONDS)
                    >= expect.now_s
            });
            if !fresh {
                return Err(AuthError::InvalidIdToken(IdTokenCheck::AuthTime));
            }
        }
        let acr_ok = expect.acr_required.is_empty()
            || self
                .acr
                .as_ref()
                .is_some_and(|acr| expect.acr_required.contains(acr));
        if acr_ok {
            Ok(())
        } else {
            Err(AuthError::InvalidIdToken(IdTokenCheck::Acr))
        }
    }

    /// `iss` is the issuer; `aud` names this client, and `azp` must be this
    /// client when there are several audiences (or when it is present).
    pub(super) fn check_audience(&self, issuer: &str, client_id: &str) -> Result<(), AuthError> {
        if self.iss != issuer {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::Issuer));
        }
        if !self.aud.contains(client_id) {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::Audience));
        }
        let azp_required = self.aud.is_multiple();
        if (azp_required || self.azp.is_some()) && self.azp.as_deref() != Some(client_id) {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::AuthorizedParty));
        }
        Ok(())
    }

    /// OIDC Core §12.2: a refreshed ID token names the same issuer, subject,
    /// audience and authorized party, keeps `auth_time`, and carries the
    /// original `nonce` if it carries one.
    fn continues(&self, previous: &Self) -> Result<(), AuthError> {
        if self.iss != previous.iss || self.sub != previous.sub {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::SubjectChanged));
        }
        if self.aud != previous.aud || self.azp != previous.azp {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::AudienceChanged));
        }
        if previous.auth_time.is_some() && self.auth_time != previous.auth_time {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::AuthTimeChanged));
        }
        if let Some(nonce) = &self.nonce
            && previous.nonce.as_deref() != Some(nonce.as_str())
        {
            return Err(AuthError::InvalidIdToken(IdTokenCheck::NonceChanged));
        }
        Ok(())
    }

    /// Checks `at_hash` against the access token, when the claim is present
    /// ([OIDC Core §3.1.3.8](https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken)).
    pub(super) fn check_at_hash(&self, access_token_hash: &[u8]) -> Result<(), AuthError> {
        let Some(claimed) = &self.at_hash else {
            return Ok(());
        };
        if constant_time_eq(&at_hash(access_token_hash), claimed) {
            Ok(())
        } else {
            Err(AuthError::InvalidIdToken(IdTokenCheck::AtHash))
        }
    }

    /// Whether the token carries a name, username or email to show (so
    /// userinfo is not needed before the sign-in shows).
    pub fn names_the_person(&self) -> bool {
        self.shown_name().is_some()
    }

    /// The name to greet the person with.
    pub fn display_name(&self) -> &str {
        self.shown_name().unwrap_or(&self.sub)
    }

    /// The first of name, username and email that is not blank.
    fn shown_name(&self) -> Option<&str> {
        [&self.name, &self.preferred_username, &self.email]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|value| !value.trim().is_empty())
    }
}
