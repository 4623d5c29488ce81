//! Runtime client configuration, normally `config.json` from the app's own
//! origin, so one build can point at any OpenID provider.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::codec::{JsonError, from_json, null_as_default};
use super::error::{AuthError, ConfigProblem};
use super::resources::{ResourceServer, check_origin, check_resources, resource_for};
use super::uri::parse_http_url;

/// What the client needs to know about its registration at the provider.
/// Fields the library does not know (an app's own settings in the same
/// `config.json`) are ignored; an optional field may also be `null`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The issuer identifier, exactly as the provider's discovery document states it.
    pub issuer: String,
    /// The public client's `client_id` (there is no client secret).
    pub client_id: String,
    /// The registered redirect URI; its path is the app's callback route.
    pub redirect_uri: String,
    /// Where the provider sends the person after signing out.
    pub post_logout_redirect_uri: Option<String>,
    /// Scopes to request; must include `openid`.
    #[serde(default = "default_scopes", deserialize_with = "scopes_or_default")]
    pub scopes: Vec<String>,
    /// Origins (`https://api.example.com`) that may receive the access
    /// token from `Auth::fetch`: https only, except loopback.
    /// Requests to any other origin are refused before they are sent.
    #[serde(default)]
    pub resource_origins: Vec<String>,
    /// Several APIs, each with a token of its own, named to the provider
    /// ([RFC 8707](https://www.rfc-editor.org/rfc/rfc8707)). The first
    /// one's token comes with the sign-in; the others' from the refresh
    /// token, on their first call (or right after sign-in, `prefetch`).
    /// Use this or [`resource_origins`](Self::resource_origins), not both.
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<ResourceServer>,
    /// How long any request may take before it counts as failed (default 15 s).
    pub request_timeout_ms: Option<u32>,
    /// Sender-constrained tokens ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
    #[serde(default, deserialize_with = "null_as_default")]
    pub dpop: DpopMode,
    /// Push every authorization request ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)),
    /// even when the provider does not require it.
    #[serde(default)]
    pub par: bool,
    /// Parameters every authorization request carries besides the
    /// protocol's (Auth0's `audience`, …); a sign-in's own
    /// [`SignInOptions::param`](super::SignInOptions::param) wins.
    #[serde(default, deserialize_with = "null_as_default")]
    pub extra_authorize_params: BTreeMap<String, String>,
}

/// When to bind tokens to this page's DPoP key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DpopMode {
    /// When the provider advertises ES256 in `dpop_signing_alg_values_supported`.
    #[default]
    Auto,
    /// Always; a Bearer answer is an error.
    Required,
    /// Never.
    Off,
}

/// The default for [`ClientConfig::request_timeout_ms`].
pub(crate) const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 15_000;

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

/// `"scopes": null` asks for the default scopes, like a missing `scopes`.
fn scopes_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_else(default_scopes))
}

/// Refuses the configuration: `field` is not what `problem` says it must be.
fn bad(field: &'static str, problem: &str) -> Result<(), AuthError> {
    Err(AuthError::ConfigInvalid(ConfigProblem::Field {
        field,
        problem: problem.to_owned(),
    }))
}

impl ClientConfig {
    /// Parses and checks `config.json`. `app_origin` is the origin the app
    /// runs on: the redirect URIs must come back to it.
    pub fn from_json(text: &str, app_origin: &str) -> Result<Self, AuthError> {
        let config = Self::read(text).map_err(AuthError::ConfigInvalid)?;
        config.validate(app_origin)?;
        Ok(config)
    }

    fn read(text: &str) -> Result<Self, ConfigProblem> {
        from_json(text).map_err(|error| match error {
            JsonError::NotJson => ConfigProblem::NotJson,
            JsonError::Shape(why) => ConfigProblem::Shape(why),
        })
    }

    /// Checks every field, naming the first bad one.
    pub fn validate(&self, app_origin: &str) -> Result<(), AuthError> {
        let Some(issuer) = parse_http_url(&self.issuer) else {
            return bad("issuer", "must be an https URL");
        };
        if !issuer.is_secure_or_loopback() {
            return bad("issuer", "must use https (http only for localhost)");
        }
        if issuer.query.is_some() || issuer.has_fragment {
            return bad("issuer", "must not have a query or fragment");
        }
        if self.client_id.trim().is_empty() {
            return bad("client_id", "is empty");
        }
        self.check_redirect_uris(app_origin)?;
        if !self.scopes.iter().any(|scope| scope == "openid") {
            return bad("scopes", "must include \"openid\"");
        }
        if self
            .scopes
            .iter()
            .any(|scope| scope.is_empty() || scope.contains([' ', '"', '\\']))
        {
            return bad("scopes", "must be single words");
        }
        self.check_resource_origins()?;
        for name in self.extra_authorize_params.keys() {
            super::check_param_name("extra_authorize_params", name)?;
        }
        if self
            .request_timeout_ms
            .is_some_and(|ms| !(100..=120_000).contains(&ms))
        {
            return bad("request_timeout_ms", "must be between 100 and 120000");
        }
        Ok(())
    }

    /// The redirect URIs come back to this app's origin, without a fragment.
    fn check_redirect_uris(&self, app_origin: &str) -> Result<(), AuthError> {
        for (field, value) in [
            ("redirect_uri", Some(&self.redirect_uri)),
            (
                "post_logout_redirect_uri",
                self.post_logout_redirect_uri.as_ref(),
            ),
        ] {
            let Some(value) = value else { continue };
            let Some(url) = parse_http_url(value) else {
                return bad(field, "must be an absolute http(s) URL");
            };
            if url.has_fragment {
                return bad(field, "must not have a fragment");
            }
            if !url.origin().eq_ignore_ascii_case(app_origin) {
                return bad(
                    field,
                    &format!("must be on this app's origin ({app_origin})"),
                );
            }
        }
        Ok(())
    }

    /// Each resource origin is a bare origin, https except on loopback;
    /// `resources` are checked the same way, and go alone.
    fn check_resource_origins(&self) -> Result<(), AuthError> {
        for origin in &self.resource_origins {
            check_origin(origin).map_err(|problem| {
                AuthError::ConfigInvalid(ConfigProblem::Field {
                    field: "resource_origins",
                    problem: problem.to_owned(),
                })
            })?;
        }
        if !self.resources.is_empty() && !self.resource_origins.is_empty() {
            return bad(
                "resources",
                "goes alone: move the `resource_origins` into it, or drop it",
            );
        }
        check_resources(&self.resources)
    }

    /// A configuration with the default scopes (`openid profile`) and
    /// nothing else optional; check it with [`validate`](Self::validate).
    pub fn new(issuer: &str, client_id: &str, redirect_uri: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            post_logout_redirect_uri: None,
            scopes: default_scopes(),
            resource_origins: Vec::new(),
            resources: Vec::new(),
            request_timeout_ms: None,
            dpop: DpopMode::Auto,
            par: false,
            extra_authorize_params: BTreeMap::new(),
        }
    }

    /// Sets the DPoP mode (builder style).
    #[must_use]
    pub fn with_dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = mode;
        self
    }

    /// Pushes authorization requests (builder style).
    #[must_use]
    pub fn with_par(mut self, par: bool) -> Self {
        self.par = par;
        self
    }

    /// Sets the scopes (builder style).
    #[must_use]
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets where the provider returns after sign-out (builder style).
    #[must_use]
    pub fn with_post_logout_redirect_uri(mut self, uri: &str) -> Self {
        self.post_logout_redirect_uri = Some(uri.to_owned());
        self
    }

    /// Allows the access token to be sent to `origin` (builder style).
    #[must_use]
    pub fn with_resource_origin(mut self, origin: &str) -> Self {
        self.resource_origins.push(origin.to_owned());
        self
    }

    /// Adds an API with a token of its own (builder style).
    #[must_use]
    pub fn with_resource(mut self, server: ResourceServer) -> Self {
        self.resources.push(server);
        self
    }

    /// Whether `url` may receive an access token: it is on one of the
    /// [`resource_origins`](Self::resource_origins), or one of the
    /// [`resources`](Self::resources) is its API.
    pub fn allows_resource(&self, url: &str) -> bool {
        self.slot_for(url).is_some()
    }

    /// Which token `url` gets: the slot of its API in
    /// [`resources`](Self::resources) (origin, then the longest
    /// `path_prefix`), or 0 for one of the `resource_origins`.
    pub(crate) fn slot_for(&self, url: &str) -> Option<usize> {
        if !self.resources.is_empty() {
            return resource_for(&self.resources, url);
        }
        parse_http_url(url).and_then(|url| {
            let origin = url.origin();
            self.resource_origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(&origin))
                .then_some(0)
        })
    }

    /// The slot of the API named `indicator` (its `resource` or
    /// `audience`); 0 for the one token of `resource_origins`.
    pub(crate) fn slot_named(&self, indicator: &str) -> Option<usize> {
        if self.resources.is_empty() {
            return self
                .resource_origins
                .iter()
                .any(|origin| origin.trim_end_matches('/') == indicator.trim_end_matches('/'))
                .then_some(0);
        }
        self.resources
            .iter()
            .position(|server| server.indicator() == indicator)
    }

    /// The API of slot `slot`, when `resources` are configured.
    pub(crate) fn resource_server(&self, slot: usize) -> Option<&ResourceServer> {
        self.resources.get(slot)
    }

    /// The request timeout in milliseconds.
    pub fn request_timeout_ms(&self) -> u32 {
        self.request_timeout_ms
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT_MS)
    }

    /// The path of the redirect URI: the route that handles callbacks.
    pub fn callback_path(&self) -> &str {
        parse_http_url(&self.redirect_uri)
            .map(|url| if url.path.is_empty() { "/" } else { url.path })
            .unwrap_or("/")
    }

    /// The `scope` parameter of the default authorization request,
    /// space-separated: the configured scopes, then those of every API it
    /// names that are not among them.
    pub fn scope_param(&self) -> String {
        self.scope_for(&self.default_apis())
    }

    /// The slots of the APIs a sign-in names by default: all but the
    /// `on_demand` ones.
    pub(crate) fn default_apis(&self) -> Vec<usize> {
        (0..self.resources.len())
            .filter(|slot| !self.resources[*slot].on_demand)
            .collect()
    }

    /// The `scope` parameter for a sign-in that names the APIs of `slots`.
    pub(crate) fn scope_for(&self, slots: &[usize]) -> String {
        let mut scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let named = slots.iter().filter_map(|slot| self.resources.get(*slot));
        for scope in named.flat_map(|server| &server.scopes) {
            if !scopes.contains(&scope.as_str()) {
                scopes.push(scope);
            }
        }
        scopes.join(" ")
    }
}

#[cfg(test)]
mod tests;
