//! One session across the app's tabs, tokens still in memory only.
//!
//! - A tab that starts without tokens asks the others (`Hello`) and waits
//!   at most [`JOIN_WINDOW_MS`] for one of them to hand over its session
//!   (`Session`), from memory to memory; only then does it fall back to the
//!   provider (`prompt=none`).
//! - Sign-in, every refresh (`Updated`) and sign-out (`SignedOut`) reach
//!   every tab.
//! - A message is believed in nothing it says about the person: a new
//!   session's ID token is verified again (signature with this tab's keys,
//!   issuer, audience) and the claims come from it; while signed in, a
//!   session of another `sub` is refused; a session signed out is never
//!   taken again. Of two copies of one session, the one with the higher
//!   generation (counted by the engines, one per access token) wins, and
//!   an update nobody asked for may be only a few generations ahead.
//! - Refreshes are serialized across tabs by a lock named after the refresh
//!   token they would present. The tab that refreshed keeps holding the
//!   lock of the spent token, so no tab can present that token again: a
//!   tab waiting for it adopts the broadcast tokens instead. A page back
//!   from the back/forward cache (it heard nothing meanwhile) asks the
//!   others before it refreshes.

use futures::future::{Either, select};
use sha2::{Digest, Sha256};

use super::load;
use super::phase::Phase;
use super::ports::{LockGuard, Platform};
use super::tab_messages::{CarriedSession, CarriedTokens, TabMessage, identity_hash};
use super::{Session, TokenSet, UserProfile};
use crate::protocol::random::base64url;
use crate::protocol::{IdToken, SILENT_SKIP_KEY, TokenType};

/// How long a starting tab waits for another tab's session.
pub(crate) const JOIN_WINDOW_MS: u32 = 150;
/// How many generations ahead of this tab's copy an update that it did not
/// ask for may be (a refresh is one; tabs hear of each).
const MAX_UNASKED_STEP: u64 = 16;

impl<P: Platform> Session<P> {
    /// The name of the channel (and the prefix of the locks) shared by the
    /// tabs of this app with this provider and client.
    pub fn tab_channel_name(&self) -> String {
        tab_channel_name(&self.config)
    }

    fn post(&self, message: &TabMessage) -> bool {
        self.platform.post(&message.to_text())
    }

    /// This tab's session, as it travels.
    fn carried(&self) -> Option<CarriedSession> {
        let state = self.state.borrow();
        let session = state.phase.session()?;
        Some(CarriedSession {
            tokens: session.tokens.to_carried(),
        })
    }

    /// Tells the other tabs about this tab's tokens.
    pub(crate) fn broadcast_tokens(&self) {
        if let Some(session) = self.carried() {
            let _ = self.post(&TabMessage::Updated { session });
        }
    }

    /// Tells the other tabs that the session `ended` (its identity) was
    /// signed out; no tab, this one included, takes it again.
    pub(crate) fn broadcast_signed_out(&self, ended: &IdToken) {
        let ended = identity_hash(ended);
        self.tabs.end(ended.clone());
        self.remember_ended(&ended);
        let _ = self.post(&TabMessage::SignedOut { ended });
    }

    /// Asks the other tabs for their session; true if one was adopted
    /// within [`JOIN_WINDOW_MS`].
    pub(crate) async fn join_other_tabs(&self) -> bool {
        let receiver = self.tabs.start_joining();
        if !self.post(&TabMessage::Hello {
            from: self.tabs.id(),
        }) {
            self.tabs.stop_joining();
            return false;
        }
        let window = self.platform.sleep_ms(JOIN_WINDOW_MS);
        futures::pin_mut!(window);
        let joined = match select(receiver, window).await {
            Either::Left((answer, _)) => answer.is_ok(),
            // An answer came in time and its ID token is being verified.
            Either::Right(((), receiver)) if self.tabs.is_answered() => receiver.await.is_ok(),
            Either::Right(_) => false,
        };
        self.tabs.stop_joining();
        joined
    }

    /// A message from another tab, with the DPoP key that came with it
    /// (the platform delivers them all here). True when this tab took
    /// over the sender's tokens (and the key they are bound to).
    pub async fn on_tab_message(&self, text: &str, key: Option<P::CarriedKey>) -> bool {
        let Some(message) = TabMessage::from_text(text) else {
            return false;
        };
        match message {
            TabMessage::Hello { from } => {
                if let Some(session) = self.carried() {
                    let _ = self.post(&TabMessage::Session { to: from, session });
                }
                false
            }
            TabMessage::Session { to, session } if to == self.tabs.id() => {
                self.tabs.answer_arrived();
                let adopted = self.adopt(session, key, true).await;
                if adopted {
                    self.tabs.joined();
                } else if self.tabs.is_answered() {
                    self.tabs.stop_joining();
                }
                self.complete_profile().await;
                adopted
            }
            TabMessage::Session { .. } => false,
            TabMessage::Updated { session } => {
                let adopted = self.adopt(session, key, false).await;
                // A new session here: userinfo for its name, as at sign-in.
                self.complete_profile().await;
                adopted
            }
            TabMessage::SignedOut { ended } => {
                self.signed_out_elsewhere(ended);
                false
            }
        }
    }

    /// Takes another tab's copy of a session: a newer copy of this tab's
    /// (`asked`: in answer to this tab's `Hello`), or a session this tab
    /// does not have yet, once its ID token verified here.
    async fn adopt(
        &self,
        carried: CarriedSession,
        key: Option<P::CarriedKey>,
        asked: bool,
    ) -> bool {
        let identity = identity_hash(&carried.tokens.identity);
        if self.signing_out() || self.was_ended(&identity) {
            return false;
        }
        if self.holds_identity(&identity) {
            return self.take_same_session(carried, key, asked);
        }
        let epoch = self.epoch.get();
        let raw = IdToken::new(carried.tokens.identity.secret().to_owned());
        let Ok(verified) = self.verify_carried_id_token(raw).await else {
            return false;
        };
        // Whatever happened while the signature was checked counts.
        if self.epoch.get() != epoch || self.signing_out() || self.was_ended(&identity) {
            return false;
        }
        if self.holds_identity(&identity) {
            return self.take_same_session(carried, key, asked);
        }
        let signed_in_as = self.with_tokens(|t| t.map(|t| t.claims().sub.clone()));
        if signed_in_as.is_some_and(|sub| sub != verified.claims().sub) {
            return false;
        }
        if !self.take_key(&carried.tokens, key) {
            return false;
        }
        let profile = UserProfile::from(verified.claims());
        // Loaded: the ID token was just verified with the provider's keys.
        let userinfo_due = self
            .metadata()
            .is_some_and(|m| m.userinfo_endpoint.is_some());
        let tokens = TokenSet::from_carried(carried.tokens, verified);
        self.platform.delete(SILENT_SKIP_KEY);
        self.refresher.succeeded();
        self.transition(Phase::signed_in(tokens, profile, userinfo_due), false);
        true
    }

    /// Whether this tab's session has the identity `identity` (a hash).
    fn holds_identity(&self, identity: &str) -> bool {
        self.with_tokens(|t| t.is_some_and(|t| identity_hash(t.identity().raw()) == identity))
    }

    /// Another copy of this tab's own session: its tokens are taken when
    /// they are newer.
    fn take_same_session(
        &self,
        carried: CarriedSession,
        key: Option<P::CarriedKey>,
        asked: bool,
    ) -> bool {
        let ours = self.with_tokens(|t| t.map_or(0, TokenSet::generation));
        let theirs = carried.tokens.generation;
        let newer = theirs > ours && (asked || theirs - ours <= MAX_UNASKED_STEP);
        let newer = newer && self.take_key(&carried.tokens, key);
        if !newer {
            return false;
        }
        self.update(|state| {
            if let Some(session) = state.phase.session_mut() {
                session.tokens.take_newer(carried.tokens);
            }
            state.warning = None;
        });
        self.refresher.succeeded();
        self.tabs.tokens_changed();
        true
    }

    /// Takes over the key carried with `tokens`: required when they are
    /// DPoP-bound (tokens bound to a key this tab cannot hold are of no
    /// use here). False when they cannot be used.
    fn take_key(&self, tokens: &CarriedTokens, key: Option<P::CarriedKey>) -> bool {
        let taken = key.is_some_and(|key| self.platform.adopt_key(key));
        taken || tokens.token_type != TokenType::Dpop
    }

    /// Another tab signed out of the session `ended`: no silent sign-in
    /// here either, and this tab forgets that session if it holds it.
    fn signed_out_elsewhere(&self, ended: String) {
        load::set_marker(&self.platform, SILENT_SKIP_KEY);
        let ours = self.holds_identity(&ended);
        self.tabs.end(ended);
        if ours {
            self.transition(Phase::SignedOut, false);
        }
    }

    /// Takes the cross-tab lock for presenting `refresh_token`, unless the
    /// tokens change meanwhile (another tab refreshed, or signed out):
    /// `Err(())` then.
    pub(crate) async fn lock_refresh_token(
        &self,
        refresh_token: &str,
    ) -> Result<Option<LockGuard>, ()> {
        let name = format!(
            "{}:refresh:{}",
            self.tab_channel_name(),
            base64url(&Sha256::digest(refresh_token.as_bytes())[..12])
        );
        let changed = self.tabs.watch_tokens();
        let lock = self.platform.lock(&name);
        futures::pin_mut!(lock);
        match select(lock, changed).await {
            Either::Left((guard, _)) => Ok(guard),
            Either::Right(_) => Err(()),
        }
    }
}

/// The name of the channel between the tabs that use `config`.
pub fn tab_channel_name(config: &crate::protocol::ClientConfig) -> String {
    format!("oidc:{}:{}", config.issuer, config.client_id)
}

/// A random id for this tab's messages.
pub(crate) fn new_tab_id(platform: &impl Platform) -> u64 {
    let mut bytes = [0u8; 8];
    let _ = platform.fill_random(&mut bytes);
    u64::from_le_bytes(bytes)
}
