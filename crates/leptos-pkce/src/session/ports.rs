//! The ports of the session engine: everything it needs from the outside
//! world, as small traits. The browser implements them with `fetch`,
//! sessionStorage, WebCrypto and `location`; tests implement them in memory.

use core::future::Future;

use crate::protocol::{AuthError, DpopPublicKey, HashAlg, Jwk, SigningAlg};

/// Which server a request goes to. The transport uses it for the
/// credentials mode and for error messages; tests use it to script answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The app's own `config.json`.
    Config,
    /// The provider's discovery document.
    Discovery,
    /// The provider's signing keys (`jwks_uri`).
    Keys,
    /// The token endpoint (code exchange, refresh).
    Token,
    /// The userinfo endpoint.
    Userinfo,
    /// The revocation endpoint.
    Revocation,
    /// The pushed authorization request endpoint.
    PushedAuthorization,
}

/// A request the engine wants sent. Provider requests carry no cookies.
pub struct HttpRequest {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The absolute URL.
    pub url: String,
    /// `Authorization` header value, if any.
    pub authorization: Option<String>,
    /// A form body (`application/x-www-form-urlencoded`); `None` means GET.
    pub form: Option<String>,
    /// A `DPoP` proof header ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
    pub dpop: Option<String>,
}

impl HttpRequest {
    /// A request without `Authorization` or proof.
    pub fn new(endpoint: Endpoint, url: &str, form: Option<String>) -> Self {
        Self {
            endpoint,
            url: url.to_owned(),
            authorization: None,
            form,
            dpop: None,
        }
    }

    /// The method: POST with a form, else GET.
    pub fn method(&self) -> &'static str {
        if self.form.is_some() { "POST" } else { "GET" }
    }
}

impl core::fmt::Debug for HttpRequest {
    // The header and the form carry tokens, codes and verifiers.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("endpoint", &self.endpoint)
            .field("url", &self.url)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .field("form", &self.form.as_ref().map(|_| "[redacted]"))
            .field("dpop", &self.dpop.as_ref().map(|_| "[proof]"))
            .finish()
    }
}

/// A response: the status and the body (at most 1 MiB).
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `DPoP-Nonce` header, if the server sent one.
    pub dpop_nonce: Option<String>,
}

impl HttpResponse {
    /// A response without a nonce.
    pub fn new(status: u16, body: String) -> Self {
        Self {
            status,
            body,
            dpop_nonce: None,
        }
    }
}

impl core::fmt::Debug for HttpResponse {
    // Token responses carry tokens.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// The largest response body a transport hands to the engine; a longer one
/// is a network error (no provider answer is this large).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;

/// Sends HTTP requests, each with a timeout.
pub trait Transport {
    /// Sends `request`; a timeout, refusal or oversize body is
    /// [`AuthError::Network`].
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, AuthError>>;
}

/// The tab's own storage (sessionStorage in the browser): only the pending
/// request and markers without secrets ever go there, never a token.
pub trait TabStore {
    /// The value under `key`.
    fn read(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`; fails when storage is unavailable.
    fn write(&self, key: &str, value: &str) -> Result<(), AuthError>;
    /// Removes `key`.
    fn delete(&self, key: &str);
    /// Every key.
    fn keys(&self) -> Vec<String>;
}

/// Storage that the app's tabs share and that outlives them (localStorage
/// in the browser), for one value without any secret: until when this
/// browser is likely to have a session with the provider (the session
/// hint). Never a token, never who signed in.
pub trait HintStore {
    /// The value under `key`.
    fn read_hint(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key` (best effort).
    fn write_hint(&self, key: &str, value: &str);
    /// Removes `key`.
    fn delete_hint(&self, key: &str);
}

/// Verifies signatures (WebCrypto in the browser).
pub trait SignatureVerifier {
    /// Whether `signature` over `signing_input` verifies with `key` under
    /// `alg`. A key that cannot be imported counts as `Ok(false)`.
    fn verify_signature(
        &self,
        alg: SigningAlg,
        key: &Jwk,
        signing_input: &str,
        signature: &[u8],
    ) -> impl Future<Output = Result<bool, AuthError>>;

    /// The `alg` hash of `data` (for `at_hash`).
    fn digest(&self, alg: HashAlg, data: &[u8])
    -> impl Future<Output = Result<Vec<u8>, AuthError>>;
}

/// The wall clock, waiting, and where to report how long a step took.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Resolves after `ms` milliseconds.
    fn sleep_ms(&self, ms: u32) -> impl Future<Output = ()>;
    /// A timed step named `name` (`oidc:pkce`, `oidc:refresh`) starts.
    fn step_started(&self, _name: &'static str) {}
    /// The timed step named `name` ends.
    fn step_ended(&self, _name: &'static str) {}
}

/// A cryptographically secure random source.
pub trait Randomness {
    /// Fills `bytes`.
    fn fill_random(&self, bytes: &mut [u8]) -> Result<(), AuthError>;
}

/// The page's address: where it is, and leaving or rewriting it.
pub trait Navigator {
    /// `location.pathname`.
    fn path(&self) -> String;
    /// `location.search`, with its leading `?` (or empty).
    fn query(&self) -> String;
    /// Path, query and fragment: where to come back to.
    fn current_path(&self) -> String;
    /// Leaves the app for `url`. `replace`: without a new history entry
    /// (the silent restore, so that Back does not bounce through it).
    fn navigate(&self, url: &str, replace: bool);
    /// Replaces the current history entry with `path` (same origin), to
    /// wipe `code` and `state` from the address bar and history.
    fn replace_url(&self, path: &str);
}

/// This page's DPoP key pair (WebCrypto, the private key not extractable,
/// in memory only).
pub trait DpopKeys {
    /// The public key, the pair made on first use; `None` where the
    /// platform cannot make one.
    fn dpop_key(&self) -> impl Future<Output = Option<DpopPublicKey>>;
    /// The ES256 signature (`r‖s`, 64 bytes) of `input` with the private key.
    fn dpop_sign(&self, input: &str) -> impl Future<Output = Result<Vec<u8>, AuthError>>;
}

/// The other tabs of this app with the same provider and client
/// (`BroadcastChannel` and Web Locks in the browser). Without them each tab
/// keeps its own session. Messages go both ways through this port: the
/// platform attaches this page's DPoP key to what it posts, and hands a
/// received message to [`Session::on_tab_message`](super::Session::on_tab_message)
/// with the key that came with it, which the engine takes over
/// ([`Tabs::adopt_key`]) only with the session bound to it.
pub trait Tabs {
    /// A DPoP key pair as it travels between tabs (in the browser, a
    /// structured clone of the `CryptoKeyPair`: it stays non-extractable).
    type CarriedKey;
    /// Sends `message` to every other tab (not to this one), with this
    /// page's DPoP key if it has one; false where there is no channel.
    fn post(&self, message: &str) -> bool;
    /// Makes `key` this page's DPoP key, if it is one: an ECDSA P-256 pair
    /// whose private half is not extractable. False when refused.
    fn adopt_key(&self, key: Self::CarriedKey) -> bool;
    /// Takes the lock `name`, shared by all tabs of the origin: resolves
    /// with a guard that releases it when dropped, or `None` at once where
    /// there are no locks.
    fn lock(&self, name: &str) -> impl Future<Output = Option<LockGuard>>;
}

/// Holds a lock of [`Tabs::lock`] until dropped.
pub struct LockGuard {
    _release: Box<dyn core::any::Any>,
}

impl LockGuard {
    /// A guard that releases its lock when `release` is dropped.
    pub fn new(release: impl core::any::Any) -> Self {
        Self {
            _release: Box::new(release),
        }
    }
}

impl core::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Everything the engine needs, in one bound.
pub trait Platform:
    Transport
    + TabStore
    + HintStore
    + SignatureVerifier
    + Clock
    + Randomness
    + Navigator
    + Tabs
    + DpopKeys
{
}

impl<T> Platform for T where
    T: Transport
        + TabStore
        + HintStore
        + SignatureVerifier
        + Clock
        + Randomness
        + Navigator
        + Tabs
        + DpopKeys
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_tokens() {
        let mut request = HttpRequest::new(
            Endpoint::Token,
            "https://id.example.com/token",
            Some("refresh_token=secret-rt".into()),
        );
        request.authorization = Some("Bearer secret-at".into());
        let response = HttpResponse::new(200, r#"{"access_token":"secret-at"}"#.into());
        let shown = format!("{request:?} {response:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("[28 bytes]"));
    }
}
