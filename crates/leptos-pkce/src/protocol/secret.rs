//! Secret newtypes: values that must never reach a log, an error text or a
//! `Debug` dump. Their `Debug` prints `[redacted]`, none of them is `Clone`
//! (a one-time secret cannot be duplicated by accident), and none has a plain
//! `PartialEq`: comparisons go through the constant-time `ct_eq`.
//!
//! Each reads from a JSON string (the token answer, the pending request).
//! Only the three secrets of the pending request, which the tab writes to
//! its sessionStorage, can be written back.

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                Self(value)
            }

            /// The secret itself. Every call site is a place the secret leaves
            /// its wrapper: keep them few and obvious.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Compares with `other` in time that depends only on the lengths.
            pub fn ct_eq(&self, other: &str) -> bool {
                constant_time_eq(&self.0, other)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self)
            }
        }
    };
}

/// Writes the secret as a JSON string: for the pending request only.
macro_rules! serialize_secret {
    ($($name:ident),*) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    )*};
}

secret_string!(
    /// The PKCE `code_verifier` ([RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)).
    PkceCodeVerifier
);
secret_string!(
    /// The `state` value that binds a callback to the request this tab sent
    /// ([RFC 6749 §10.12](https://www.rfc-editor.org/rfc/rfc6749#section-10.12)).
    CsrfState
);
secret_string!(
    /// The OpenID Connect `nonce` that binds an ID token to the request
    /// ([OIDC Core §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)).
    Nonce
);
secret_string!(
    /// A one-time authorization code from the callback.
    AuthorizationCode
);
secret_string!(
    /// An access token, sent as `Authorization: Bearer` ([RFC 6750](https://www.rfc-editor.org/rfc/rfc6750)).
    AccessToken
);
secret_string!(
    /// A refresh token. Rotated on every use: the old one is dropped.
    RefreshToken
);
secret_string!(
    /// A compact-serialized OpenID Connect ID token.
    IdToken
);

serialize_secret!(PkceCodeVerifier, CsrfState, Nonce);

/// Compares two secrets in time that depends only on their lengths, so a
/// callback's `state` cannot be guessed byte by byte from timing.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let token = AccessToken::new("eyJhbGciOi.secret".into());
        let shown = format!("{token:?}");
        assert_eq!(shown, "AccessToken([redacted])");
        assert!(!shown.contains("secret."));
    }

    #[test]
    fn constant_time_eq_compares_content() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(constant_time_eq("", ""));
    }
}
