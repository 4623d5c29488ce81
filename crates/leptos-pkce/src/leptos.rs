//! The Leptos adapter: signals, tasks, one timer and the page's wake-up
//! listeners around the session engine. It decides nothing.

use std::cell::Cell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use gloo_net::http::{Request, Response};
use leptos::prelude::*;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::browser::{Browser, perf, send_resource, tabs, window};
use crate::protocol::{AuthError, ClientConfig, DEFAULT_REQUEST_TIMEOUT_MS};
use crate::session::{
    AuthStatus, AuthWarning, CapturedCallback, Clock as _, DpopKeys as _, ResourceAuth, Session,
    SessionOptions, load_config, tab_channel_name,
};

/// Where the client configuration comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConfigSource {
    /// Fetch this URL (normally `/config.json` on the app's own origin).
    Url(String),
    /// Use this configuration as it is.
    Inline(ClientConfig),
}

/// Options for [`provide_auth_with_options`], builder style.
#[derive(Debug, Clone)]
pub struct AuthOptions {
    source: ConfigSource,
    request_timeout_ms: Option<u32>,
    session: SessionOptions,
}

impl AuthOptions {
    /// Defaults: 15 s request timeout (or the configuration's), silent
    /// restore on, refresh margin 60 s.
    pub fn new(source: ConfigSource) -> Self {
        Self {
            source,
            request_timeout_ms: None,
            session: SessionOptions::default(),
        }
    }

    /// How long any request may take before it counts as failed.
    #[must_use]
    pub fn request_timeout_ms(mut self, ms: u32) -> Self {
        self.request_timeout_ms = Some(ms);
        self
    }

    /// Whether a page load without tokens tries one `prompt=none` round trip.
    #[must_use]
    pub fn silent_restore(mut self, on: bool) -> Self {
        self.session.silent_restore = on;
        self
    }

    /// Refresh at most this long before expiry.
    #[must_use]
    pub fn refresh_margin_ms(mut self, ms: u32) -> Self {
        self.session.refresh_margin_ms = ms;
        self
    }
}

type BrowserSession = Session<Browser>;

/// A cheap, copyable handle to the client. Get it with [`use_auth`].
#[derive(Clone, Copy)]
pub struct Auth {
    status: RwSignal<AuthStatus>,
    warning: RwSignal<Option<AuthWarning>>,
    signing_out: RwSignal<bool>,
    // Their read halves, made once: a conversion per call would put a new
    // signal in the reactive arena each time (and cost code).
    status_read: Signal<AuthStatus>,
    warning_read: Signal<Option<AuthWarning>>,
    signing_out_read: Signal<bool>,
    session: StoredValue<Option<Rc<BrowserSession>>, LocalStorage>,
    channel: StoredValue<Option<BroadcastChannel>, LocalStorage>,
}

/// Starts the client from `source` and puts its handle in context.
pub fn provide_auth(source: ConfigSource) -> Auth {
    provide_auth_with_options(AuthOptions::new(source))
}

/// Starts the client (configuration, discovery, then the callback if this
/// page is one) and puts its handle in context.
pub fn provide_auth_with_options(options: AuthOptions) -> Auth {
    let (status, warning, signing_out) = (
        RwSignal::new(AuthStatus::Starting),
        RwSignal::new(None),
        RwSignal::new(false),
    );
    let auth = Auth {
        status,
        warning,
        signing_out,
        status_read: status.into(),
        warning_read: warning.into(),
        signing_out_read: signing_out.into(),
        session: StoredValue::new_local(None),
        channel: StoredValue::new_local(None),
    };
    provide_context(auth);
    // Before anything is awaited: a callback's code leaves the URL now.
    let probe = Browser::new(DEFAULT_REQUEST_TIMEOUT_MS);
    let captured = CapturedCallback::capture(&probe, probe.now_ms());
    let url_changed = captured.is_some();
    watch_page(auth);
    leptos::task::spawn_local(async move {
        perf::mark("oidc:start");
        match start(options, url_changed).await {
            Ok((session, channel)) => {
                perf::measure_from("oidc:ready", "oidc:start");
                let session = Rc::new(session);
                observe(auth, &session);
                listen_to_tabs(channel.as_ref(), &session);
                auth.channel.set_value(channel);
                auth.session.set_value(Some(Rc::clone(&session)));
                let before = window::current_path();
                session.resume(captured).await;
                if matches!(session.status(), AuthStatus::SignedIn(_)) && url_changed {
                    perf::measure_from("oidc:callback", "oidc:start");
                }
                // Routers follow the URL the client wrote, in one render.
                if url_changed || before != window::current_path() {
                    window::announce_url_change();
                }
                session.complete_profile().await;
            }
            Err(error) => {
                auth.status.set(AuthStatus::Error(error));
                if url_changed {
                    window::announce_url_change();
                }
            }
        }
    });
    auth
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
            ports.dpop_key().await;
        }
    };
    let (config, ()) = futures::future::join(load, early_key).await;
    let config = config?;
    let request_timeout_ms = options
        .request_timeout_ms
        .unwrap_or_else(|| config.request_timeout_ms());
    let channel = tabs::open(&tab_channel_name(&config));
    let browser = ports
        .with_request_timeout(request_timeout_ms)
        .with_tab_channel(channel.clone());
    let session = Session::start(browser, config, options.session).await?;
    Ok((session, channel))
}

/// Hands the other tabs' messages to the session.
fn listen_to_tabs(channel: Option<&BroadcastChannel>, session: &Rc<BrowserSession>) {
    let Some(channel) = channel else { return };
    let weak = Rc::downgrade(session);
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let (text, key) = tabs::received(&event.data());
        if let (Some(session), Some(text)) = (weak.upgrade(), text)
            && session.on_tab_message(&text)
            && let Some(key) = key
        {
            // The adopted tokens are bound to the sender's key.
            session.platform().adopt_dpop_key(&key);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the channel, which is closed on cleanup.
    on_message.forget();
}

/// Mirrors the engine's state into the signals and keeps one timer armed
/// for its next wake-up.
fn observe(auth: Auth, session: &Rc<BrowserSession>) {
    let weak: Weak<BrowserSession> = Rc::downgrade(session);
    let timer: Rc<Cell<Option<TimeoutHandle>>> = Rc::default();
    let armed_for: Rc<Cell<Option<f64>>> = Rc::default();
    session.set_observer(move || {
        let Some(session) = weak.upgrade() else {
            return;
        };
        auth.status.set(session.status());
        auth.warning.set(session.warning());
        auth.signing_out.set(session.signing_out());
        let next = session.next_wake_at_ms();
        if next == armed_for.get() {
            return;
        }
        armed_for.set(next);
        if let Some(handle) = timer.take() {
            handle.clear();
        }
        // Offline, the `online` event wakes the session instead.
        let Some(at) = next.filter(|_| window::is_online()) else {
            return;
        };
        // setTimeout holds at most 2^31-1 ms; a short floor keeps a due
        // time in the past from spinning.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let delay = (at - session.platform().now_ms()).clamp(50.0, 2_147_483_647.0) as u64;
        let weak = Rc::downgrade(&session);
        let armed_for = Rc::clone(&armed_for);
        let fire = move || {
            armed_for.set(None);
            wake(weak.upgrade());
        };
        timer.set(set_timeout_with_handle(fire, Duration::from_millis(delay)).ok());
    });
}

fn wake(session: Option<Rc<BrowserSession>>) {
    if let Some(session) = session {
        leptos::task::spawn_local(async move { session.on_timer(window::is_online()).await });
    }
}

/// Timers stall in hidden tabs and sleeping laptops, and pause offline:
/// check again when the page is visible, focused or back online; a page
/// restored from the back/forward cache is looked at again.
fn watch_page(auth: Auth) {
    let on_wake = move |_| {
        if !window::is_hidden() {
            wake(auth.session());
        }
    };
    let handles = [
        window_event_listener_untyped("visibilitychange", on_wake),
        window_event_listener_untyped("focus", on_wake),
        window_event_listener_untyped("online", on_wake),
        window_event_listener_untyped("offline", move |_| {
            if let Some(session) = auth.session() {
                session.on_offline();
            }
        }),
        window_event_listener(leptos::ev::pageshow, move |event| {
            if event.persisted()
                && let Some(session) = auth.session()
            {
                session.on_page_restored();
            }
        }),
    ];
    on_cleanup(move || {
        handles.into_iter().for_each(|handle| handle.remove());
        if let Some(channel) = auth.channel.try_get_value().flatten() {
            channel.close();
        }
    });
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
    /// (an in-app path; default: the current page). If start-up failed,
    /// the page is loaded again to retry it.
    pub fn sign_in(&self, return_to: Option<String>) {
        match self.session() {
            Some(session) => {
                let return_to = return_to.unwrap_or_else(window::current_path);
                leptos::task::spawn_local(async move { session.sign_in(&return_to).await });
            }
            None => window::reload(),
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
                async move {
                    let request = request.map_err(|_| unbuildable())?;
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
