//! One session across the app's tabs, tokens still in memory only.
//!
//! - A tab that starts without tokens asks the others (`Hello`) and waits
//!   at most [`JOIN_WINDOW_MS`] for one of them to hand over its session
//!   (`Session`), from memory to memory; only then does it fall back to the
//!   provider (`prompt=none`).
//! - Sign-in, every refresh (`Updated`) and sign-out (`SignedOut`) reach
//!   every tab; of two copies of a session the later one wins.
//! - Refreshes are serialized across tabs by a lock named after the refresh
//!   token they would present. The tab that refreshed keeps holding the
//!   lock of the spent token (until it closes), so no tab can present that
//!   token again: a tab waiting for it adopts the broadcast tokens instead.

use futures::future::{Either, select};
use sha2::{Digest, Sha256};

use super::load;
use super::phase::Phase;
use super::ports::{LockGuard, Platform};
use super::{Session, TokenSet, UserProfile};
use crate::protocol::json::{self, Value, Writer};
use crate::protocol::random::base64url;
use crate::protocol::{SILENT_SKIP_KEY, TokenType};

/// How long a starting tab waits for another tab's session.
pub(crate) const JOIN_WINDOW_MS: u32 = 150;

/// The messages, as JSON: `{"Hello":id}`, `{"Session":[id,tokens,profile]}`,
/// `{"Updated":[tokens,profile]}` or `"SignedOut"`.
enum Outgoing<'a> {
    Hello(u64),
    Session(u64, &'a TokenSet, &'a UserProfile),
    Updated(&'a TokenSet, &'a UserProfile),
    SignedOut,
}

enum Incoming {
    Hello(u64),
    Session(u64, TokenSet, UserProfile),
    Updated(TokenSet, UserProfile),
    SignedOut,
}

impl Outgoing<'_> {
    fn to_json(&self) -> String {
        let mut writer = Writer::new();
        let session = match self {
            Self::Hello(from) => {
                writer.open().key("Hello").uint(*from).close();
                return writer.finish();
            }
            Self::SignedOut => {
                writer.str("SignedOut");
                return writer.finish();
            }
            Self::Session(to, tokens, profile) => {
                writer.open().key("Session").open_array().uint(*to);
                (tokens, profile)
            }
            Self::Updated(tokens, profile) => {
                writer.open().key("Updated").open_array();
                (tokens, profile)
            }
        };
        session.0.write(&mut writer);
        session.1.write(&mut writer);
        writer.close_array().close();
        writer.finish()
    }
}

impl Incoming {
    fn from_json(text: &str) -> Option<Self> {
        let value = json::parse(text)?;
        if value.as_str() == Some("SignedOut") {
            return Some(Self::SignedOut);
        }
        let Value::Object(members) = value else {
            return None;
        };
        let [(kind, body)] = members.as_slice() else {
            return None;
        };
        let session = |items: &[Value]| {
            let [tokens, profile] = items else {
                return None;
            };
            Some((
                TokenSet::read(&tokens.fields()?).ok()?,
                UserProfile::read(&profile.fields()?).ok()?,
            ))
        };
        match (kind.as_str(), body) {
            ("Hello", from) => from.as_u64().map(Self::Hello),
            ("Session", Value::Array(items)) => {
                let (to, rest) = items.split_first()?;
                let (tokens, profile) = session(rest)?;
                Some(Self::Session(to.as_u64()?, tokens, profile))
            }
            ("Updated", Value::Array(items)) => {
                let (tokens, profile) = session(items)?;
                Some(Self::Updated(tokens, profile))
            }
            _ => None,
        }
    }
}

impl<P: Platform> Session<P> {
    /// The name of the channel (and the prefix of the locks) shared by the
    /// tabs of this app with this provider and client.
    pub fn tab_channel_name(&self) -> String {
        tab_channel_name(&self.config)
    }

    fn post(&self, message: &Outgoing<'_>) -> bool {
        self.platform.post(&message.to_json())
    }

    /// Tells the other tabs about this tab's tokens.
    pub(crate) fn broadcast_tokens(&self) {
        if let Some(session) = self.state.borrow().phase.session() {
            let _ = self.post(&Outgoing::Updated(&session.tokens, &session.profile));
        }
    }

    /// Tells the other tabs that the person signed out.
    pub(crate) fn broadcast_signed_out(&self) {
        let _ = self.post(&Outgoing::SignedOut);
    }

    /// Asks the other tabs for their session; true if one was adopted
    /// within [`JOIN_WINDOW_MS`].
    pub(crate) async fn join_other_tabs(&self) -> bool {
        let receiver = self.tabs.start_joining();
        if !self.post(&Outgoing::Hello(self.tabs.id())) {
            self.tabs.stop_joining();
            return false;
        }
        let window = self.platform.sleep_ms(JOIN_WINDOW_MS);
        futures::pin_mut!(window);
        let joined = matches!(select(receiver, window).await, Either::Left((Ok(()), _)));
        self.tabs.stop_joining();
        joined
    }

    /// A message from another tab, with the DPoP key that came with it
    /// (the platform delivers them all here). True when this tab took
    /// over the sender's session (and the key its tokens are bound to).
    pub fn on_tab_message(&self, text: &str, key: Option<P::CarriedKey>) -> bool {
        let Some(message) = Incoming::from_json(text) else {
            return false;
        };
        match message {
            Incoming::Hello(from) => {
                if let Some(session) = self.state.borrow().phase.session() {
                    let _ = self.post(&Outgoing::Session(from, &session.tokens, &session.profile));
                }
                false
            }
            Incoming::Session(to, tokens, profile) if to == self.tabs.id() => {
                let adopted = self.adopt(tokens, profile, key);
                if adopted {
                    self.tabs.joined();
                }
                adopted
            }
            Incoming::Session(..) => false,
            Incoming::Updated(tokens, profile) => self.adopt(tokens, profile, key),
            Incoming::SignedOut => {
                self.signed_out_elsewhere();
                false
            }
        }
    }

    /// Takes another tab's session if it is for this issuer and newer than
    /// this tab's, with the key DPoP-bound tokens need; returns whether it
    /// did.
    fn adopt(
        &self,
        mut tokens: TokenSet,
        profile: UserProfile,
        key: Option<P::CarriedKey>,
    ) -> bool {
        if tokens.claims().iss != self.config.issuer || self.signing_out() {
            return false;
        }
        if let Some(ours) = self.state.borrow().phase.tokens() {
            let same = tokens.access_token().secret() == ours.access_token().secret();
            if same || tokens.received_at_ms() < ours.received_at_ms() {
                return false;
            }
            tokens.follow(ours.generation());
        }
        let key_taken = key.is_some_and(|key| self.platform.adopt_key(key));
        if tokens.token_type() == TokenType::Dpop && !key_taken {
            // Tokens bound to a key this tab cannot hold are of no use here.
            return false;
        }
        self.platform.delete(SILENT_SKIP_KEY);
        self.refresher.succeeded();
        self.transition(Phase::signed_in(tokens, profile, false), false);
        true
    }

    fn signed_out_elsewhere(&self) {
        load::set_marker(&self.platform, SILENT_SKIP_KEY);
        let next = match &self.state.borrow().phase {
            Phase::SignedIn(_) | Phase::SigningOut(Some(_)) => Phase::SignedOut,
            // Nothing shown to take back (an error stays shown).
            _ => return,
        };
        self.transition(next, false);
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
