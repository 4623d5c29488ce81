//! The `aud` claim: one string, or an array of strings.

use core::fmt;

use serde::de::{self, SeqAccess, Visitor, value::SeqAccessDeserializer};
use serde::{Deserialize, Deserializer, Serialize};

/// `aud` is a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    pub(super) fn contains(&self, client_id: &str) -> bool {
        match self {
            Self::One(aud) => aud == client_id,
            Self::Many(auds) => auds.iter().any(|aud| aud == client_id),
        }
    }

    pub(super) fn is_multiple(&self) -> bool {
        matches!(self, Self::Many(auds) if auds.len() > 1)
    }
}

/// By hand rather than `#[serde(untagged)]`, which buffers the value and
/// tries each variant in turn: one look at the value's kind decides.
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AudienceVisitor)
    }
}

struct AudienceVisitor;

impl<'de> Visitor<'de> for AudienceVisitor {
    type Value = Audience;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, aud: &str) -> Result<Audience, E> {
        Ok(Audience::One(aud.to_owned()))
    }

    fn visit_string<E: de::Error>(self, aud: String) -> Result<Audience, E> {
        Ok(Audience::One(aud))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, auds: A) -> Result<Audience, A::Error> {
        Vec::deserialize(SeqAccessDeserializer::new(auds)).map(Audience::Many)
    }
}
