//! examples/router-app without leptos-pkce: the same three pages and
//! navigation on leptos_router, for the library's marginal cost
//! (bench/marginal.sh builds both with the release recipe).

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <nav>
                <A href="/" exact=true>"Home"</A>" | "<A href="/dashboard">"Dashboard"</A>" | "
                <A href="/reports">"Reports"</A>
            </nav>
            <Routes fallback=|| "Nothing here.">
                <Route path=path!("/") view=|| view! { <p>"A public page."</p> }/>
                <Route path=path!("/dashboard") view=Dashboard/>
                <Route path=path!("/reports") view=|| view! { <p>"Reports."</p> }/>
            </Routes>
        </Router>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let count = RwSignal::new(0);
    view! {
        <p>"A dashboard."</p>
        <button on:click=move |_| count.update(|n| *n += 1)>"Clicked "{count}</button>
    }
}
