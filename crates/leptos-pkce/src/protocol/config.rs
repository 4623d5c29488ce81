//! Runtime client configuration, normally `config.json` from the app's own
//! origin, so one build can point at any OpenID provider.

use serde::{Deserialize, Deserializer};

use super::codec::{JsonError, from_json, null_as_default};
use super::error::AuthError;
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
    /// How long any request may take before it counts as failed (default 15 s).
    pub request_timeout_ms: Option<u32>,
    /// Sender-constrained tokens ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
    #[serde(default, deserialize_with = "null_as_default")]
    pub dpop: DpopMode,
    /// Push every authorization request ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)),
    /// even when the provider does not require it.
    #[serde(default)]
    pub par: bool,
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
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 15_000;

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

/// `"scopes": null` asks for the default scopes, like a missing `scopes`.
fn scopes_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_else(default_scopes))
}

impl ClientConfig {
    /// Parses and checks `config.json`. `app_origin` is the origin the app
    /// runs on: the redirect URIs must come back to it.
    pub fn from_json(text: &str, app_origin: &str) -> Result<Self, AuthError> {
        let config = Self::read(text).map_err(AuthError::ConfigInvalid)?;
        config.validate(app_origin)?;
        Ok(config)
    }

    fn read(text: &str) -> Result<Self, String> {
        from_json(text).map_err(|error| match error {
            JsonError::NotJson => "not valid JSON".to_owned(),
            JsonError::Shape(why) => why,
        })
    }

    /// Checks every field, naming the first bad one.
    pub fn validate(&self, app_origin: &str) -> Result<(), AuthError> {
        let bad =
            |field: &str, why: &str| Err(AuthError::ConfigInvalid(format!("`{field}` {why}")));

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
        for origin in &self.resource_origins {
            // `https://*` would be a wildcard in a CSP but matches nothing here: refused
            // in both places (scripts/csp.mjs) rather than read two ways.
            if origin.contains('*') {
                return bad(
                    "resource_origins",
                    "must list exact origins: no wildcard (`*`)",
                );
            }
            let parsed = parse_http_url(origin)
                .filter(|url| url.path.is_empty() && url.query.is_none() && !url.has_fragment);
            match parsed {
                None => {
                    return bad(
                        "resource_origins",
                        "must list origins like https://api.example.com",
                    );
                }
                Some(url) if !url.is_secure_or_loopback() => {
                    return bad(
                        "resource_origins",
                        "must use https (http only for localhost)",
                    );
                }
                Some(_) => {}
            }
        }
        if self
            .request_timeout_ms
            .is_some_and(|ms| !(100..=120_000).contains(&ms))
        {
            return bad("request_timeout_ms", "must be between 100 and 120000");
        }
        Ok(())
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
            request_timeout_ms: None,
            dpop: DpopMode::Auto,
            par: false,
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

    /// Whether `url` is on one of the [`resource_origins`](Self::resource_origins).
    pub fn allows_resource(&self, url: &str) -> bool {
        parse_http_url(url).is_some_and(|url| {
            let origin = url.origin();
            self.resource_origins
                .iter()
                .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(&origin))
        })
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

    /// The `scope` parameter: space-separated.
    pub fn scope_param(&self) -> String {
        self.scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://localhost:8080";

    fn json(overrides: &str) -> String {
        format!(
            r#"{{"issuer":"http://127.0.0.1:9000","client_id":"spa","redirect_uri":"http://localhost:8080/callback","scopes":["openid","profile"]{overrides}}}"#
        )
    }

    #[test]
    fn accepts_the_local_stack() {
        let config = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
        assert_eq!(config.callback_path(), "/callback");
        assert_eq!(config.scope_param(), "openid profile");
    }

    #[test]
    fn ignores_the_apps_own_settings() {
        let config =
            ClientConfig::from_json(&json(r#","api_url":"http://x","theme":{"a":1}"#), ORIGIN)
                .expect("valid");
        assert_eq!(config.client_id, "spa");
    }

    #[test]
    fn resource_origins_are_an_exact_allow_list() {
        let config = ClientConfig::from_json(
            &json(r#","resource_origins":["https://api.example.com","http://127.0.0.1:9100"]"#),
            ORIGIN,
        )
        .expect("valid");
        assert!(config.allows_resource("https://api.example.com/v1/me?x=1"));
        assert!(
            config.allows_resource("https://API.example.com/"),
            "hosts ignore case"
        );
        assert!(config.allows_resource("http://127.0.0.1:9100/api/hello"));
        assert!(
            !config.allows_resource("http://api.example.com/v1"),
            "cleartext"
        );
        assert!(!config.allows_resource("https://api.example.com.evil.test/"));
        assert!(!config.allows_resource("https://api.example.com:8443/"));
        assert!(!config.allows_resource("https://user@api.example.com/"));
        assert!(!config.allows_resource("/relative"));
        let none = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
        assert!(
            !none.allows_resource("https://api.example.com/"),
            "empty by default"
        );
    }

    #[test]
    fn dpop_and_par_are_read() {
        let config = ClientConfig::from_json(&json(r#","dpop":"required","par":true"#), ORIGIN)
            .expect("valid");
        assert_eq!((config.dpop, config.par), (DpopMode::Required, true));
        let default = ClientConfig::from_json(&json(""), ORIGIN).expect("valid");
        assert_eq!((default.dpop, default.par), (DpopMode::Auto, false));
        let nulls =
            json(r#","dpop":null,"post_logout_redirect_uri":null,"request_timeout_ms":null"#)
                .replace(r#""scopes":["openid","profile"]"#, r#""scopes":null"#);
        let nulls = ClientConfig::from_json(&nulls, ORIGIN).expect("null is the default");
        assert_eq!(
            nulls,
            ClientConfig::from_json(&json(""), ORIGIN).expect("valid")
        );
        let bad = ClientConfig::from_json(&json(r#","dpop":"sometimes""#), ORIGIN);
        assert!(
            bad.expect_err("unknown mode")
                .to_string()
                .contains("sometimes")
        );
    }

    #[test]
    fn builds_a_config_in_code() {
        let config = ClientConfig::new("https://id.example.com", "spa", "http://localhost:8080/cb")
            .with_scopes(["openid", "email"])
            .with_resource_origin("https://api.example.com");
        assert_eq!(config.validate(ORIGIN), Ok(()));
        assert_eq!(config.scope_param(), "openid email");
        assert_eq!(config.callback_path(), "/cb");
    }

    #[test]
    fn refuses_wildcard_resource_origins() {
        let wildcards = [
            "https://*",
            "https://*.example.com",
            "http://127.0.0.1:*",
            "*",
        ];
        for origin in wildcards {
            let overrides = format!(r#","resource_origins":["https://ok.example.com","{origin}"]"#);
            let err = ClientConfig::from_json(&json(&overrides), ORIGIN).expect_err(origin);
            let why = "`resource_origins` must list exact origins: no wildcard (`*`)";
            assert_eq!(err, AuthError::ConfigInvalid(why.into()), "{origin}");
        }
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            (r#","resource_origins":["nope"]"#, "resource_origins"),
            (
                r#","resource_origins":["http://api.example.com"]"#,
                "resource_origins",
            ),
            (
                r#","resource_origins":["https://api.example.com/path"]"#,
                "resource_origins",
            ),
            (
                r#","post_logout_redirect_uri":"https://evil.example/""#,
                "post_logout_redirect_uri",
            ),
        ];
        for (overrides, expected) in cases {
            let err = ClientConfig::from_json(&json(overrides), ORIGIN).expect_err(overrides);
            assert_eq!(err.code(), "config_invalid");
            assert!(err.to_string().contains(expected), "{err}");
        }
        let insecure = json("").replace("http://127.0.0.1:9000", "http://id.example.com");
        let err = ClientConfig::from_json(&insecure, ORIGIN).expect_err("http off loopback");
        assert_eq!(
            err,
            AuthError::ConfigInvalid("`issuer` must use https (http only for localhost)".into())
        );
        let no_openid = json("").replace(r#"["openid","profile"]"#, r#"["profile"]"#);
        let err = ClientConfig::from_json(&no_openid, ORIGIN).expect_err("no openid");
        assert_eq!(
            err,
            AuthError::ConfigInvalid("`scopes` must include \"openid\"".into())
        );
        let err = ClientConfig::from_json("<html>", ORIGIN).expect_err("not JSON");
        assert!(matches!(err, AuthError::ConfigInvalid(why) if why.starts_with("not valid")));
        for (text, why) in [
            (
                json("").replace(r#""client_id":"spa","#, ""),
                "missing field `client_id`",
            ),
            (json(r#","par":"yes""#), "invalid type"),
            (json(r#","request_timeout_ms":-1"#), "invalid value"),
            (
                json(r#","client_id":"other""#),
                "duplicate field `client_id`",
            ),
        ] {
            let err = ClientConfig::from_json(&text, ORIGIN).expect_err(&text);
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }
}
