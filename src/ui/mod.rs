//! The demo app's components. Everything about signing in is the library's;
//! this module only shows it.
//!
//! **Trusted Types.** The app's CSP has `require-trusted-types-for 'script'`
//! and `trusted-types 'none'`: no DOM sink accepts a string, and no policy may
//! be created. `view!` turns an element whose whole subtree is literal (only
//! quoted text and quoted attributes: no `{…}`, no `on:`, no component) into
//! tachys' `InertElement`, which is built by assigning its HTML to a
//! `<template>`'s `innerHTML`, and the browser refuses that. So every such
//! element here holds its text in a block, `<h1>{"Title"}</h1>`, and the
//! spinner is a component: each is then built with `createElement` and text
//! nodes. `tests/e2e/csp.test.mjs` checks both the wasm (no HTML strings in
//! it) and a visit through every state under the policy.

// `#[component]` generates `pub` props structs inside this private module.
#![allow(unreachable_pub)]

mod api;
mod messages;
mod router;
mod status;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_pkce::{AuthStatus, ConfigSource, provide_auth};

use router::{Link, provide_route};

/// The whole app.
#[component]
pub(crate) fn App() -> impl IntoView {
    provide_auth(ConfigSource::Url("/config.json".into()));
    let route = provide_route();

    view! {
        <header class="topbar">
            <span class="brand">{"Leptos PKCE"}</span>
            <nav aria-label="Main">
                <Link href="/" label="Home"/>
                <Link href="/profile" label="Profile"/>
            </nav>
        </header>
        <main id="main">
            <status::StatusPanel/>
            {move || match route.path().as_str() {
                "/" => EitherOf3::A(view! { <api::ApiPanel/> }),
                "/profile" => EitherOf3::B(view! { <Profile/> }),
                _ => EitherOf3::C(view! {
                    <section class="card">
                        <h1>{"Page not found"}</h1>
                        <p>"There is nothing at this address. "<Link href="/" label="Go home"/></p>
                    </section>
                }),
            }}
        </main>
        <footer class="footer">
            <p>{"Authorization code flow with PKCE, as a public client. Tokens live in memory only."}</p>
        </footer>
    }
}

#[component]
fn Profile() -> impl IntoView {
    let auth = leptos_pkce::use_auth();
    view! {
        <section class="card">
            <h1>{"Profile"}</h1>
            {move || match auth.status().get() {
                AuthStatus::SignedIn(profile) => Either::Left(view! {
                    <dl class="claims">
                        <dt>{"Name"}</dt><dd>{profile.name}</dd>
                        <dt>{"Email"}</dt><dd>{profile.email.unwrap_or_else(|| "not shared".into())}</dd>
                        <dt>{"Subject"}</dt><dd><code>{profile.sub}</code></dd>
                    </dl>
                }),
                _ => Either::Right(view! { <p>"Sign in to see who the identity provider says you are."</p> }),
            }}
        </section>
    }
}

/// A progress line: a spinner (hidden from screen readers) and what is going on.
/// A `label`, not children: children would be a type-erased view per use.
#[component]
pub(crate) fn Busy(label: &'static str) -> impl IntoView {
    view! { <p class="busy"><Spinner/>{label}</p> }
}

/// A component, not a literal `<span>`, so that it is never inert HTML (see above).
#[component]
pub(crate) fn Spinner() -> impl IntoView {
    view! { <span class="spinner" aria-hidden="true"></span> }
}
