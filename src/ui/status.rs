//! The sign-in status: the `[data-testid=auth-status]` test hook.

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos_pkce::{AuthError, AuthStatus, use_auth};

use super::{Busy, messages};

/// Shows who is signed in, progress, or what went wrong, with the right button.
///
/// Everything it shows sits in one polite live region that is on the page
/// from the first render (around the loading notice), so screen readers
/// announce each change: start-up done, signing in, signed in, an error, a
/// background warning. A region inserted together with its content is not
/// announced.
/// What went wrong, what to do next, and (unless the configuration is at
/// fault) a button to sign in again.
#[component]
fn ErrorDetails(error: AuthError) -> impl IntoView {
    let auth = use_auth();
    let code = error.code().to_owned();
    let can_retry = code != "config_invalid";
    view! {
        <div class="error">
            <p class="error-title">{title(&code)}</p>
            <p data-testid="error-message">{messages::explain(&error)}</p>
            <p class="error-next">{next_step(&code)}</p>
            <p class="error-code">"Error code, if you ask for help: " <code>{code}</code></p>
        </div>
        {can_retry.then(|| view! {
            <button class="primary" data-testid="sign-in" on:click=move |_| auth.sign_in(None)>
                "Sign in again"
            </button>
        })}
    }
}

#[component]
pub(crate) fn StatusPanel() -> impl IntoView {
    let auth = use_auth();
    let status = auth.status();
    let started = Memo::new(move |_| !matches!(status.get(), AuthStatus::Starting));

    view! {
        <div class="status-region" aria-live="polite">
            // A memo and `Either`, not `<Show>`: the same DOM without a
            // type-erased fallback view.
            {move || if !started.get() {
                Either::Left(view! {
                    <section class="card status" aria-busy="true" data-testid="app-loading">
                        <Busy label="Loading sign-in…"/>
                    </section>
                })
            } else { Either::Right(view! {
                <section
                    class="card status"
                    data-testid="auth-status"
                    data-state=move || status.with(AuthStatus::as_str)
                    data-error=move || status.with(|status| status.error_code().map(str::to_owned))
                >
                    {move || match status.get() {
                        AuthStatus::SigningIn => EitherOf4::A(view! { <Busy label="Signing you in…"/> }),
                        AuthStatus::SignedIn(profile) => EitherOf4::B(view! {
                            <p>"Signed in as " <strong data-testid="user-name">{profile.name}</strong></p>
                            <button
                                data-testid="sign-out"
                                on:click=move |_| auth.sign_out()
                                disabled=move || auth.signing_out().get()
                            >
                                {move || if auth.signing_out().get() { "Signing out…" } else { "Sign out" }}
                            </button>
                        }),
                        AuthStatus::Error(error) => EitherOf4::C(view! { <ErrorDetails error/> }),
                        _ => EitherOf4::D(view! {
                            <p>{"You are signed out."}</p>
                            <button class="primary" data-testid="sign-in" on:click=move |_| auth.sign_in(None)>
                                "Sign in"
                            </button>
                        }),
                    }}
                </section>
                {move || auth.warning().get().map(|warning| view! {
                    <p class="card warning" data-testid="auth-warning">
                        {messages::warning(&warning, js_sys::Date::now())}
                    </p>
                })}
            }) }}
        </div>
    }
}

/// What happened, in a few words.
fn title(code: &str) -> &'static str {
    match code {
        "config_invalid" | "discovery_failed" => "Sign-in is not available right now",
        "browser_unsupported" => "Sign-in does not work in this browser",
        "session_expired" => "Your session has ended",
        _ => "Sign-in did not complete",
    }
}

/// What the person can do about it (the message above says why).
fn next_step(code: &str) -> &'static str {
    match code {
        "config_invalid" => {
            "Signing in again will not help until the site's settings are fixed. Please tell the site's administrator, with the error code below."
        }
        "discovery_failed" | "network_error" => {
            "Check that you are online, then choose “Sign in again”. If it keeps failing, the sign-in service may be down: try again later."
        }
        "server_error" | "temporarily_unavailable" | "token_response_invalid" => {
            "The problem is on the sign-in service's side, not yours. Wait a moment, then choose “Sign in again”."
        }
        "access_denied" => {
            "You are not signed in. If you meant to sign in, choose “Sign in again” and complete the form."
        }
        "browser_unsupported" => {
            "Try again in an up-to-date browser that allows this site to store data (some private windows do not)."
        }
        "session_expired"
        | "invalid_grant"
        | "login_required"
        | "interaction_required"
        | "consent_required" => "To go on, choose “Sign in again”.",
        _ => {
            "You are not signed in. To try again, choose “Sign in again”. If it keeps failing, tell the site's administrator, with the error code below."
        }
    }
}
