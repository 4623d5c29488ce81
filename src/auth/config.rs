//! Runtime client configuration, normally `config.json` from the app's own
//! origin, so one build can point at any OpenID provider.

use serde::Deserialize;

use super::error::AuthError;
use super::uri::parse_http_url;

/// What the client needs to know about its registration at the provider.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The issuer identifier, exactly as the provider's discovery document states it.
    pub issuer: String,
    /// The public client's `client_id` (there is no client secret).
    pub client_id: String,
    /// The registered redirect URI; its path is the app's callback route.
    pub redirect_uri: String,
    /// Where the provider sends the person after signing out.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// Scopes to request; must include `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The protected API the demo app calls.
    #[serde(default)]
    pub api_url: Option<String>,
    /// How long any request may take before it counts as failed (default 15 s).
    #[serde(default)]
    pub request_timeout_ms: Option<u32>,
}

/// The default for [`ClientConfig::request_timeout_ms`].
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 15_000;

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

impl ClientConfig {
    /// Parses and checks `config.json`. `app_origin` is the origin the app
    /// runs on: the redirect URIs must come back to it.
    pub fn from_json(text: &str, app_origin: &str) -> Result<Self, AuthError> {
        let config: Self = serde_json::from_str(text)
            .map_err(|err| AuthError::ConfigInvalid(format!("not valid: {err}")))?;
        config.validate(app_origin)?;
        Ok(config)
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
        if let Some(api) = &self.api_url
            && parse_http_url(api).is_none()
        {
            return bad("api_url", "must be an absolute http(s) URL");
        }
        if self
            .request_timeout_ms
            .is_some_and(|ms| !(100..=120_000).contains(&ms))
        {
            return bad("request_timeout_ms", "must be between 100 and 120000");
        }
        Ok(())
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
    fn names_the_bad_field() {
        let cases = [
            (r#","api_url":"nope""#, "api_url"),
            (
                r#","post_logout_redirect_uri":"https://evil.example/""#,
                "post_logout_redirect_uri",
            ),
            (r#","extra":1"#, "unknown field"),
        ];
        for (overrides, expected) in cases {
            let err = ClientConfig::from_json(&json(overrides), ORIGIN).expect_err(overrides);
            assert_eq!(err.code(), "config_invalid");
            assert!(err.to_string().contains(expected), "{err}");
        }
        let insecure = json("").replace("http://127.0.0.1:9000", "http://id.example.com");
        assert!(ClientConfig::from_json(&insecure, ORIGIN).is_err());
        let no_openid = json("").replace(r#"["openid","profile"]"#, r#"["profile"]"#);
        assert!(ClientConfig::from_json(&no_openid, ORIGIN).is_err());
        assert!(ClientConfig::from_json("<html>", ORIGIN).is_err());
    }
}
