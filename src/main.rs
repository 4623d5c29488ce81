//! The demo app: a thin user of the `leptos_pkce` library.

#[cfg(target_arch = "wasm32")]
mod ui;

#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The demo app runs in the browser: build it with `trunk build` (see README.md).");
}
