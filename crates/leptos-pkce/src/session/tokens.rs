//! The tokens of a signed-in session, held in memory only.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use super::tab_messages::{CarriedApiToken, CarriedTokens};
use crate::protocol::{
    AccessToken, AuthError, IdToken, IdTokenClaims, RefreshToken, TokenResponse, TokenType,
    VerifiedIdToken,
};

/// Tokens of the current session. Lives in memory only (it travels to the
/// app's other tabs from memory to memory, never through storage), is never
/// cloned, and its `Debug` shows no secret.
#[derive(Debug)]
pub struct TokenSet {
    /// The first API's token (slot 0): the one the sign-in brought.
    primary: ApiToken,
    /// The other APIs' tokens, by slot (RFC 8707), fetched on demand.
    others: BTreeMap<usize, ApiToken>,
    refresh_token: Option<RefreshToken>,
    /// The session's first ID token, verified: who signed in.
    identity: VerifiedIdToken,
    /// The latest ID token a refresh brought (for `id_token_hint`).
    latest_id_token: Option<IdToken>,
    generation: u64,
    /// The slots of the APIs the sign-in named (with `resources`).
    apis: Vec<usize>,
}

/// One API's access token, its type and its times.
#[derive(Debug)]
pub struct ApiToken {
    token_type: TokenType,
    access_token: AccessToken,
    expires_at_ms: Option<f64>,
    received_at_ms: f64,
    /// The set's generation when this token came.
    generation: u64,
}

impl ApiToken {
    fn new(
        token_type: TokenType,
        access_token: AccessToken,
        expires_in: Option<u64>,
        now_ms: f64,
        generation: u64,
    ) -> Self {
        Self {
            token_type,
            access_token,
            expires_at_ms: expires_at(expires_in, now_ms),
            received_at_ms: now_ms,
            generation,
        }
    }

    /// How the access token is presented (Bearer, or DPoP-bound).
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// When the access token expires (ms since the epoch), if known.
    pub fn expires_at_ms(&self) -> Option<f64> {
        self.expires_at_ms
    }

    /// How long the access token was issued for, in ms, if known.
    pub fn lifetime_ms(&self) -> Option<f64> {
        self.expires_at_ms
            .map(|at| (at - self.received_at_ms).max(0.0))
    }

    /// The set's [`generation`](TokenSet::generation) when this token came:
    /// a 401 tells by it whether the token it rejected is still current.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the access token has expired.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms >= at)
    }

    fn to_carried(&self, slot: usize) -> CarriedApiToken {
        CarriedApiToken {
            slot,
            token_type: self.token_type,
            access_token: AccessToken::new(copy(self.access_token.secret())),
            expires_at_ms: self.expires_at_ms.map(whole_ms),
            received_at_ms: whole_ms(self.received_at_ms),
            generation: self.generation,
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn from_carried(carried: CarriedApiToken) -> Self {
        Self {
            token_type: carried.token_type,
            access_token: carried.access_token,
            expires_at_ms: carried.expires_at_ms.map(|ms| ms as f64),
            received_at_ms: carried.received_at_ms as f64,
            generation: carried.generation,
        }
    }
}

/// Times travel as whole milliseconds.
#[allow(clippy::cast_possible_truncation)]
fn whole_ms(ms: f64) -> i64 {
    ms.round() as i64
}

fn copy(token: &str) -> String {
    token.to_owned()
}

impl TokenSet {
    /// The session from a code exchange whose ID token was verified.
    pub(crate) fn new(
        response: TokenResponse,
        identity: VerifiedIdToken,
        apis: Vec<usize>,
        now_ms: f64,
    ) -> Self {
        Self {
            primary: ApiToken::new(
                response.token_type,
                response.access_token,
                response.expires_in,
                now_ms,
                1,
            ),
            others: BTreeMap::new(),
            refresh_token: response.refresh_token,
            identity,
            latest_id_token: None,
            generation: 1,
            apis,
        }
    }

    /// Whether the sign-in named the API of `slot`, so that its token may
    /// be asked for (the first API's always may).
    pub(crate) fn grants(&self, slot: usize) -> bool {
        slot == 0 || self.apis.contains(&slot)
    }

    /// What another tab is sent: everything but the verified claims, which
    /// it reads from the ID token itself once it has checked its signature.
    pub(crate) fn to_carried(&self) -> CarriedTokens {
        let primary = self.primary.to_carried(0);
        CarriedTokens {
            token_type: primary.token_type,
            access_token: primary.access_token,
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|token| RefreshToken::new(copy(token.secret()))),
            identity: IdToken::new(copy(self.identity.raw().secret())),
            latest_id_token: self
                .latest_id_token
                .as_ref()
                .map(|token| IdToken::new(copy(token.secret()))),
            expires_at_ms: primary.expires_at_ms,
            received_at_ms: primary.received_at_ms,
            generation: self.generation,
            access_generation: Some(primary.generation),
            apis: self.apis.clone(),
            others: self
                .others
                .iter()
                .map(|(slot, token)| token.to_carried(*slot))
                .collect(),
        }
    }

    /// Another tab's tokens, with their identity verified by this tab.
    /// (Its times are its clock's, which is this browser's; they set the
    /// refresh timer, and never decide which copy of a session wins.)
    pub(crate) fn from_carried(carried: CarriedTokens, identity: VerifiedIdToken) -> Self {
        let latest_id_token = carried.latest_id_token;
        let refresh_token = carried.refresh_token;
        let generation = carried.generation;
        let apis = carried.apis;
        let (primary, others) = carried_apis(
            carried.token_type,
            carried.access_token,
            carried.expires_at_ms,
            carried.received_at_ms,
            carried.access_generation.unwrap_or(generation),
            carried.others,
        );
        Self {
            primary,
            others,
            refresh_token,
            identity,
            latest_id_token,
            generation,
            apis,
        }
    }

    /// Takes another tab's newer tokens of the same session (same
    /// identity): the refresh that tab made.
    pub(crate) fn take_newer(&mut self, carried: CarriedTokens) {
        let (primary, others) = carried_apis(
            carried.token_type,
            carried.access_token,
            carried.expires_at_ms,
            carried.received_at_ms,
            carried.access_generation.unwrap_or(carried.generation),
            carried.others,
        );
        self.primary = primary;
        self.others = others;
        self.refresh_token = carried.refresh_token;
        self.latest_id_token = carried.latest_id_token;
        self.generation = carried.generation;
        self.apis = carried.apis;
    }

    /// Keeps a rotated refresh token at once, before anything else in the
    /// answer is checked: the old one may already be spent at the server.
    pub(crate) fn rotate(&mut self, refresh_token: Option<RefreshToken>) {
        if let Some(rotated) = refresh_token {
            self.refresh_token = Some(rotated);
        }
    }

    /// Applies a checked refresh answer for the API of `slot` (its refresh
    /// token already taken by [`rotate`](Self::rotate)).
    pub(crate) fn apply_refresh(
        &mut self,
        slot: usize,
        response: TokenResponse,
        id_token: Option<VerifiedIdToken>,
        now_ms: f64,
    ) {
        if let Some(id_token) = id_token {
            // Claims stay those of the first ID token; the new one continues
            // it (checked at verification) and serves as `id_token_hint`.
            self.latest_id_token = Some(id_token.into_parts().0);
        }
        self.generation += 1;
        let token = ApiToken::new(
            response.token_type,
            response.access_token,
            response.expires_in,
            now_ms,
            self.generation,
        );
        if slot == 0 {
            self.primary = token;
        } else {
            self.others.insert(slot, token);
        }
    }

    /// The token of the API of `slot` (0: the first, or the only one), if
    /// it was fetched.
    pub fn api(&self, slot: usize) -> Option<&ApiToken> {
        if slot == 0 {
            Some(&self.primary)
        } else {
            self.others.get(&slot)
        }
    }

    /// Every API token held, with its slot.
    pub(crate) fn apis(&self) -> impl Iterator<Item = (usize, &ApiToken)> {
        core::iter::once((0, &self.primary)).chain(self.others.iter().map(|(s, t)| (*s, t)))
    }

    /// How the first API's access token is presented (Bearer, or DPoP-bound).
    pub fn token_type(&self) -> TokenType {
        self.primary.token_type
    }

    /// The first API's access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.primary.access_token
    }

    /// The current refresh token, if the provider issued one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The latest ID token (the `id_token_hint` at sign-out).
    pub fn id_token(&self) -> &IdToken {
        self.latest_id_token
            .as_ref()
            .unwrap_or_else(|| self.identity.raw())
    }

    /// The session's first ID token, whose claims say who signed in.
    pub(crate) fn identity(&self) -> &VerifiedIdToken {
        &self.identity
    }

    /// The verified claims of the session's first ID token.
    pub fn claims(&self) -> &IdTokenClaims {
        self.identity.claims()
    }

    /// Every verified claim of the session's first ID token, as the app's
    /// own type (see [`VerifiedIdToken::claims_as`]).
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, AuthError> {
        self.identity.claims_as()
    }

    /// When the first API's access token expires (ms since the epoch).
    pub fn expires_at_ms(&self) -> Option<f64> {
        self.primary.expires_at_ms
    }

    /// How long the first API's access token was issued for, in ms.
    pub fn lifetime_ms(&self) -> Option<f64> {
        self.primary.lifetime_ms()
    }

    /// Increases with every new access token of the session, in every tab:
    /// of two copies of a session the higher one is newer.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the first API's access token has expired.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.primary.is_expired(now_ms)
    }
}

/// The API tokens of a carried set: the first, and the others by slot.
fn carried_apis(
    token_type: TokenType,
    access_token: AccessToken,
    expires_at_ms: Option<i64>,
    received_at_ms: i64,
    generation: u64,
    others: Vec<CarriedApiToken>,
) -> (ApiToken, BTreeMap<usize, ApiToken>) {
    let primary = ApiToken::from_carried(CarriedApiToken {
        slot: 0,
        token_type,
        access_token,
        expires_at_ms,
        received_at_ms,
        generation,
    });
    let others = others
        .into_iter()
        .filter(|token| token.slot != 0)
        .map(|token| (token.slot, ApiToken::from_carried(token)))
        .collect();
    (primary, others)
}

fn expires_at(expires_in: Option<u64>, now_ms: f64) -> Option<f64> {
    // Precision loss is irrelevant for lifetimes in seconds.
    #[allow(clippy::cast_precision_loss)]
    expires_in.map(|seconds| now_ms + seconds as f64 * 1000.0)
}
