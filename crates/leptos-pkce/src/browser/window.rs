//! `window`, `location` and `history`.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|window| window.location())
}

/// `location.origin`, e.g. `http://localhost:8080`.
pub(crate) fn origin() -> String {
    location().and_then(|l| l.origin().ok()).unwrap_or_default()
}

/// `location.pathname`.
pub(crate) fn pathname() -> String {
    location()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// `location.search`, with its leading `?`.
pub(crate) fn search() -> String {
    location().and_then(|l| l.search().ok()).unwrap_or_default()
}

/// Path, query and fragment of the current page: where to come back to.
pub(crate) fn current_path() -> String {
    let hash = location().and_then(|l| l.hash().ok()).unwrap_or_default();
    format!("{}{}{hash}", pathname(), search())
}

/// Replaces the current history entry with `path` (same origin), without
/// telling routers yet (see [`announce_url_change`]). Used to wipe `code`
/// and `state` from the address bar and history.
pub(crate) fn replace_url_quietly(path: &str) {
    if let Some(history) = web_sys::window().and_then(|window| window.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// Tells routers (leptos_router or the app's own) that the URL changed,
/// through a `popstate` event.
pub(crate) fn announce_url_change() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(event) = web_sys::PopStateEvent::new("popstate") {
        let _ = window.dispatch_event(&event);
    }
}

/// Leaves the app for `url` (the provider); `replace`: without a new
/// history entry.
pub(crate) fn navigate(url: &str, replace: bool) {
    if let Some(location) = location() {
        let _ = if replace {
            location.replace(url)
        } else {
            location.assign(url)
        };
    }
}

/// Resolves after `ms` milliseconds.
pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `navigator.onLine` (true when unknown).
pub(crate) fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}

/// Whether the page is hidden (background tab, minimized window).
pub(crate) fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.hidden())
}
