//! The words a person reads. The library's errors are short and technical;
//! what they mean for the person is the app's to say. What to do next is
//! said beside them (the status panel's next step, the API panel's retry).

use leptos_pkce::error::{BrowserFeature, ConfigProblem};
use leptos_pkce::{AuthError, AuthWarning};

/// What happened, in words a person understands.
pub(crate) fn explain(error: &AuthError) -> String {
    let detail = || format!(" (Details: {error}.)");
    match error {
        AuthError::ConfigInvalid(ConfigProblem::Field { field, .. }) => format!(
            "This site's sign-in setting `{field}` is wrong.{}",
            detail()
        ),
        AuthError::ConfigInvalid(_) => {
            format!("This site's sign-in settings are missing or wrong.{}", detail())
        }
        AuthError::DiscoveryFailed(_) => {
            format!("We could not reach the identity provider.{}", detail())
        }
        AuthError::StateMismatch => "This sign-in answer does not match a sign-in started in this tab (it may be old, reused or forged), so it was rejected.".into(),
        AuthError::IssuerMismatch(_) => format!(
            "The sign-in answer came from an unexpected identity provider, so it was rejected.{}",
            detail()
        ),
        AuthError::OAuth { code, description } => {
            let what = match code.as_str() {
                "access_denied" => "The sign-in was cancelled or refused.",
                "invalid_grant" => "Your sign-in is no longer valid.",
                "login_required" | "interaction_required" | "consent_required" => {
                    "The identity provider needs you to sign in again."
                }
                "temporarily_unavailable" | "server_error" => "The identity provider is having trouble.",
                _ => "The identity provider refused the request.",
            };
            match description.as_deref().filter(|text| !text.is_empty()) {
                Some(text) => format!("{what} The provider said: “{text}”"),
                None => format!("{what} (error: {code})"),
            }
        }
        AuthError::CallbackInvalid(_) => format!("The sign-in answer was incomplete.{}", detail()),
        AuthError::TokenResponseInvalid(_) => format!(
            "The identity provider sent an answer we cannot use.{}",
            detail()
        ),
        AuthError::InvalidIdToken(why) => format!(
            "The identity provider's proof of who you are failed verification ({why}), so the sign-in was refused for your safety."
        ),
        AuthError::UserinfoSubMismatch => "The identity provider's profile answer names a different person than the sign-in, so the sign-in was refused.".into(),
        AuthError::ServerError(status) => {
            format!("The identity provider had a problem (HTTP {status}).")
        }
        AuthError::Network(_) => format!("A request did not get through.{}", detail()),
        AuthError::NotSignedIn => "You are not signed in.".into(),
        AuthError::SessionExpired => "Your session has ended.".into(),
        AuthError::BrowserUnsupported(feature) => format!(
            "This browser cannot complete the sign-in ({}).{}",
            browser_hint(*feature),
            detail()
        ),
        AuthError::ResourceNotAllowed(origin) => format!(
            "This app is not allowed to send your access token to {origin}; add it to resource_origins (or resources) in config.json if it should be."
        ),
        AuthError::ResourceNotGranted(api) => format!(
            "You have not allowed this app to use {api} yet: sign in again to allow it."
        ),
        _ => format!("Something went wrong.{}", detail()),
    }
}

/// What may be behind a missing browser feature.
fn browser_hint(feature: BrowserFeature) -> &'static str {
    match feature {
        BrowserFeature::SessionStorage => "private mode or blocked storage?",
        _ => "it needs a secure (https) page and a current browser",
    }
}

/// The notice shown while signed in, when something needs patience.
pub(crate) fn warning(warning: &AuthWarning, now_ms: f64) -> String {
    match warning {
        AuthWarning::RefreshRetrying { cause, retry_at_ms } => {
            // Whole seconds: no float formatting in the wasm.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let seconds = ((retry_at_ms - now_ms) / 1000.0).ceil().max(0.0) as u32;
            format!(
                "Could not renew your session ({cause}). Retrying in {seconds} s; you are still signed in."
            )
        }
        AuthWarning::Offline => {
            "You are offline. Your session will be renewed when the connection is back.".into()
        }
        _ => "Your session needs attention.".into(),
    }
}
