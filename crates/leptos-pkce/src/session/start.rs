//! Start-up: the configuration (when it is fetched) and the provider's
//! discovery document.

use std::cell::{Cell, RefCell};

use super::phase::Phase;
use super::ports::{Endpoint, HttpRequest, Platform, Transport};
use super::verify::KeyCache;
use super::{DpopClient, Refresher, Session, SessionOptions, State, TabSync};
use crate::protocol::ConfigProblem;
use crate::protocol::{AuthError, ClientConfig, ProviderMetadata, discovery_url};

/// Fetches and checks the configuration at `url` (normally `/config.json`
/// on the app's own origin, `app_origin`).
pub async fn load_config(
    transport: &impl Transport,
    url: &str,
    app_origin: &str,
) -> Result<ClientConfig, AuthError> {
    let answer = transport
        .send(HttpRequest::new(Endpoint::Config, url, None))
        .await
        .map_err(|_| AuthError::ConfigInvalid(ConfigProblem::Unreachable { url: url.into() }))?;
    if answer.status != 200 {
        return Err(AuthError::ConfigInvalid(ConfigProblem::Status {
            url: url.into(),
            status: answer.status,
        }));
    }
    ClientConfig::from_json(&answer.body, app_origin)
}

impl<P: Platform> Session<P> {
    /// Loads the provider's discovery document for `config` (checked with
    /// [`ClientConfig::validate`] by the caller) and starts a signed-out
    /// session.
    pub async fn start(
        platform: P,
        config: ClientConfig,
        options: SessionOptions,
    ) -> Result<Self, AuthError> {
        let answer = platform
            .send(HttpRequest::new(
                Endpoint::Discovery,
                &discovery_url(&config.issuer),
                None,
            ))
            .await
            .map_err(|error| AuthError::DiscoveryFailed(error.to_string()))?;
        if answer.status != 200 {
            return Err(AuthError::DiscoveryFailed(format!(
                "HTTP {}",
                answer.status
            )));
        }
        let metadata = ProviderMetadata::from_json(&answer.body, &config.issuer)?;
        Ok(Self {
            config,
            metadata,
            refresher: Refresher::new(options.refresh_margin_ms()),
            options,
            state: RefCell::new(State {
                phase: Phase::Starting,
                warning: None,
            }),
            keys: KeyCache::default(),
            tabs: TabSync::new(super::tabs::new_tab_id(&platform)),
            dpop: DpopClient::default(),
            observer: RefCell::new(None),
            epoch: Cell::new(0),
            platform,
        })
    }
}
