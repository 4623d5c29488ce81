// First-load transfer sizes of one or more built apps, counted as the benchmark counts them
// (bench/common.mjs transferSizes: what Chromium's first load of `/` fetches from the app
// origin, then raw, gzip -9 and brotli 11 of each file), without the timed runs. Used to compare
// the stable build with scripts/release.sh's (BENCHMARKS.md "Release build"):
//
//   node bench/sizes.mjs DIR [DIR...]      e.g. node bench/sizes.mjs dist target/stable-dist
//
// Each DIR is served in turn on the e2e ports with the local provider (the first load ends
// signed out); importing the harness takes the e2e port lock, so it waits for a test run.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { startStack } from '../dev/stack.mjs';
import { API, APP, CHROMIUM_ARGS, ISSUER } from '../tests/e2e/harness.mjs';
import { kb, table, transferSizes } from './common.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const dirs = process.argv.slice(2);
if (!dirs.length) throw new Error('usage: node bench/sizes.mjs DIR [DIR...]');

const totals = [];
for (const dir of dirs) {
  const dist = path.resolve(dir);
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dir}/index.html is missing: build first`);
  const stack = await startStack({
    static: true, quiet: true,
    env: {
      OP_PORT: '9000', API_PORT: '9100', ORDERS_PORT: '9200', APP_PORT: '8080', ISSUER, APP_ORIGIN: APP, API_AUDIENCE: API, DIST: dist,
    },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  let files;
  try {
    files = (await transferSizes(browser, APP)).filter((f) => f.status === 200);
  } finally {
    await browser.close();
    await stack.stop();
  }
  const sum = (key) => files.reduce((t, f) => t + f[key], 0);
  const total = { dir, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
  totals.push(total);
  console.log(`\n${dir}\n`);
  console.log(table(['file', 'raw (B)', 'gzip -9 (B)', 'brotli 11 (B)'], [
    ...files.map((f) => [`\`${f.path}\``, f.raw, f.gzip, f.brotli]),
    ['**total**', `**${total.raw}**`, `**${total.gzip}**`, `**${total.brotli}**`],
  ]));
}
if (totals.length > 1) {
  console.log('\nfirst load, totals\n');
  console.log(table(['build', 'raw', 'gzip -9', 'brotli 11'],
    totals.map((t) => [`\`${t.dir}\``, kb(t.raw), kb(t.gzip), kb(t.brotli)])));
}
