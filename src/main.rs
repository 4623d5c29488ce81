//! The demo app: a thin user of the `leptos_pkce` library.

#[cfg(target_arch = "wasm32")]
mod ui;

#[cfg(target_arch = "wasm32")]
fn main() {
    // Mount in a task of its own: the task that compiles and instantiates the
    // wasm then ends first, so neither task comes near 50 ms (no long task
    // on slow machines), and the first render comes no later.
    leptos::prelude::set_timeout(
        || leptos::mount::mount_to_body(ui::App),
        std::time::Duration::ZERO,
    );
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The demo app runs in the browser: build it with `trunk build` (see README.md).");
}
