//! The crate's one way from JSON text to its types and back: every document
//! the client reads (configuration, discovery, keys, token answers, claims,
//! the pending request) goes through [`from_json`], every one it writes
//! through [`to_json`], so the parser behind them is chosen here alone.
//!
//! The parser is serde_json: strict (one value, valid strings and escapes,
//! nesting limited to 128 levels) and, through serde's derive, it refuses a
//! member given twice among the fields a type reads. The browser's
//! `JSON.parse` would keep the last of two, and read every number as an
//! `f64`; BENCHMARKS.md ("JSON: serde choices measured") has the sizes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::error::AuthError;

/// Why a text was not read as the type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// The text is not JSON at all (an HTML error page, a truncated body).
    NotJson,
    /// JSON of another shape: serde's words, which name the missing,
    /// mistyped or repeated field.
    Shape(String),
}

impl JsonError {
    /// The reason, for an error message.
    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::NotJson => "not JSON",
            Self::Shape(why) => why,
        }
    }
}

/// Reads `text`, a JSON object, as a `T`.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let value = parse(text)?;
    // serde's derive also reads a struct from an array, member by member in
    // order; every document the client reads is an object.
    if text.trim_start().starts_with('{') {
        Ok(value)
    } else {
        Err(JsonError::Shape("not a JSON object".into()))
    }
}

/// The parser: serde_json.
#[cfg(not(all(target_arch = "wasm32", leptos_pkce_browser_json)))]
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => JsonError::Shape(error.to_string()),
        _ => JsonError::NotJson,
    })
}

/// The parser measured against serde_json (built only with
/// `--cfg leptos_pkce_browser_json`): the browser's `JSON.parse`, then
/// serde-wasm-bindgen. It keeps the last of two members of one name, so
/// the duplicate check is lost, and it reads every number as an `f64`.
#[cfg(all(target_arch = "wasm32", leptos_pkce_browser_json))]
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let value = js_sys::JSON::parse(text).map_err(|_| JsonError::NotJson)?;
    serde_wasm_bindgen::from_value(value).map_err(|error| JsonError::Shape(error.to_string()))
}

/// `value` as compact JSON text, members in field order.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // The crate writes only its own structs of strings, integers and
    // booleans: serde_json fails only on non-string map keys or on an
    // error raised by a `Serialize` impl, and neither can happen here.
    serde_json::to_string(value).unwrap_or_default()
}

/// Reads verified claims (`json`, a JSON object) as the app's own type.
pub(crate) fn claims_as<T: DeserializeOwned>(json: &str) -> Result<T, AuthError> {
    from_json(json).map_err(|error| AuthError::ClaimsMismatch(error.reason().to_owned()))
}

/// For `#[serde(default, deserialize_with = "null_as_default")]`: a `null`
/// member reads as the default, like a missing one.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: String,
        b: Option<i64>,
    }

    #[test]
    fn tells_not_json_from_another_shape() {
        for text in [
            "",
            "<html>",
            "{",
            r#"{"a":"x"} {}"#,
            "{'a':1}",
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            assert_eq!(from_json::<Pair>(text), Err(JsonError::NotJson), "{text:?}");
        }
        let Err(JsonError::Shape(why)) = from_json::<Pair>(r#"{"b":1}"#) else {
            panic!("missing field")
        };
        assert!(why.contains("missing field `a`"), "{why}");
        assert_eq!(
            from_json::<Pair>(r#"{"a":"x","b":null,"c":[1]}"#),
            Ok(Pair {
                a: "x".into(),
                b: None
            })
        );
    }

    #[test]
    fn refuses_a_field_given_twice() {
        let Err(JsonError::Shape(why)) = from_json::<Pair>(r#"{"a":"x","b":1,"a":"y"}"#) else {
            panic!("duplicate")
        };
        assert!(why.contains("duplicate field `a`"), "{why}");
        assert!(
            from_json::<Pair>(r#"{"a":"x","c":1,"c":2}"#).is_ok(),
            "a member the type does not read may repeat"
        );
    }

    #[test]
    fn reads_objects_only() {
        assert_eq!(
            from_json::<Pair>(r#"["x",1]"#),
            Err(JsonError::Shape("not a JSON object".into()))
        );
        assert!(from_json::<Pair>(" \n{\"a\":\"x\"}").is_ok());
    }
}
