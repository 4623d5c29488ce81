//! A two-page router in a few lines: the demo needs no more. Apps with
//! leptos_router work the same way: the auth library announces its URL
//! change with a `popstate` event, which routers follow.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// The current pathname, kept in sync with the address bar.
#[derive(Clone, Copy)]
pub(crate) struct Route(RwSignal<String>);

fn pathname() -> String {
    window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into())
}

/// Creates the route signal and follows back/forward and `popstate`.
pub(crate) fn provide_route() -> Route {
    let route = Route(RwSignal::new(pathname()));
    let handle = window_event_listener(leptos::ev::popstate, move |_| route.0.set(pathname()));
    on_cleanup(move || handle.remove());
    provide_context(route);
    route
}

impl Route {
    /// The route from context.
    pub(crate) fn current() -> Self {
        expect_context()
    }

    /// The current pathname.
    pub(crate) fn path(self) -> String {
        self.0.get()
    }

    fn go(self, href: &str) {
        if let Ok(history) = window().history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(href));
        }
        self.0.set(pathname());
    }
}

/// An in-app link: a real `<a href>` (so it works without the router,
/// opens in a new tab, and is announced as a link), navigating in place.
/// A `label`, not children: children would be a type-erased view per use.
#[component]
pub(crate) fn Link(href: &'static str, label: &'static str) -> impl IntoView {
    let route = Route::current();
    let current = move || (route.path() == href).then_some("page");
    view! {
        <a
            href=href
            aria-current=current
            on:click=move |event| {
                let plain = !(event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key());
                if plain && event.button() == 0 {
                    event.prevent_default();
                    route.go(href);
                }
            }
        >
            {label}
        </a>
    }
}
