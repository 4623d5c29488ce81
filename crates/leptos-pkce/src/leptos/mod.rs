//! The Leptos adapter: signals, tasks, one timer and the page's wake-up
//! listeners around the session engine. It decides nothing.

mod options;
mod wiring;

use std::rc::Rc;

use gloo_net::http::{Request, Response};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use web_sys::BroadcastChannel;

pub use options::{AuthOptions, ConfigSource};

use crate::browser::{Browser, perf, send_resource, tabs, window};
use crate::protocol::{AccessToken, AuthError, DEFAULT_REQUEST_TIMEOUT_MS};
use crate::session::{
    AuthStatus, AuthWarning, CapturedCallback, Clock as _, DpopKeys as _, ResourceAuth, Session,
    UserProfile, load_config, tab_channel_name,
};

type BrowserSession = Session<Browser>;

/// A cheap, copyable handle to the client. Get it with [`use_auth`].
#[derive(Clone, Copy)]
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
    options: StoredValue<AuthOptions, LocalStorage>,
    /// A sign-in asked for before start-up had settled: its return path.
    sign_in_after_start: StoredValue<Option<String>, LocalStorage>,
    session: StoredValue<Option<Rc<BrowserSession>>, LocalStorage>,
    channel: StoredValue<Option<BroadcastChannel>, LocalStorage>,
}

/// Starts the client from `source` and puts its handle in context.
pub fn provide_auth(source: ConfigSource) -> Auth {
    provide_auth_with_options(AuthOptions::default().source(source))
}

/// Starts the client (configuration, discovery, then the callback if this
/// page is one) and puts its handle in context. Call it above the router,
/// so that every route sees the same handle.
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
        options: StoredValue::new_local(options),
        sign_in_after_start: StoredValue::new_local(None),
        session: StoredValue::new_local(None),
        channel: StoredValue::new_local(None),
    };
    provide_context(auth);
    // Before anything is awaited: a callback's code leaves the URL now.
    let probe = Browser::new(DEFAULT_REQUEST_TIMEOUT_MS);
    let captured = CapturedCallback::capture(&probe, probe.now_ms());
    wiring::watch_page(auth);
    leptos::task::spawn_local(boot(auth, captured));
    auth
}

/// Start-up: the configuration, discovery, then what this page load is
/// for. A sign-in asked for meanwhile goes on to the provider after it.
async fn boot(auth: Auth, captured: Option<CapturedCallback>) {
    perf::mark("oidc:start");
    let url_changed = captured.is_some();
    match start(auth.options.get_value(), url_changed).await {
        Ok((session, channel)) => {
            perf::measure_from("oidc:ready", "oidc:start");
            let session = Rc::new(session);
            wiring::observe(auth, &session);
            wiring::listen_to_tabs(channel.as_ref(), &session);
            auth.channel.set_value(channel);
            auth.session.set_value(Some(Rc::clone(&session)));
            let before = window::current_path();
            session.resume(captured).await;
            if session.status().is_signed_in() && url_changed {
                perf::measure_from("oidc:callback", "oidc:start");
            }
            // Routers follow the URL the client wrote, in one render.
            if url_changed || before != window::current_path() {
                window::announce_url_change();
            }
            match auth
                .sign_in_after_start
                .try_update_value(Option::take)
                .flatten()
            {
                Some(return_to) if !session.status().is_signed_in() => {
                    session.sign_in(&return_to).await;
                }
                _ => session.complete_profile().await,
            }
        }
        Err(error) => {
            auth.sign_in_after_start.set_value(None);
            auth.status.set(AuthStatus::Error(error));
            if url_changed {
                window::announce_url_change();
            }
        }
    }
}

/// Loads the configuration and starts the session. On a callback page
/// (`callback`) the DPoP key the code exchange is proved with is made
/// meanwhile: WebCrypto makes it off the main thread, and the exchange
/// then need not wait for it (a key not used, with DPoP off, is dropped).
async fn start(
    options: AuthOptions,
    callback: bool,
) -> Result<(BrowserSession, Option<BroadcastChannel>), AuthError> {
    let origin = window::origin();
    let ports = Browser::new(DEFAULT_REQUEST_TIMEOUT_MS);
    let load = async {
        match options.source {
            ConfigSource::Inline(config) => config.validate(&origin).map(|()| config),
            ConfigSource::Url(url) => load_config(&ports, &url, &origin).await,
        }
    };
    let early_key = async {
        if callback {
            let _ = ports.dpop_key().await;
        }
    };
    let (config, ()) = futures::future::join(load, early_key).await;
    let config = config?;
    let channel = tabs::open(&tab_channel_name(&config));
    let browser = ports
        .with_request_timeout(config.request_timeout_ms())
        .with_tab_channel(channel.clone());
    let session = Session::start(browser, config, options.session).await?;
    Ok((session, channel))
}

/// The handle provided by [`provide_auth`].
///
/// # Panics
/// If no ancestor called [`provide_auth`].
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl Auth {
    fn session(&self) -> Option<Rc<BrowserSession>> {
        self.session.try_get_value().flatten()
    }

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
        self.session()?.claims()
    }

    /// The userinfo answer as the app's own type, like
    /// [`claims`](Self::claims); `None` until it came.
    pub fn userinfo<T: DeserializeOwned>(&self) -> Option<Result<T, AuthError>> {
        self.user.track();
        self.has_userinfo.track();
        self.session()?.userinfo()
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

    /// Sends the person to the provider. They come back to `return_to`
    /// (an in-app path; default: the current page). Called while start-up
    /// is still running, it waits for start-up (which may find a session:
    /// then nothing more happens); after a failed start-up, it starts
    /// again, then goes on to the provider. It never reloads the page.
    pub fn sign_in(&self, return_to: Option<String>) {
        let return_to = return_to.unwrap_or_else(window::current_path);
        match self.session() {
            Some(session) => {
                leptos::task::spawn_local(async move { session.sign_in(&return_to).await });
            }
            None => {
                let starting = self.status.with_untracked(|s| *s == AuthStatus::Starting);
                self.sign_in_after_start.set_value(Some(return_to));
                if !starting {
                    self.status.set(AuthStatus::Starting);
                    leptos::task::spawn_local(boot(*self, None));
                }
            }
        }
    }

    /// Signs out: forgets the tokens, revokes the refresh token (RFC 7009)
    /// and ends the provider session (RP-initiated logout) where the
    /// provider offers these.
    pub fn sign_out(&self) {
        if let Some(session) = self.session() {
            leptos::task::spawn_local(async move { session.sign_out().await });
        }
    }

    /// The current access token, refreshed first when it is due: for a
    /// WebSocket, or an HTTP client other than [`Auth::fetch`]. Send it only
    /// to the APIs it is for. A DPoP-bound token (`token_type` DPoP) is
    /// useless without a proof from this page's key, which never leaves
    /// WebCrypto: call such APIs through [`Auth::fetch`].
    pub async fn access_token(&self) -> Result<AccessToken, AuthError> {
        let session = self.session().ok_or(AuthError::NotSignedIn)?;
        session.access_token().await
    }

    /// Calls a resource with the access token (`Authorization: Bearer`, or
    /// `DPoP` with a proof for DPoP-bound tokens).
    /// `make` builds the request; it may be called twice (once more after
    /// a refresh on a 401). Only origins listed in `resource_origins` get
    /// the token; the token is refreshed first when it is due.
    pub async fn fetch(
        &self,
        make: impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<Response, AuthError> {
        let session = self.session().ok_or(AuthError::NotSignedIn)?;
        let unbuildable = || AuthError::Network("the request could not be built".into());
        let probe = make().map_err(|_| unbuildable())?;
        let (method, url) = (probe.method(), probe.url());
        let timeout = session.platform().request_timeout_ms();
        session
            .authorized(method.as_str(), &url, |auth: ResourceAuth| {
                let request = make();
                let url = url.clone();
                async move {
                    let request = request.map_err(|_| unbuildable())?;
                    // `make` may build another request the second time:
                    // the token goes only where it was allowed to.
                    if request.url() != url {
                        return Err(AuthError::ResourceNotAllowed(request.url()));
                    }
                    request.headers().set("Authorization", &auth.authorization);
                    if let Some(proof) = &auth.dpop {
                        request.headers().set("DPoP", proof);
                    }
                    send_resource(request, timeout).await
                }
            })
            .await
    }
}
