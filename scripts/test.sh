#!/usr/bin/env bash
# Command 2: install what is missing, then run every test: lints, native
# unit tests, wasm tests in headless Chromium, and the end-to-end suite
# (real Chromium, real oidc-provider, real API, the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
source scripts/env.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p leptos-pkce --no-deps --quiet

step "native tests (protocol core and session engine)"
cargo test --workspace

step "examples: router-app (wasm32), ssr-shared (ssr natively, hydrate for wasm32)"
cargo build -p router-app --target wasm32-unknown-unknown
cargo check -p ssr-shared --features ssr
cargo check -p ssr-shared --features hydrate --target wasm32-unknown-unknown

step "wasm tests in headless Chromium"
cargo test -p leptos-pkce --target wasm32-unknown-unknown --lib --tests

step "release build"
trunk build --release --offline

step "end-to-end tests"
E2E_REQUIRE_APP=1 node --test --test-concurrency=1 tests/e2e/
