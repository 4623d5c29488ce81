//! The browser edges and the core, in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use leptos_pkce::auth::pending::{PendingRequest, STORAGE_PREFIX};
use leptos_pkce::auth::pkce::is_valid_verifier;
use leptos_pkce::auth::secret::{CsrfState, Nonce, PkceCodeVerifier};
use leptos_pkce::web::{browser, storage};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn pending(state: &str, created_at_ms: f64) -> PendingRequest {
    PendingRequest {
        state: CsrfState::new(state.into()),
        code_verifier: PkceCodeVerifier::new_random().expect("crypto.getRandomValues"),
        nonce: Nonce::new("n".into()),
        issuer: "http://127.0.0.1:9000".into(),
        redirect_uri: "http://localhost:8080/callback".into(),
        return_to: "/profile".into(),
        created_at_ms,
        silent: false,
    }
}

fn pending_keys() -> Vec<String> {
    let storage = web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .expect("sessionStorage");
    (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(STORAGE_PREFIX))
        .collect()
}

#[wasm_bindgen_test]
fn rfc7636_vector_in_the_browser() {
    let octets = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    let verifier = PkceCodeVerifier::from_entropy(&octets);
    assert_eq!(
        verifier.challenge().as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let random = PkceCodeVerifier::new_random().expect("crypto.getRandomValues");
    assert!(is_valid_verifier(random.secret()));
}

#[wasm_bindgen_test]
fn pending_requests_are_keyed_by_state_and_taken_once() {
    storage::remove_all(None);
    let now = browser::now_ms();
    storage::save(&pending("tab-one", now)).expect("save");
    storage::save(&pending("tab-two", now)).expect("save");
    assert_eq!(
        pending_keys().len(),
        2,
        "a second sign-in does not overwrite the first"
    );

    let taken = storage::take("tab-one").expect("stored");
    assert_eq!(taken.return_to, "/profile");
    assert!(storage::take("tab-one").is_none(), "taken once");
    assert!(storage::take("forged").is_none());
    assert_eq!(pending_keys(), vec![format!("{STORAGE_PREFIX}tab-two")]);

    storage::remove_all(None);
    assert!(pending_keys().is_empty());
}

#[wasm_bindgen_test]
fn only_expired_requests_are_purged_on_start() {
    storage::remove_all(None);
    let now = browser::now_ms();
    storage::save(&pending("old", now - 3_600_000.0)).expect("save");
    storage::save(&pending("fresh", now)).expect("save");
    storage::remove_all(Some(now - 600_000.0));
    assert_eq!(pending_keys(), vec![format!("{STORAGE_PREFIX}fresh")]);
    storage::remove_all(None);
}

#[wasm_bindgen_test]
fn replace_url_rewrites_the_current_entry() {
    let before = web_sys::window()
        .expect("window")
        .history()
        .expect("history")
        .length()
        .expect("length");
    browser::replace_url("/profile?tab=1");
    assert_eq!(browser::current_path(), "/profile?tab=1");
    let after = web_sys::window()
        .expect("window")
        .history()
        .expect("history")
        .length()
        .expect("length");
    assert_eq!(before, after, "replace, not push");
}
