//! The Leptos adapter: signals, tasks, one timer and the page's wake-up
//! listeners around the session engine. It decides nothing.
//!
//! It compiles on every target, so the shared components of an SSR +
//! hydrate app compile in both builds. Off the browser it is inert: the
//! status stays `Starting` (the same first view the browser renders before
//! start-up runs, so hydration matches), nothing runs, and the calls that
//! need a browser answer [`AuthError::NotInBrowser`].

// `#[component]` makes a `pub` props struct beside the component.
#[allow(unreachable_pub)]
mod guard;
mod options;

#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(not(target_arch = "wasm32"))]
#[path = "inert.rs"]
mod driver;
#[cfg(target_arch = "wasm32")]
mod wiring;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

pub use guard::RequireAuth;
pub use options::{AuthOptions, ConfigSource};

use crate::protocol::{AccessToken, AuthError, SignInOptions};
use crate::session::{AuthStatus, AuthWarning, UserProfile};

/// The HTTP types [`Auth::fetch`] takes: gloo-net's (0.7), re-exported so
/// that an app need not depend on the same version itself.
pub mod http {
    pub use gloo_net::Error;
    pub use gloo_net::http::{Request, RequestBuilder, Response};
}

/// A cheap, copyable handle to the client. Get it with [`use_auth`].
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub struct Auth {
    status: RwSignal<AuthStatus>,
    warning: RwSignal<Option<AuthWarning>>,
    signing_out: RwSignal<bool>,
    // Read halves made once: a conversion per call would put a new signal
    // in the reactive arena each time. The memos change only when their
    // value does, so a token refresh re-renders nothing that shows the user.
    status_read: Signal<AuthStatus>,
    warning_read: Signal<Option<AuthWarning>>,
    signing_out_read: Signal<bool>,
    is_signed_in: Signal<bool>,
    user: Signal<Option<UserProfile>>,
    has_userinfo: RwSignal<bool>,
    runtime: StoredValue<driver::Runtime, LocalStorage>,
}

/// Starts the client from `source` and puts its handle in context.
pub fn provide_auth(source: ConfigSource) -> Auth {
    provide_auth_with_options(AuthOptions::default().source(source))
}

/// Starts the client (configuration, then the callback if this page is
/// one; the provider's discovery document when a step first needs it) and puts its handle in context. Call it above the router
/// (before `<Router>`), so that every route sees one handle and the
/// callback's URL is settled before any route renders.
pub fn provide_auth_with_options(options: AuthOptions) -> Auth {
    let status = RwSignal::new(AuthStatus::Starting);
    let (warning, signing_out) = (RwSignal::new(None), RwSignal::new(false));
    let auth = Auth {
        status,
        warning,
        signing_out,
        status_read: status.into(),
        warning_read: warning.into(),
        signing_out_read: signing_out.into(),
        is_signed_in: Memo::new(move |_| status.with(AuthStatus::is_signed_in)).into(),
        user: Memo::new(move |_| status.with(|s| s.profile().cloned())).into(),
        has_userinfo: RwSignal::new(false),
        runtime: StoredValue::new_local(driver::Runtime::new(options)),
    };
    provide_context(auth);
    driver::start(auth);
    auth
}

/// The handle provided by [`provide_auth`].
///
/// # Panics
/// If no ancestor called [`provide_auth`].
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl Auth {
    /// Where the session stands.
    pub fn status(&self) -> Signal<AuthStatus> {
        self.status_read
    }

    /// Whether someone is signed in. Unchanged by token refreshes.
    pub fn is_signed_in(&self) -> Signal<bool> {
        self.is_signed_in
    }

    /// Who is signed in, if anyone. Unchanged by token refreshes.
    pub fn user(&self) -> Signal<Option<UserProfile>> {
        self.user
    }

    /// The claims of the verified ID token as the app's own type:
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct Roles { #[serde(default)] roles: Vec<String> }
    /// let is_editor = move || {
    ///     auth.claims::<Roles>()
    ///         .and_then(Result::ok)
    ///         .is_some_and(|claims| claims.roles.iter().any(|role| role == "editor"))
    /// };
    /// ```
    ///
    /// `None` while nobody is signed in; an error
    /// ([`AuthError::ClaimsMismatch`]) when a field of `T` is missing, of
    /// another type, or given twice. Read in a view or an effect, it
    /// subscribes: it is read again when the person changes (not when a
    /// token is refreshed).
    pub fn claims<T: DeserializeOwned>(&self) -> Option<Result<T, AuthError>> {
        self.user.track();
        driver::claims(*self)
    }

    /// The userinfo answer as the app's own type, like
    /// [`claims`](Self::claims); `None` until it came.
    pub fn userinfo<T: DeserializeOwned>(&self) -> Option<Result<T, AuthError>> {
        self.user.track();
        self.has_userinfo.track();
        driver::userinfo(*self)
    }

    /// A problem that does not end the session (a refresh is retried, or
    /// the browser is offline).
    pub fn warning(&self) -> Signal<Option<AuthWarning>> {
        self.warning_read
    }

    /// Whether a sign-out is on its way (revocation, then the provider).
    pub fn signing_out(&self) -> Signal<bool> {
        self.signing_out_read
    }

    /// For a route guard such as leptos_router's `ProtectedRoute`
    /// (`condition=auth.route_condition()`): `None` while start-up decides
    /// (the tab handover and the silent restore included), then whether
    /// someone is signed in.
    pub fn route_condition(&self) -> impl Fn() -> Option<bool> + Copy + Send + Sync + use<> {
        let status = self.status_read;
        move || match status.get() {
            AuthStatus::Starting | AuthStatus::SigningIn => None,
            status => Some(status.is_signed_in()),
        }
    }

    /// Sends the person to the provider. They come back to `return_to`
    /// (an in-app path; default: the current page). Called while start-up
    /// is still running, it waits for start-up (which may find a session:
    /// then nothing more happens); after a failed start-up, it starts
    /// again, then goes on to the provider. It never reloads the page.
    pub fn sign_in(&self, return_to: Option<String>) {
        let options = SignInOptions::default();
        self.sign_in_with(match return_to {
            Some(path) => options.return_to(path),
            None => options,
        });
    }

    /// [`sign_in`](Self::sign_in) with options: `login_hint`, `prompt`,
    /// `max_age`, `acr_values`, `ui_locales`, the provider's own parameters.
    /// Signed in, it is a step-up: the session stays in every tab until the
    /// new tokens are verified, and they must name the same person.
    pub fn sign_in_with(&self, options: SignInOptions) {
        driver::sign_in(*self, options);
    }

    /// Signs out: forgets the tokens, revokes the refresh token (RFC 7009)
    /// and ends the provider session (RP-initiated logout) where the
    /// provider offers these.
    pub fn sign_out(&self) {
        driver::sign_out(*self);
    }

    /// The current access token, refreshed first when it is due: for a
    /// WebSocket, or an HTTP client other than [`Auth::fetch`]. Send it only
    /// to the APIs it is for. A DPoP-bound token (`token_type` DPoP) is
    /// useless without a proof from this page's key, which never leaves
    /// WebCrypto: call such APIs through [`Auth::fetch`].
    /// With [`resources`](crate::ClientConfig::resources), this is the
    /// first API's token; see [`Auth::access_token_for`].
    pub async fn access_token(&self) -> Result<AccessToken, AuthError> {
        driver::access_token(*self, None).await
    }

    /// The access token of the API named `resource` (its `resource`, or
    /// `audience`, in [`resources`](crate::ClientConfig::resources)),
    /// fetched with the refresh token the first time, refreshed when due.
    /// An unknown name is `resource_not_allowed`.
    pub async fn access_token_for(&self, resource: &str) -> Result<AccessToken, AuthError> {
        driver::access_token(*self, Some(resource)).await
    }

    /// Calls a resource with the access token (`Authorization: Bearer`, or
    /// `DPoP` with a proof for DPoP-bound tokens).
    /// `make` builds the request ([`http::Request`]); it may be called
    /// again (after a refresh on a 401, or for a DPoP nonce), and each
    /// request it builds must go to the same URL. The token is the one of
    /// the URL's API in `resources` (origin, then the longest
    /// `path_prefix`; fetched on the first call), or the one token for the
    /// `resource_origins`; any other URL is `resource_not_allowed`, with
    /// nothing sent. The token is refreshed first when it is due.
    pub async fn fetch(
        &self,
        make: impl Fn() -> Result<http::Request, http::Error>,
    ) -> Result<http::Response, AuthError> {
        driver::fetch(*self, &make).await
    }
}
