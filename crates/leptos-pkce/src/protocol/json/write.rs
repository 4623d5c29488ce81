//! The writer: compact JSON text, strings escaped as RFC 8259 requires.

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
pub(super) fn quote(out: &mut String, text: &str) {
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
