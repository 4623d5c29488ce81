//! The I/O-free protocol core: everything here is plain Rust over strings
//! and bytes, checked natively by `cargo test`. The browser edges live in
//! `web`; the Leptos facade in the crate root.

pub mod backoff;
pub mod callback;
pub mod config;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod jwk;
pub mod jws;
pub mod logout;
pub mod pending;
pub mod pkce;
pub mod random;
pub mod request;
pub mod return_to;
pub mod secret;
pub mod session;
pub mod token;
pub mod uri;
pub mod userinfo;
