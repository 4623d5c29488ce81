//! The Leptos facade: an [`Auth`] handle in context, a reactive
//! [`AuthStatus`], sign-in/sign-out, and an authorized `fetch` that refreshes
//! tokens (single flight) before expiry and once on a 401.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::future::{FutureExt as _, LocalBoxFuture, Shared, join};
use gloo_net::http::{Request, Response};
use leptos::prelude::*;

use crate::auth::backoff::retry_delay_ms;
use crate::auth::callback::{CallbackExpectations, CallbackParams, validate_callback};
use crate::auth::config::{ClientConfig, DEFAULT_REQUEST_TIMEOUT_MS};
use crate::auth::discovery::{ProviderMetadata, discovery_url};
use crate::auth::error::AuthError;
use crate::auth::id_token::IdTokenExpectations;
use crate::auth::jwk::{JwkSet, KeyChoice};
use crate::auth::jws::{CompactJws, SigningAlg};
use crate::auth::logout::{end_session_url, revocation_form};
use crate::auth::pending::{LOGOUT_PREFIX, PENDING_TTL_MS, SILENT_SKIP_KEY};
use crate::auth::random::random_token;
use crate::auth::request::{AuthorizationRequest, Prompt};
use crate::auth::secret::{IdToken, constant_time_eq};
use crate::auth::session::{TokenSet, UserProfile};
use crate::auth::token::{
    TokenResponse, authorization_code_form, parse_token_response, refresh_form,
};
use crate::auth::userinfo::parse_userinfo;
use crate::web::http::Http;
use crate::web::perf::{self, Span};
use crate::web::{browser, crypto, storage};

/// Where the client configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// Fetch this URL (normally `/config.json` on the app's own origin).
    Url(String),
    /// Use this configuration as it is.
    Inline(ClientConfig),
}

/// What the app should show. `data-state` of the test hook is [`AuthStatus::as_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStatus {
    /// Loading the configuration and the provider's metadata.
    Starting,
    /// Nobody is signed in.
    SignedOut,
    /// On the way to the provider, or finishing a callback.
    SigningIn,
    /// Signed in; tokens are in memory.
    SignedIn(UserProfile),
    /// Something failed; the error says what to do.
    Error(AuthError),
}

impl AuthStatus {
    /// `starting`, `signed-out`, `signing-in`, `signed-in` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::SignedOut => "signed-out",
            Self::SigningIn => "signing-in",
            Self::SignedIn(_) => "signed-in",
            Self::Error(_) => "error",
        }
    }

    /// The error's code, when in error.
    pub fn error_code(&self) -> Option<String> {
        match self {
            Self::Error(error) => Some(error.code().to_owned()),
            _ => None,
        }
    }
}

/// A cheap, copyable handle to the client. Get it with [`use_auth`].
#[derive(Clone, Copy)]
pub struct Auth {
    signals: Signals,
    client: StoredValue<Option<Rc<Client>>, LocalStorage>,
}

/// The reactive state shared by the handle and the client.
#[derive(Clone, Copy)]
struct Signals {
    status: RwSignal<AuthStatus>,
    /// A non-blocking problem (a background refresh failed but the session
    /// is still good), in words for the person.
    warning: RwSignal<Option<String>>,
    signing_out: RwSignal<bool>,
}

/// Starts the client (configuration, discovery, then the callback if this
/// page is one) and puts its handle in context.
pub fn provide_auth(source: ConfigSource) -> Auth {
    let signals = Signals {
        status: RwSignal::new(AuthStatus::Starting),
        warning: RwSignal::new(None),
        signing_out: RwSignal::new(false),
    };
    let auth = Auth {
        signals,
        client: StoredValue::new_local(None),
    };
    provide_context(auth);
    leptos::task::spawn_local(async move {
        perf::mark("oidc:start");
        match Client::start(source, signals).await {
            Ok(client) => {
                perf::measure_from("oidc:ready", "oidc:start");
                auth.client.set_value(Some(Rc::clone(&client)));
                client.watch_wake_ups();
                client.resume().await;
            }
            Err(error) => signals.status.set(AuthStatus::Error(error)),
        }
    });
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
    /// The reactive status.
    pub fn status(&self) -> ReadSignal<AuthStatus> {
        self.signals.status.read_only()
    }

    /// A non-blocking warning (for example: refreshing failed, retrying).
    pub fn warning(&self) -> ReadSignal<Option<String>> {
        self.signals.warning.read_only()
    }

    /// Whether a sign-out is on its way (revocation, then the provider).
    pub fn signing_out(&self) -> ReadSignal<bool> {
        self.signals.signing_out.read_only()
    }

    /// The configuration in use, once loaded.
    pub fn config(&self) -> Option<ClientConfig> {
        self.client().map(|client| client.config.clone())
    }

    fn client(&self) -> Option<Rc<Client>> {
        self.client.try_get_value().flatten()
    }

    /// Sends the person to the provider. They come back to `return_to`
    /// (an in-app path; default: the current page). If start-up failed,
    /// the page is loaded again to retry it.
    pub fn sign_in(&self, return_to: Option<String>) {
        match self.client() {
            Some(client) => client.sign_in(
                &return_to.unwrap_or_else(browser::current_path),
                Prompt::Default,
            ),
            // Start-up failed (provider unreachable, say): try it again.
            None => browser::reload(),
        }
    }

    /// Signs out: forgets the tokens, revokes the refresh token (RFC 7009)
    /// and ends the provider session (RP-initiated logout) where the
    /// provider offers these.
    pub fn sign_out(&self) {
        if let Some(client) = self.client() {
            leptos::task::spawn_local(async move { client.sign_out().await });
        }
    }

    /// Calls an API with `Authorization: Bearer`. `make` builds the request
    /// (it may be called twice: once more after a refresh on 401). The
    /// token is refreshed first when it is about to expire.
    pub async fn fetch(
        &self,
        make: impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<Response, AuthError> {
        let client = self.client().ok_or(AuthError::NotSignedIn)?;
        client.authorized_fetch(&make).await
    }
}

type RefreshFlight = Shared<LocalBoxFuture<'static, Result<(), AuthError>>>;

struct Client {
    config: ClientConfig,
    metadata: ProviderMetadata,
    http: Http,
    signals: Signals,
    tokens: RefCell<Option<TokenSet>>,
    jwks: RefCell<Option<Rc<JwkSet>>>,
    refresh_flight: RefCell<Option<RefreshFlight>>,
    refresh_timer: Cell<Option<TimeoutHandle>>,
    failed_refreshes: Cell<u32>,
}

impl Client {
    async fn start(source: ConfigSource, signals: Signals) -> Result<Rc<Self>, AuthError> {
        let config = match source {
            ConfigSource::Inline(config) => {
                config.validate(&browser::origin())?;
                config
            }
            ConfigSource::Url(url) => {
                let span = Span::start("oidc:config-request");
                let answer = Http {
                    timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
                }
                .get_own(&url, "the app's configuration")
                .await
                .map_err(|_| AuthError::ConfigInvalid(format!("{url} could not be loaded")))?;
                span.end();
                if answer.status != 200 {
                    return Err(AuthError::ConfigInvalid(format!(
                        "{url} answered HTTP {}",
                        answer.status
                    )));
                }
                ClientConfig::from_json(&answer.body, &browser::origin())?
            }
        };
        let http = Http {
            timeout_ms: config.request_timeout_ms(),
        };
        let span = Span::start("oidc:discovery-request");
        let answer = http
            .get(&discovery_url(&config.issuer), "the identity provider")
            .await
            .map_err(|error| AuthError::DiscoveryFailed(error.to_string()))?;
        span.end();
        if answer.status != 200 {
            return Err(AuthError::DiscoveryFailed(format!(
                "the provider answered HTTP {}",
                answer.status
            )));
        }
        let metadata = ProviderMetadata::from_json(&answer.body, &config.issuer)?;
        Ok(Rc::new(Self {
            config,
            metadata,
            http,
            signals,
            tokens: RefCell::new(None),
            jwks: RefCell::new(None),
            refresh_flight: RefCell::new(None),
            refresh_timer: Cell::new(None),
            failed_refreshes: Cell::new(0),
        }))
    }

    fn set_status(&self, status: AuthStatus) {
        self.signals.status.set(status);
    }

    /// After start-up: finish a callback or a logout if this page is one;
    /// otherwise try once to restore the session silently.
    async fn resume(self: &Rc<Self>) {
        let params = CallbackParams::from_query(&browser::search());
        let pending_logouts = storage::take_suffixes(LOGOUT_PREFIX);
        if browser::pathname() == self.config.callback_path() && params.is_authorization_response()
        {
            self.set_status(AuthStatus::SigningIn);
            let outcome = self.finish_callback(params).await;
            // Routers follow the wiped URL now, in one render with the outcome.
            browser::announce_url_change();
            let status = match outcome {
                Ok(profile) => {
                    perf::measure_from("oidc:callback", "oidc:start");
                    AuthStatus::SignedIn(profile)
                }
                Err((error, true)) if is_quiet_silent_failure(&error) => {
                    storage::set_marker(SILENT_SKIP_KEY);
                    AuthStatus::SignedOut
                }
                Err((error, _)) => AuthStatus::Error(error),
            };
            self.set_status(status);
            return;
        }
        storage::remove_all(Some(browser::now_ms() - PENDING_TTL_MS));
        if !pending_logouts.is_empty() {
            // The return from RP-initiated logout carries our `state`.
            let returned = params.state.as_deref().unwrap_or_default();
            browser::replace_url(&browser::pathname());
            let ours = pending_logouts
                .iter()
                .any(|state| constant_time_eq(state, returned));
            self.set_status(if ours {
                AuthStatus::SignedOut
            } else {
                AuthStatus::Error(AuthError::StateMismatch)
            });
            return;
        }
        if storage::has_marker(SILENT_SKIP_KEY) {
            self.set_status(AuthStatus::SignedOut);
        } else {
            // Tokens live in memory only: after a reload, ask the provider
            // (without any prompt) whether its session still stands.
            self.sign_in(&browser::current_path(), Prompt::None);
        }
    }

    /// The callback: `state` first, then the provider's answer, then the
    /// code exchange and the ID token. The pending request is removed
    /// whatever happens. The error comes with whether the attempt was silent.
    async fn finish_callback(
        self: &Rc<Self>,
        params: CallbackParams,
    ) -> Result<UserProfile, (AuthError, bool)> {
        let pending = params.state.as_deref().and_then(storage::take);
        storage::remove_all(None);
        // Wipe code and state from the address bar and history at once.
        let return_to = pending
            .as_ref()
            .map_or("/", |pending| pending.return_to.as_str());
        browser::replace_url_quietly(return_to);
        let silent = pending.as_ref().is_some_and(|pending| pending.silent);
        let fail = |error| (error, silent);

        let expect = CallbackExpectations {
            issuer: &self.config.issuer,
            iss_parameter_required: self.metadata.authorization_response_iss_parameter_supported,
            now_ms: browser::now_ms(),
        };
        let code = validate_callback(params, pending.as_ref(), expect).map_err(fail)?;
        let Some(pending) = pending else {
            return Err(fail(AuthError::StateMismatch));
        };
        let form = authorization_code_form(
            code,
            pending.code_verifier,
            &pending.redirect_uri,
            &self.config.client_id,
        );
        let exchange = async {
            let span = Span::start("oidc:token-request");
            let answer = self
                .http
                .post_form(&self.metadata.token_endpoint, form, "the sign-in service")
                .await;
            span.end();
            answer
        };
        // The ID token's check needs the provider's keys: fetch them while
        // the code is being exchanged, not after.
        let (answer, ()) = join(exchange, self.prefetch_signing_keys()).await;
        let answer = answer.map_err(fail)?;
        let response = parse_token_response(answer.status, &answer.body).map_err(fail)?;
        let alg = self
            .verify_id_token(response.id_token.as_ref())
            .await
            .map_err(fail)?;
        let expect = IdTokenExpectations {
            alg: Some(alg),
            ..self.id_token_expectations(Some(pending.nonce.secret()))
        };
        let tokens =
            TokenSet::from_code_exchange(response, &expect, browser::now_ms()).map_err(fail)?;
        let mut profile = tokens.profile();
        if let Some(userinfo) = self.load_userinfo(&tokens).await.map_err(fail)? {
            profile.merge_userinfo(userinfo);
        }
        storage::remove(SILENT_SKIP_KEY);
        *self.tokens.borrow_mut() = Some(tokens);
        self.schedule_refresh();
        Ok(profile)
    }

    fn id_token_expectations<'a>(&'a self, nonce: Option<&'a str>) -> IdTokenExpectations<'a> {
        IdTokenExpectations {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            now_s: browser::now_s(),
            alg: None,
        }
    }

    /// Checks the ID token's signature with the provider's key (by `kid`,
    /// refetching the key set once if the key is unknown: keys rotate).
    async fn verify_id_token(&self, id_token: Option<&IdToken>) -> Result<SigningAlg, AuthError> {
        let id_token = id_token.ok_or_else(|| AuthError::invalid_id_token("missing"))?;
        let jws = CompactJws::parse(id_token.secret())?;
        let alg = jws.allowed_alg(&self.metadata.id_token_signing_alg_values_supported)?;
        let kid = jws.header.kid.as_deref();
        let mut refetch = false;
        loop {
            let keys = self.signing_keys(refetch).await?;
            match keys.choose(alg, kid) {
                KeyChoice::Found(key) => {
                    return if crypto::verify(alg, key, jws.signing_input, &jws.signature).await? {
                        Ok(alg)
                    } else {
                        Err(AuthError::invalid_id_token("signature"))
                    };
                }
                KeyChoice::Ambiguous => {
                    return Err(AuthError::invalid_id_token("several keys and no kid"));
                }
                KeyChoice::UnknownKid if !refetch => refetch = true,
                KeyChoice::UnknownKid => return Err(AuthError::invalid_id_token("unknown key")),
            }
        }
    }

    /// Loads the key set into the cache; a failure here is retried (and
    /// reported) by the verification that needs the keys.
    async fn prefetch_signing_keys(&self) {
        if self.metadata.jwks_uri.is_some() {
            let _ = self.signing_keys(false).await;
        }
    }

    /// The provider's key set: cached, or fetched when `fresh` or not yet loaded.
    async fn signing_keys(&self, fresh: bool) -> Result<Rc<JwkSet>, AuthError> {
        if let Some(keys) = self.jwks.borrow().as_ref().filter(|_| !fresh) {
            return Ok(Rc::clone(keys));
        }
        let url =
            self.metadata.jwks_uri.as_deref().ok_or_else(|| {
                AuthError::invalid_id_token("the provider publishes no signing keys")
            })?;
        let span = Span::start("oidc:jwks-request");
        let answer = self
            .http
            .get(url, "the identity provider's signing keys")
            .await?;
        span.end();
        if answer.status != 200 {
            return Err(AuthError::ServerError(answer.status));
        }
        let keys = Rc::new(JwkSet::from_json(&answer.body)?);
        *self.jwks.borrow_mut() = Some(Rc::clone(&keys));
        Ok(keys)
    }

    /// Userinfo, when the provider has it and accepts this access token.
    /// A refusal (some providers bind access tokens to an API) leaves the ID
    /// token's claims; a different `sub` fails the sign-in.
    async fn load_userinfo(
        &self,
        tokens: &TokenSet,
    ) -> Result<Option<crate::auth::userinfo::UserinfoClaims>, AuthError> {
        let Some(endpoint) = self.metadata.userinfo_endpoint.as_deref() else {
            return Ok(None);
        };
        let span = Span::start("oidc:userinfo-request");
        let answer = self
            .http
            .get_with_bearer(
                endpoint,
                tokens.access_token.secret(),
                "the identity provider",
            )
            .await;
        span.end();
        match answer {
            Ok(answer) if answer.status == 200 => parse_userinfo(&answer.body, &tokens.claims.sub),
            _ => Ok(None),
        }
    }

    fn sign_in(&self, return_to: &str, prompt: Prompt) {
        let now = browser::now_ms();
        let span = Span::start("oidc:pkce");
        let request =
            AuthorizationRequest::new(&self.config, &self.metadata, return_to, prompt, now);
        span.end();
        // Expired requests were already purged when this page started.
        let started = request.and_then(|request| {
            storage::save(&request.pending)?;
            Ok(request.url)
        });
        match started {
            Ok(url) => {
                self.set_status(AuthStatus::SigningIn);
                browser::redirect(&url);
            }
            Err(error) => self.set_status(AuthStatus::Error(error)),
        }
    }

    async fn sign_out(self: &Rc<Self>) {
        self.signals.signing_out.set(true);
        let tokens = self.forget_tokens();
        storage::set_marker(SILENT_SKIP_KEY);
        if let (Some(endpoint), Some(refresh_token)) = (
            self.metadata.revocation_endpoint.as_deref(),
            tokens
                .as_ref()
                .and_then(|tokens| tokens.refresh_token.as_ref()),
        ) {
            // Best effort (RFC 7009 §2.2): the session ends either way.
            let form = revocation_form(refresh_token, &self.config.client_id);
            let _ = self
                .http
                .post_form(endpoint, form, "the sign-in service")
                .await;
        }
        let state = random_token().ok();
        if let (Some(endpoint), Some(state)) =
            (self.metadata.end_session_endpoint.as_deref(), state)
        {
            storage::set_marker(&format!("{LOGOUT_PREFIX}{state}"));
            let url = end_session_url(
                endpoint,
                tokens.as_ref().and_then(|tokens| tokens.id_token.as_ref()),
                &self.config.client_id,
                self.config.post_logout_redirect_uri.as_deref(),
                &state,
            );
            browser::redirect(&url);
        } else {
            self.signals.signing_out.set(false);
            self.set_status(AuthStatus::SignedOut);
        }
    }

    /// Drops every token and the refresh timer; returns what was dropped.
    fn forget_tokens(&self) -> Option<TokenSet> {
        if let Some(timer) = self.refresh_timer.take() {
            timer.clear();
        }
        self.signals.warning.set(None);
        self.tokens.borrow_mut().take()
    }

    async fn authorized_fetch(
        self: &Rc<Self>,
        make: &impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<Response, AuthError> {
        let due = self
            .tokens
            .borrow()
            .as_ref()
            .map(|tokens| tokens.needs_refresh(browser::now_ms()) && tokens.refresh_token.is_some())
            .ok_or(AuthError::NotSignedIn)?;
        if due && let Err(error) = self.refresh().await {
            // A transient failure is no reason to stop while the current
            // token is still valid.
            let still_valid = self
                .tokens
                .borrow()
                .as_ref()
                .is_some_and(|tokens| !tokens.is_expired(browser::now_ms()));
            if !(error.is_transient() && still_valid) {
                return Err(error);
            }
        }
        let (response, generation) = self.send_with_token(make).await?;
        if response.status() != 401 {
            return Ok(response);
        }
        // One refresh (unless another call already replaced the rejected
        // token) and one retry.
        if self.generation() == Some(generation) {
            self.refresh().await?;
        }
        Ok(self.send_with_token(make).await?.0)
    }

    fn generation(&self) -> Option<u64> {
        self.tokens
            .borrow()
            .as_ref()
            .map(|tokens| tokens.generation)
    }

    async fn send_with_token(
        &self,
        make: &impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<(Response, u64), AuthError> {
        let request = make()
            .map_err(|_| AuthError::Network("the API (the request could not be built)".into()))?;
        let generation = {
            let tokens = self.tokens.borrow();
            let tokens = tokens.as_ref().ok_or(AuthError::NotSignedIn)?;
            request.headers().set(
                "Authorization",
                &format!("Bearer {}", tokens.access_token.secret()),
            );
            tokens.generation
        };
        Ok((self.http.send(request, "the API").await?, generation))
    }

    /// Refreshes the tokens; concurrent callers share one request.
    async fn refresh(self: &Rc<Self>) -> Result<(), AuthError> {
        let flight = {
            let mut slot = self.refresh_flight.borrow_mut();
            if let Some(flight) = slot.as_ref() {
                flight.clone()
            } else {
                let client = Rc::clone(self);
                let flight = async move {
                    let span = Span::start("oidc:refresh");
                    let result = client.refresh_once().await;
                    span.end();
                    client.refresh_flight.borrow_mut().take();
                    result
                }
                .boxed_local()
                .shared();
                *slot = Some(flight.clone());
                flight
            }
        };
        flight.await
    }

    async fn refresh_once(self: &Rc<Self>) -> Result<(), AuthError> {
        let form = {
            let tokens = self.tokens.borrow();
            let tokens = tokens.as_ref().ok_or(AuthError::NotSignedIn)?;
            let refresh_token = tokens
                .refresh_token
                .as_ref()
                .ok_or(AuthError::SessionExpired)?;
            refresh_form(refresh_token, &self.config.client_id)
        };
        let result = self.request_refresh(form).await;
        let applied = match result {
            Ok((response, alg)) => match self.tokens.borrow_mut().as_mut() {
                Some(tokens) => {
                    let expect = IdTokenExpectations {
                        alg,
                        ..self.id_token_expectations(None)
                    };
                    tokens.apply_refresh(response, &expect, browser::now_ms())
                }
                // Signed out while the request was in flight: drop the answer.
                None => Err(AuthError::NotSignedIn),
            },
            Err(error) => Err(error),
        };
        match applied {
            Ok(()) => {
                self.failed_refreshes.set(0);
                self.signals.warning.set(None);
                self.schedule_refresh();
                Ok(())
            }
            Err(AuthError::NotSignedIn) => Err(AuthError::NotSignedIn),
            Err(error) if error.is_transient() => {
                let delay = self.schedule_retry();
                self.signals.warning.set(Some(format!(
                    "Could not renew your session: {error} Retrying in {} s; you are still signed in.",
                    delay.div_ceil(1000)
                )));
                Err(error)
            }
            Err(error) => {
                self.forget_tokens();
                self.set_status(AuthStatus::Error(error.clone()));
                Err(error)
            }
        }
    }

    /// The refresh POST, and the signature of a new ID token if one came.
    async fn request_refresh(
        &self,
        form: String,
    ) -> Result<(TokenResponse, Option<SigningAlg>), AuthError> {
        let span = Span::start("oidc:refresh-request");
        let answer = self
            .http
            .post_form(&self.metadata.token_endpoint, form, "the sign-in service")
            .await?;
        span.end();
        let response = parse_token_response(answer.status, &answer.body)?;
        let alg = match response.id_token.as_ref() {
            Some(id_token) => Some(self.verify_id_token(Some(id_token)).await?),
            None => None,
        };
        Ok((response, alg))
    }

    /// Arms the timer that refreshes ahead of expiry.
    fn schedule_refresh(self: &Rc<Self>) {
        let due = self
            .tokens
            .borrow()
            .as_ref()
            .filter(|tokens| tokens.refresh_token.is_some())
            .and_then(TokenSet::refresh_due_at_ms);
        if let Some(due) = due {
            self.arm_timer(due - browser::now_ms());
        }
    }

    /// After a transient failure: capped exponential backoff with jitter.
    /// Returns the delay in milliseconds.
    fn schedule_retry(self: &Rc<Self>) -> u32 {
        let attempt = self.failed_refreshes.get().saturating_add(1);
        self.failed_refreshes.set(attempt);
        let delay = retry_delay_ms(attempt, js_sys::Math::random());
        self.arm_timer(f64::from(delay));
        delay
    }

    fn arm_timer(self: &Rc<Self>, delay_ms: f64) {
        if let Some(timer) = self.refresh_timer.take() {
            timer.clear();
        }
        // setTimeout holds at most 2^31-1 ms.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let delay = Duration::from_millis(delay_ms.clamp(0.0, 2_147_483_647.0) as u64);
        let client = Rc::clone(self);
        let handle = set_timeout_with_handle(move || client.refresh_in_background(), delay);
        self.refresh_timer.set(handle.ok());
    }

    /// A timer or wake-up refresh. Offline, it waits for the `online` event.
    fn refresh_in_background(self: &Rc<Self>) {
        if !browser::is_online() {
            self.signals.warning.set(Some(
                "You are offline. Your session will be renewed when the connection is back.".into(),
            ));
            return;
        }
        let client = Rc::clone(self);
        leptos::task::spawn_local(async move {
            let _ = client.refresh().await;
        });
    }

    /// Timers stall in hidden tabs and sleeping laptops, and pause offline:
    /// check again when the page is visible, focused or back online.
    fn watch_wake_ups(self: &Rc<Self>) {
        for event in ["visibilitychange", "focus", "online"] {
            let client = Rc::clone(self);
            // Lives as long as the page: the handle is deliberately not removed.
            let _ = window_event_listener_untyped(event, move |_| client.wake_up());
        }
    }

    fn wake_up(self: &Rc<Self>) {
        if browser::is_hidden() || !browser::is_online() {
            return;
        }
        let due = self.tokens.borrow().as_ref().is_some_and(|tokens| {
            tokens.refresh_token.is_some() && tokens.needs_refresh(browser::now_ms())
        });
        if due {
            self.refresh_in_background();
        } else if self.signals.warning.get_untracked().is_some() && self.failed_refreshes.get() == 0
        {
            // The offline notice: nothing was due, so it no longer applies.
            self.signals.warning.set(None);
            self.schedule_refresh();
        }
    }
}

/// `prompt=none` failures that just mean "not signed in at the provider".
fn is_quiet_silent_failure(error: &AuthError) -> bool {
    matches!(
        error.code(),
        "login_required"
            | "interaction_required"
            | "consent_required"
            | "account_selection_required"
    )
}
