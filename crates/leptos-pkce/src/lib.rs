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
//! use leptos_pkce::{provide_auth, ConfigSource};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     let auth = provide_auth(ConfigSource::Url("/config.json".into()));
//!     view! {
//!         <Show when=move || auth.is_signed_in().get()
//!               fallback=move || view! { <button on:click=move |_| auth.sign_in(None)>"Sign in"</button> }>
//!             <button on:click=move |_| auth.sign_out()>"Sign out"</button>
//!         </Show>
//!     }
//! }
//! ```
//!
//! The crate root holds what a Leptos app uses. Below it:
//! - [`engine`]: the whole flow as a sans-IO engine over small ports,
//!   tested natively, for other frameworks;
//! - [`protocol`]: the pure RFC pieces (PKCE, the authorization request,
//!   the callback, token responses, ID token claims, discovery, JWKs).
//!
//! [Leptos]: https://leptos.dev

pub mod protocol;
mod session;

// The engine tests marked for wasm run in headless Chromium too.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg(target_arch = "wasm32")]
mod browser;
#[path = "leptos/mod.rs"]
mod leptos;

pub mod engine {
    //! The session engine and its ports, for other frameworks (a Leptos app
    //! needs none of it): [`Session`] runs the whole flow over the ports
    //! ([`Platform`]); the browser implements them (`Browser`, on
    //! `wasm32`), tests implement them in memory.

    pub use crate::session::{
        ApiToken, CapturedCallback, Clock, DpopKeys, Endpoint, HintStore, HttpRequest,
        HttpResponse, LockGuard, Navigator, Platform, Randomness, ResourceAuth, ResourceResponse,
        Session, SessionOptions, SignatureVerifier, TabStore, Tabs, TokenSet, Transport,
        load_config, tab_channel_name,
    };

    #[cfg(target_arch = "wasm32")]
    pub use crate::browser::Browser;
}

pub mod error {
    //! What can go wrong: [`AuthError`] and the details some of its
    //! variants carry, to match on which check failed.

    pub use crate::protocol::{
        AuthError, BrowserFeature, ConfigProblem, IdTokenCheck, TokenResponseProblem,
    };
}

pub use protocol::{AccessToken, AuthError, ClientConfig, DpopMode, ResourceServer, SignInOptions};
pub use session::{AuthStatus, AuthWarning, SilentRestore, UserProfile};

pub use leptos::{
    Auth, AuthOptions, ConfigSource, RequireAuth, http, provide_auth, provide_auth_with_options,
    use_auth,
};
