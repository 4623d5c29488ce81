//! ID token claims ([OIDC Core §2](https://openid.net/specs/openid-connect-core-1_0.html#IDToken),
//! validation per [§3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)).
//!
//! A token goes one way: [`IdTokenJws::parse`] reads it (nothing trusted
//! yet), the signature step turns it into a signed token, and the claim
//! checks turn that into a [`VerifiedIdToken`]. Both steps are the crate's
//! own: no public function makes a [`VerifiedIdToken`] from a token whose
//! signature the crate's verifier has not checked.
//!
//! **Duplicate members are refused.** RFC 7519 §4 lets a JWT parser either
//! refuse a claim given twice or keep the last one; this client refuses the
//! whole token when a claim it reads (`iss`, `sub`, `aud`, `exp`, `nonce`,
//! …) or a header member (`alg`, `kid`, `crit`) appears twice, so no check
//! reads one copy while another party reads the other. The same holds for
//! the app's own claims read with [`VerifiedIdToken::claims_as`]: a field
//! of the app's type given twice is an error there.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::codec::{claims_as, from_json};
use super::error::{AuthError, IdTokenCheck};
use super::jws::{CompactJws, JwsHeader, SigningAlg};
use super::random::base64url;
use super::secret::IdToken;

mod audience;
mod checks;

pub use audience::Audience;

/// Allowed difference between the provider's clock and the browser's, in
/// seconds, for `exp`, `nbf` and `iat`.
pub(crate) const CLOCK_SKEW_SECONDS: i64 = 120;

/// The claims the client checks or shows. Reachable only through a
/// [`VerifiedIdToken`]: nothing reads a claim before the signature and the
/// claims have been checked. Other claims are ignored here; an app reads
/// its own with [`VerifiedIdToken::claims_as`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the person's stable identifier at the provider.
    pub sub: String,
    /// Audience.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch.
    pub nbf: Option<i64>,
    /// When the person authenticated, seconds since the epoch.
    pub auth_time: Option<i64>,
    /// Echo of the request's nonce.
    pub nonce: Option<String>,
    /// Authorized party.
    pub azp: Option<String>,
    /// Access token hash.
    pub at_hash: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Preferred username.
    pub preferred_username: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Authentication context class reference: how strongly the person
    /// authenticated.
    pub acr: Option<String>,
    /// Authentication methods references (`pwd`, `otp`, `hwk`, …).
    pub amr: Option<Vec<String>>,
}

/// What an ID token must match.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenExpectations<'a> {
    /// The configured issuer.
    pub issuer: &'a str,
    /// This client's id.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request (`None` on refresh).
    pub nonce: Option<&'a str>,
    /// Now, seconds since the epoch.
    pub now_s: i64,
    /// The access token issued with the ID token, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// On refresh: the claims of the session's ID token, which the new one
    /// must continue ([OIDC Core §12.2](https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse)).
    pub previous: Option<&'a IdTokenClaims>,
    /// The `max_age` the sign-in asked for: `auth_time` is then required,
    /// and must be at most that old (OIDC Core §3.1.2.1).
    pub max_age_s: Option<u64>,
    /// The `acr` values one of which the sign-in required (empty: any).
    pub acr_required: &'a [String],
}

/// An ID token as received, parsed once (header, claims, signature) and
/// not yet trusted: its claims stay private until the crate's verifier has
/// checked its signature and then its claims.
#[derive(Debug)]
pub struct IdTokenJws {
    raw: IdToken,
    header: JwsHeader,
    signing_input_len: usize,
    signature: Vec<u8>,
    payload: String,
    claims: IdTokenClaims,
}

impl IdTokenJws {
    /// Splits and decodes the compact JWS; claims that are missing, of the
    /// wrong type or given twice make it unreadable.
    pub fn parse(raw: IdToken) -> Result<Self, AuthError> {
        let jws = CompactJws::parse(raw.secret())?;
        let payload = jws.payload_json()?;
        let claims =
            from_json(&payload).map_err(|_| AuthError::InvalidIdToken(IdTokenCheck::Malformed))?;
        let (header, signing_input_len, signature) =
            (jws.header, jws.signing_input.len(), jws.signature);
        Ok(Self {
            raw,
            header,
            signing_input_len,
            signature,
            payload,
            claims,
        })
    }

    /// The algorithm to verify with (see [`CompactJws::allowed_alg`]).
    pub fn allowed_alg(&self, advertised: &[String]) -> Result<SigningAlg, AuthError> {
        super::jws::allowed_alg(&self.header, &self.signature, advertised)
    }

    /// The `kid` header, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The bytes that were signed.
    pub fn signing_input(&self) -> &str {
        &self.raw.secret()[..self.signing_input_len]
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signature step: `verify` is the platform's check of this
    /// token's signing input and signature under `alg` (with the key
    /// chosen for it). Only a positive answer lets the token on to the
    /// claim checks, and this is the one place that says so.
    pub(crate) async fn check_signature(
        self,
        alg: SigningAlg,
        verify: impl AsyncFnOnce(&str, &[u8]) -> Result<bool, AuthError>,
    ) -> Result<SignedIdToken, AuthError> {
        if verify(self.signing_input(), self.signature()).await? {
            Ok(SignedIdToken { jws: self, alg })
        } else {
            Err(AuthError::InvalidIdToken(IdTokenCheck::Signature))
        }
    }
}

/// An ID token whose signature verified with `alg`; its claims are not yet
/// checked. Made only by [`IdTokenJws::check_signature`].
#[derive(Debug)]
pub(crate) struct SignedIdToken {
    jws: IdTokenJws,
    alg: SigningAlg,
}

impl SignedIdToken {
    /// The algorithm the signature verified with.
    pub(crate) fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// An ID token another tab of this app verified and sent with its
    /// session, whose signature this tab has now checked too: its issuer
    /// and audience are checked again. Its times and nonce were checked at
    /// sign-in, and a session outlives its first ID token.
    pub(crate) fn into_carried(
        self,
        issuer: &str,
        client_id: &str,
    ) -> Result<VerifiedIdToken, AuthError> {
        self.jws.claims.check_audience(issuer, client_id)?;
        Ok(self.trusted())
    }

    /// Checks the claims against `expect`, making the [`VerifiedIdToken`].
    /// `access_token_hash` is the hash ([`SigningAlg::hash`]) of
    /// `expect.access_token`, for `at_hash`; it is required when there is
    /// an access token.
    pub(crate) fn into_verified(
        self,
        access_token_hash: Option<&[u8]>,
        expect: &IdTokenExpectations<'_>,
    ) -> Result<VerifiedIdToken, AuthError> {
        let claims = &self.jws.claims;
        claims.validate(expect)?;
        if expect.access_token.is_some() {
            let hash = access_token_hash.ok_or(AuthError::InvalidIdToken(IdTokenCheck::AtHash))?;
            claims.check_at_hash(hash)?;
        }
        Ok(self.trusted())
    }

    /// The token, once its claims passed their checks.
    fn trusted(self) -> VerifiedIdToken {
        let IdTokenJws {
            raw,
            payload,
            claims,
            ..
        } = self.jws;
        VerifiedIdToken {
            raw,
            payload,
            claims,
            alg: self.alg,
        }
    }
}

/// An ID token whose signature and claims were checked. Only the crate's
/// verifier makes one.
#[derive(Debug)]
pub struct VerifiedIdToken {
    raw: IdToken,
    payload: String,
    claims: IdTokenClaims,
    alg: SigningAlg,
}

impl VerifiedIdToken {
    /// The verified claims the client reads.
    pub fn claims(&self) -> &IdTokenClaims {
        &self.claims
    }

    /// All the verified claims as the app's own type, for claims the client
    /// does not read (`roles`, `groups`, a tenant, …):
    ///
    /// ```ignore
    /// #[derive(serde::Deserialize)]
    /// struct Roles { #[serde(default)] roles: Vec<String> }
    /// let roles = verified.claims_as::<Roles>()?.roles;
    /// ```
    ///
    /// A field of `T` that is missing, of another type or given twice is an
    /// [`AuthError::ClaimsMismatch`].
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        claims_as(&self.payload)
    }

    /// The algorithm its signature was verified with.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The token itself (for `id_token_hint`).
    pub fn raw(&self) -> &IdToken {
        &self.raw
    }

    /// Splits into the token and its claims.
    pub fn into_parts(self) -> (IdToken, IdTokenClaims) {
        (self.raw, self.claims)
    }
}

/// The `at_hash` value: base64url of the left half of the access token's
/// hash under the signing algorithm's hash ([`SigningAlg::hash`]).
pub fn at_hash(access_token_hash: &[u8]) -> String {
    base64url(&access_token_hash[..access_token_hash.len() / 2])
}

#[cfg(test)]
mod tests;
