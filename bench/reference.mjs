// Issue 13, targets 2 and 3: the app's callback → signed-in against a plain oidc-client-ts
// page (bench/reference/, built by scripts/bench.sh into target/bench/reference/), against the
// same local provider, in the same benchmark run, the two apps alternating run by run; plus
// the long tasks of both during sign-in and the callback, and the reference's first-load size.
// Used by bench/run.mjs, which starts the provider with referenceProviderEnv and calls
// startReference, signInRun (app, reference, app, reference, ...) and the report functions.
//
// Fairness: both pages come from dev/static.mjs (same headers and cache policy: scripts/bench.sh
// names the reference's bundle after its content like trunk's assets), each run is a fresh
// browser context, both are timed by the same probe (bench/common.mjs), and the reference sits
// on http://localhost:8081, i.e. on another site than the provider (127.0.0.1:9000) exactly
// like the app on http://localhost:8080: on 127.0.0.1 it would be same-site with the provider,
// and Chromium could keep the provider's renderer process for the callback instead of
// starting another one, which would favour the reference.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startStack } from '../dev/stack.mjs';
import { APP, ISSUER, sel } from '../tests/e2e/harness.mjs';
import {
  fmt, kb, leftPage, markAt, probePages, settle, signInThroughForm, stats, statTable, table,
} from './common.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REFERENCE = 'http://localhost:8081';
export const REFERENCE_DIR = path.join(ROOT, 'target', 'bench', 'reference');
const REFERENCE_PORT = new URL(REFERENCE).port;
const LONG_TASK_LIMIT = 50; // ms (issue 21 target 3)

/** Env for dev/provider.mjs: registers the reference's client (`bench-reference`) and its CORS. */
export const referenceProviderEnv = { REFERENCE_ORIGIN: REFERENCE };

/** Serves target/bench/reference/ on REFERENCE with dev/static.mjs; returns { stop() }. */
export async function startReference(logDir) {
  if (!existsSync(path.join(REFERENCE_DIR, 'index.html'))) {
    throw new Error(`${path.relative(ROOT, REFERENCE_DIR)}/index.html is missing: run scripts/bench.sh (it builds it)`);
  }
  return startStack({
    provider: false,
    api: false,
    orders: false,
    static: true,
    logDir,
    env: { APP_PORT: REFERENCE_PORT, APP_ORIGIN: REFERENCE, DIST: REFERENCE_DIR, CONFIG_OVERRIDE: '' },
  });
}

// ---------------------------------------------------------------------------------------
// oidc-provider's default routes.
const PROVIDER_ROUTES = { '/.well-known/openid-configuration': 'discovery', '/token': 'token', '/jwks': 'jwks', '/me': 'userinfo' };

/** A fetch of the callback page: { label, provider } (the provider's endpoint, or the kind of file). */
function requestLabel(url, origin) {
  const { origin: from, pathname } = new URL(url);
  if (from === ISSUER) return { label: PROVIDER_ROUTES[pathname] ?? pathname, provider: true };
  if (from !== origin) return { label: url, provider: false };
  return { label: /\.(js|wasm)$/.test(pathname) ? 'code' : pathname, provider: false }; // else /config.json, CSS
}

/**
 * The callback page of one sign-in, cut into consecutive phases that add up to the wall
 * time (navigation start → signed-in): [phase, ms] in time order.
 */
function phases(cb, origin) {
  const signedIn = cb.states['signed-in'];
  const fetched = cb.resources.filter((r) => r.start < signedIn).map((r) => ({ ...r, ...requestLabel(r.url, origin) }));
  const code = fetched.filter((r) => r.label === 'code');
  const provider = fetched.filter((r) => r.provider);
  if (!code.length || !provider.length) return undefined;
  // The client runs once its code is in: the app's `oidc:start` mark (after the wasm start and
  // first render), the reference's first render (`signing-in`, as soon as the module runs).
  const clientStart = markAt(cb, 'oidc:start') ?? cb.states['signing-in'];
  const moments = [
    // The login form's POST at the provider, its redirects, the connection to the page's server.
    ['navigation start → callback page requested', cb.navigation?.requestStart],
    ['callback page requested → HTML received', cb.responseEnd],
    // From the response to the parser asking for the first script (page commit, parsing).
    ['HTML received → code requested', Math.min(...code.map((r) => r.start))],
    ['code requested → code received (JS, wasm)', Math.max(...code.map((r) => r.end))],
    ['code received → client started (compile, start, first render)', clientStart],
    ['client started → first provider request', Math.min(...provider.map((r) => r.start))],
    ['provider requests, until the last response', Math.max(...provider.map((r) => r.end))],
    ['last provider response → signed-in', signedIn],
  ];
  // A preload can send a request before the client starts (the app preloads config.json and
  // discovery): then the phase up to it is 0 and the next one holds the rest.
  let at = 0;
  return moments.map(([label, moment]) => {
    const span = [label, Math.max(moment, at) - at];
    at = Math.max(moment, at);
    return span;
  });
}

/**
 * One sign-in in a fresh browser context, the same steps for the app and the reference: open
 * `/`, wait for the enabled sign-in button, click it, fill the provider's form, wait for
 * signed-in on `/callback`. Times come from the callback page's probe snapshot.
 */
export async function signInRun(browser, origin) {
  const context = await browser.newContext({ baseURL: origin });
  context.setDefaultTimeout(20000);
  try {
    await probePages(context, origin);
    const page = await context.newPage();
    await page.goto('/', { waitUntil: 'commit' });
    await settle(page, 'signed-out');
    // The app's first visit goes through the provider (prompt=none) and ends signed-out on
    // another page; the snapshot its start page left is not part of the sign-in.
    await page.evaluate(() => window.__bench.left());
    const clickAt = await page.evaluate(() => performance.now());
    const cb = await signInThroughForm(page);
    const start = await leftPage(page);
    // Both must have done the same job: the person's name from the ID token on screen.
    const name = await page.locator(sel.userName).textContent();
    if (name !== 'Alice Liddell') throw new Error(`${origin}: user-name shows ${JSON.stringify(name)}`);
    const signedIn = cb.states['signed-in'];
    return {
      wall: signedIn,
      responseEnd: cb.responseEnd,
      phases: phases(cb, origin),
      requests: cb.resources.filter((r) => r.start < signedIn)
        .map((r) => ({ ...requestLabel(r.url, origin), start: r.start, end: r.end })),
      marks: cb.marks, // the app's oidc:* marks and measures (none on the reference)
      measures: cb.measures,
      paints: cb.paints,
      // Sign-in: the start page from the click until it is left; callback: its page until
      // signed-in. Null when the browser has no Long Tasks API.
      longTasks: start.longTasks && cb.longTasks ? {
        signIn: start.longTasks.filter((t) => t.start + t.duration > clickAt),
        callback: cb.longTasks.filter((t) => t.start < signedIn),
      } : null,
    };
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------
// Report: the budget rows (targets 2 and 3) and the Markdown section.

const medianOf = (values) => stats(values)?.median;
const tasksOf = (runs) => (runs.every((r) => r.longTasks)
  ? runs.map((r) => [...r.longTasks.signIn, ...r.longTasks.callback]) : null);
const maxTask = (perRun) => Math.max(0, ...perRun.flat().map((t) => t.duration));
const taskSummary = (perRun) => (perRun
  ? `${perRun.flat().length} long task(s) in ${perRun.filter((t) => t.length).length} of ${perRun.length} runs, max ${fmt(maxTask(perRun))} ms`
  : 'no data (Long Tasks API missing)');

/** Medians and the ratio of the pairs: { app, reference, ratio, pairRatios }. */
function compare(pairs) {
  const app = stats(pairs.map((p) => p.app.wall));
  const reference = stats(pairs.map((p) => p.reference.wall));
  return { app, reference, ratio: app && reference ? app.median / reference.median : undefined,
    pairRatios: pairs.map((p) => p.app.wall / p.reference.wall) };
}

/** Budget rows [name, limit, measured, verdict] for targets 2 and 3. */
export function referenceBudgets(pairs, verdict) {
  const { app, reference, ratio } = compare(pairs);
  const appTasks = tasksOf(pairs.map((p) => p.app));
  const refTasks = tasksOf(pairs.map((p) => p.reference));
  return [
    ['3. callback → signed-in vs plain oidc-client-ts page, ratio of medians', '≤ 1.00',
      app && reference ? `${fmt(app.median)} vs ${fmt(reference.median)} ms (${ratio.toFixed(2)})` : 'no data',
      verdict(app && reference && app.median <= reference.median)],
    ['3. long tasks during sign-in and callback (comparison runs)', `none > ${LONG_TASK_LIMIT} ms`,
      `app: ${taskSummary(appTasks)}; reference: ${taskSummary(refTasks)}`,
      verdict(appTasks && maxTask(appTasks) <= LONG_TASK_LIMIT)],
  ];
}

/** The report section: the comparison, where the time goes, long tasks, the reference's size. */
export function referenceSection({ pairs, files, appFiles }) {
  return [...comparisonLines(pairs), ...detailLines(pairs, files, appFiles)];
}

/** The comparison of the pairs' wall-clock times, and where the time goes on both callback pages. */
function comparisonLines(pairs) {
  const { app, reference, ratio, pairRatios } = compare(pairs);
  const phaseLabels = [...new Set(pairs.flatMap((p) => (p.app.phases ?? []).map(([label]) => label)))];
  const phaseOf = (run, label) => run.phases?.find(([l]) => l === label)?.[1];
  return [
    '## 4. Callback → signed-in: the app vs a plain oidc-client-ts page (issue 21, target 3)', '',
    'The reference is `bench/reference/`: oidc-client-ts\' `UserManager` without a framework, code + PKCE,',
    'Bearer tokens, the user in memory (`InMemoryWebStorage`), the same DOM hooks, one esbuild-minified',
    `ES module, served by \`dev/static.mjs\` on ${REFERENCE} (the app: ${APP}; both are another site`,
    'than the provider). It reads the name from the ID token like the app; oidc-client-ts does not',
    'check the ID token\'s signature (no JWKS request) and asks for no userinfo (the app does both;',
    'its userinfo request comes right after signed-in when the ID token names the person, as here).', '',
    `${pairs.length} pairs after the runs above, in a block of their own: app, reference, app, reference, …`,
    '(after one warm-up pair), each sign-in in a fresh browser context: open `/`, click sign-in, fill the',
    'provider\'s form. Wall-clock from the navigation start of the page that ends on `/callback` (it',
    'includes the provider handling the form and its redirects, the same for both) to the DOM showing',
    '`signed-in`, by the same probe.', '',
    statTable([
      ['app: navigation start → signed-in', pairs.map((p) => p.app.wall)],
      ['reference: navigation start → signed-in', pairs.map((p) => p.reference.wall)],
      ['ratio app / reference, pair by pair (×)', pairRatios, 2],
    ]), '',
    app && reference ? `Ratio of the medians, app / reference: **${ratio.toFixed(2)}×** (${fmt(app.median)} vs ${fmt(reference.median)} ms);`
      + ` the app is ${app.median <= reference.median ? '**not slower**' : `**${fmt(app.median - reference.median)} ms slower**`}.` : '', '',
    'Where the time goes on the callback page: consecutive phases from the probe and the page\'s',
    'resource timing (they add up to the wall-clock time of each run; medians do not add up exactly).',
    '*Client started* is the app\'s `oidc:start` mark and the reference\'s first render; *provider',
    'requests* are those before signed-in: discovery and token for the reference, discovery and',
    'token ∥ JWKS for the app.', '',
    table(['phase (ms, median)', 'app', 'reference', 'app − reference'], phaseLabels.map((label) => {
      const a = medianOf(pairs.map((p) => phaseOf(p.app, label)));
      const r = medianOf(pairs.map((p) => phaseOf(p.reference, label)));
      return [label, fmt(a), fmt(r), a !== undefined && r !== undefined ? fmt(a - r) : '–'];
    })), '',
  ];
}

/** The provider requests, the app's own measures and long tasks in the pairs, the reference's size. */
function detailLines(pairs, files, appFiles) {
  const total = (list) => list.filter((f) => f.status === 200).reduce((t, f) => t + f.gzip, 0);
  const appRuns = pairs.map((p) => p.app);
  const measureOf = (run, name) => run.measures?.find((m) => m.name === name)?.duration;
  return [
    'The provider requests on the callback page, each from its start to its response end:', '',
    requestTable(pairs), '',
    'The app\'s callback page in these pairs by its own measures, and when the browser painted first',
    '(an interval that holds a paint includes that frame\'s style, layout and paint):', '',
    statTable([
      ['`oidc:callback` (client start → signed-in)', appRuns.map((r) => measureOf(r, 'oidc:callback'))],
      ['`config.json` preload done, after `oidc:start` (< 0: before)', appRuns.map((r) => r.requests.find((q) => q.label === '/config.json')?.end - markAt(r, 'oidc:start'))],
      ['`oidc:config-request` (answered from that preload)', appRuns.map((r) => measureOf(r, 'oidc:config-request'))],
      ['first contentful paint, after `oidc:start`', appRuns.map((r) => r.paints?.find((e) => e.name === 'first-contentful-paint')?.start - markAt(r, 'oidc:start'))],
      ['`oidc:discovery-request`', appRuns.map((r) => measureOf(r, 'oidc:discovery-request'))],
      ['`oidc:token-request`', appRuns.map((r) => measureOf(r, 'oidc:token-request'))],
      ['`oidc:jwks-request` (alongside the token request)', appRuns.map((r) => measureOf(r, 'oidc:jwks-request'))],
      ['`oidc:userinfo-request` (after signed-in)', appRuns.map((r) => measureOf(r, 'oidc:userinfo-request'))],
    ]), '',
    'Long tasks (> 50 ms, Long Tasks API, target 3): on the start page from the click on, and on the',
    'callback page until signed-in.', '',
    table(['page', 'long tasks'], [
      ['app', taskSummary(tasksOf(pairs.map((p) => p.app)))],
      ['reference', taskSummary(tasksOf(pairs.map((p) => p.reference)))],
    ]), '',
    'First load of the reference page, counted like the app\'s in section 1 (gzip level 9):', '',
    table(['file', 'type', 'raw', 'gzip'], [
      ...files.map((f) => [`\`${f.path}\`${f.status === 200 ? '' : ` (HTTP ${f.status}, not counted)`}`,
        f.type.split(';')[0], kb(f.raw), kb(f.gzip)]),
      ['**total**', '', `**${kb(files.filter((f) => f.status === 200).reduce((t, f) => t + f.raw, 0))}**`, `**${kb(total(files))}**`],
    ]), '',
    `The app's first load is ${kb(total(appFiles))} gzip, ${(total(appFiles) / total(files)).toFixed(1)}× the reference's.`, '',
  ];
}

/** Median start and duration of each provider request of the callback page, both apps. */
function requestTable(pairs) {
  const labels = [...new Set(pairs.flatMap((p) => [...p.app.requests, ...p.reference.requests])
    .filter((r) => r.provider).map((r) => r.label))];
  const cell = (runs, label) => {
    const found = runs.map((run) => run.requests.find((r) => r.label === label)).filter(Boolean);
    if (!found.length) return '–';
    return `${fmt(medianOf(found.map((r) => r.start)))} + ${fmt(medianOf(found.map((r) => r.end - r.start)))}`;
  };
  return table(['request (start at + duration, ms, medians)', 'app', 'reference'], [
    ...labels.map((label) => [`\`${label}\``, cell(pairs.map((p) => p.app), label), cell(pairs.map((p) => p.reference), label)]),
    ['`/config.json` (app origin)', cell(pairs.map((p) => p.app), '/config.json'), '–'],
  ]);
}
