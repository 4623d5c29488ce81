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
mod status;

use leptos::prelude::*;
use leptos_pkce::protocol::Prompt;
use leptos_pkce::{ConfigSource, RequireAuth, SignInOptions, provide_auth, use_auth};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The whole app.
#[component]
pub(crate) fn App() -> impl IntoView {
    // Above the router: a callback's code leaves the URL before the router
    // first reads it, and every route shares one handle.
    provide_auth(ConfigSource::Url("/config.json".into()));

    view! {
        <Router>
            <header class="topbar">
                <span class="brand">{"Leptos PKCE"}</span>
                <nav aria-label="Main">
                    // `<A>` sets `aria-current="page"` on the current page's link.
                    <A href="/" exact=true>"Home"</A>
                    <A href="/profile" exact=true>"Profile"</A>
                </nav>
            </header>
            <main id="main">
                // On every route, `/callback` included: the library takes the
                // code off the URL at once, replaces it with the return path
                // and fires `popstate`, which the router follows.
                <status::StatusPanel/>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=api::ApiPanel/>
                    <Route path=path!("/callback") view=|| ()/>
                    <Route path=path!("/profile") view=Profile/>
                </Routes>
            </main>
            <footer class="footer">
                <p>{"Authorization code flow with PKCE, as a public client. Tokens live in memory only."}</p>
            </footer>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>{"Page not found"}</h1>
            <p>"There is nothing at this address. "<A href="/">"Go home"</A></p>
        </section>
    }
}

/// Signed-in only: [`RequireAuth`] starts one sign-in for a signed-out
/// visitor and comes back here; after a failed sign-in it explains instead.
#[component]
fn Profile() -> impl IntoView {
    view! {
        <section class="card">
            <h1>{"Profile"}</h1>
            <RequireAuth
                fallback=|| view! { <Busy label="Checking your sign-in…"/> }
                signed_out=ProfileSignedOut
            >
                <Claims/>
            </RequireAuth>
        </section>
    }
}

#[component]
fn Claims() -> impl IntoView {
    let auth = use_auth();
    move || {
        auth.user().get().map(|profile| {
            view! {
                <dl class="claims">
                    <dt>{"Name"}</dt><dd>{profile.name}</dd>
                    <dt>{"Email"}</dt><dd>{profile.email.unwrap_or_else(|| "not shared".into())}</dd>
                    <dt>{"Subject"}</dt><dd><code>{profile.sub.clone()}</code></dd>
                </dl>
                <ConfirmIdentity sub=profile.sub/>
            }
        })
    }
}

/// Asks the provider to check the person again (`prompt=login`, the
/// account named by `login_hint`): a step-up that keeps this session until
/// the new tokens are verified and name the same person.
#[component]
fn ConfirmIdentity(sub: String) -> impl IntoView {
    let auth = use_auth();
    let confirm = move |_| {
        auth.sign_in_with(
            SignInOptions::default()
                .prompt(Prompt::Login)
                .login_hint(sub.clone())
                .return_to("/profile"),
        );
    };
    view! {
        <button data-testid="reauthenticate" on:click=confirm>{"Confirm it's you"}</button>
    }
}

#[component]
fn ProfileSignedOut() -> impl IntoView {
    let auth = use_auth();
    view! {
        <p>"This page shows who the identity provider says you are, so it needs you signed in."</p>
        <button on:click=move |_| auth.sign_in(None)>"Sign in to see your profile"</button>
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
