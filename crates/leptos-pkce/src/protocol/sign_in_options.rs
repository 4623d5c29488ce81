//! What a sign-in asks of the provider beyond the defaults: the OpenID
//! Connect request parameters an app sets per sign-in
//! ([OIDC Core §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)),
//! and the provider's own (Auth0's `audience`, `organization`).

use std::time::Duration;

use super::error::{AuthError, ConfigProblem};
use super::request::Prompt;

/// The parameters the client sets itself: no option may override them.
const PROTOCOL_PARAMS: [&str; 10] = [
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "redirect_uri",
    "client_id",
    "response_type",
    "scope",
    "request_uri",
    "request",
];

/// The parameters with their own setter here (or in the configuration).
const OWN_SETTERS: [&str; 5] = [
    "prompt",
    "login_hint",
    "max_age",
    "acr_values",
    "ui_locales",
];

/// Refuses a parameter name the client sets itself, or one that has its
/// own setter; `field` names where it came from.
pub(crate) fn check_param_name(field: &'static str, name: &str) -> Result<(), AuthError> {
    let name = name.trim();
    let problem = if name.is_empty() {
        "has a parameter without a name".to_owned()
    } else if PROTOCOL_PARAMS.contains(&name) {
        format!("may not set `{name}`: the client sets it itself")
    } else if OWN_SETTERS.contains(&name) {
        format!("may not set `{name}`: it has its own sign-in option")
    } else {
        return Ok(());
    };
    Err(AuthError::ConfigInvalid(ConfigProblem::Field {
        field,
        problem,
    }))
}

/// How one sign-in goes, beyond the configuration: `Default` plus chained
/// setters.
///
/// ```
/// # use std::time::Duration;
/// # use leptos_pkce::SignInOptions;
/// # use leptos_pkce::protocol::Prompt;
/// let step_up = SignInOptions::default()
///     .return_to("/payments")
///     .max_age(Duration::from_secs(300))
///     .acr_values(["urn:example:mfa"])
///     .require_acr(true);
/// let hinted = SignInOptions::default()
///     .login_hint("alice@example.com")
///     .prompt(Prompt::Login)
///     .param("organization", "org_123");
/// # let _ = (step_up, hinted);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInOptions {
    pub(crate) return_to: Option<String>,
    pub(crate) prompt: Option<Prompt>,
    pub(crate) login_hint: Option<String>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) acr_values: Vec<String>,
    pub(crate) require_acr: bool,
    pub(crate) ui_locales: Vec<String>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) resources: Vec<String>,
}

impl SignInOptions {
    /// The in-app path to come back to (default: the current page).
    #[must_use]
    pub fn return_to(mut self, path: impl Into<String>) -> Self {
        self.return_to = Some(path.into());
        self
    }

    /// `prompt`: `Login` asks for credentials again, `Consent` for consent,
    /// `SelectAccount` lets the person choose an account.
    #[must_use]
    pub fn prompt(mut self, prompt: Prompt) -> Self {
        self.prompt = Some(prompt);
        self
    }

    /// `login_hint`: who is expected to sign in (an email, a username).
    #[must_use]
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// `max_age`: the person must have authenticated at most this long
    /// ago. The ID token must then carry `auth_time`, and it is checked.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `acr_values`: the authentication context classes asked for, in order
    /// of preference.
    #[must_use]
    pub fn acr_values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.acr_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the ID token's `acr` must be one of [`acr_values`](Self::acr_values)
    /// (a provider may otherwise answer with a weaker one).
    #[must_use]
    pub fn require_acr(mut self, required: bool) -> Self {
        self.require_acr = required;
        self
    }

    /// `ui_locales`: the languages the provider's pages should use.
    #[must_use]
    pub fn ui_locales<S: Into<String>>(mut self, locales: impl IntoIterator<Item = S>) -> Self {
        self.ui_locales = locales.into_iter().map(Into::into).collect();
        self
    }

    /// Another parameter for the provider (Auth0's `audience`, …). The
    /// protocol's own parameters cannot be set this way.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Also names the API `resource` (its `resource` or `audience` in the
    /// configuration's `resources`, typically an `on_demand` one), with its
    /// scopes: the person consents to it in this sign-in, and its token
    /// can then be fetched. An API not in `resources` is `config_invalid`.
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// The `max_age` in whole seconds.
    pub(crate) fn max_age_s(&self) -> Option<u64> {
        self.max_age.map(|age| age.as_secs())
    }

    /// Refuses a parameter the client sets itself.
    pub(crate) fn check(&self) -> Result<(), AuthError> {
        self.params
            .iter()
            .try_for_each(|(name, _)| check_param_name("SignInOptions::param", name))
    }

    /// The request parameters these options add.
    pub(crate) fn request_params(&self) -> Vec<(String, String)> {
        let mut params = Vec::new();
        let prompt = self.prompt.and_then(Prompt::value);
        if let Some(prompt) = prompt {
            params.push(("prompt".to_owned(), prompt.to_owned()));
        }
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value.filter(|value| !value.is_empty()) {
                params.push((name.to_owned(), value));
            }
        };
        add("login_hint", self.login_hint.clone());
        add("max_age", self.max_age_s().map(|s| s.to_string()));
        add("acr_values", Some(self.acr_values.join(" ")));
        add("ui_locales", Some(self.ui_locales.join(" ")));
        params.extend(self.params.iter().cloned());
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_the_oidc_parameters_in_order() {
        let options = SignInOptions::default()
            .prompt(Prompt::Login)
            .login_hint("alice")
            .max_age(Duration::from_secs(300))
            .acr_values(["mfa", "pwd"])
            .ui_locales(["fr-CA", "en"])
            .param("audience", "https://api.example.com");
        let params = options.request_params();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("prompt", "login"),
                ("login_hint", "alice"),
                ("max_age", "300"),
                ("acr_values", "mfa pwd"),
                ("ui_locales", "fr-CA en"),
                ("audience", "https://api.example.com"),
            ]
        );
        assert_eq!(options.check(), Ok(()));
    }

    #[test]
    fn protocol_parameters_cannot_be_overridden() {
        for name in [
            "state",
            "nonce",
            "code_challenge",
            "redirect_uri",
            "scope",
            " client_id ",
            "prompt",
            "",
        ] {
            let options = SignInOptions::default().param(name, "x");
            let Err(AuthError::ConfigInvalid(ConfigProblem::Field { field, problem })) =
                options.check()
            else {
                panic!("{name:?} was accepted");
            };
            assert_eq!(field, "SignInOptions::param");
            assert!(problem.contains(name.trim()), "{problem}");
        }
    }
}
