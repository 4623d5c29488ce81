#!/usr/bin/env bash
# Command 2: install what is missing, then run every test: lints, native
# unit tests (also on the library's MSRV), wasm tests in headless Chromium,
# and the end-to-end suite (real Chromium, real oidc-provider, real API, the
# release build of scripts/release.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
source scripts/env.sh
# Each step header says how long the run has taken so far (BENCHMARKS.md "Release build"
# quotes the steps' seconds).
step() { printf '\n\033[1m== %s\033[0m (at %d s)\n' "$*" "$SECONDS"; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --target wasm32-unknown-unknown -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc -p leptos-pkce --no-deps --quiet

step "native tests (protocol core and session engine)"
cargo test --workspace

step "native library tests on its MSRV (Rust $MSRV_TOOLCHAIN)"
cargo +"$MSRV_TOOLCHAIN" test -p leptos-pkce --target-dir target/msrv

step "examples: router-app (wasm32), ssr-shared (ssr natively, hydrate for wasm32)"
cargo build -p router-app --target wasm32-unknown-unknown
cargo check -p ssr-shared --features ssr
cargo check -p ssr-shared --features hydrate --target wasm32-unknown-unknown

step "wasm tests in headless Chromium"
cargo test -p leptos-pkce --target wasm32-unknown-unknown --lib --tests

step "release build (scripts/release.sh: $RELEASE_TOOLCHAIN, build-std)"
scripts/release.sh dist

step "the library's marginal cost (bench/marginal.sh: issue 21 target 2, measured, not enforced)"
bench/marginal.sh

step "end-to-end tests"
E2E_REQUIRE_APP=1 node --test --test-concurrency=1 tests/e2e/
step "all tests passed"
