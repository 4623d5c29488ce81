//! The session engine: the whole sign-in flow as plain Rust over small
//! ports ([`Transport`], [`TabStore`], [`SignatureVerifier`], [`Clock`],
//! [`Randomness`], [`Navigator`]). Every decision of the flow lives here and
//! is tested natively with in-memory ports; the Leptos adapter only wires
//! the browser's ports, signals, timers and listeners to it.
//!
//! Files in flow order: `start` (configuration, discovery), `load` (what
//! kind of page load this is), `sign_in` (the request and the callback),
//! `verify` (ID tokens and keys), `refresh` (policy and single flight),
//! `resource` (the authorized call and its 401 replay), `sign_out`.

mod backoff;
mod dpop;
mod load;
mod policy;
mod ports;
mod refresh;
mod resource;
mod sign_in;
mod sign_out;
mod start;
mod status;
mod tabs;
mod tokens;
mod verify;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::oneshot;
use futures::future::{LocalBoxFuture, Shared};

use crate::protocol::{ClientConfig, ProviderMetadata};

pub use dpop::ResourceAuth;
pub use load::CapturedCallback;
pub use policy::{
    DEFAULT_REFRESH_MARGIN_MS, MAX_REFRESHES_PER_MINUTE, MIN_BACKGROUND_INTERVAL_MS,
    MIN_BACKGROUND_LIFETIME_MS,
};
pub use ports::{
    Clock, DpopKeys, Endpoint, HttpRequest, HttpResponse, LockGuard, MAX_BODY_BYTES, Navigator,
    Platform, Randomness, SignatureVerifier, TabStore, Tabs, Transport,
};
pub use resource::ResourceResponse;
pub use start::load_config;
pub use status::{AuthStatus, AuthWarning, UserProfile};
pub use tabs::{JOIN_WINDOW_MS, tab_channel_name};
pub use tokens::TokenSet;

use policy::{RefreshHistory, RefreshPolicy};
use verify::KeyCache;

/// How the session behaves, beyond the provider's configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// On a page load without tokens, try one `prompt=none` round trip to
    /// restore the provider's session (default: on).
    pub silent_restore: bool,
    /// Refresh at most this long before expiry (default 60 s; never more
    /// than a quarter of the token's lifetime).
    pub refresh_margin_ms: u32,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            silent_restore: true,
            refresh_margin_ms: DEFAULT_REFRESH_MARGIN_MS,
        }
    }
}

type RefreshFlight = Shared<LocalBoxFuture<'static, Result<(), crate::protocol::AuthError>>>;

/// What changes as the session goes.
#[derive(Debug)]
struct State {
    status: AuthStatus,
    warning: Option<AuthWarning>,
    tokens: Option<TokenSet>,
    history: RefreshHistory,
    signing_out: bool,
    /// The sign-in showed the ID token's names; userinfo is still to ask
    /// ([`Session::complete_profile`]).
    userinfo_due: bool,
}

/// One tab's session with one provider. Create it with [`Session::start`],
/// then call [`Session::resume`] once and [`Session::complete_profile`]
/// once after it (userinfo, when the sign-in did not wait for it);
/// afterwards the app calls
/// [`Session::sign_in`], [`Session::authorized`], [`Session::sign_out`],
/// and [`Session::on_timer`] when the adapter's timer
/// fires or the page wakes up.
pub struct Session<P: Platform> {
    platform: P,
    config: ClientConfig,
    metadata: ProviderMetadata,
    policy: RefreshPolicy,
    options: SessionOptions,
    state: RefCell<State>,
    keys: KeyCache,
    flight: RefCell<Option<RefreshFlight>>,
    observer: RefCell<Option<Rc<dyn Fn()>>>,
    /// Bumped on sign-out, so a refresh answer that arrives afterwards is dropped.
    epoch: Cell<u64>,
    /// This tab, in messages to the others.
    tab_id: u64,
    /// Set while waiting for another tab's session at start.
    joining: RefCell<Option<oneshot::Sender<()>>>,
    /// Woken when the tokens change (another tab refreshed or signed out).
    token_watchers: RefCell<Vec<oneshot::Sender<()>>>,
    /// Locks of refresh tokens this tab spent, held so no tab presents them.
    held_locks: RefCell<VecDeque<ports::LockGuard>>,
    /// The latest DPoP nonce of each server: (origin, nonce), a handful.
    nonces: RefCell<Vec<(String, String)>>,
}

impl<P: Platform> core::fmt::Debug for Session<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("issuer", &self.config.issuer)
            .field("status", &self.state.borrow().status)
            .finish_non_exhaustive()
    }
}

impl<P: Platform> Session<P> {
    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The provider's metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The ports.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// Where the session stands.
    pub fn status(&self) -> AuthStatus {
        self.state.borrow().status.clone()
    }

    /// A problem that does not end the session, if any.
    pub fn warning(&self) -> Option<AuthWarning> {
        self.state.borrow().warning.clone()
    }

    /// Whether a sign-out is on its way.
    pub fn signing_out(&self) -> bool {
        self.state.borrow().signing_out
    }

    /// Reads the tokens, if signed in.
    pub fn with_tokens<R>(&self, read: impl FnOnce(Option<&TokenSet>) -> R) -> R {
        read(self.state.borrow().tokens.as_ref())
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

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.borrow_mut());
        self.notify();
    }

    fn set_status(&self, status: AuthStatus) {
        self.update(|state| state.status = status);
    }

    /// Ends the session with `error` shown; returns it.
    pub(crate) fn end_session(
        &self,
        error: crate::protocol::AuthError,
    ) -> crate::protocol::AuthError {
        self.update(|state| {
            state.tokens = None;
            state.warning = None;
            state.history = RefreshHistory::default();
            state.status = AuthStatus::Error(error.clone());
        });
        error
    }

    fn now_ms(&self) -> f64 {
        self.platform.now_ms()
    }

    /// `N` random bytes, base64url: a `state`, a proof's `jti`.
    fn random_token<const N: usize>(&self) -> Result<String, crate::protocol::AuthError> {
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
