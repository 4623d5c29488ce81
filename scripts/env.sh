# Sourced by the scripts: tools on PATH, wasm-opt from npm first, trunk offline.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$repo_root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_OFFLINE=true
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
