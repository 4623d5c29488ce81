//! A leptos_router app signed in with leptos-pkce: a public home page, a
//! signed-in-only dashboard with typed claims and a call to a protected API.
//! It uses only the crate's public API (see README.md here).

use leptos::prelude::*;
use leptos_pkce::http::Request;
use leptos_pkce::{ConfigSource, RequireAuth, provide_auth, use_auth};
use leptos_router::components::{A, ProtectedRoute, Route, Router, Routes};
use leptos_router::path;

/// The ID token claims this app reads, as its own type. A claim the
/// provider does not send takes its default instead of failing.
#[derive(serde::Deserialize)]
struct MyClaims {
    #[serde(default)]
    email: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// The local stack's protected API (its origin is in `resource_origins`).
const API_URL: &str = "http://127.0.0.1:9100/api/hello";

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    // Above the router: the callback leaves the URL before any route renders.
    let auth = provide_auth(ConfigSource::Url("/config.json".into()));
    view! {
        <Router>
            <nav>
                <A href="/" exact=true>"Home"</A>" | "<A href="/dashboard">"Dashboard"</A>" | "
                <Show when=move || auth.is_signed_in().get() fallback=move || view! {
                    <button on:click=move |_| auth.sign_in(None)>"Sign in"</button>
                }>
                    {move || auth.user().get().map(|user| user.name)}" "
                    <button on:click=move |_| auth.sign_out()>"Sign out"</button>
                </Show>
            </nav>
            <Routes fallback=|| "Nothing here.">
                <Route path=path!("/") view=|| view! { <p>"A public page."</p> }/>
                // The library replaces the callback URL with the return path at once.
                <Route path=path!("/callback") view=|| ()/>
                <Route path=path!("/dashboard") view=|| view! {
                    <RequireAuth fallback=|| "Checking your sign-in…"><Dashboard/></RequireAuth>
                }/>
                // Or a guarded route that sends signed-out visitors home instead.
                <ProtectedRoute path=path!("/reports") view=|| view! { <p>"Reports."</p> }
                    condition=auth.route_condition() redirect_path=|| "/"/>
            </Routes>
        </Router>
    }
}

/// Signed-in only (inside `RequireAuth`): typed claims and an API call.
#[component]
fn Dashboard() -> impl IntoView {
    let auth = use_auth();
    let claims = move || auth.claims::<MyClaims>().and_then(Result::ok);
    let call_api = Action::new_local(move |_: &()| async move {
        match auth.fetch(|| Request::get(API_URL).build()).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(error) => format!("The call failed: {error}"),
        }
    });
    view! {
        <p>"Email: "{move || claims().map(|claims| claims.email)}</p>
        <p>"Roles: "{move || claims().map(|claims| claims.roles.join(", "))}</p>
        <button on:click=move |_| { call_api.dispatch(()); }>"Call the API"</button>
        <pre>{move || call_api.value().get()}</pre>
    }
}
