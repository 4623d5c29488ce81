//! `window`, `location`, `history` and a clock.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Whole seconds since the epoch (for JWT time claims).
pub fn now_s() -> i64 {
    // Truncation is intended: JWT times are whole seconds.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = (now_ms() / 1000.0).floor() as i64;
    seconds
}

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|window| window.location())
}

/// `location.origin`, e.g. `http://localhost:8080`.
pub fn origin() -> String {
    location().and_then(|l| l.origin().ok()).unwrap_or_default()
}

/// `location.pathname`.
pub fn pathname() -> String {
    location()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// `location.search`, with its leading `?`.
pub fn search() -> String {
    location().and_then(|l| l.search().ok()).unwrap_or_default()
}

/// Path, query and fragment of the current page: where to come back to.
pub fn current_path() -> String {
    let hash = location().and_then(|l| l.hash().ok()).unwrap_or_default();
    format!("{}{}{hash}", pathname(), search())
}

/// Replaces the current history entry with `path` (same origin), without
/// telling routers yet (see [`announce_url_change`]). Used to wipe `code`
/// and `state` from the address bar and history.
pub fn replace_url_quietly(path: &str) {
    if let Some(history) = web_sys::window().and_then(|window| window.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// Tells routers (leptos_router or the app's own) that the URL changed,
/// through a `popstate` event.
pub fn announce_url_change() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(event) = web_sys::PopStateEvent::new("popstate") {
        let _ = window.dispatch_event(&event);
    }
}

/// [`replace_url_quietly`], then [`announce_url_change`].
pub fn replace_url(path: &str) {
    replace_url_quietly(path);
    announce_url_change();
}

/// Loads the page again (to retry a start-up that failed).
pub fn reload() {
    if let Some(location) = location() {
        let _ = location.reload();
    }
}

/// Leaves the app for `url` (the provider).
pub fn redirect(url: &str) {
    if let Some(location) = location() {
        let _ = location.assign(url);
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `navigator.onLine` (true when unknown).
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}

/// Whether the page is hidden (background tab, minimized window).
pub fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.hidden())
}
