//! The authorization request ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1),
//! [RFC 7636 §4.3](https://www.rfc-editor.org/rfc/rfc7636#section-4.3),
//! [OIDC Core §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)).

use serde::Deserialize;

use super::codec::from_json;
use super::config::ClientConfig;
use super::discovery::ProviderMetadata;
use super::error::{AuthError, ConfigProblem, TokenResponseProblem};
use super::pending::PendingRequest;
use super::pkce::CODE_CHALLENGE_METHOD;
use super::random::{ENTROPY_BYTES, base64url};
use super::return_to::sanitize_return_path;
use super::secret::{CsrfState, Nonce, PkceCodeVerifier};
use super::sign_in_options::SignInOptions;
use super::uri::{append_query, form_encode};

/// The URL to send the person to, and what this tab must remember until the callback.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The provider's authorization endpoint with every parameter.
    pub url: String,
    /// The same parameters as a form, for a pushed authorization request
    /// ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)).
    pub form: String,
    /// To be written to sessionStorage just before the redirect.
    pub pending: PendingRequest,
}

/// How the provider should treat an existing session (`prompt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// Ask the person as usual (no `prompt` parameter).
    Default,
    /// `prompt=none`: sign in silently or fail with `login_required`.
    None,
    /// `prompt=login`: always ask for credentials.
    Login,
    /// `prompt=consent`: ask for consent again.
    Consent,
    /// `prompt=select_account`: let the person choose an account.
    SelectAccount,
}

impl Prompt {
    /// The parameter's value, if one is sent.
    pub(crate) fn value(self) -> Option<&'static str> {
        match self {
            Self::Default => None,
            Self::None => Some("none"),
            Self::Login => Some("login"),
            Self::Consent => Some("consent"),
            Self::SelectAccount => Some("select_account"),
        }
    }
}

/// The one-time values of a request. Split out so tests can fix them.
#[derive(Debug)]
pub struct RequestSecrets {
    /// Fresh `state`.
    pub state: CsrfState,
    /// Fresh PKCE verifier.
    pub code_verifier: PkceCodeVerifier,
    /// Fresh `nonce`.
    pub nonce: Nonce,
}

impl RequestSecrets {
    /// Three independent 256-bit random values from the platform's CSPRNG.
    pub fn random() -> Result<Self, AuthError> {
        Self::from_source(&mut |bytes| super::random::fill_random(bytes))
    }

    /// Three independent 256-bit values from `fill` (a CSPRNG port).
    pub fn from_source(
        fill: &mut dyn FnMut(&mut [u8]) -> Result<(), AuthError>,
    ) -> Result<Self, AuthError> {
        let mut token = || -> Result<String, AuthError> {
            let mut bytes = [0u8; ENTROPY_BYTES];
            fill(&mut bytes)?;
            Ok(base64url(&bytes))
        };
        Ok(Self {
            state: CsrfState::new(token()?),
            code_verifier: PkceCodeVerifier::new(token()?),
            nonce: Nonce::new(token()?),
        })
    }
}

impl AuthorizationRequest {
    /// Builds the request with fresh random secrets.
    pub fn new(
        config: &ClientConfig,
        metadata: &ProviderMetadata,
        options: &SignInOptions,
        now_ms: f64,
    ) -> Result<Self, AuthError> {
        Self::with_secrets(config, metadata, options, now_ms, RequestSecrets::random()?)
    }

    /// Binds the code to a DPoP key: `dpop_jkt` is its thumbprint
    /// ([RFC 9449 §10](https://www.rfc-editor.org/rfc/rfc9449#section-10)).
    #[must_use]
    pub fn bound_to(mut self, dpop_jkt: &str) -> Self {
        let pair = form_encode(&[("dpop_jkt", dpop_jkt)]);
        self.url = format!("{}&{pair}", self.url);
        self.form = format!("{}&{pair}", self.form);
        self
    }

    /// Builds the request with the given secrets: the protocol's
    /// parameters, then `options`' and the configuration's extra ones (none
    /// of which may override the protocol's).
    pub fn with_secrets(
        config: &ClientConfig,
        metadata: &ProviderMetadata,
        options: &SignInOptions,
        now_ms: f64,
        secrets: RequestSecrets,
    ) -> Result<Self, AuthError> {
        options.check()?;
        let apis = named_apis(config, options)?;
        let challenge = secrets.code_verifier.challenge();
        let scope = config.scope_for(&apis);
        let extra = options.request_params();
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", config.client_id.as_str()),
            ("redirect_uri", config.redirect_uri.as_str()),
            ("scope", scope.as_str()),
            ("state", secrets.state.secret()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", CODE_CHALLENGE_METHOD),
            ("nonce", secrets.nonce.secret()),
        ];
        // Every API is named (RFC 8707 §2.1); Auth0 takes one `audience`.
        let servers = apis.iter().filter_map(|slot| config.resources.get(*slot));
        params.extend(
            servers
                .clone()
                .filter_map(|server| Some(("resource", server.resource.as_deref()?))),
        );
        if let Some(audience) = servers.clone().find_map(|s| s.audience.as_deref()) {
            params.push(("audience", audience));
        }
        params.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        params.extend(
            config
                .extra_authorize_params
                .iter()
                .filter(|(name, _)| !extra.iter().any(|(set, _)| set == *name))
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let url = append_query(&metadata.authorization_endpoint, &params);
        let form = form_encode(&params);
        let pending = PendingRequest {
            state: secrets.state,
            code_verifier: secrets.code_verifier,
            nonce: secrets.nonce,
            issuer: config.issuer.clone(),
            redirect_uri: config.redirect_uri.clone(),
            return_to: sanitize_return_path(
                options.return_to.as_deref().unwrap_or("/"),
                config.callback_path(),
            ),
            created_at_ms: now_ms,
            silent: options.prompt == Some(Prompt::None),
            max_age_s: options.max_age_s(),
            acr_required: if options.require_acr {
                options.acr_values.clone()
            } else {
                Vec::new()
            },
            step_up_sub: None,
            apis,
        };
        Ok(Self { url, form, pending })
    }
}

/// Where to send the person after a pushed authorization request: only
/// `client_id` and the `request_uri` the provider returned.
pub fn pushed_authorization_url(
    authorization_endpoint: &str,
    client_id: &str,
    request_uri: &str,
) -> String {
    append_query(
        authorization_endpoint,
        &[("client_id", client_id), ("request_uri", request_uri)],
    )
}

/// The `request_uri` of a pushed authorization request's answer (201 with
/// JSON); provider errors keep their OAuth code, like the token endpoint's.
pub fn parse_pushed_authorization_response(status: u16, body: &str) -> Result<String, AuthError> {
    if !(200..300).contains(&status) {
        return Err(super::token::error_response(status, body));
    }
    /// The member the client reads ([RFC 9126 §2.2](https://www.rfc-editor.org/rfc/rfc9126#section-2.2)).
    #[derive(Deserialize)]
    struct PushedAuthorizationAnswer {
        request_uri: String,
    }
    from_json::<PushedAuthorizationAnswer>(body)
        .ok()
        .map(|answer| answer.request_uri)
        .filter(|uri| !uri.is_empty())
        .ok_or(AuthError::TokenResponseInvalid(
            TokenResponseProblem::NoRequestUri,
        ))
}

/// The APIs a sign-in names: the configuration's default ones, and those
/// `options` ask for (which must be configured).
fn named_apis(config: &ClientConfig, options: &SignInOptions) -> Result<Vec<usize>, AuthError> {
    let mut apis = config.default_apis();
    for indicator in &options.resources {
        let slot = config
            .resources
            .iter()
            .position(|server| server.indicator() == indicator)
            .ok_or_else(|| {
                AuthError::ConfigInvalid(ConfigProblem::Field {
                    field: "SignInOptions::resource",
                    problem: format!("`{indicator}` is no API of `resources`"),
                })
            })?;
        if !apis.contains(&slot) {
            apis.push(slot);
        }
    }
    apis.sort_unstable();
    Ok(apis)
}

#[cfg(test)]
pub(crate) mod tests;
