//! **Leaving:** the protocol types read and write JSON with serde
//! (`json_codec`); this module stays only for `session/tabs.rs`,
//! `session/tokens.rs` and `session/status.rs` (and the claims shim in
//! `legacy_claims.rs`) until they move to serde too, then it goes.
//!
//! A small JSON reader and writer ([RFC 8259](https://www.rfc-editor.org/rfc/rfc8259)),
//! written for the wasm build's size: the client reads a dozen small
//! documents (configuration, discovery, keys, token answers, claims, tab
//! messages) and writes a few, and a generic serializer framework would cost
//! many times the code of this one tree type. Native and wasm builds share it.
//!
//! Reading is strict where it matters: the whole text must be one JSON
//! value, strings must be valid (escapes, surrogate pairs, no raw control
//! characters), nesting is limited to 128 levels, and a field the client
//! reads may not appear twice in an object ([`Fields::get`]).

/// A parsed JSON value. Numbers keep their text, so integers of any size
/// are read exactly ([`Value::as_i64`], [`Value::as_u64`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order.
    Object(Vec<(String, Value)>),
}

mod legacy_claims;
mod parse;
#[cfg(test)]
mod tests;
mod write;

pub use parse::{parse, parse_bytes};
pub use write::{Writer, push_int, push_uint};

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(value) => Some(*value),
            _ => None,
        }
    }

    /// The number, if this is an integer (no fraction, no exponent) that
    /// fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// The number, if this is a non-negative integer that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The members, if this is an object.
    pub fn fields(&self) -> Option<Fields<'_>> {
        match self {
            Self::Object(members) => Some(Fields(members)),
            _ => None,
        }
    }
}

/// A field that is missing where it is required, of the wrong type, or
/// given twice; it names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadField(pub &'static str);

/// The members of an object, read field by field with the usual rules:
/// unknown fields are ignored, an optional field may be missing or `null`,
/// and any field read must have the expected type and appear only once.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(&'a [(String, Value)]);

impl<'a> Fields<'a> {
    /// The value of `key`; `None` if missing; an error if given twice.
    pub fn get(&self, key: &'static str) -> Result<Option<&'a Value>, BadField> {
        let mut found = None;
        for (name, value) in self.0 {
            if name == key {
                if found.is_some() {
                    return Err(BadField(key));
                }
                found = Some(value);
            }
        }
        Ok(found)
    }

    /// The value of `key`, `None` if missing or `null`.
    fn present(&self, key: &'static str) -> Result<Option<&'a Value>, BadField> {
        Ok(self.get(key)?.filter(|value| **value != Value::Null))
    }

    /// An optional string.
    pub fn opt_str(&self, key: &'static str) -> Result<Option<String>, BadField> {
        self.present(key)?
            .map(|value| value.as_str().map(str::to_owned).ok_or(BadField(key)))
            .transpose()
    }

    /// A required string.
    pub fn str(&self, key: &'static str) -> Result<String, BadField> {
        self.opt_str(key)?.ok_or(BadField(key))
    }

    /// An optional integer.
    pub fn opt_i64(&self, key: &'static str) -> Result<Option<i64>, BadField> {
        self.present(key)?
            .map(|value| value.as_i64().ok_or(BadField(key)))
            .transpose()
    }

    /// A required integer.
    pub fn i64(&self, key: &'static str) -> Result<i64, BadField> {
        self.opt_i64(key)?.ok_or(BadField(key))
    }

    /// A required non-negative integer.
    pub fn u64(&self, key: &'static str) -> Result<u64, BadField> {
        self.present(key)?
            .and_then(Value::as_u64)
            .ok_or(BadField(key))
    }

    /// A boolean, `false` if missing.
    pub fn bool(&self, key: &'static str) -> Result<bool, BadField> {
        self.get(key)?
            .map_or(Some(false), Value::as_bool)
            .ok_or(BadField(key))
    }

    /// An optional array of strings.
    pub fn opt_strings(&self, key: &'static str) -> Result<Option<Vec<String>>, BadField> {
        self.present(key)?
            .map(|value| strings(value).ok_or(BadField(key)))
            .transpose()
    }

    /// An array of strings, empty if missing.
    pub fn strings(&self, key: &'static str) -> Result<Vec<String>, BadField> {
        match self.get(key)? {
            None => Ok(Vec::new()),
            Some(value) => strings(value).ok_or(BadField(key)),
        }
    }
}

/// Reads the JSON object `text` with `read`; `None` if `text` is not a
/// JSON object or `read` finds a bad field.
pub fn read_object<T>(
    text: &str,
    read: impl FnOnce(&Fields<'_>) -> Result<T, BadField>,
) -> Option<T> {
    read(&parse(text)?.fields()?).ok()
}

/// The strings of an array of strings.
pub fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}
