#!/usr/bin/env bash
# Command 1: install what is missing, then run the app with its local
# identity provider and protected APIs (demo and orders). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh

node dev/stack.mjs &
stack_pid=$!
trap 'kill $stack_pid 2>/dev/null; wait $stack_pid 2>/dev/null' EXIT INT TERM

cat <<'MSG'

  Open http://localhost:8080 and sign in as  alice / wonderland
  (provider http://127.0.0.1:9000, API http://127.0.0.1:9100,
   orders API http://127.0.0.1:9200)

MSG
trunk serve --offline
