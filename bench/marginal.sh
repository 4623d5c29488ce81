#!/usr/bin/env bash
# What the library costs an app (issue 21): two tiny leptos_router apps built with the release
# recipe (scripts/release.sh), the router example (examples/router-app: the crate, a guard, an
# authorized fetch, typed claims) and its twin without the crate (bench/marginal/bare), and the
# gzip -9 sizes of what a first load fetches from each (index.html, JS, wasm). The difference is
# the library's marginal cost.
#
#   bench/marginal.sh            prints a Markdown table, and writes target/marginal/result.json,
#                                which scripts/bench.sh's report reads (BENCHMARKS.md "Marginal cost")
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/marginal
scripts/release.sh "$out/with" examples/router-app/index.html bench/marginal/Trunk.toml >/dev/null
scripts/release.sh "$out/bare" bench/marginal/bare/index.html bench/marginal/Trunk.toml >/dev/null
node --input-type=module - "$out/bare" "$out/with" "$out/result.json" "$(git rev-parse --short HEAD)" <<'JS'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const [bareDir, withDir, resultFile, commit] = process.argv.slice(2);
const [bare, withAuth] = [bareDir, withDir].map((dir) => {
  const files = readdirSync(dir).filter((f) => /\.(html|js|wasm)$/.test(f));
  const sizes = Object.fromEntries(files.map((f) => {
    const bytes = readFileSync(path.join(dir, f));
    return [path.extname(f).slice(1), { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length }];
  }));
  const total = Object.values(sizes).reduce((sum, s) => sum + s.gzip, 0);
  return { sizes, total };
});
const row = (name, a, b) => `| ${name} | ${a} | ${b} | ${b - a} |`;
console.log('| first load, gzip -9 (B) | bare router app | with leptos-pkce | marginal cost |');
console.log('| --- | ---: | ---: | ---: |');
for (const ext of ['html', 'js', 'wasm']) console.log(row(ext, bare.sizes[ext].gzip, withAuth.sizes[ext].gzip));
console.log(row('**total**', bare.total, withAuth.total));
writeFileSync(resultFile, JSON.stringify({ commit, bare, with: withAuth, marginal: withAuth.total - bare.total }, null, 1));
JS
