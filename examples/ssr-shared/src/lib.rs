//! The components an SSR + hydrate app shares between its two builds,
//! written once, with no `cfg`: on the server the auth client is inert (the
//! status stays `Starting`, so `RequireAuth` renders its fallback, which is
//! also the browser's first view: hydration matches), and in the browser it
//! starts after hydration. The server framework (axum, actix) and the
//! `hydrate()` entry point are the app's; this crate stays out of them.

use leptos::prelude::*;
use leptos_pkce::{ConfigSource, RequireAuth, provide_auth, use_auth};
use serde::Deserialize;

/// The claims the account page reads.
#[derive(Deserialize, Default)]
struct Claims {
    #[serde(default)]
    email: String,
}

/// The app: the client above everything, a header, a signed-in-only part.
#[component]
pub fn App() -> impl IntoView {
    provide_auth(ConfigSource::Url("/config.json".into()));
    view! {
        <Header/>
        <RequireAuth fallback=|| view! { <p>"Checking your sign-in…"</p> }>
            <Account/>
        </RequireAuth>
    }
}

/// Who is signed in, and the button for the other way.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    move || match auth.user().get() {
        Some(user) => view! {
            <p>{user.name}" "<button on:click=move |_| auth.sign_out()>"Sign out"</button></p>
        }
        .into_any(),
        None => {
            view! { <button on:click=move |_| auth.sign_in(None)>"Sign in"</button> }.into_any()
        }
    }
}

/// Signed in only: the email from the ID token's claims.
#[component]
pub fn Account() -> impl IntoView {
    let auth = use_auth();
    let email = move || {
        auth.claims::<Claims>()
            .and_then(Result::ok)
            .unwrap_or_default()
            .email
    };
    view! { <p>"Email: "{email}</p> }
}
