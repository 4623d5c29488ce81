//! Where the session stands, as one enum: each phase holds what it needs,
//! so the tokens exist exactly while someone is signed in.

use super::status::{AuthStatus, UserProfile};
use super::tokens::TokenSet;
use crate::protocol::{AuthError, UserinfoClaims};

/// The engine's state machine.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Configuration and discovery are done; the page load is being decided.
    Starting,
    /// Nobody is signed in.
    SignedOut,
    /// On the way to the provider, or finishing a callback.
    SigningIn,
    /// Signed in: the tokens, in memory only, and who they belong to.
    SignedIn(Box<SignedIn>),
    /// The tokens are forgotten; revocation and the provider's logout are
    /// on their way. The person stays shown until the page leaves.
    SigningOut(Option<UserProfile>),
    /// Something failed; the error says what.
    Failed(AuthError),
}

/// A signed-in session.
#[derive(Debug)]
pub(crate) struct SignedIn {
    pub(crate) tokens: TokenSet,
    pub(crate) profile: UserProfile,
    /// The sign-in showed the ID token's names; userinfo is still to ask.
    pub(crate) userinfo_due: bool,
    /// The userinfo answer, once it came (and named the same `sub`).
    pub(crate) userinfo: Option<UserinfoClaims>,
}

impl Phase {
    /// A signed-in phase.
    pub(crate) fn signed_in(tokens: TokenSet, profile: UserProfile, userinfo_due: bool) -> Self {
        Self::SignedIn(Box::new(SignedIn {
            tokens,
            profile,
            userinfo_due,
            userinfo: None,
        }))
    }

    /// What the app shows.
    pub(crate) fn status(&self) -> AuthStatus {
        match self {
            Self::Starting => AuthStatus::Starting,
            Self::SignedOut | Self::SigningOut(None) => AuthStatus::SignedOut,
            Self::SigningIn => AuthStatus::SigningIn,
            Self::SignedIn(session) => AuthStatus::SignedIn(session.profile.clone()),
            Self::SigningOut(Some(profile)) => AuthStatus::SignedIn(profile.clone()),
            Self::Failed(error) => AuthStatus::Error(error.clone()),
        }
    }

    /// The signed-in session, if any.
    pub(crate) fn session(&self) -> Option<&SignedIn> {
        match self {
            Self::SignedIn(session) => Some(session),
            _ => None,
        }
    }

    /// The signed-in session, to change in place.
    pub(crate) fn session_mut(&mut self) -> Option<&mut SignedIn> {
        match self {
            Self::SignedIn(session) => Some(session),
            _ => None,
        }
    }

    /// The tokens, if signed in.
    pub(crate) fn tokens(&self) -> Option<&TokenSet> {
        self.session().map(|session| &session.tokens)
    }

    /// The tokens, to change in place.
    pub(crate) fn tokens_mut(&mut self) -> Option<&mut TokenSet> {
        self.session_mut().map(|session| &mut session.tokens)
    }

    /// The tokens, taken out of the phase.
    pub(crate) fn into_tokens(self) -> Option<TokenSet> {
        match self {
            Self::SignedIn(session) => Some(session.tokens),
            _ => None,
        }
    }

    /// Takes the session out, leaving `next` in its place.
    pub(crate) fn replace(&mut self, next: Self) -> Self {
        core::mem::replace(self, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_out_keeps_showing_the_person_but_holds_no_tokens() {
        let profile = UserProfile {
            sub: "alice".into(),
            name: "Alice".into(),
            email: None,
            acr: None,
            amr: Vec::new(),
        };
        let phase = Phase::SigningOut(Some(profile.clone()));
        assert_eq!(phase.status(), AuthStatus::SignedIn(profile));
        assert!(phase.tokens().is_none());
        assert_eq!(Phase::SigningOut(None).status(), AuthStatus::SignedOut);
    }

    #[test]
    fn a_failure_shows_its_error() {
        let phase = Phase::Failed(AuthError::StateMismatch);
        assert_eq!(phase.status().error_code(), Some("state_mismatch"));
        assert!(phase.session().is_none());
    }
}
