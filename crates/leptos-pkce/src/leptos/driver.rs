//! The browser side of the adapter: start-up, and the calls that need the
//! session engine and the page.

use std::rc::Rc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use web_sys::BroadcastChannel;

use super::{Auth, AuthOptions, ConfigSource, http, wiring};
use crate::browser::{Browser, perf, send_resource, tabs, window};
use crate::protocol::{AccessToken, AuthError, DEFAULT_REQUEST_TIMEOUT_MS, SignInOptions};
use crate::session::{
    AuthStatus, CapturedCallback, Clock as _, DpopKeys as _, ResourceAuth, Session, load_config,
    tab_channel_name,
};

pub(super) type BrowserSession = Session<Browser>;

/// What the handle keeps beside its signals.
pub(crate) struct Runtime {
    options: AuthOptions,
    /// A sign-in asked for before start-up had settled.
    sign_in_after_start: Option<SignInOptions>,
    session: Option<Rc<BrowserSession>>,
    channel: Option<BroadcastChannel>,
}

impl Runtime {
    pub(super) fn new(options: AuthOptions) -> Self {
        Self {
            options,
            sign_in_after_start: None,
            session: None,
            channel: None,
        }
    }
}

/// The session, once start-up made it.
pub(super) fn session(auth: Auth) -> Option<Rc<BrowserSession>> {
    auth.runtime
        .try_with_value(|runtime| runtime.session.clone())
        .flatten()
}

/// Closes the channel between tabs (the handle's owner is cleaned up).
pub(super) fn close_channel(auth: Auth) {
    if let Some(channel) = auth
        .runtime
        .try_with_value(|runtime| runtime.channel.clone())
        .flatten()
    {
        channel.close();
    }
}

/// Takes the callback off the URL at once, then starts up in a task.
pub(super) fn start(auth: Auth) {
    // Before anything is awaited: a callback's code leaves the URL now.
    let probe = Browser::new(DEFAULT_REQUEST_TIMEOUT_MS);
    let captured = CapturedCallback::capture(&probe, probe.now_ms());
    wiring::watch_page(auth);
    leptos::task::spawn_local(boot(auth, captured));
}

/// Start-up: the configuration, then what this page load is for (which
/// loads discovery when it needs the provider). A sign-in asked for
/// meanwhile goes on to the provider after it.
async fn boot(auth: Auth, captured: Option<CapturedCallback>) {
    perf::mark("oidc:start");
    let url_changed = captured.is_some();
    let options = auth.runtime.with_value(|runtime| runtime.options.clone());
    match start_session(options, url_changed).await {
        Ok((session, channel)) => {
            perf::measure_from("oidc:ready", "oidc:start");
            let session = Rc::new(session);
            wiring::observe(auth, &session);
            wiring::listen_to_tabs(channel.as_ref(), &session);
            auth.runtime.update_value(|runtime| {
                runtime.channel = channel;
                runtime.session = Some(Rc::clone(&session));
            });
            let before = window::current_path();
            session.resume(captured).await;
            if session.status().is_signed_in() && url_changed {
                perf::measure_from("oidc:callback", "oidc:start");
            }
            // Routers follow the URL the client wrote, in one render.
            if url_changed || before != window::current_path() {
                window::announce_url_change();
            }
            let asked = auth
                .runtime
                .try_update_value(|runtime| runtime.sign_in_after_start.take())
                .flatten();
            match asked {
                Some(options) if !session.status().is_signed_in() => {
                    let _ = session.sign_in_with(options).await;
                }
                _ => {
                    session.complete_profile().await;
                    session.prefetch_api_tokens().await;
                }
            }
        }
        Err(error) => {
            auth.runtime
                .update_value(|runtime| runtime.sign_in_after_start = None);
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
async fn start_session(
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
    let session = Session::new(browser, config, options.session);
    Ok((session, channel))
}

pub(super) fn claims<T: DeserializeOwned>(auth: Auth) -> Option<Result<T, AuthError>> {
    session(auth)?.claims()
}

pub(super) fn userinfo<T: DeserializeOwned>(auth: Auth) -> Option<Result<T, AuthError>> {
    session(auth)?.userinfo()
}

pub(super) fn sign_in(auth: Auth, options: SignInOptions) {
    let options = match options.return_to {
        Some(_) => options,
        None => options.return_to(window::current_path()),
    };
    if let Some(session) = session(auth) {
        leptos::task::spawn_local(async move {
            let _ = session.sign_in_with(options).await;
        });
        return;
    }
    let starting = auth.status.with_untracked(|s| *s == AuthStatus::Starting);
    auth.runtime
        .update_value(|runtime| runtime.sign_in_after_start = Some(options));
    if !starting {
        // Start-up failed (the provider was down): start again.
        auth.status.set(AuthStatus::Starting);
        leptos::task::spawn_local(boot(auth, None));
    }
}

pub(super) fn sign_out(auth: Auth) {
    if let Some(session) = session(auth) {
        leptos::task::spawn_local(async move { session.sign_out().await });
    }
}

pub(super) async fn access_token(auth: Auth, api: Option<&str>) -> Result<AccessToken, AuthError> {
    let session = session(auth).ok_or(AuthError::NotSignedIn)?;
    match api {
        None => session.access_token().await,
        Some(indicator) => session.access_token_for(indicator).await,
    }
}

/// `make` is a trait object: the engine's call (its refresh, 401 replay and
/// DPoP resends) is then compiled once, not once per call site.
pub(super) async fn fetch(
    auth: Auth,
    make: &dyn Fn() -> Result<http::Request, http::Error>,
) -> Result<http::Response, AuthError> {
    let session = session(auth).ok_or(AuthError::NotSignedIn)?;
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
                // `make` may build another request the next time: the
                // token goes only where it was allowed to.
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
