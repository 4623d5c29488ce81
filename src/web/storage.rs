//! sessionStorage: the pending authorization request (written just before
//! the redirect, taken by the callback) and two markers without secrets.
//! No token is ever written to Web Storage.

use crate::auth::error::AuthError;
use crate::auth::pending::{PendingRequest, STORAGE_PREFIX};

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|window| window.session_storage().ok().flatten())
}

/// Stores `pending` under a key derived from its `state`.
pub fn save(pending: &PendingRequest) -> Result<(), AuthError> {
    let unsupported = || {
        AuthError::BrowserUnsupported(
            "sessionStorage is not available (private mode or blocked storage?)".into(),
        )
    };
    let storage = session_storage().ok_or_else(unsupported)?;
    storage
        .set_item(
            &PendingRequest::storage_key(pending.state.secret()),
            &pending.to_json(),
        )
        .map_err(|_| unsupported())
}

/// Reads and removes the pending request stored under `state`, if any.
pub fn take(state: &str) -> Option<PendingRequest> {
    let storage = session_storage()?;
    let key = PendingRequest::storage_key(state);
    let text = storage.get_item(&key).ok().flatten();
    let _ = storage.remove_item(&key);
    text.as_deref().and_then(PendingRequest::from_json)
}

/// Removes every pending request of this tab (`keep_newer_than_ms`: keep
/// entries created after this time, e.g. to purge only expired ones).
pub fn remove_all(keep_newer_than_ms: Option<f64>) {
    let Some(storage) = session_storage() else {
        return;
    };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(STORAGE_PREFIX))
        .collect();
    for key in keys {
        let keep = keep_newer_than_ms.is_some_and(|threshold| {
            storage
                .get_item(&key)
                .ok()
                .flatten()
                .and_then(|text| PendingRequest::from_json(&text))
                .is_some_and(|pending| pending.created_at_ms > threshold)
        });
        if !keep {
            let _ = storage.remove_item(&key);
        }
    }
}

/// Sets a marker key (value `1`).
pub fn set_marker(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(key, "1");
    }
}

/// Whether a marker key is set.
pub fn has_marker(key: &str) -> bool {
    session_storage().is_some_and(|storage| storage.get_item(key).ok().flatten().is_some())
}

/// Removes a key.
pub fn remove(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Removes every key with `prefix` and returns what followed the prefix.
pub fn take_suffixes(prefix: &str) -> Vec<String> {
    let Some(storage) = session_storage() else {
        return Vec::new();
    };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(prefix))
        .collect();
    keys.into_iter()
        .map(|key| {
            let _ = storage.remove_item(&key);
            key[prefix.len()..].to_owned()
        })
        .collect()
}
