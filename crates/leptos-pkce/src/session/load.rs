//! What kind of page load this is, and the tab's storage of pending
//! requests and markers (never a token).
//!
//! A callback is taken off the address bar *synchronously*, before any
//! await and before the configuration is even loaded: if start-up then
//! fails, no code stays in the URL, the history or sessionStorage.

use super::ports::{Clock, Navigator, TabStore};
use crate::protocol::BrowserFeature;
use crate::protocol::{
    AuthError, CallbackParams, LOGOUT_PREFIX, PENDING_TTL_MS, PendingRequest, SILENT_SKIP_KEY,
    STORAGE_PREFIX, constant_time_eq,
};

/// An authorization response taken off the address bar at page start,
/// with the pending request of this tab that it names (if any).
#[derive(Debug)]
pub struct CapturedCallback {
    pub(crate) path: String,
    pub(crate) params: CallbackParams,
    pub(crate) pending: Option<PendingRequest>,
}

impl CapturedCallback {
    /// If the page's query answers a sign-in of this tab (`state` with a
    /// `code` or an `error`, and a pending request under that `state`),
    /// takes it: the pending request leaves sessionStorage, expired ones
    /// are purged, and the URL becomes the path the sign-in started from.
    /// Call before anything is awaited. A query that merely looks like one
    /// (`/?code=SPRING25&state=NY`) is the app's and stays.
    pub fn capture(platform: &(impl Navigator + TabStore), now_ms: f64) -> Option<Self> {
        Self::capture_on(platform, now_ms, None)
    }

    /// [`capture`](Self::capture), and on `callback_path` (the redirect
    /// URI's path) also an answer no pending request of this tab expects:
    /// forged, replayed, expired, or from another tab (`state_mismatch`).
    pub(crate) fn capture_on(
        platform: &(impl Navigator + TabStore),
        now_ms: f64,
        callback_path: Option<&str>,
    ) -> Option<Self> {
        let params = CallbackParams::from_query(&platform.query());
        let expired_before = now_ms - PENDING_TTL_MS;
        let Some(state) = params
            .state
            .clone()
            .filter(|_| params.code.is_some() || params.error.is_some())
        else {
            purge_pending(platform, Some(expired_before));
            return None;
        };
        let path = platform.path();
        let pending = take_pending(platform, &state);
        purge_pending(platform, Some(expired_before));
        if pending.is_none() && callback_path != Some(path.as_str()) {
            return None;
        }
        let return_to = pending
            .as_ref()
            .map_or("/", |pending| pending.return_to.as_str());
        platform.replace_url(return_to);
        Some(Self {
            path,
            params,
            pending,
        })
    }

    /// Whether the request this answers was a silent (`prompt=none`) one.
    pub fn is_silent(&self) -> bool {
        self.pending.as_ref().is_some_and(|pending| pending.silent)
    }
}

/// What this page load has to do once the session has started.
#[derive(Debug)]
pub(crate) enum PageLoad {
    /// Finish the sign-in this callback answers.
    Callback(Box<CapturedCallback>),
    /// A load after RP-initiated logout started in this tab.
    LogoutReturn(LogoutReturn),
    /// Try to restore the provider's session without a prompt.
    SilentRestore,
    /// Nothing to do: signed out.
    Idle,
}

/// How a load after RP-initiated logout came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoutReturn {
    /// With the `state` this tab sent: the provider's return.
    Ours,
    /// With another `state`: forged.
    Forged,
    /// Without a `state`: Back from the provider's page, or a later load.
    WithoutState,
}

/// Decides what this load is. Logout markers are taken (removed) here.
pub(crate) fn classify(
    platform: &(impl Navigator + TabStore + Clock),
    captured: Option<CapturedCallback>,
    callback_path: &str,
    silent_restore: bool,
) -> PageLoad {
    let logouts = take_markers(platform, LOGOUT_PREFIX);
    let captured = captured
        .or_else(|| CapturedCallback::capture_on(platform, platform.now_ms(), Some(callback_path)));
    if let Some(captured) = captured.filter(|captured| captured.path == callback_path) {
        return PageLoad::Callback(Box::new(captured));
    }
    if !logouts.is_empty() {
        let Some(returned) = CallbackParams::from_query(&platform.query()).state else {
            return PageLoad::LogoutReturn(LogoutReturn::WithoutState);
        };
        platform.replace_url(&platform.path());
        let ours = logouts.iter().any(|ours| constant_time_eq(ours, &returned));
        return PageLoad::LogoutReturn(if ours {
            LogoutReturn::Ours
        } else {
            LogoutReturn::Forged
        });
    }
    if silent_restore && platform.read(SILENT_SKIP_KEY).is_none() {
        PageLoad::SilentRestore
    } else {
        PageLoad::Idle
    }
}

/// Stores `pending` under its `state`.
pub(crate) fn save_pending(
    store: &impl TabStore,
    pending: &PendingRequest,
) -> Result<(), AuthError> {
    store
        .write(
            &PendingRequest::storage_key(pending.state.secret()),
            &pending.to_json(),
        )
        .map_err(|_| AuthError::BrowserUnsupported(BrowserFeature::SessionStorage))
}

/// Reads and removes the pending request stored under `state`.
fn take_pending(store: &impl TabStore, state: &str) -> Option<PendingRequest> {
    let key = PendingRequest::storage_key(state);
    let text = store.read(&key);
    store.delete(&key);
    text.as_deref().and_then(PendingRequest::from_json)
}

/// Removes the pending requests of this tab, all of them or (with
/// `created_before_ms`) those created before that time, and damaged ones.
pub(crate) fn purge_pending(store: &impl TabStore, created_before_ms: Option<f64>) {
    for key in store.keys() {
        if !key.starts_with(STORAGE_PREFIX) {
            continue;
        }
        let keep = created_before_ms.is_some_and(|threshold| {
            store
                .read(&key)
                .and_then(|text| PendingRequest::from_json(&text))
                .is_some_and(|pending| pending.created_at_ms >= threshold)
        });
        if !keep {
            store.delete(&key);
        }
    }
}

/// Removes every key with `prefix`; returns what followed the prefix.
fn take_markers(store: &impl TabStore, prefix: &str) -> Vec<String> {
    let keys: Vec<String> = store
        .keys()
        .into_iter()
        .filter(|key| key.starts_with(prefix))
        .collect();
    keys.into_iter()
        .map(|key| {
            store.delete(&key);
            key[prefix.len()..].to_owned()
        })
        .collect()
}

/// Sets a marker key (a value without secrets).
pub(crate) fn set_marker(store: &impl TabStore, key: &str) {
    let _ = store.write(key, "1");
}
