// What bench/run.mjs (the app) and bench/reference.mjs (the oidc-client-ts reference page)
// share, so that both are timed and counted the same way: the page probe and its helpers,
// the first-load size count, statistics and Markdown tables.

import zlib from 'node:zlib';

import { expectState, sel } from '../tests/e2e/harness.mjs';

// ---------------------------------------------------------------------------------------
// In every app page (added with context.addInitScript, so it runs before the app): records
// when each auth state first appears (signed-out counts once the sign-in button is enabled),
// collects long tasks, and on pagehide keeps a snapshot in the tab's sessionStorage
// (`bench.left.*`, removed when read): a page that left for the provider cannot be read
// afterwards, and a binding call made during pagehide does not reach Node.
function pageProbe(appOrigin) {
  if (location.origin !== appOrigin || window !== window.top) return;
  const states = {};
  const longTasks = [];
  const keep = (entries) => entries.forEach((e) => longTasks.push({ start: e.startTime, duration: e.duration }));
  let longTaskObserver;
  try {
    longTaskObserver = new PerformanceObserver((list) => keep(list.getEntries()));
    longTaskObserver.observe({ type: 'longtask', buffered: true });
  } catch { /* no Long Tasks API: reported as no data */ }
  const check = () => {
    const state = document.querySelector('[data-testid=auth-status]')?.getAttribute('data-state');
    if (!state || state in states) return;
    if (state === 'signed-out') {
      const button = document.querySelector('[data-testid=sign-in]');
      if (!button || button.disabled) return;
    }
    states[state] = performance.now();
    // Tells Node without Node evaluating anything in the page (see probePage).
    window.__benchState?.(state);
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'disabled'],
  });
  const snapshot = () => {
    if (longTaskObserver) keep(longTaskObserver.takeRecords());
    const pick = ({ name, startTime, duration }) => ({ name, start: startTime, duration });
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      timeOrigin: performance.timeOrigin,
      states: { ...states },
      longTasks: longTaskObserver ? [...longTasks] : null,
      measures: performance.getEntriesByType('measure').map(pick),
      marks: performance.getEntriesByType('mark').map(pick),
      responseEnd: nav?.responseEnd,
      // The page's own request after the redirects that led to it (the provider's are hidden).
      navigation: nav && { fetchStart: nav.fetchStart, requestStart: nav.requestStart, responseStart: nav.responseStart,
        domInteractive: nav.domInteractive },
      paints: performance.getEntriesByType('paint').map(({ name, startTime }) => ({ name, start: startTime })),
      // Every fetch of the page (cross-origin ones without Timing-Allow-Origin still have
      // start and end): where the time of a page that has no oidc:* measures goes.
      resources: performance.getEntriesByType('resource').map((e) => ({
        url: e.name, type: e.initiatorType, start: e.startTime, end: e.responseEnd })),
    };
  };
  const left = () => Object.keys(sessionStorage).filter((key) => key.startsWith('bench.left.')).map((key) => {
    const snap = JSON.parse(sessionStorage.getItem(key));
    sessionStorage.removeItem(key);
    return snap;
  }).sort((a, b) => a.timeOrigin - b.timeOrigin);
  window.__bench = { snapshot, left, states: () => states };
  addEventListener('pagehide', () => sessionStorage.setItem(`bench.left.${performance.timeOrigin}`, JSON.stringify(snapshot())));
}

// The app's network measures (crates/leptos-pkce/src/browser/perf.rs).
export const NETWORK_MEASURES = ['oidc:config-request', 'oidc:discovery-request', 'oidc:token-request',
  'oidc:jwks-request', 'oidc:userinfo-request'];
export const measure = (snap, name) => snap?.measures.find((m) => m.name === name)?.duration;
export const markAt = (snap, name) => snap?.marks.find((m) => m.name === name)?.start;

/**
 * A page's long tasks, by phase: `load` ends before the client starts (HTML, JS, wasm),
 * `start-up` holds the `oidc:start` mark (wasm start, first render), `later` is app work.
 * Null when the browser has no Long Tasks API.
 */
export function taskPhases(snap) {
  if (!snap.longTasks) return null;
  const start = markAt(snap, 'oidc:start') ?? Infinity;
  return snap.longTasks.map(({ start: at, duration }) => ({
    duration, phase: at + duration <= start ? 'load' : at <= start ? 'start-up' : 'later' }));
}

const signalWaiters = new WeakMap(); // page → [{ state, resolve }]

/**
 * Adds the probe to every page of `context`, and the binding by which it reports each state.
 * Playwright's own waiting (locators, waitForFunction) injects a large script into the page
 * on its first use after a navigation, which costs the page's main thread about 10 ms: a
 * measured page is therefore awaited with `nextState` first, and only inspected afterwards.
 */
export async function probePages(context, origin) {
  await context.exposeBinding('__benchState', ({ page }, state) => {
    const waiting = signalWaiters.get(page) ?? [];
    signalWaiters.set(page, waiting.filter((w) => (w.state === state ? (w.resolve(), false) : true)));
  });
  await context.addInitScript(pageProbe, origin);
}

/** Resolves when the probe next reports `state` on `page`: call it before the action. */
function nextState(page, state, timeout = 20000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the page did not show ${state} within ${timeout} ms`)), timeout);
    const waiting = signalWaiters.get(page) ?? [];
    waiting.push({ state, resolve: () => { clearTimeout(timer); resolve(); } });
    signalWaiters.set(page, waiting);
  });
}

/** Waits until the app shows `state` (as the harness does) and the probe has timed it. */
export async function settle(page, state) {
  await expectState(page, state, 20000);
  await page.waitForFunction((s) => window.__bench?.states()[s] !== undefined, state, { polling: 50 });
  return page.evaluate(() => window.__bench.snapshot());
}

/**
 * Clicks sign-in, fills the provider's login form and waits, without evaluating anything in
 * the callback page, until it shows signed-in; returns that page's snapshot.
 */
export async function signInThroughForm(page) {
  await page.locator(sel.signIn).click();
  await page.locator('#login').waitFor();
  await page.fill('#login', 'alice');
  await page.fill('#password', 'wonderland');
  const callbackShown = nextState(page, 'signed-in');
  await page.click('#sign-in-submit');
  await callbackShown;
  return settle(page, 'signed-in');
}

/** Takes the snapshots that earlier app pages of this tab left on pagehide; expects one. */
export async function leftPage(page) {
  const left = await page.evaluate(() => window.__bench.left());
  if (left.length !== 1) throw new Error(`expected 1 snapshot of the previous app page, found ${left.length}`);
  return left[0];
}

// ---------------------------------------------------------------------------------------
// What the first page load of `origin` fetches from that origin (listed by Chromium; the
// bytes are then fetched once more from Node and compressed here).
export async function transferSizes(browser, origin) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = new Map();
  let leftApp = false; // stop at the silent round trip: what follows is another page load
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame() && new URL(req.url()).origin !== origin) leftApp = true;
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (leftApp || url.origin !== origin || seen.has(url.pathname)) return;
    seen.set(url.pathname, { path: url.pathname, status: res.status(), type: res.headers()['content-type'] ?? '',
      encoding: res.headers()['content-encoding'] ?? 'none' });
  });
  try {
    await page.goto(`${origin}/`, { waitUntil: 'commit' });
    await expectState(page, 'signed-out', 20000);
  } finally {
    await context.close();
  }
  const files = [];
  for (const file of seen.values()) {
    const bytes = Buffer.from(await (await fetch(origin + file.path)).arrayBuffer());
    files.push({
      ...file,
      raw: bytes.length,
      gzip: zlib.gzipSync(bytes, { level: 9 }).length,
      brotli: zlib.brotliCompressSync(bytes, { params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
    });
  }
  return files;
}

// ---------------------------------------------------------------------------------------
// Statistics and formatting.
export function stats(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return undefined;
  const q = (p) => {
    const i = (v.length - 1) * p;
    const lo = Math.floor(i);
    return v[lo] + (v[Math.ceil(i)] - v[lo]) * (i - lo);
  };
  return { n: v.length, median: q(0.5), min: v[0], p25: q(0.25), p75: q(0.75), max: v[v.length - 1] };
}

export const fmt = (x, digits = 1) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
export const kb = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
export const pct = (part, whole) => `${((100 * part) / whole).toFixed(0)} %`;
export const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? ' ---: ' : ' --- ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** A table of distributions: rows are [label, values, digits?]. */
export function statTable(rows, unit = 'ms') {
  return table([`measure (${unit})`, 'median', 'min', 'p25', 'p75', 'max', 'n'], rows.map(([label, values, digits = 1]) => {
    const s = stats(values);
    return s ? [label, `**${fmt(s.median, digits)}**`, ...['min', 'p25', 'p75', 'max'].map((k) => fmt(s[k], digits)), s.n]
      : [label, 'no data', '', '', '', '', 0];
  }));
}
