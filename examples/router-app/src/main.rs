//! A leptos_router app signed in with leptos-pkce: a public home page, a
//! signed-in-only dashboard with typed claims and a call to a protected API.
//! It uses only the crate's public API (see README.md here).

use leptos::prelude::*;
use leptos_pkce::http::Request;
use leptos_pkce::{ConfigSource, RequireAuth, provide_auth, use_auth};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use serde::Deserialize;

/// The protected API of the local stack (its origin is in `resource_origins`).
const API_URL: &str = "http://127.0.0.1:9100/api/hello";

/// The ID token claims this app reads, as its own type. A claim the
/// provider does not send takes its default instead of failing.
#[derive(Deserialize, Default)]
struct MyClaims {
    #[serde(default)]
    email: String,
    #[serde(default)]
    roles: Vec<String>,
}

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    // Above the router: the callback leaves the URL before any route renders.
    provide_auth(ConfigSource::Url("/config.json".into()));
    view! {
        <Router>
            <nav>
                <A href="/" exact=true>"Home"</A>" | "<A href="/dashboard">"Dashboard"</A>
            </nav>
            <Account/>
            <Routes fallback=|| "Nothing here.">
                <Route path=path!("/") view=|| view! { <p>"A public page."</p> }/>
                // The library replaces the callback URL with the return path at once.
                <Route path=path!("/callback") view=|| ()/>
                <Route path=path!("/dashboard") view=|| view! {
                    <RequireAuth fallback=|| "Checking your sign-in…">
                        <Dashboard/>
                    </RequireAuth>
                }/>
            </Routes>
        </Router>
    }
}

/// Who is signed in, with the right button; the error, if any.
#[component]
fn Account() -> impl IntoView {
    let auth = use_auth();
    let error = move || {
        auth.status()
            .get()
            .error_code()
            .map(|code| format!("Error: {code} "))
    };
    move || {
        match auth.user().get() {
        Some(user) => view! {
            <p>"Signed in as "{user.name}" "<button on:click=move |_| auth.sign_out()>"Sign out"</button></p>
        }
        .into_any(),
        None => view! {
            <p>{error}<button on:click=move |_| auth.sign_in(None)>"Sign in"</button></p>
        }
        .into_any(),
    }
    }
}

/// Signed-in only (inside `RequireAuth`): typed claims and an API call.
#[component]
fn Dashboard() -> impl IntoView {
    let auth = use_auth();
    let claims = move || {
        auth.claims::<MyClaims>()
            .and_then(Result::ok)
            .unwrap_or_default()
    };
    let answer = RwSignal::new(String::new());
    let call_api = move |_| {
        leptos::task::spawn_local(async move {
            let text = match auth.fetch(|| Request::get(API_URL).build()).await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(error) => format!("The call failed: {error}"),
            };
            answer.set(text);
        });
    };
    view! {
        <p>"Email: "{move || claims().email}</p>
        <p>"Roles: "{move || claims().roles.join(", ")}</p>
        <button on:click=call_api>"Call the API"</button>
        <pre>{answer}</pre>
    }
}
