#!/usr/bin/env bash
# Installs whatever is missing, and nothing that is already there at the
# right version: the wasm target, the release build's dated nightly with rust-src
# and the MSRV toolchain (both named in scripts/env.sh), the wasm-bindgen CLI
# (exactly the version in Cargo.lock), trunk, the npm packages (oidc-provider,
# binaryen's wasm-opt, playwright-core) and, with --browser, Debian's chromium +
# chromium-driver.
# See ../shared/TOOLCHAIN.md for why each pin is what it is.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
source scripts/env.sh
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

want_browser=false
[ "${1:-}" = "--browser" ] && want_browser=true

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# scripts/release.sh builds std itself with the dated nightly (rust-src); scripts/test.sh
# tests the library on its MSRV. Minimal profiles: no docs, clippy or rustfmt.
have_toolchain() { rustup toolchain list | grep -q "^$1-"; }
if ! have_toolchain "$RELEASE_TOOLCHAIN" \
  || ! rustup component list --installed --toolchain "$RELEASE_TOOLCHAIN" | grep -qx rust-src; then
  say "installing Rust $RELEASE_TOOLCHAIN with rust-src (the release build; about 20 s)"
  rustup toolchain install "$RELEASE_TOOLCHAIN" --profile minimal --no-self-update \
    --target wasm32-unknown-unknown --component rust-src
fi
if ! have_toolchain "$MSRV_TOOLCHAIN"; then
  say "installing Rust $MSRV_TOOLCHAIN (the library's MSRV; about 15 s)"
  rustup toolchain install "$MSRV_TOOLCHAIN" --profile minimal --no-self-update
fi

# The CLI must match the wasm-bindgen crate exactly (pinned with = in Cargo.toml).
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg_version" ]; then
  say "installing wasm-bindgen-cli $wbg_version (a few minutes)"
  # No --locked: one locked dependency of 0.2.130 is not in the registry.
  cargo install wasm-bindgen-cli --version "$wbg_version" --force
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (a few minutes on 2 cores)"
  # trunk's own release profile asks for fat LTO and one codegen unit: minutes
  # of compile time for a tool whose speed does not matter here.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

# npm ci only when the lock file changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > node_modules/.installed-lock
fi

if $want_browser && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  say "installing chromium and chromium-driver"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# binaryen's wasm-opt from npm must come first: Debian's (v108) breaks the app.
wasm_opt="node_modules/.bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version 132"; then
  echo "wasm-opt 132 from npm binaryen is missing; run: npm ci" >&2
  exit 1
fi
say "toolchain ready"
