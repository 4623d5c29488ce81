//! User Timing marks (`performance.mark`/`measure`), visible in DevTools and
//! read by `bench/`. The mark `oidc:start` is set when the client's start-up
//! task begins (right after the app's first render). Measures:
//!
//! | measure | from … to … |
//! | --- | --- |
//! | `oidc:config-request` | fetching `config.json` (network, or the preload) |
//! | `oidc:discovery-request` | fetching the discovery document (network) |
//! | `oidc:ready` | `oidc:start` → configuration loaded, session made (discovery comes with the first step that needs the provider) |
//! | `oidc:pkce` | generating verifier, challenge, state and nonce |
//! | `oidc:callback` | `oidc:start` on the callback page → `signed-in` |
//! | `oidc:token-request` | the code exchange POST (network) |
//! | `oidc:jwks-request` | fetching the provider's keys (network) |
//! | `oidc:userinfo-request` | the userinfo GET (network) |
//! | `oidc:refresh` | a whole refresh |
//! | `oidc:refresh-request` | the refresh POST (network) |

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// Sets the mark `name`.
pub(crate) fn mark(name: &str) {
    if let Some(performance) = performance() {
        let _ = performance.mark(name);
    }
}

/// Measures `name` from the mark `start_mark` to now.
pub(crate) fn measure_from(name: &str, start_mark: &str) {
    if let Some(performance) = performance() {
        let _ = performance.measure_with_start_mark(name, start_mark);
    }
}

/// Marks `<name>:start`.
pub(crate) fn mark_start(name: &str) {
    mark(&format!("{name}:start"));
}

/// Measures `name` from `<name>:start` to now.
pub(crate) fn measure_from_start(name: &str) {
    measure_from(name, &format!("{name}:start"));
}
