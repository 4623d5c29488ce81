//! # leptos-pkce
//!
//! A browser-side OAuth 2.1 / OpenID Connect client for Leptos (CSR) apps:
//! the authorization code flow with PKCE (S256) as a *public client*, tokens
//! held in memory only, an authorized fetch that refreshes (rotating refresh
//! tokens) before expiry and once on a 401.
//!
//! - [`auth`]: the pure protocol core (PKCE, state/nonce, requests, callback,
//!   token responses, ID token claims). No I/O; tested natively.
//! - On `wasm32`: `provide_auth` / `use_auth` give the app an `Auth` handle
//!   with a reactive `AuthStatus`, `sign_in`, `sign_out` and `fetch`.
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

pub mod auth;

#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use auth::config::ClientConfig;
pub use auth::error::AuthError;
pub use auth::session::UserProfile;

#[cfg(target_arch = "wasm32")]
pub use client::{Auth, AuthStatus, ConfigSource, provide_auth, use_auth};
