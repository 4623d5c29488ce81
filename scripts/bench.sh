#!/usr/bin/env bash
# One command for the benchmark (issue 5): install what is missing, build the
# release app into dist/ (scripts/release.sh) and the oidc-client-ts reference
# page (bench/reference/) into target/bench/reference/, run the native PKCE
# micro-benchmark if there is one, then bench/run.mjs (headless Chromium against
# the local stack), which writes BENCHMARKS.md and prints a summary. bench/marginal.sh measures
# what the library adds to a tiny router app (issue 21 target 2) before the browser runs.
#
#   BENCH_RUNS=20               timed browser runs (after one warm-up run)
#   BENCH_COMPARE_PAIRS=2×RUNS  app / oidc-client-ts reference sign-in pairs (issue 13)
#   BENCH_ACCESS_TOKEN_TTL=10   access token lifetime for the refresh timing
#
# It uses ports 8080/8081/9000/9100 like the test suites; take their lock, from outside
# (this script does not lock, so that the command below cannot deadlock):
#   flock /tmp/leptos-e2e.lock scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
source scripts/env.sh
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "release build (scripts/release.sh)"
scripts/release.sh dist

# The plain oidc-client-ts page that bench/reference.mjs compares the app's callback with
# (issue 13): one minified ES module, like a production bundle, named after its content like
# trunk's assets (`main-<16 hex>.js`), so dev/static.mjs serves both apps' code with the same
# cache policy. Output under target/ (ignored).
step "the library's marginal cost (bench/marginal.sh: two tiny router apps, same recipe)"
bench/marginal.sh

step "reference page (oidc-client-ts, esbuild)"
ref_out=target/bench/reference
rm -rf "$ref_out"
mkdir -p "$ref_out"
esbuild bench/reference/main.js --bundle --minify --format=esm --target=es2022 --log-level=warning \
  --outfile="$ref_out/main.js"
ref_js="main-$(sha256sum "$ref_out/main.js" | cut -c1-16).js"
mv "$ref_out/main.js" "$ref_out/$ref_js"
sed "s|src=\"/main.js\"|src=\"/$ref_js\"|" bench/reference/index.html > "$ref_out/index.html"
grep -q "$ref_js" "$ref_out/index.html" || { echo "bench/reference/index.html must load /main.js" >&2; exit 1; }

step "native PKCE micro-benchmark"
mkdir -p target/bench
native_out="$PWD/target/bench/pkce_bench.txt"
rm -f "$native_out"
if [ -f crates/leptos-pkce/examples/pkce_bench.rs ]; then
  cargo run --release -p leptos-pkce --example pkce_bench | tee "$native_out"
else
  echo "crates/leptos-pkce/examples/pkce_bench.rs does not exist: skipped"
fi

step "browser benchmark (${BENCH_RUNS:-20} runs)"
BENCH_NATIVE_PKCE="$native_out" node bench/run.mjs
