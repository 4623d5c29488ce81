# Sourced by the scripts: tools on PATH, wasm-opt from npm first, trunk offline, and the
# toolchains that scripts/setup.sh installs.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$repo_root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_OFFLINE=true
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# The dated nightly of the release build (scripts/release.sh: build-std, immediate abort).
# Change it on purpose only, and measure the size again (BENCHMARKS.md "Release build").
export RELEASE_TOOLCHAIN=nightly-2026-10-29
# The library's minimum supported Rust version (`rust-version` in Cargo.toml), tested by
# scripts/test.sh.
MSRV_TOOLCHAIN=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' "$repo_root/Cargo.toml")
