//! The engine's ports in the browser: `fetch` with a timeout and a body
//! cap, sessionStorage, WebCrypto, `location`/`history` and the clock.

mod body;
mod crypto;
mod dpop;
mod http;
pub(crate) use http::send_resource;
pub(crate) mod perf;
mod storage;
pub(crate) mod tabs;
pub(crate) mod window;

use crate::protocol::{AuthError, DpopPublicKey, HashAlg, Jwk, SigningAlg};
use crate::session::{
    Clock, DpopKeys, HintStore, HttpRequest, HttpResponse, LockGuard, Navigator, Randomness,
    ResourceResponse, SignatureVerifier, TabStore, Tabs, Transport,
};

/// The browser's implementation of every port of the session engine.
#[derive(Debug, Clone)]
pub struct Browser {
    request_timeout_ms: u32,
    channel: Option<web_sys::BroadcastChannel>,
    dpop: dpop::DpopSlot,
}

impl Browser {
    /// Requests give up after `request_timeout_ms`; no channel between tabs.
    pub fn new(request_timeout_ms: u32) -> Self {
        Self {
            request_timeout_ms,
            channel: None,
            dpop: dpop::DpopSlot::default(),
        }
    }

    /// Talks to the other tabs over `channel` (see [`crate::engine::tab_channel_name`]).
    #[must_use]
    pub fn with_tab_channel(mut self, channel: Option<web_sys::BroadcastChannel>) -> Self {
        self.channel = channel;
        self
    }

    /// The same ports (and DPoP key) with another request timeout.
    #[must_use]
    pub(crate) fn with_request_timeout(mut self, request_timeout_ms: u32) -> Self {
        self.request_timeout_ms = request_timeout_ms;
        self
    }

    /// Milliseconds before any request counts as failed.
    pub fn request_timeout_ms(&self) -> u32 {
        self.request_timeout_ms
    }
}

impl Transport for Browser {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, AuthError> {
        http::send(request, self.request_timeout_ms).await
    }
}

impl TabStore for Browser {
    fn read(&self, key: &str) -> Option<String> {
        storage::read(key)
    }
    fn write(&self, key: &str, value: &str) -> Result<(), AuthError> {
        storage::write(key, value)
    }
    fn delete(&self, key: &str) {
        storage::delete(key);
    }
    fn keys(&self) -> Vec<String> {
        storage::keys()
    }
}

impl HintStore for Browser {
    fn read_hint(&self, key: &str) -> Option<String> {
        storage::read_shared(key)
    }
    fn write_hint(&self, key: &str, value: &str) {
        storage::write_shared(key, value);
    }
    fn delete_hint(&self, key: &str) {
        storage::delete_shared(key);
    }
}

impl SignatureVerifier for Browser {
    async fn verify_signature(
        &self,
        alg: SigningAlg,
        key: &Jwk,
        signing_input: &str,
        signature: &[u8],
    ) -> Result<bool, AuthError> {
        crypto::verify(alg, key, signing_input, signature).await
    }

    async fn digest(&self, alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        crypto::digest(alg, data).await
    }
}

impl Clock for Browser {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
    async fn sleep_ms(&self, ms: u32) {
        window::sleep(i32::try_from(ms).unwrap_or(i32::MAX)).await;
    }
    fn step_started(&self, name: &'static str) {
        perf::mark_start(name);
    }
    fn step_ended(&self, name: &'static str) {
        perf::measure_from_start(name);
    }
}

impl Tabs for Browser {
    type CarriedKey = wasm_bindgen::JsValue;

    fn post(&self, message: &str) -> bool {
        tabs::post(self.channel.as_ref(), message, dpop::export(&self.dpop))
    }
    fn adopt_key(&self, key: Self::CarriedKey) -> bool {
        dpop::adopt(&self.dpop, &key)
    }
    async fn lock(&self, name: &str) -> Option<LockGuard> {
        tabs::lock(name).await
    }
}

impl DpopKeys for Browser {
    async fn dpop_key(&self) -> Option<DpopPublicKey> {
        dpop::key(&self.dpop).await
    }
    async fn dpop_sign(&self, input: &str) -> Result<Vec<u8>, AuthError> {
        dpop::sign(&self.dpop, input).await
    }
}

impl ResourceResponse for gloo_net::http::Response {
    fn status(&self) -> u16 {
        gloo_net::http::Response::status(self)
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers().get(name)
    }
}

impl Randomness for Browser {
    fn fill_random(&self, bytes: &mut [u8]) -> Result<(), AuthError> {
        crate::protocol::random::fill_random(bytes)
    }
}

impl Navigator for Browser {
    fn path(&self) -> String {
        window::pathname()
    }
    fn query(&self) -> String {
        window::search()
    }
    fn current_path(&self) -> String {
        window::current_path()
    }
    fn navigate(&self, url: &str, replace: bool) {
        window::navigate(url, replace);
    }
    fn replace_url(&self, path: &str) {
        window::replace_url_quietly(path);
    }
}
