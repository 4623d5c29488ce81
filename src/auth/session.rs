//! The tokens of a signed-in session, held in memory only, and when to
//! refresh them.

use super::error::AuthError;
use super::id_token::{IdTokenClaims, IdTokenExpectations, decode};
use super::secret::{AccessToken, IdToken, RefreshToken};
use super::token::TokenResponse;
use super::userinfo::UserinfoClaims;

/// Refresh this long before expiry at most…
pub const MAX_REFRESH_MARGIN_MS: f64 = 60_000.0;
/// …and at most this fraction of the token's lifetime, so short-lived
/// tokens are not refreshed the moment they arrive.
pub const REFRESH_MARGIN_FRACTION: f64 = 0.25;

/// Who signed in, from the ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// Subject identifier at the provider.
    pub sub: String,
    /// The name to show.
    pub name: String,
    /// Email, if shared.
    pub email: Option<String>,
}

impl UserProfile {
    /// Fills in what a (matching) userinfo answer adds.
    pub fn merge_userinfo(&mut self, userinfo: UserinfoClaims) {
        if let Some(name) = userinfo
            .name
            .or(userinfo.preferred_username)
            .filter(|name| !name.trim().is_empty())
        {
            self.name = name;
        }
        if userinfo.email.is_some() {
            self.email = userinfo.email;
        }
    }
}

impl From<&IdTokenClaims> for UserProfile {
    fn from(claims: &IdTokenClaims) -> Self {
        Self {
            sub: claims.sub.clone(),
            name: claims.display_name().to_owned(),
            email: claims.email.clone(),
        }
    }
}

/// Tokens of the current session. Lives in memory only and is never cloned.
#[derive(Debug)]
pub struct TokenSet {
    /// Sent as Bearer.
    pub access_token: AccessToken,
    /// Rotated on every refresh; `None` if the provider issued none.
    pub refresh_token: Option<RefreshToken>,
    /// The latest ID token (kept for `id_token_hint` at sign-out).
    pub id_token: Option<IdToken>,
    /// Claims of the first, validated ID token.
    pub claims: IdTokenClaims,
    /// When the access token expires (ms since the epoch), if known.
    pub expires_at_ms: Option<f64>,
    /// When it was received (ms since the epoch).
    pub received_at_ms: f64,
    /// Increases with every new access token, so a 401 answer can tell
    /// whether the token it rejected is still the current one.
    pub generation: u64,
}

impl TokenSet {
    /// Builds the session from the code exchange, checking the ID token's
    /// claims (the signature is checked by the caller, against the JWKS).
    pub fn from_code_exchange(
        response: TokenResponse,
        expect: &IdTokenExpectations<'_>,
        now_ms: f64,
    ) -> Result<Self, AuthError> {
        let id_token = response
            .id_token
            .ok_or_else(|| AuthError::InvalidIdToken("missing".into()))?;
        let claims = decode(id_token.secret())?;
        claims.validate(expect)?;
        claims.check_at_hash(expect.alg, response.access_token.secret())?;
        Ok(Self {
            expires_at_ms: expires_at(response.expires_in, now_ms),
            access_token: response.access_token,
            refresh_token: response.refresh_token,
            id_token: Some(id_token),
            claims,
            received_at_ms: now_ms,
            generation: 1,
        })
    }

    /// Applies a refresh response: the new refresh token replaces (and
    /// drops) the old one; if none was sent, the old one stays
    /// ([RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)). A new
    /// ID token must name the same issuer and subject
    /// ([OIDC Core §12.2](https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse)).
    pub fn apply_refresh(
        &mut self,
        response: TokenResponse,
        expect: &IdTokenExpectations<'_>,
        now_ms: f64,
    ) -> Result<(), AuthError> {
        if let Some(id_token) = &response.id_token {
            let claims = decode(id_token.secret())?;
            claims.validate(&IdTokenExpectations {
                nonce: None,
                ..*expect
            })?;
            claims.check_at_hash(expect.alg, response.access_token.secret())?;
            if claims.iss != self.claims.iss || claims.sub != self.claims.sub {
                return Err(AuthError::InvalidIdToken(
                    "refreshed ID token names another person".into(),
                ));
            }
        }
        self.access_token = response.access_token;
        if let Some(rotated) = response.refresh_token {
            self.refresh_token = Some(rotated);
        }
        if let Some(id_token) = response.id_token {
            self.id_token = Some(id_token);
        }
        self.expires_at_ms = expires_at(response.expires_in, now_ms);
        self.received_at_ms = now_ms;
        self.generation += 1;
        Ok(())
    }

    /// When to refresh ahead of expiry: `min(60 s, 25 % of the lifetime)`
    /// before `expires_at`. `None` if the lifetime is unknown.
    pub fn refresh_due_at_ms(&self) -> Option<f64> {
        let expires_at = self.expires_at_ms?;
        let lifetime = (expires_at - self.received_at_ms).max(0.0);
        Some(expires_at - (lifetime * REFRESH_MARGIN_FRACTION).min(MAX_REFRESH_MARGIN_MS))
    }

    /// Whether the access token should be refreshed before use.
    pub fn needs_refresh(&self, now_ms: f64) -> bool {
        self.refresh_due_at_ms().is_some_and(|due| now_ms >= due)
    }

    /// Whether the access token has expired.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms >= at)
    }

    /// Who signed in.
    pub fn profile(&self) -> UserProfile {
        UserProfile::from(&self.claims)
    }
}

fn expires_at(expires_in: Option<u64>, now_ms: f64) -> Option<f64> {
    // Precision loss is irrelevant for lifetimes in seconds.
    #[allow(clippy::cast_precision_loss)]
    expires_in.map(|seconds| now_ms + seconds as f64 * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::id_token::tests::jwt;
    use crate::auth::token::parse_token_response;

    const EXPECT: IdTokenExpectations<'static> = IdTokenExpectations {
        issuer: "http://127.0.0.1:9000",
        client_id: "leptos-spa",
        nonce: Some("n"),
        now_s: 1_000,
        alg: None,
    };

    fn response(refresh: Option<&str>, sub: &str, nonce: Option<&str>) -> TokenResponse {
        let id_token = jwt(&serde_json::json!({
            "iss": "http://127.0.0.1:9000", "sub": sub, "aud": "leptos-spa",
            "exp": 2_000, "iat": 1_000, "nonce": nonce, "name": "Alice"
        }));
        let body = serde_json::json!({
            "access_token": format!("at-{sub}"), "token_type": "Bearer", "expires_in": 60,
            "refresh_token": refresh, "id_token": id_token
        });
        parse_token_response(200, &body.to_string()).expect("valid")
    }

    #[test]
    fn refresh_rotates_and_keeps_the_person() {
        let mut tokens = TokenSet::from_code_exchange(
            response(Some("rt1"), "alice", Some("n")),
            &EXPECT,
            1_000_000.0,
        )
        .expect("session");
        assert_eq!(tokens.profile().name, "Alice");
        assert_eq!(tokens.refresh_due_at_ms(), Some(1_000_000.0 + 45_000.0));
        assert!(!tokens.needs_refresh(1_044_000.0));
        assert!(tokens.needs_refresh(1_045_000.0));

        tokens
            .apply_refresh(response(Some("rt2"), "alice", None), &EXPECT, 1_050_000.0)
            .expect("refresh");
        assert_eq!(
            tokens.refresh_token.as_ref().map(RefreshToken::secret),
            Some("rt2")
        );
        assert_eq!(tokens.generation, 2);

        tokens
            .apply_refresh(response(None, "alice", None), &EXPECT, 1_060_000.0)
            .expect("refresh");
        assert_eq!(
            tokens.refresh_token.as_ref().map(RefreshToken::secret),
            Some("rt2"),
            "kept when not rotated"
        );

        let err =
            tokens.apply_refresh(response(Some("rt3"), "mallory", None), &EXPECT, 1_070_000.0);
        assert_eq!(err.expect_err("other sub").code(), "invalid_id_token");
        assert_eq!(
            tokens.refresh_token.as_ref().map(RefreshToken::secret),
            Some("rt2")
        );
    }

    #[test]
    fn code_exchange_requires_a_valid_id_token() {
        let wrong_nonce =
            TokenSet::from_code_exchange(response(None, "alice", Some("x")), &EXPECT, 0.0);
        assert_eq!(wrong_nonce.expect_err("nonce").code(), "invalid_id_token");
        let long = IdTokenExpectations {
            now_s: 1_000,
            ..EXPECT
        };
        let tokens = TokenSet::from_code_exchange(response(None, "alice", Some("n")), &long, 0.0)
            .expect("ok");
        assert!(tokens.is_expired(60_000.0));
    }
}
