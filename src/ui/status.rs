//! The sign-in status: the `[data-testid=auth-status]` test hook.

use leptos::prelude::*;
use leptos_pkce::{AuthStatus, use_auth};

use super::messages;

/// Shows who is signed in, progress, or what went wrong, with the right button.
#[component]
pub(crate) fn StatusPanel() -> impl IntoView {
    let auth = use_auth();
    let status = auth.status();
    let started = move || !matches!(status.get(), AuthStatus::Starting);

    view! {
        <Show
            when=started
            fallback=|| view! {
                <section class="card status" aria-busy="true" data-testid="app-loading">
                    <p class="busy"><span class="spinner" aria-hidden="true"></span>"Loading sign-in…"</p>
                </section>
            }
        >
            <section
                class="card status"
                data-testid="auth-status"
                data-state=move || status.with(AuthStatus::as_str)
                data-error=move || status.with(|status| status.error_code().map(str::to_owned))
                aria-live="polite"
            >
                {move || match status.get() {
                    AuthStatus::SigningIn => view! {
                        <p class="busy">
                            <span class="spinner" aria-hidden="true"></span>
                            "Signing you in…"
                        </p>
                    }.into_any(),
                    AuthStatus::SignedIn(profile) => view! {
                        <p>"Signed in as " <strong data-testid="user-name">{profile.name}</strong></p>
                        <button
                            data-testid="sign-out"
                            on:click=move |_| auth.sign_out()
                            disabled=move || auth.signing_out().get()
                        >
                            {move || if auth.signing_out().get() { "Signing out…" } else { "Sign out" }}
                        </button>
                    }.into_any(),
                    AuthStatus::Error(error) => {
                        let can_retry = error.code() != "config_invalid";
                        view! {
                            <div class="error" role="alert">
                                <p class="error-title">"Sign-in did not complete"</p>
                                <p data-testid="error-message">{messages::explain(&error)}</p>
                                <p class="error-code">"Error code: " <code>{error.code().to_owned()}</code></p>
                            </div>
                            <Show when=move || can_retry>
                                <button class="primary" data-testid="sign-in" on:click=move |_| auth.sign_in(None)>
                                    "Sign in again"
                                </button>
                            </Show>
                        }.into_any()
                    }
                    _ => view! {
                        <p>"You are signed out."</p>
                        <button class="primary" data-testid="sign-in" on:click=move |_| auth.sign_in(None)>
                            "Sign in"
                        </button>
                    }.into_any(),
                }}
            </section>
            {move || auth.warning().get().map(|warning| view! {
                <p class="card warning" role="status" data-testid="auth-warning">
                    {messages::warning(&warning, js_sys::Date::now())}
                </p>
            })}
        </Show>
    }
}
