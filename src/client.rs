//! The Leptos facade: an [`Auth`] handle in context, a reactive
//! [`AuthStatus`], sign-in/sign-out, and an authorized `fetch` that refreshes
//! tokens (single flight) before expiry and once on a 401.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::future::{FutureExt as _, LocalBoxFuture, Shared};
use gloo_net::http::{Request, Response};
use leptos::prelude::*;

use crate::auth::callback::{CallbackExpectations, CallbackParams, validate_callback};
use crate::auth::config::ClientConfig;
use crate::auth::discovery::{ProviderMetadata, discovery_url};
use crate::auth::error::AuthError;
use crate::auth::id_token::IdTokenExpectations;
use crate::auth::pending::PENDING_TTL_MS;
use crate::auth::request::{AuthorizationRequest, Prompt};
use crate::auth::session::{TokenSet, UserProfile};
use crate::auth::token::{authorization_code_form, parse_token_response, refresh_form};
use crate::web::{browser, http, storage};

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
    status: RwSignal<AuthStatus>,
    client: StoredValue<Option<Rc<Client>>, LocalStorage>,
}

/// Starts the client (configuration, discovery, then the callback if this
/// page is one) and puts its handle in context.
pub fn provide_auth(source: ConfigSource) -> Auth {
    let auth = Auth {
        status: RwSignal::new(AuthStatus::Starting),
        client: StoredValue::new_local(None),
    };
    provide_context(auth);
    leptos::task::spawn_local(async move {
        match Client::start(source, auth.status).await {
            Ok(client) => {
                auth.client.set_value(Some(Rc::clone(&client)));
                client.resume().await;
            }
            Err(error) => auth.status.set(AuthStatus::Error(error)),
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
        self.status.read_only()
    }

    /// The configuration in use, once loaded.
    pub fn config(&self) -> Option<ClientConfig> {
        self.client().map(|client| client.config.clone())
    }

    fn client(&self) -> Option<Rc<Client>> {
        self.client.try_get_value().flatten()
    }

    /// Sends the person to the provider. They come back to `return_to`
    /// (an in-app path; default: the current page).
    pub fn sign_in(&self, return_to: Option<String>) {
        if let Some(client) = self.client() {
            client.sign_in(&return_to.unwrap_or_else(browser::current_path), Prompt::Default);
        }
    }

    /// Forgets the session in this tab.
    pub fn sign_out(&self) {
        if let Some(client) = self.client() {
            client.end_session(AuthStatus::SignedOut);
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

/// Refresh retries after transient failures wait 2^n s (capped), with jitter.
const MAX_RETRY_DELAY_MS: f64 = 60_000.0;

struct Client {
    config: ClientConfig,
    metadata: ProviderMetadata,
    status: RwSignal<AuthStatus>,
    tokens: RefCell<Option<TokenSet>>,
    refresh_flight: RefCell<Option<RefreshFlight>>,
    refresh_timer: Cell<Option<leptos::prelude::TimeoutHandle>>,
    failed_refreshes: Cell<u32>,
}

impl Client {
    async fn start(source: ConfigSource, status: RwSignal<AuthStatus>) -> Result<Rc<Self>, AuthError> {
        let config = match source {
            ConfigSource::Inline(config) => {
                config.validate(&browser::origin())?;
                config
            }
            ConfigSource::Url(url) => {
                let answer = http::get(&url, "the app's configuration")
                    .await
                    .map_err(|_| AuthError::ConfigInvalid(format!("{url} could not be loaded")))?;
                if answer.status != 200 {
                    return Err(AuthError::ConfigInvalid(format!("{url} answered HTTP {}", answer.status)));
                }
                ClientConfig::from_json(&answer.body, &browser::origin())?
            }
        };
        let answer = http::get(&discovery_url(&config.issuer), "the identity provider")
            .await
            .map_err(|error| AuthError::DiscoveryFailed(error.to_string()))?;
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
            status,
            tokens: RefCell::new(None),
            refresh_flight: RefCell::new(None),
            refresh_timer: Cell::new(None),
            failed_refreshes: Cell::new(0),
        }))
    }

    /// After start-up: finish a callback if this page is one.
    async fn resume(self: &Rc<Self>) {
        let params = CallbackParams::from_query(&browser::search());
        if browser::pathname() != self.config.callback_path() || !params.is_authorization_response() {
            storage::remove_all(Some(browser::now_ms() - PENDING_TTL_MS));
            self.status.set(AuthStatus::SignedOut);
            return;
        }
        self.status.set(AuthStatus::SigningIn);
        let silent = match self.finish_callback(params).await {
            Ok(()) => return,
            Err((error, silent)) if silent && is_quiet_silent_failure(&error) => {
                self.status.set(AuthStatus::SignedOut);
                return;
            }
            Err((error, _)) => error,
        };
        self.status.set(AuthStatus::Error(silent));
    }

    /// The callback: `state` first, then the provider's answer, then the
    /// code exchange. The pending request is removed whatever happens.
    async fn finish_callback(self: &Rc<Self>, params: CallbackParams) -> Result<(), (AuthError, bool)> {
        let pending = params.state.as_deref().and_then(storage::take);
        storage::remove_all(None);
        // Wipe code and state from the address bar and history at once.
        let return_to = pending.as_ref().map_or("/", |pending| pending.return_to.as_str());
        browser::replace_url(return_to);
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
        let form = authorization_code_form(code, pending.code_verifier, &pending.redirect_uri, &self.config.client_id);
        let answer = http::post_form(&self.metadata.token_endpoint, form, "the sign-in service")
            .await
            .map_err(fail)?;
        let response = parse_token_response(answer.status, &answer.body).map_err(fail)?;
        let expect = IdTokenExpectations {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce: Some(pending.nonce.secret()),
            now_s: browser::now_s(),
        };
        let tokens = TokenSet::from_code_exchange(response, &expect, browser::now_ms()).map_err(fail)?;
        let profile = tokens.profile();
        *self.tokens.borrow_mut() = Some(tokens);
        self.status.set(AuthStatus::SignedIn(profile));
        self.schedule_refresh();
        Ok(())
    }

    fn sign_in(&self, return_to: &str, prompt: Prompt) {
        let now = browser::now_ms();
        let started = AuthorizationRequest::new(&self.config, &self.metadata, return_to, prompt, now)
            .and_then(|request| {
                storage::remove_all(Some(now - PENDING_TTL_MS));
                storage::save(&request.pending)?;
                Ok(request.url)
            });
        match started {
            Ok(url) => {
                self.status.set(AuthStatus::SigningIn);
                browser::redirect(&url);
            }
            Err(error) => self.status.set(AuthStatus::Error(error)),
        }
    }

    /// Drops every token and the refresh timer.
    fn end_session(&self, status: AuthStatus) {
        if let Some(timer) = self.refresh_timer.take() {
            timer.clear();
        }
        self.tokens.borrow_mut().take();
        self.status.set(status);
    }

    async fn authorized_fetch(
        self: &Rc<Self>,
        make: &impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<Response, AuthError> {
        let due = self
            .tokens
            .borrow()
            .as_ref()
            .map(|tokens| tokens.needs_refresh(browser::now_ms()))
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
        self.tokens.borrow().as_ref().map(|tokens| tokens.generation)
    }

    async fn send_with_token(
        &self,
        make: &impl Fn() -> Result<Request, gloo_net::Error>,
    ) -> Result<(Response, u64), AuthError> {
        let request = make().map_err(|_| AuthError::Network("the API (the request could not be built)".into()))?;
        let generation = {
            let tokens = self.tokens.borrow();
            let tokens = tokens.as_ref().ok_or(AuthError::NotSignedIn)?;
            request
                .headers()
                .set("Authorization", &format!("Bearer {}", tokens.access_token.secret()));
            tokens.generation
        };
        Ok((http::send(request, "the API").await?, generation))
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
                    let result = client.refresh_once().await;
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
            let refresh_token = tokens.refresh_token.as_ref().ok_or(AuthError::SessionExpired)?;
            refresh_form(refresh_token, &self.config.client_id)
        };
        let result = match http::post_form(&self.metadata.token_endpoint, form, "the sign-in service").await {
            Ok(answer) => parse_token_response(answer.status, &answer.body),
            Err(error) => Err(error),
        };
        let expect = IdTokenExpectations {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce: None,
            now_s: browser::now_s(),
        };
        let applied = result.and_then(|response| match self.tokens.borrow_mut().as_mut() {
            Some(tokens) => tokens.apply_refresh(response, &expect, browser::now_ms()),
            // Signed out while the request was in flight: drop the answer.
            None => Err(AuthError::NotSignedIn),
        });
        match applied {
            Ok(()) => {
                self.failed_refreshes.set(0);
                self.schedule_refresh();
                Ok(())
            }
            Err(AuthError::NotSignedIn) => Err(AuthError::NotSignedIn),
            Err(error) if error.is_transient() => {
                self.schedule_retry();
                Err(error)
            }
            Err(error) => {
                self.end_session(AuthStatus::Error(error.clone()));
                Err(error)
            }
        }
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
    fn schedule_retry(self: &Rc<Self>) {
        let attempt = self.failed_refreshes.get().saturating_add(1);
        self.failed_refreshes.set(attempt);
        let ceiling = (1000.0 * 2f64.powi(attempt.min(16).cast_signed())).min(MAX_RETRY_DELAY_MS);
        self.arm_timer(ceiling * (0.5 + js_sys::Math::random() / 2.0));
    }

    fn arm_timer(self: &Rc<Self>, delay_ms: f64) {
        if let Some(timer) = self.refresh_timer.take() {
            timer.clear();
        }
        // setTimeout holds at most 2^31-1 ms.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let delay = Duration::from_millis(delay_ms.clamp(0.0, 2_147_483_647.0) as u64);
        let client = Rc::clone(self);
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    let _ = client.refresh().await;
                });
            },
            delay,
        );
        self.refresh_timer.set(handle.ok());
    }
}

/// `prompt=none` failures that just mean "not signed in at the provider".
fn is_quiet_silent_failure(error: &AuthError) -> bool {
    matches!(
        error.code(),
        "login_required" | "interaction_required" | "consent_required" | "account_selection_required"
    )
}
