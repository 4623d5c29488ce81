//! The session engine: the whole sign-in flow as plain Rust over small
//! ports ([`Transport`], [`TabStore`], [`SignatureVerifier`], [`Clock`],
//! [`Randomness`], [`Navigator`], [`Tabs`], [`DpopKeys`]). Every decision of
//! the flow lives here and is tested natively with in-memory ports; the
//! Leptos adapter only wires the browser's ports, signals, timers and
//! listeners to it.
//!
//! The state is one [`Phase`](phase::Phase) enum, changed by one
//! transition function. `Session` owns three parts, each in its own file:
//! the refresh coordinator (`refresher`), the tab sync (`tab_sync`) and the
//! DPoP client (`dpop_client`). The flow, in order: `start`
//! (configuration; discovery on first use), `load` (what kind of page load this is),
//! `sign_in`, `verify` (ID tokens and keys), `refresh`, `resource` (the
//! authorized call and its 401 replay), `tabs`, `sign_out`.

mod backoff;
mod callback;
mod dpop;
mod dpop_client;
mod hint;
mod load;
mod options;
mod phase;
mod policy;
mod ports;
mod refresh;
mod refresher;
mod resource;
mod sign_in;
mod sign_out;
mod start;
mod status;
mod tab_messages;
mod tab_sync;
mod tabs;
mod tokens;
mod verify;

#[cfg(test)]
mod tests;

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::protocol::{AuthError, ClientConfig, ProviderMetadata};

pub use dpop::ResourceAuth;
pub use load::CapturedCallback;
pub use options::{SessionOptions, SilentRestore};
pub use ports::{
    Clock, DpopKeys, Endpoint, HintStore, HttpRequest, HttpResponse, LockGuard, Navigator,
    Platform, Randomness, SignatureVerifier, TabStore, Tabs, Transport,
};
pub use resource::ResourceResponse;
pub use start::load_config;
pub use status::{AuthStatus, AuthWarning, UserProfile};
pub use tabs::tab_channel_name;
pub use tokens::{ApiToken, TokenSet};

#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub(crate) use ports::MAX_BODY_BYTES;

use dpop_client::DpopClient;
use phase::Phase;
use refresher::Refresher;
use tab_sync::TabSync;
use verify::KeyCache;

/// What changes as the session goes.
#[derive(Debug)]
struct State {
    phase: Phase,
    warning: Option<AuthWarning>,
}

/// One tab's session with one provider. Create it with [`Session::new`],
/// then call [`Session::resume`] once and [`Session::complete_profile`]
/// once after it (userinfo, when the sign-in did not wait for it);
/// afterwards the app calls
/// [`Session::sign_in`], [`Session::authorized`], [`Session::sign_out`],
/// and [`Session::on_timer`] when the adapter's timer
/// fires or the page wakes up.
pub struct Session<P: Platform> {
    platform: P,
    config: ClientConfig,
    /// Loaded by the first step that needs the provider.
    metadata: OnceCell<ProviderMetadata>,
    options: SessionOptions,
    state: RefCell<State>,
    keys: KeyCache,
    refresher: Refresher,
    tabs: TabSync,
    dpop: DpopClient,
    observer: RefCell<Option<Rc<dyn Fn()>>>,
    /// Bumped whenever a session is forgotten, so an answer that arrives
    /// afterwards is dropped.
    epoch: Cell<u64>,
}

impl<P: Platform> core::fmt::Debug for Session<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("issuer", &self.config.issuer)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl<P: Platform> Session<P> {
    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The provider's metadata, once a step that needed the provider
    /// loaded it.
    pub fn metadata(&self) -> Option<&ProviderMetadata> {
        self.metadata.get()
    }

    /// The ports.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Where the session stands.
    pub fn status(&self) -> AuthStatus {
        self.state.borrow().phase.status()
    }

    /// A problem that does not end the session, if any.
    pub fn warning(&self) -> Option<AuthWarning> {
        self.state.borrow().warning.clone()
    }

    /// Whether a sign-out is on its way.
    pub fn signing_out(&self) -> bool {
        matches!(self.state.borrow().phase, Phase::SigningOut(_))
    }

    /// Reads the tokens, if signed in.
    pub fn with_tokens<R>(&self, read: impl FnOnce(Option<&TokenSet>) -> R) -> R {
        read(self.state.borrow().phase.tokens())
    }

    /// The claims of the session's verified ID token as the app's own type
    /// (`roles`, `groups`, a tenant…); `None` when nobody is signed in.
    pub fn claims<T: DeserializeOwned>(&self) -> Option<Result<T, AuthError>> {
        self.with_tokens(|tokens| tokens.map(TokenSet::claims_as))
    }

    /// Whether the userinfo answer came.
    pub fn has_userinfo(&self) -> bool {
        let state = self.state.borrow();
        state.phase.session().is_some_and(|s| s.userinfo.is_some())
    }

    /// The userinfo answer (its `sub` checked against the ID token's) as
    /// the app's own type; `None` until it came, or without userinfo.
    pub fn userinfo<T: DeserializeOwned>(&self) -> Option<Result<T, AuthError>> {
        let state = self.state.borrow();
        let userinfo = state.phase.session()?.userinfo.as_ref()?;
        Some(userinfo.claims_as())
    }

    /// Calls `observer` after every change of status, warning, tokens or
    /// the next timer (see [`next_wake_at_ms`](Self::next_wake_at_ms)).
    pub fn set_observer(&self, observer: impl Fn() + 'static) {
        *self.observer.borrow_mut() = Some(Rc::new(observer));
    }

    fn notify(&self) {
        let observer = self.observer.borrow().clone();
        if let Some(observer) = observer {
            observer();
        }
    }

    /// Changes the state within its phase (tokens refreshed, a warning),
    /// then tells the observer.
    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.borrow_mut());
        self.notify();
    }

    /// The one way from phase to phase. Leaving tokens behind forgets the
    /// session: the epoch moves on (late answers are dropped), the refresh
    /// history and the warning go, and whatever waits for the tokens wakes.
    /// With `announce`, the other tabs hear of the new tokens, or that
    /// they are gone.
    fn transition(&self, next: Phase, announce: bool) {
        let _left = self.transition_from(next, announce);
    }

    /// [`transition`](Self::transition), returning the phase left.
    fn transition_from(&self, next: Phase, announce: bool) -> Phase {
        let has_tokens = next.tokens().is_some();
        let previous = {
            let mut state = self.state.borrow_mut();
            state.warning = None;
            state.phase.replace(next)
        };
        let had_tokens = previous.tokens().is_some();
        if had_tokens && !has_tokens {
            self.epoch.set(self.epoch.get() + 1);
            self.refresher.reset();
        }
        if has_tokens {
            self.set_hint();
        }
        if had_tokens || has_tokens {
            self.tabs.tokens_changed();
        }
        self.notify();
        if announce {
            match previous.tokens() {
                _ if has_tokens => self.broadcast_tokens(),
                Some(ended) => self.broadcast_signed_out(ended.identity().raw()),
                None => {}
            }
        }
        previous
    }

    /// Ends the session with `error` shown; returns it.
    pub(crate) fn end_session(&self, error: AuthError) -> AuthError {
        self.transition(Phase::Failed(error.clone()), false);
        error
    }

    fn now_ms(&self) -> f64 {
        self.platform.now_ms()
    }

    /// `N` random bytes, base64url: a `state`, a proof's `jti`.
    fn random_token<const N: usize>(&self) -> Result<String, AuthError> {
        let mut bytes = [0u8; N];
        self.platform.fill_random(&mut bytes)?;
        Ok(crate::protocol::random::base64url(&bytes))
    }

    /// A uniform value in `[0, 1)` for jitter (0.5 if randomness fails).
    fn random_unit(&self) -> f64 {
        let mut bytes = [0u8; 4];
        if self.platform.fill_random(&mut bytes).is_err() {
            return 0.5;
        }
        f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
    }
}
