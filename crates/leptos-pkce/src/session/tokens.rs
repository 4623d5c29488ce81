//! The tokens of a signed-in session, held in memory only.

use crate::protocol::json::{BadField, Fields, Writer};
use crate::protocol::{
    AccessToken, IdToken, IdTokenClaims, RefreshToken, TokenResponse, TokenType, VerifiedIdToken,
};

/// Tokens of the current session. Lives in memory only (it travels to the
/// app's other tabs from memory to memory, never through storage), is never
/// cloned, and its `Debug` shows no secret.
#[derive(Debug)]
pub struct TokenSet {
    token_type: TokenType,
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    id_token: IdToken,
    claims: IdTokenClaims,
    expires_at_ms: Option<f64>,
    received_at_ms: f64,
    generation: u64,
}

/// Times travel as whole milliseconds.
#[allow(clippy::cast_possible_truncation)]
fn whole_ms(ms: f64) -> i64 {
    ms.round() as i64
}

impl TokenSet {
    /// Writes the tokens as a JSON object, for another tab (times as whole
    /// milliseconds).
    pub(crate) fn write(&self, writer: &mut Writer) {
        writer
            .open()
            .str_member(
                "token_type",
                match self.token_type {
                    TokenType::Bearer => "Bearer",
                    TokenType::Dpop => "Dpop",
                },
            )
            .str_member("access_token", self.access_token.secret())
            .opt_str_member(
                "refresh_token",
                self.refresh_token.as_ref().map(RefreshToken::secret),
            )
            .str_member("id_token", self.id_token.secret())
            .key("claims");
        self.claims.write(writer);
        writer
            .opt_int_member("expires_at_ms", self.expires_at_ms.map(whole_ms))
            .key("received_at_ms")
            .int(whole_ms(self.received_at_ms))
            .key("generation")
            .uint(self.generation)
            .close();
    }

    /// Reads what [`write`](Self::write) wrote.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn read(fields: &Fields<'_>) -> Result<Self, BadField> {
        Ok(Self {
            token_type: match fields.opt_str("token_type")?.as_deref() {
                None | Some("Bearer") => TokenType::Bearer,
                Some("Dpop") => TokenType::Dpop,
                Some(_) => return Err(BadField("token_type")),
            },
            access_token: AccessToken::new(fields.str("access_token")?),
            refresh_token: fields.opt_str("refresh_token")?.map(RefreshToken::new),
            id_token: IdToken::new(fields.str("id_token")?),
            claims: fields
                .get("claims")?
                .and_then(|claims| IdTokenClaims::read(&claims.fields()?).ok())
                .ok_or(BadField("claims"))?,
            expires_at_ms: fields.opt_i64("expires_at_ms")?.map(|ms| ms as f64),
            received_at_ms: fields.i64("received_at_ms")? as f64,
            generation: fields.u64("generation")?,
        })
    }

    /// The session from a code exchange whose ID token was verified.
    pub(crate) fn new(response: TokenResponse, id_token: VerifiedIdToken, now_ms: f64) -> Self {
        let (id_token, claims) = id_token.into_parts();
        Self {
            token_type: response.token_type,
            expires_at_ms: expires_at(response.expires_in, now_ms),
            access_token: response.access_token,
            refresh_token: response.refresh_token,
            id_token,
            claims,
            received_at_ms: now_ms,
            generation: 1,
        }
    }

    /// Keeps a rotated refresh token at once, before anything else in the
    /// answer is checked: the old one may already be spent at the server.
    pub(crate) fn rotate(&mut self, refresh_token: Option<RefreshToken>) {
        if let Some(rotated) = refresh_token {
            self.refresh_token = Some(rotated);
        }
    }

    /// Applies a checked refresh answer (its refresh token already taken
    /// by [`rotate`](Self::rotate)).
    pub(crate) fn apply_refresh(
        &mut self,
        token_type: TokenType,
        access_token: AccessToken,
        expires_in: Option<u64>,
        id_token: Option<VerifiedIdToken>,
        now_ms: f64,
    ) {
        self.token_type = token_type;
        self.access_token = access_token;
        if let Some(id_token) = id_token {
            // Claims stay those of the first ID token; the new one continues
            // it (checked at verification) and serves as `id_token_hint`.
            self.id_token = id_token.into_parts().0;
        }
        self.expires_at_ms = expires_at(expires_in, now_ms);
        self.received_at_ms = now_ms;
        self.generation += 1;
    }

    /// Continues this tab's numbering of access tokens after `previous`,
    /// for tokens adopted from another tab.
    pub(crate) fn follow(&mut self, previous: u64) {
        self.generation = self.generation.max(previous + 1);
    }

    /// How the access token is presented (Bearer, or DPoP-bound).
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The current refresh token, if the provider issued one.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The latest ID token (the `id_token_hint` at sign-out).
    pub fn id_token(&self) -> &IdToken {
        &self.id_token
    }

    /// The verified claims of the session's first ID token.
    pub fn claims(&self) -> &IdTokenClaims {
        &self.claims
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

    /// Increases with every new access token, so a 401 can tell whether
    /// the token it rejected is still the current one.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// When these tokens were received (ms since the epoch): of two copies
    /// of a session, the later one wins.
    pub fn received_at_ms(&self) -> f64 {
        self.received_at_ms
    }

    /// Whether the access token has expired.
    pub fn is_expired(&self, now_ms: f64) -> bool {
        self.expires_at_ms.is_some_and(|at| now_ms >= at)
    }
}

fn expires_at(expires_in: Option<u64>, now_ms: f64) -> Option<f64> {
    // Precision loss is irrelevant for lifetimes in seconds.
    #[allow(clippy::cast_precision_loss)]
    expires_in.map(|seconds| now_ms + seconds as f64 * 1000.0)
}
