//! A guard for signed-in-only views that cannot loop: it waits for
//! start-up to decide, starts at most one sign-in by itself, and never
//! starts one after a failed sign-in.

use leptos::prelude::*;

use super::use_auth;
use crate::session::AuthStatus;

/// Renders its children for a signed-in person.
///
/// ```ignore
/// view! {
///     <RequireAuth fallback=|| view! { <p>"Loading…"</p> }>
///         <Dashboard/>
///     </RequireAuth>
/// }
/// ```
///
/// While start-up decides (configuration, the tab handover, the silent
/// restore) and while leaving for the provider, it shows `fallback`. When
/// nobody is signed in it starts sign-in, once, back to the current page
/// (`redirect`, the default), or shows `signed_out`. After a sign-out (in
/// this tab or another) it shows `signed_out` and starts nothing. After a failed
/// sign-in (`access_denied`, a network error…) it shows `signed_out` and
/// starts nothing: the app shows the error and its own sign-in button.
#[component]
pub fn RequireAuth(
    /// Shown while start-up decides and while leaving for the provider.
    #[prop(optional, into)]
    fallback: ViewFn,
    /// Shown when nobody is signed in and nothing is started, or after a
    /// failed sign-in.
    #[prop(optional, into)]
    signed_out: ViewFn,
    /// Whether to start sign-in when nobody is signed in (default: yes).
    #[prop(default = true)]
    redirect: bool,
    /// The signed-in view.
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let status = auth.status();
    let started = StoredValue::new(false);
    Effect::new(move || {
        let (signed_in, signed_out) =
            status.with(|s| (s.is_signed_in(), *s == AuthStatus::SignedOut));
        // Only a visitor this page never saw signed in is sent on: a
        // sign-out (here or in another tab) shows `signed_out` instead.
        if signed_in {
            started.set_value(true);
        } else if redirect && signed_out && !started.get_value() {
            started.set_value(true);
            auth.sign_in(None);
        }
    });
    move || match status.get() {
        AuthStatus::SignedIn(_) => children().into_any(),
        AuthStatus::SignedOut if redirect && !started.get_value() => fallback.run(),
        AuthStatus::Starting | AuthStatus::SigningIn => fallback.run(),
        _ => signed_out.run(),
    }
}
