//! The messages between tabs, as JSON through serde:
//! `{"Hello":{"from":id}}`, `{"Session":{"to":id,"session":…}}`,
//! `{"Updated":{"session":…}}`, `{"SignedOut":{"ended":hash}}`.
//!
//! Nothing in a message is trusted for what it says about the person: the
//! receiver verifies the carried ID token and reads the claims from it.
//! Any script of the app's origin can post on the channel; the origin is
//! the trust boundary (see the README).

use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::protocol::codec::{from_json, to_json};
use crate::protocol::random::base64url;
use crate::protocol::{AccessToken, IdToken, RefreshToken, TokenType};

/// A message between the tabs of one app, provider and client.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum TabMessage {
    /// A tab starts without tokens and asks for the session.
    Hello { from: u64 },
    /// The answer to `Hello`, for the tab `to`.
    Session { to: u64, session: CarriedSession },
    /// New tokens (a sign-in, a refresh, a richer profile), for every tab.
    Updated { session: CarriedSession },
    /// The session whose identity hashes to `ended` was signed out.
    SignedOut { ended: String },
}

/// A session as it travels: its tokens only. Who it belongs to is read
/// from its verified ID token; the name and email, from the receiver's own
/// userinfo answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CarriedSession {
    pub(crate) tokens: CarriedTokens,
}

/// The tokens as they travel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CarriedTokens {
    pub(crate) token_type: TokenType,
    #[serde(serialize_with = "reveal")]
    pub(crate) access_token: AccessToken,
    #[serde(serialize_with = "reveal_optional")]
    pub(crate) refresh_token: Option<RefreshToken>,
    /// The session's first ID token: who signed in.
    #[serde(serialize_with = "reveal")]
    pub(crate) identity: IdToken,
    #[serde(serialize_with = "reveal_optional")]
    pub(crate) latest_id_token: Option<IdToken>,
    pub(crate) expires_at_ms: Option<i64>,
    pub(crate) received_at_ms: i64,
    pub(crate) generation: u64,
    /// The generation at which the first API's access token came.
    #[serde(default)]
    pub(crate) access_generation: Option<u64>,
    /// The other APIs' tokens (RFC 8707), by slot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) others: Vec<CarriedApiToken>,
    /// The slots of the APIs the sign-in named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) apis: Vec<usize>,
}

/// Another API's token as it travels.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CarriedApiToken {
    pub(crate) slot: usize,
    pub(crate) token_type: TokenType,
    #[serde(serialize_with = "reveal")]
    pub(crate) access_token: AccessToken,
    pub(crate) expires_at_ms: Option<i64>,
    pub(crate) received_at_ms: i64,
    pub(crate) generation: u64,
}

/// The tokens' types write no JSON (an app cannot store one by accident):
/// the tab messages, which go from memory to memory, write them here.
trait Reveal {
    fn text(&self) -> &str;
}

macro_rules! reveal {
    ($($token:ty),*) => {$(
        impl Reveal for $token {
            fn text(&self) -> &str {
                self.secret()
            }
        }
    )*};
}

reveal!(AccessToken, RefreshToken, IdToken);

fn reveal<S: Serializer>(token: &impl Reveal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(token.text())
}

#[allow(clippy::ref_option)] // serde hands `serialize_with` a `&Option<_>`
fn reveal_optional<S: Serializer>(
    token: &Option<impl Reveal>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    token.as_ref().map(Reveal::text).serialize(serializer)
}

impl TabMessage {
    /// The message as JSON text.
    pub(crate) fn to_text(&self) -> String {
        to_json(self)
    }

    /// Reads a message; `None` for anything else on the channel.
    pub(crate) fn from_text(text: &str) -> Option<Self> {
        from_json(text).ok()
    }
}

/// A short, non-secret name for a session: the hash of its first ID
/// token. Sign-out names the session it ended by it.
pub(crate) fn identity_hash(identity: &IdToken) -> String {
    base64url(&Sha256::digest(identity.secret().as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        let hello = TabMessage::Hello { from: 7 }.to_text();
        assert_eq!(hello, r#"{"Hello":{"from":7}}"#);
        assert!(matches!(
            TabMessage::from_text(&hello),
            Some(TabMessage::Hello { from: 7 })
        ));
        let ended = TabMessage::SignedOut { ended: "h".into() }.to_text();
        assert!(matches!(
            TabMessage::from_text(&ended),
            Some(TabMessage::SignedOut { ended }) if ended == "h"
        ));
    }

    #[test]
    fn anything_else_on_the_channel_is_ignored() {
        for text in [
            "not json",
            r#""SignedOut""#,
            r#"{"SignedOut":{}}"#,
            r#"{"Hello":{"from":"x"}}"#,
            r#"{"Session":{"to":1,"session":{}}}"#,
            r#"{"Hello":{"from":1},"Hello":{"from":2}}"#,
        ] {
            assert!(TabMessage::from_text(text).is_none(), "{text}");
        }
    }
}
