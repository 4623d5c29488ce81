// Benchmarks the release build (dist/) in headless Chromium against the local stack and
// writes BENCHMARKS.md. Run it through scripts/bench.sh (builds first), under the e2e lock:
//
//   flock /tmp/leptos-e2e.lock scripts/bench.sh
//
// Env: BENCH_RUNS (20) timed runs, after one warm-up run that is not counted;
//      BENCH_COMPARE_PAIRS (2 × BENCH_RUNS) app/reference sign-in pairs (bench/reference.mjs);
//      BENCH_ACCESS_TOKEN_TTL (10) seconds, so the timer refresh comes after 7.5 s;
//      BENCH_NATIVE_PKCE  file with the output of `cargo run --release --example pkce_bench`;
//      CHROMIUM_PATH (/usr/bin/chromium).
//
// One run = one fresh browser context (a new person): first visit of / (no provider request),
// reload, sign-in through the provider's form, then
// wait for the app's timer refresh. Timings come from the app's own performance.measure
// entries (crates/leptos-pkce/src/browser/perf.rs) and from performance.now() at the moment the DOM shows a state.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { startStack } from '../dev/stack.mjs';
import { API, APP, CHROMIUM_ARGS, ISSUER, expectState } from '../tests/e2e/harness.mjs';
import {
  fmt, leftPage, markAt, measure, NETWORK_MEASURES, probePages, settle, signInThroughForm, taskPhases, transferSizes,
} from './common.mjs';
import { REFERENCE, referenceProviderEnv, signInRun, startReference } from './reference.mjs';
import { report } from './report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(ROOT, 'BENCHMARKS.md');
const RAW = path.join(ROOT, 'target', 'bench', 'raw.json');
// bench/marginal.sh's result (scripts/bench.sh runs it first); kept only if it measured this commit.
const MARGINAL = path.join(ROOT, 'target', 'marginal', 'result.json');
const RUNS = Number(process.env.BENCH_RUNS || 20);
// Sign-ins are quick and the reference's spread is wide: twice as many pairs as runs.
const PAIRS = Number(process.env.BENCH_COMPARE_PAIRS || 2 * RUNS);
const TTL = Number(process.env.BENCH_ACCESS_TOKEN_TTL || 10);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// The e2e suite's flags, and no background preloading of the browser's own UI pages: a trace
// showed one competing with a measured page for the machine's two cores.
const BENCH_ARGS = [...CHROMIUM_ARGS, '--disable-features=PreloadTopChromeWebUI'];

// A measure's name as the report shows it: `token-request`.
const short = (name) => `\`${name.replace(/^oidc:/, '')}\``;

/**
 * The page's network measures in time order within the `oidc:callback` measure (a request
 * after signed-in, like userinfo when the ID token names the person, is not part of it),
 * overlapping ones merged (the app fetches the provider's keys while the token request is in
 * flight): [{ start, end, label }].
 */
function networkSpans(snap) {
  const whole = snap.measures.find((m) => m.name === 'oidc:callback');
  const until = whole ? whole.start + whole.duration : Infinity;
  const merged = [];
  const spans = snap.measures.filter((m) => NETWORK_MEASURES.includes(m.name) && m.start < until)
    .sort((a, b) => a.start - b.start);
  for (const { name, start, duration } of spans) {
    const end = Math.min(start + duration, until);
    const last = merged.at(-1);
    if (last && start <= last.end) {
      last.end = Math.max(last.end, end);
      last.label += ` ∥ ${short(name)}`;
    } else {
      merged.push({ start, end, label: short(name) });
    }
  }
  return merged;
}

/** Time spent waiting on the network before signed-in (overlaps counted once). */
const networkTime = (snap) => networkSpans(snap).reduce((sum, s) => sum + s.end - s.start, 0);

/** Where the client overhead of `total` goes: the gaps around the network measures in it. */
function gaps(snap, total) {
  const whole = snap.measures.find((m) => m.name === total);
  if (!whole) return {};
  const out = {};
  let [at, after] = [whole.start, 'client start'];
  for (const span of networkSpans(snap)) {
    out[`${after} → ${span.label}`] = span.start - at;
    [at, after] = [span.end, span.label];
  }
  out[`${after} → signed-in`] = whole.start + whole.duration - at;
  return out;
}

// a. First visit: a new person's first load of / asks the provider nothing (issue 18: no
// session hint, so no silent attempt) and shows signed-out on that page. Then a reload in the
// same tab.
async function firstVisitAndReload(page) {
  await page.goto('/', { waitUntil: 'commit' });
  const shown = await settle(page, 'signed-out');
  const firstVisit = {
    wall: shown.states['signed-out'],
    ready: measure(shown, 'oidc:ready'),
  };

  await page.reload({ waitUntil: 'commit' });
  const reloaded = await settle(page, 'signed-out');
  await leftPage(page); // the page that showed signed-out above
  const reload = {
    wall: reloaded.states['signed-out'],
    ready: measure(reloaded, 'oidc:ready'),
    responseEnd: reloaded.responseEnd,
    appStart: markAt(reloaded, 'oidc:start'),
  };
  return { firstVisit, reload, firstVisitPage: shown };
}

// b, d, e. Sign in from the reloaded page through the provider's login form.
async function signInPhase(page, firstVisitPage) {
  const cb = await signInThroughForm(page);
  const signInPage = await leftPage(page);
  const callback = {
    wall: cb.states['signed-in'],
    callback: measure(cb, 'oidc:callback'),
    responseEnd: cb.responseEnd,
    appStart: markAt(cb, 'oidc:start'),
    ...Object.fromEntries(NETWORK_MEASURES.map((name) => [name, measure(cb, name)])),
    overhead: measure(cb, 'oidc:callback') - networkTime(cb),
    gaps: gaps(cb, 'oidc:callback'),
  };
  const signIn = { pkce: measure(signInPage, 'oidc:pkce') };
  const longTasks = { start: taskPhases(signInPage), callback: taskPhases(cb),
    firstVisit: firstVisitPage.longTasks ? taskPhases(firstVisitPage) : null };
  return { callback, signIn, longTasks };
}

// c. The app's timer refreshes 25 % of the token lifetime before expiry.
async function refreshPhase(page) {
  await page.waitForFunction(() => performance.getEntriesByName('oidc:refresh').length > 0, null,
    { timeout: (TTL + 20) * 1000, polling: 100 });
  await expectState(page, 'signed-in', 1000);
  const after = await page.evaluate(() => window.__bench.snapshot());
  const refresh = { total: measure(after, 'oidc:refresh'), request: measure(after, 'oidc:refresh-request') };
  refresh.overhead = refresh.total - refresh.request;
  return refresh;
}

// f. A new tab while this one holds the session: it joins over BroadcastChannel (no provider
// request), then a reload of that new tab while the first one lives. g. Reload with no other
// tab: memory is empty, the silent prompt=none round trip.
async function tabsAndReloadPhase(context, page) {
  const tab = await context.newPage();
  await tab.goto('/', { waitUntil: 'commit' });
  const joined = await settle(tab, 'signed-in');
  const newTab = { wall: joined.states['signed-in'] };
  await tab.reload({ waitUntil: 'commit' });
  const rejoined = await settle(tab, 'signed-in');
  await leftPage(tab);
  newTab.reload = rejoined.states['signed-in'];
  await tab.close();

  await page.reload({ waitUntil: 'commit' });
  const restored = await settle(page, 'signed-in');
  // Snapshots of the signed-in page that was reloaded and of the reloaded start page that
  // left for the provider: the latter (the later one) is where the reload began.
  const left = await page.evaluate(() => window.__bench.left());
  const before = left.reduce((a, b) => (a.timeOrigin > b.timeOrigin ? a : b));
  const reloadRestore = { wall: restored.timeOrigin + restored.states['signed-in'] - before.timeOrigin };
  return { newTab, reloadRestore };
}

/** One timed run in a fresh browser context (a new person): phases a to g, in this order. */
async function oneRun(browser) {
  const context = await browser.newContext({ baseURL: APP });
  context.setDefaultTimeout(20000);
  try {
    await probePages(context, APP);
    const page = await context.newPage();
    const { firstVisit, reload, firstVisitPage } = await firstVisitAndReload(page);
    const { callback, signIn, longTasks } = await signInPhase(page, firstVisitPage);
    const refresh = await refreshPhase(page);
    const { newTab, reloadRestore } = await tabsAndReloadPhase(context, page);
    return { firstVisit, reload, callback, signIn, refresh, newTab, reloadRestore, longTasks };
  } finally {
    await context.close().catch(() => {});
  }
}

function run(cmd, args = ['--version']) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0];
  } catch {
    return 'not found';
  }
}

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    nproc: run('nproc', []),
    model: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  };
}

function versions(chromiumVersion) {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const npm = (name) => lock.packages?.[`node_modules/${name}`]?.version ?? 'not in package-lock.json';
  return {
    // scripts/release.sh builds dist/ with the nightly that scripts/env.sh names.
    rustc: run('rustc', [`+${process.env.RELEASE_TOOLCHAIN ?? 'stable'}`, '--version']),
    trunk: run('trunk'), 'wasm-bindgen': run('wasm-bindgen'), 'wasm-opt': run('wasm-opt'),
    chromium: chromiumVersion, node: process.version, 'oidc-provider': npm('oidc-provider'),
    'playwright-core': npm('playwright-core'), 'oidc-client-ts': npm('oidc-client-ts'), esbuild: npm('esbuild'),
  };
}

function gitState() {
  const head = run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock', 'index.html', 'style']);
  return dirty && dirty !== 'not found' ? `${head} + uncommitted changes in src/ or build inputs` : head;
}


// ---------------------------------------------------------------------------------------
/** The timed runs, after one warm-up run (provider, API and browser caches of code paths). */
async function timedRuns(browser, runs, failures) {
  await oneRun(browser);
  for (let i = 1; i <= RUNS; i++) {
    try {
      const r = await oneRun(browser);
      runs.push(r);
      console.log(`bench: run ${i}/${RUNS}: first visit ${fmt(r.firstVisit.wall, 0)} ms, reload ${fmt(r.reload.wall, 0)} ms,`
        + ` callback ${fmt(r.callback.callback, 0)} ms (overhead ${fmt(r.callback.overhead)} ms),`
        + ` refresh ${fmt(r.refresh.total)} ms, pkce ${fmt(r.signIn.pkce, 2)} ms`);
    } catch (err) {
      failures.push({ run: i, error: err.message.split('\n')[0] });
      console.error(`bench: run ${i}/${RUNS} failed: ${err.message}`);
    }
  }
}

// Issue 13 target 2, in a block of its own so that each sign-in follows one of the other
// app: app, reference, app, reference, ... after a warm-up pair that is not counted.
async function comparisonPairs(browser, pairs, failures) {
  await signInRun(browser, APP);
  await signInRun(browser, REFERENCE);
  for (let i = 1; i <= PAIRS; i++) {
    try {
      const pair = { app: await signInRun(browser, APP) };
      pair.reference = await signInRun(browser, REFERENCE);
      pairs.push(pair);
      console.log(`bench: pair ${i}/${PAIRS}: callback → signed-in, app ${fmt(pair.app.wall, 0)} ms,`
        + ` oidc-client-ts reference ${fmt(pair.reference.wall, 0)} ms`);
    } catch (err) {
      failures.push({ run: `comparison pair ${i}`, error: err.message.split('\n')[0] });
      console.error(`bench: pair ${i}/${PAIRS} failed: ${err.message}`);
    }
  }
}

async function main() {
  if (!existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/index.html is missing: run scripts/bench.sh (it builds)');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh --browser`);
  const date = new Date().toISOString();
  const loadStart = os.loadavg()[0];
  const stack = await startStack({
    static: true,
    testHooks: true,
    logDir: path.join(ROOT, '.dev-logs', 'bench'),
    env: { OP_PORT: '9000', API_PORT: '9100', ORDERS_PORT: '9200', APP_PORT: '8080', ISSUER, APP_ORIGIN: APP, API_AUDIENCE: API,
      DIST, ACCESS_TOKEN_TTL: String(TTL), ...referenceProviderEnv },
  });
  let browser;
  let referenceServer;
  const stop = async () => {
    await browser?.close().catch(() => {});
    await referenceServer?.stop();
    await stack.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop().finally(() => process.exit(130)));

  const runs = [];
  const failures = [];
  const reference = { pairs: [], files: [] }; // the oidc-client-ts comparison (bench/reference.mjs)
  let files;
  let chromiumVersion;
  try {
    referenceServer = await startReference(path.join(ROOT, '.dev-logs', 'bench', 'reference'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BENCH_ARGS, timeout: 30000 });
    chromiumVersion = browser.version();
    files = await transferSizes(browser, APP);
    console.log(`bench: first load fetches ${files.map((f) => f.path).join(', ')}`);
    reference.files = await transferSizes(browser, REFERENCE);
    await timedRuns(browser, runs, failures);
    await comparisonPairs(browser, reference.pairs, failures);
  } finally {
    await stop();
  }
  if (!runs.length) throw new Error('every run failed; see .dev-logs/bench/');

  writeResults({ date, loadStart, files, runs, failures, reference, chromiumVersion });
}

/** Writes BENCHMARKS.md and target/bench/raw.json, and prints the budgets. */
function writeResults({ date, loadStart, files, runs, failures, reference, chromiumVersion }) {
  const nativeFile = process.env.BENCH_NATIVE_PKCE;
  const nativePkce = nativeFile && existsSync(nativeFile) ? readFileSync(nativeFile, 'utf8') : '';
  const env = { machine: machine(), versions: versions(chromiumVersion), git: gitState() };
  const marginal = existsSync(MARGINAL) ? JSON.parse(readFileSync(MARGINAL, 'utf8')) : null;
  const result = report({ date, load: { start: loadStart, end: os.loadavg()[0] }, files, runs, failures, env, nativePkce,
    reference, ttl: TTL, marginal: marginal && env.git.startsWith(marginal.commit) ? marginal : null });
  writeFileSync(OUT, result.markdown);
  mkdirSync(path.dirname(RAW), { recursive: true });
  writeFileSync(RAW, JSON.stringify({ date, env, files, runs, failures, reference }, null, 1));

  console.log(`\nbench: wrote ${path.relative(process.cwd(), OUT)} (${runs.length} runs)`);
  console.log(`  first visit ${fmt(result.first?.median, 0)} ms, reload ${fmt(result.reload?.median, 0)} ms (medians)`);
  for (const [name, limit, measured, verdict] of result.budgets) {
    console.log(`  ${verdict.replaceAll('*', '')}  ${name}: ${measured}; budget ${limit}`);
  }
}

main().catch((err) => {
  console.error(`bench: ${err.stack || err.message}`);
  process.exit(1);
});
