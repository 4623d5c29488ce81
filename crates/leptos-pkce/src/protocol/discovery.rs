//! OpenID Provider metadata ([OpenID Connect Discovery 1.0](https://openid.net/specs/openid-connect-discovery-1_0.html)).

use serde::Deserialize;

use super::codec::from_json;
use super::error::AuthError;
use super::uri::parse_http_url;

/// The subset of provider metadata the client uses; the other members are
/// ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// Must equal the configured issuer exactly.
    pub issuer: String,
    /// Where the person is sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: String,
    /// OpenID Connect userinfo.
    pub userinfo_endpoint: Option<String>,
    /// The provider's signing keys.
    pub jwks_uri: Option<String>,
    /// RP-initiated logout.
    pub end_session_endpoint: Option<String>,
    /// Token revocation ([RFC 7009](https://www.rfc-editor.org/rfc/rfc7009)).
    pub revocation_endpoint: Option<String>,
    /// PKCE methods; when present it must list `S256`.
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// [RFC 9207](https://www.rfc-editor.org/rfc/rfc9207): the callback carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// ID token signature algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// DPoP proof algorithms ([RFC 9449 §5.1](https://www.rfc-editor.org/rfc/rfc9449#section-5.1)).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// The pushed authorization request endpoint ([RFC 9126](https://www.rfc-editor.org/rfc/rfc9126)).
    pub pushed_authorization_request_endpoint: Option<String>,
    /// The provider accepts pushed authorization requests only.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
}

/// `{issuer}/.well-known/openid-configuration`, with any trailing `/` of the
/// issuer removed first (Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl ProviderMetadata {
    /// Parses a discovery document and checks it belongs to `expected_issuer`.
    pub fn from_json(text: &str, expected_issuer: &str) -> Result<Self, AuthError> {
        let metadata: Self = from_json(text).map_err(|error| {
            AuthError::DiscoveryFailed(format!(
                "the discovery document is not valid ({})",
                error.reason()
            ))
        })?;
        metadata.validate(expected_issuer)?;
        Ok(metadata)
    }

    fn validate(&self, expected_issuer: &str) -> Result<(), AuthError> {
        // Discovery §4.3: the issuer must be identical, or an attacker's
        // document could stand in for the real provider's.
        if self.issuer != expected_issuer {
            return Err(AuthError::DiscoveryFailed(format!(
                "the provider calls itself “{}”, but config.json says “{expected_issuer}”",
                self.issuer
            )));
        }
        let endpoints = [
            ("authorization_endpoint", Some(&self.authorization_endpoint)),
            ("token_endpoint", Some(&self.token_endpoint)),
            ("userinfo_endpoint", self.userinfo_endpoint.as_ref()),
            ("jwks_uri", self.jwks_uri.as_ref()),
            ("end_session_endpoint", self.end_session_endpoint.as_ref()),
            ("revocation_endpoint", self.revocation_endpoint.as_ref()),
            (
                "pushed_authorization_request_endpoint",
                self.pushed_authorization_request_endpoint.as_ref(),
            ),
        ];
        for (name, url) in endpoints {
            let Some(url) = url else { continue };
            if !parse_http_url(url)
                .is_some_and(|url| url.is_secure_or_loopback() && !url.has_fragment)
            {
                return Err(AuthError::DiscoveryFailed(format!(
                    "its {name} is not a secure URL"
                )));
            }
        }
        if let Some(methods) = &self.code_challenge_methods_supported
            && !methods.iter().any(|method| method == "S256")
        {
            return Err(AuthError::DiscoveryFailed(
                "the provider does not support PKCE with S256".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:9000";

    fn doc(issuer: &str, extra: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/auth","token_endpoint":"{issuer}/token"{extra}}}"#
        )
    }

    #[test]
    fn url_drops_trailing_slash() {
        assert_eq!(
            discovery_url("https://id.example.com/realms/x/"),
            "https://id.example.com/realms/x/.well-known/openid-configuration"
        );
    }

    #[test]
    fn accepts_matching_issuer() {
        let metadata = ProviderMetadata::from_json(
            &doc(ISSUER, r#","code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true"#),
            ISSUER,
        )
        .expect("valid");
        assert!(metadata.authorization_response_iss_parameter_supported);
    }

    #[test]
    fn rejects_other_issuer_plain_only_pkce_and_insecure_endpoints() {
        let other = ProviderMetadata::from_json(&doc("http://127.0.0.1:9001", ""), ISSUER);
        assert_eq!(other.expect_err("issuer").code(), "discovery_failed");
        let plain = doc(ISSUER, r#","code_challenge_methods_supported":["plain"]"#);
        assert!(matches!(
            ProviderMetadata::from_json(&plain, ISSUER),
            Err(AuthError::DiscoveryFailed(why)) if why.contains("S256")
        ));
        let insecure = doc(ISSUER, r#","jwks_uri":"http://keys.example.com/jwks""#);
        assert!(matches!(
            ProviderMetadata::from_json(&insecure, ISSUER),
            Err(AuthError::DiscoveryFailed(why)) if why.contains("not a secure URL")
        ));
        assert!(matches!(
            ProviderMetadata::from_json("<!doctype html>", ISSUER),
            Err(AuthError::DiscoveryFailed(why)) if why.contains("not valid")
        ));
    }
}
