//! # leptos-pkce
//!
//! A browser-side OAuth 2.1 / OpenID Connect client for [Leptos] apps: the
//! authorization code flow with PKCE (S256) as a *public client*, tokens
//! held in memory only, every OpenID Connect check of the ID token
//! (signature by WebCrypto, then the claims), and an authorized `fetch` that
//! refreshes, rotating refresh tokens, before expiry and once on a 401.
//!
//! ```ignore
//! use leptos::prelude::*;
//! use leptos_pkce::{provide_auth, AuthStatus, ConfigSource};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     let auth = provide_auth(ConfigSource::Url("/config.json".into()));
//!     view! {
//!         <Show when=move || matches!(auth.status().get(), AuthStatus::SignedIn(_))
//!               fallback=move || view! { <button on:click=move |_| auth.sign_in(None)>"Sign in"</button> }>
//!             <button on:click=move |_| auth.sign_out()>"Sign out"</button>
//!         </Show>
//!     }
//! }
//! ```
//!
//! The layers, each usable on its own:
//! - [`protocol`]: the pure RFC pieces (PKCE, the authorization request,
//!   the callback, token responses, ID token claims, discovery, JWKs).
//! - [`Session`]: the whole flow as a sans-IO engine over small ports
//!   ([`Transport`], [`TabStore`], [`SignatureVerifier`], [`Clock`],
//!   [`Randomness`], [`Navigator`], [`Tabs`]); tested natively.
//! - On `wasm32`: the browser's ports and the Leptos adapter
//!   (`provide_auth`, `use_auth`, `Auth`).
//!
//! [Leptos]: https://leptos.dev

pub mod protocol;
mod session;

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod leptos;

pub use protocol::{AuthError, ClientConfig};
pub use session::{
    AuthStatus, AuthWarning, CapturedCallback, Clock, DEFAULT_REFRESH_MARGIN_MS, DpopKeys,
    Endpoint, HttpRequest, HttpResponse, JOIN_WINDOW_MS, LockGuard, MAX_BODY_BYTES,
    MAX_REFRESHES_PER_MINUTE, MIN_BACKGROUND_INTERVAL_MS, MIN_BACKGROUND_LIFETIME_MS, Navigator,
    Platform, Randomness, ResourceAuth, ResourceResponse, Session, SessionOptions,
    SignatureVerifier, TabStore, Tabs, TokenSet, Transport, UserProfile, load_config,
    tab_channel_name,
};

#[cfg(target_arch = "wasm32")]
pub use browser::Browser;
#[cfg(target_arch = "wasm32")]
pub use leptos::{
    Auth, AuthOptions, ConfigSource, provide_auth, provide_auth_with_options, use_auth,
};
