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

const MAX_DEPTH: u32 = 128;

/// Parses `text` as one JSON value; `None` if it is not JSON.
pub fn parse(text: &str) -> Option<Value> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    let value = parser.value(0)?;
    parser.skip_space();
    (parser.at == parser.bytes.len()).then_some(value)
}

/// Parses UTF-8 bytes as one JSON value.
pub fn parse_bytes(bytes: &[u8]) -> Option<Value> {
    parse(core::str::from_utf8(bytes).ok()?)
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    fn value(&mut self, depth: u32) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        match self.peek()? {
            b'n' => self.literal(b"null", Value::Null),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Array(items))
            }
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.skip_space();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Object(members))
            }
            _ => self.number(),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<Value> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        match self.digits() {
            0 => return None,
            1 => {}
            _ if leading_zero => return None,
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let text = core::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        Some(Value::Number(text.to_owned()))
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16)?;
            code = code * 16 + digit;
        }
        Some(code)
    }

    fn string(&mut self) -> Option<String> {
        if self.next()? != b'"' {
            return None;
        }
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let unescaped = match self.next()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if self.next()? != b'\\' || self.next()? != b'u' {
                                    return None;
                                }
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buffer = [0; 4];
                    out.extend_from_slice(unescaped.encode_utf8(&mut buffer).as_bytes());
                }
                0..0x20 => return None,
                byte => out.push(byte),
            }
        }
    }
}

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

/// Writes JSON text: objects member by member, with the separators in place.
#[derive(Debug)]
pub struct Writer {
    out: String,
    first: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self {
            out: String::new(),
            first: true,
        }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    /// Opens an object (`{`); its members follow.
    pub fn open(&mut self) -> &mut Self {
        self.separate();
        self.out.push('{');
        self.first = true;
        self
    }

    /// Closes the object.
    pub fn close(&mut self) -> &mut Self {
        self.out.push('}');
        self.first = false;
        self
    }

    /// Opens an array (`[`).
    pub fn open_array(&mut self) -> &mut Self {
        self.separate();
        self.out.push('[');
        self.first = true;
        self
    }

    /// Closes the array.
    pub fn close_array(&mut self) -> &mut Self {
        self.out.push(']');
        self.first = false;
        self
    }

    /// Starts a member: `"key":` (after a comma if needed).
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.separate();
        quote(&mut self.out, key);
        self.out.push(':');
        self.first = true;
        self
    }

    /// A string value (an array item, or a member's value after [`key`](Self::key)).
    pub fn str(&mut self, value: &str) -> &mut Self {
        self.separate();
        quote(&mut self.out, value);
        self
    }

    /// An integer value.
    pub fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        push_int(&mut self.out, value);
        self
    }

    /// An unsigned integer value.
    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.separate();
        push_uint(&mut self.out, value);
        self
    }

    /// `true` or `false`.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// `null`.
    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.out.push_str("null");
        self
    }

    /// A string member.
    pub fn str_member(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key).str(value)
    }

    /// A string member, or `null`.
    pub fn opt_str_member(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        self.key(key);
        match value {
            Some(value) => self.str(value),
            None => self.null(),
        }
    }

    /// An integer member, or `null`.
    pub fn opt_int_member(&mut self, key: &str, value: Option<i64>) -> &mut Self {
        self.key(key);
        match value {
            Some(value) => self.int(value),
            None => self.null(),
        }
    }
}

/// Appends `text` as a JSON string.
fn quote(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\0'..='\u{1f}' => {
                out.push_str("\\u00");
                let hex = b"0123456789abcdef";
                out.push(char::from(hex[c as usize >> 4]));
                out.push(char::from(hex[c as usize & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the decimal digits of `value`.
pub fn push_uint(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // `value % 10` is below 10.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (value % 10) as u8;
        digits[at] = b'0' + digit;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Appends `value` in decimal.
pub fn push_int(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    push_uint(out, value.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a":[1,-2.5e3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{}}"#,
            " [ ] ",
            "0",
            "-0",
            "\"\"",
            "12345678901234567890",
        ] {
            let ours = parse(text).expect(text);
            let theirs: serde_json::Value = serde_json::from_str(text).expect(text);
            assert_eq!(
                serde_json::to_string(&theirs).ok(),
                Some(write_back(&ours)),
                "{text}"
            );
        }
    }

    fn write_back(value: &Value) -> String {
        let mut out = String::new();
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(text) => {
                let number: serde_json::Value = serde_json::from_str(text).expect("number");
                out.push_str(&number.to_string());
            }
            Value::String(text) => quote(&mut out, text),
            Value::Array(items) => {
                out.push('[');
                let items: Vec<String> = items.iter().map(write_back).collect();
                out.push_str(&items.join(","));
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                let members: Vec<String> = members
                    .iter()
                    .map(|(key, value)| {
                        let mut member = String::new();
                        quote(&mut member, key);
                        format!("{member}:{}", write_back(value))
                    })
                    .collect();
                out.push_str(&members.join(","));
                out.push('}');
            }
        }
        out
    }

    #[test]
    fn refuses_what_is_not_json() {
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "nul",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "{} {}",
            "{'a':1}",
            "<html>",
            "NaN",
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_none(), "too deep");
        let fine = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&fine).is_some());
    }

    #[test]
    fn reads_fields_by_the_usual_rules() {
        let value =
            parse(r#"{"s":"x","n":null,"i":-7,"u":7,"f":1.5,"b":true,"l":["a","b"],"d":1,"d":2}"#)
                .expect("json");
        let fields = value.fields().expect("object");
        assert_eq!(fields.str("s"), Ok("x".into()));
        assert_eq!(fields.opt_str("n"), Ok(None));
        assert_eq!(fields.opt_str("missing"), Ok(None));
        assert_eq!(fields.str("n"), Err(BadField("n")));
        assert_eq!(fields.opt_str("i"), Err(BadField("i")));
        assert_eq!(fields.i64("i"), Ok(-7));
        assert_eq!(fields.u64("i"), Err(BadField("i")));
        assert_eq!(fields.u64("u"), Ok(7));
        assert_eq!(fields.opt_i64("f"), Err(BadField("f")));
        assert_eq!(fields.bool("b"), Ok(true));
        assert_eq!(fields.bool("missing"), Ok(false));
        assert_eq!(fields.bool("n"), Err(BadField("n")));
        assert_eq!(fields.strings("l"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(fields.strings("missing"), Ok(Vec::new()));
        assert_eq!(fields.opt_strings("n"), Ok(None));
        assert_eq!(fields.get("d"), Err(BadField("d")), "given twice");
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let text = "a\"b\\c\n\u{1}\u{1f}é😀/";
        let mut writer = Writer::new();
        writer
            .open()
            .str_member("s", text)
            .opt_str_member("none", None)
            .key("i")
            .int(i64::MIN)
            .key("u")
            .uint(u64::MAX)
            .key("l")
            .open_array()
            .str("x")
            .int(0)
            .close_array()
            .key("o")
            .open()
            .close()
            .key("a")
            .open_array()
            .open()
            .close()
            .open_array()
            .close_array()
            .close_array()
            .close();
        let expected = serde_json::json!({
            "s": text, "none": null, "i": i64::MIN, "u": u64::MAX, "l": ["x", 0], "o": {}, "a": [{}, []]
        });
        let written = writer.finish();
        assert!(parse(&written).is_some());
        let back: serde_json::Value = serde_json::from_str(&written).expect("json");
        assert_eq!(back, expected);
        let mut quoted = String::new();
        quote(&mut quoted, text);
        assert_eq!(Some(quoted), serde_json::to_string(text).ok());
    }
}
