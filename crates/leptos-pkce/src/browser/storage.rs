//! sessionStorage: the tab's pending request and markers without secrets;
//! localStorage: the session hint (an expiry time) and the hashes of the
//! sessions signed out lately; no token, no identity, no key. No token is
//! ever written to Web Storage.

use crate::protocol::{AuthError, BrowserFeature};

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|window| window.session_storage().ok().flatten())
}

pub(super) fn read(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten()
}

pub(super) fn write(key: &str, value: &str) -> Result<(), AuthError> {
    session_storage()
        .and_then(|storage| storage.set_item(key, value).ok())
        .ok_or(AuthError::BrowserUnsupported(
            BrowserFeature::SessionStorage,
        ))
}

pub(super) fn delete(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(key);
    }
}

pub(super) fn keys() -> Vec<String> {
    let Some(storage) = session_storage() else {
        return Vec::new();
    };
    (0..storage.length().unwrap_or(0))
        .filter_map(|index| storage.key(index).ok().flatten())
        .collect()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|window| window.local_storage().ok().flatten())
}

pub(super) fn read_shared(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

pub(super) fn write_shared(key: &str, value: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(key, value);
    }
}

pub(super) fn delete_shared(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}
