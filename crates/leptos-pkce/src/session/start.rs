//! Start-up: the configuration (when it is fetched), and the provider's
//! discovery document, loaded when first needed.

use std::cell::{Cell, OnceCell, RefCell};

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
    /// A signed-out session for `config` (checked with
    /// [`ClientConfig::validate`] by the caller). Nothing is requested
    /// yet: the provider's discovery document is loaded by the first step
    /// that needs the provider, so a visit that never signs in makes no
    /// request to it.
    pub fn new(platform: P, config: ClientConfig, options: SessionOptions) -> Self {
        Self {
            config,
            metadata: OnceCell::new(),
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
        }
    }

    /// The provider's metadata, from its discovery document: loaded once,
    /// on first use; a failure is not kept, so the next step asks again.
    pub(crate) async fn provider(&self) -> Result<&ProviderMetadata, AuthError> {
        if let Some(metadata) = self.metadata.get() {
            return Ok(metadata);
        }
        let url = discovery_url(&self.config.issuer);
        let answer = self
            .platform
            .send(HttpRequest::new(Endpoint::Discovery, &url, None))
            .await
            .map_err(|error| AuthError::DiscoveryFailed(error.to_string()))?;
        if answer.status != 200 {
            return Err(AuthError::DiscoveryFailed(format!(
                "HTTP {}",
                answer.status
            )));
        }
        let metadata = ProviderMetadata::from_json(&answer.body, &self.config.issuer)?;
        // Two steps may have asked at once: the first answer stays.
        Ok(self.metadata.get_or_init(|| metadata))
    }
}
