//! The adapter's wiring: the engine's state mirrored into signals, one
//! timer for its next wake-up, the page's wake-up listeners and the
//! channel between tabs. It decides nothing.

use std::cell::Cell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{BroadcastChannel, MessageEvent};

use super::Auth;
use super::driver::{BrowserSession, close_channel, session as session_of};
use crate::browser::{tabs, window};
use crate::session::Clock as _;

/// Sets `signal` only when `value` differs, so that nothing that reads it
/// re-runs for an engine notification that changed something else (a
/// refreshed token, the next timer).
pub(super) fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.with_untracked(|current| *current != value) {
        signal.set(value);
    }
}

/// Hands the other tabs' messages, and the DPoP key that comes with them,
/// to the session.
pub(super) fn listen_to_tabs(channel: Option<&BroadcastChannel>, session: &Rc<BrowserSession>) {
    let Some(channel) = channel else { return };
    let weak = Rc::downgrade(session);
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let (text, key) = tabs::received(&event.data());
        if let (Some(session), Some(text)) = (weak.upgrade(), text) {
            // A new session's ID token is verified first (WebCrypto).
            leptos::task::spawn_local(async move {
                session.on_tab_message(&text, key).await;
            });
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // Lives as long as the channel, which is closed on cleanup.
    on_message.forget();
}

/// Mirrors the engine's state into the signals and keeps one timer armed
/// for its next wake-up.
pub(super) fn observe(auth: Auth, session: &Rc<BrowserSession>) {
    let weak: Weak<BrowserSession> = Rc::downgrade(session);
    let timer: Rc<Cell<Option<TimeoutHandle>>> = Rc::default();
    let armed_for: Rc<Cell<Option<f64>>> = Rc::default();
    session.set_observer(move || {
        let Some(session) = weak.upgrade() else {
            return;
        };
        set_if_changed(auth.status, session.status());
        set_if_changed(auth.warning, session.warning());
        set_if_changed(auth.signing_out, session.signing_out());
        set_if_changed(auth.has_userinfo, session.has_userinfo());
        let next = session.next_wake_at_ms();
        if next == armed_for.get() {
            return;
        }
        armed_for.set(next);
        if let Some(handle) = timer.take() {
            handle.clear();
        }
        // Offline, the `online` event wakes the session instead.
        let Some(at) = next.filter(|_| window::is_online()) else {
            return;
        };
        // setTimeout holds at most 2^31-1 ms; a short floor keeps a due
        // time in the past from spinning.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let delay = (at - session.platform().now_ms()).clamp(50.0, 2_147_483_647.0) as u64;
        let weak = Rc::downgrade(&session);
        let armed_for = Rc::clone(&armed_for);
        let fire = move || {
            armed_for.set(None);
            wake(weak.upgrade());
        };
        timer.set(set_timeout_with_handle(fire, Duration::from_millis(delay)).ok());
    });
}

fn wake(session: Option<Rc<BrowserSession>>) {
    if let Some(session) = session {
        leptos::task::spawn_local(async move { session.on_timer(window::is_online()).await });
    }
}

/// Timers stall in hidden tabs and sleeping laptops, and pause offline:
/// check again when the page is visible, focused or back online; a page
/// restored from the back/forward cache is looked at again.
pub(super) fn watch_page(auth: Auth) {
    let on_wake = move |_| {
        if !window::is_hidden() {
            wake(session_of(auth));
        }
    };
    let handles = [
        window_event_listener_untyped("visibilitychange", on_wake),
        window_event_listener_untyped("focus", on_wake),
        window_event_listener_untyped("online", on_wake),
        window_event_listener_untyped("offline", move |_| {
            if let Some(session) = session_of(auth) {
                session.on_offline();
            }
        }),
        window_event_listener(leptos::ev::pageshow, move |event| {
            if event.persisted()
                && let Some(session) = session_of(auth)
            {
                session.on_page_restored();
            }
        }),
    ];
    on_cleanup(move || {
        handles.into_iter().for_each(|handle| handle.remove());
        close_channel(auth);
    });
}
