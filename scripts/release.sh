#!/usr/bin/env bash
# The release build (issue 21): the app built into DIST (default dist/) with the Leptos book's
# size recipe on the dated nightly named in scripts/env.sh: std rebuilt for size from rust-src
# (build-std, optimize_for_size), panics that abort at once without a message, no Debug
# formatting and no panic locations. About 21 kB gzip less on the first load than a stable
# `trunk build --release`, which still works (BENCHMARKS.md "Release build").
#
#   scripts/release.sh [DIST] [INDEX TRUNK_TOML]
#
# INDEX and TRUNK_TOML build another app of the workspace the same way (bench/marginal.sh
# builds the router example and its bare twin with bench/marginal/Trunk.toml); only the demo's
# Trunk.toml has the CSP hook, so only its output is checked for the policy.
# It builds in its own target dir (target/release-nightly), so that it and the stable builds
# do not rebuild each other's artifacts. Trunk.toml's post_build hook (scripts/csp.mjs, the
# Content-Security-Policy meta) runs as in every trunk build. Needs scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:-dist}"
index="${2:-index.html}"
trunk_toml="${3:-Trunk.toml}"
# Absolute, since trunk reads paths relative to TRUNK_TOML's directory.
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
source scripts/env.sh
say() { printf '\033[1m[release]\033[0m %s\n' "$*"; }

if ! rustup component list --installed --toolchain "$RELEASE_TOOLCHAIN" 2>/dev/null | grep -qx rust-src; then
  echo "Rust $RELEASE_TOOLCHAIN with rust-src is missing: run scripts/setup.sh" >&2
  exit 1
fi

# trunk builds offline here (TRUNK_OFFLINE: cargo --offline), so the crates must be in cargo's
# cache first: the app's, and std's own (build-std resolves the workspace that rust-src ships
# with its Cargo.lock). Fetched once per machine; later runs find them and stay offline.
std_manifest="$(rustc +"$RELEASE_TOOLCHAIN" --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml"
for manifest in Cargo.toml "$std_manifest"; do
  if ! cargo +"$RELEASE_TOOLCHAIN" fetch --offline --locked --manifest-path "$manifest" >/dev/null 2>&1; then
    say "fetching the crates of $manifest (once per machine)"
    cargo +"$RELEASE_TOOLCHAIN" fetch --locked --quiet --manifest-path "$manifest"
  fi
done

say "building into $dist/ with $RELEASE_TOOLCHAIN (build-std, immediate abort)"
RUSTUP_TOOLCHAIN="$RELEASE_TOOLCHAIN" \
  CARGO_TARGET_DIR="$PWD/target/release-nightly" \
  CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none" \
  trunk --config "$trunk_toml" build --release --dist "$(absolute "$dist")" "$(absolute "$index")"

[ "$index" != index.html ] || grep -q 'http-equiv="Content-Security-Policy"' "$dist/index.html" \
  || { echo "$dist/index.html has no Content-Security-Policy meta: did scripts/csp.mjs run?" >&2; exit 1; }
say "done: $dist/"
