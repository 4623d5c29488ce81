// Shared setup for the browser suite: starts the stack (provider with test hooks and a short
// access token TTL, demo API, orders API, static server for dist/), launches Chromium via
// playwright-core, and offers helpers that act and check like a user would.
//
// Env:
//   E2E_DIST           directory to serve as the app (default ./dist)
//   E2E_ALLOW_SKIP=1   skip the browser files when the app or Chromium is missing; without it
//                      such a run FAILS (a run that executed no browser test must not look green)
//   E2E_REQUIRE_APP=1  (the default now) fail when the app is not built; overrides E2E_ALLOW_SKIP
//   E2E_VERBOSE=1      print server logs to the console (default: .dev-logs/e2e/*.log)
//   CHROMIUM_PATH      default /usr/bin/chromium
//   E2E_LOCK_FILE      the machine-wide lock of the fixed ports (default /tmp/leptos-e2e-ports.lock)
//
// The browser files use fixed ports (8080, 9000, 9100, 9200, 9300). Importing this module takes an
// exclusive lock (flock) that the test process holds until it exits, so test files that
// `node --test tests/e2e/` runs in parallel, or runs from other checkouts, wait for each other
// instead of colliding. (A different file from /tmp/leptos-e2e.lock, which people take around
// whole runs: taking that one here would deadlock under `flock /tmp/leptos-e2e.lock node --test`.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { startStack } from '../../dev/stack.mjs';
import { recordTraffic } from './recorder.mjs';

export { sleep, waitForQuiet, waitUntil } from './waiting.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.resolve(ROOT, process.env.E2E_DIST || 'dist');
export const LOG_DIR = path.join(ROOT, '.dev-logs', 'e2e');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Fixed by the app's config.json / the client registration.
export const APP = 'http://localhost:8080';
export const ISSUER = 'http://127.0.0.1:9000';
export const API = 'http://127.0.0.1:9100';
export const ORDERS = 'http://127.0.0.1:9200'; // the orders API (dev/api.mjs, API_NAME=orders): the second resource
export const TOKEN_ENDPOINT = `${ISSUER}/token`;
export const REVOCATION_ENDPOINT = `${ISSUER}/token/revocation`;
export const ACCESS_TOKEN_TTL = 6; // seconds; tests wait past it to force refreshes
export const HOSTILE = 'http://127.0.0.1:9300'; // dev/hostile.mjs, with setupSuite({ services: { hostile: true } })
const TOKEN_ENDPOINTS = new Set([TOKEN_ENDPOINT, `${HOSTILE}/token`]);

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const sel = {
  status: '[data-testid=auth-status]',
  signIn: '[data-testid=sign-in]',
  signOut: '[data-testid=sign-out]',
  callApi: '[data-testid=call-api]',
  apiResult: '[data-testid=api-result]',
  userName: '[data-testid=user-name]',
  burst: '[data-testid=call-api-burst]',
  burstResult: '[data-testid=api-burst-result]',
  warning: '[data-testid=auth-warning]',
  state: (s) => `[data-testid=auth-status][data-state=${s}]`,
};

/**
 * Why the browser suite cannot run here (then it is skipped, with E2E_ALLOW_SKIP=1 only), or
 * undefined. Without E2E_ALLOW_SKIP=1 a missing app or browser throws: the file fails loudly.
 */
export function skipReason() {
  const missing = [];
  if (!existsSync(path.join(DIST, 'index.html'))) missing.push(`${path.relative(ROOT, DIST) || '.'}/index.html (build the app first, or set E2E_DIST)`);
  if (!existsSync(CHROMIUM)) missing.push(CHROMIUM);
  if (!missing.length) return undefined;
  const reason = `missing ${missing.join(' and ')}`;
  if (process.env.E2E_ALLOW_SKIP === '1' && process.env.E2E_REQUIRE_APP !== '1') return reason;
  throw new Error(`browser e2e suite cannot run: ${reason}. Set E2E_ALLOW_SKIP=1 to skip it on purpose.`);
}

/**
 * Takes the machine-wide lock of the e2e ports and holds it until this process exits (the
 * kernel drops a flock when its holder dies, so a crashed run never leaves it stuck).
 * A `flock` child holds it; it ends when our end of its stdin closes.
 */
async function lockPorts() {
  const file = process.env.E2E_LOCK_FILE || '/tmp/leptos-e2e-ports.lock';
  const waitS = Number(process.env.E2E_LOCK_WAIT_S || 1200);
  const child = spawn('flock', ['--exclusive', '--wait', String(waitS), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const notice = setTimeout(() => process.stderr.write(`e2e: waiting for ${file} (another e2e run uses the ports)\n`), 1000);
  try {
    await new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`e2e: cannot run flock to take ${file}: ${err.message}`)));
      child.once('exit', (code) => reject(new Error(`e2e: could not take ${file} within ${waitS} s (flock exit ${code})`)));
      child.stdout.once('data', resolve);
    });
  } finally {
    clearTimeout(notice);
  }
  child.removeAllListeners('exit');
  // Held until the process exits; it must not keep the process alive by itself.
  child.unref();
  child.stdin.unref?.();
  child.stdout.unref?.();
  child.stdout.resume();
  return file;
}
export const PORT_LOCK = await lockPorts();

/** The app's config.json as built (dist/config.json), as an object. */
export function builtConfig() {
  return JSON.parse(readFileSync(path.join(DIST, 'config.json'), 'utf8'));
}

/**
 * Starts stack + browser once per test file. Call close() in after().
 *
 * Options (all optional):
 *   env     extra env for the servers, e.g. { ACCESS_TOKEN_TTL: '10' } (default TTL: ACCESS_TOKEN_TTL)
 *   config  fields merged over dist/config.json and served as /config.json (CONFIG_OVERRIDE),
 *           e.g. { request_timeout_ms: 2000 }; a field set to undefined is left out.
 *           `suite.setConfig(fields)` rewrites it later (read on every page load).
 *   services which servers besides the static one: { provider, api, orders } (default true)
 *           and { hostile } (default false: dev/hostile.mjs on HOSTILE), e.g.
 *           { provider: false, api: false, orders: false, hostile: true }
 */
export async function setupSuite({ env: extraEnv = {}, config, services = {} } = {}) {
  rmSync(LOG_DIR, { recursive: true, force: true });
  await mkdir(LOG_DIR, { recursive: true });
  const configPath = config ? path.join(LOG_DIR, 'config.override.json') : undefined;
  const setConfig = async (fields) => {
    assert.ok(configPath, 'setupSuite({ config }) enables setConfig');
    await writeFile(configPath, `${JSON.stringify({ ...builtConfig(), ...fields }, null, 2)}\n`);
  };
  if (config) await setConfig(config);
  const stack = await startStack({
    ...services,
    static: true,
    testHooks: true,
    logDir: process.env.E2E_VERBOSE ? undefined : LOG_DIR,
    env: {
      OP_PORT: '9000',
      API_PORT: '9100',
      ORDERS_PORT: new URL(ORDERS).port,
      APP_PORT: '8080',
      HOSTILE_PORT: new URL(HOSTILE).port,
      ISSUER,
      APP_ORIGIN: APP,
      API_AUDIENCE: API,
      ORDERS_AUDIENCE: ORDERS,
      DIST,
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      ...(configPath ? { CONFIG_OVERRIDE: configPath } : {}),
      ...extraEnv,
    },
  });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30000,
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    browser,
    stack,
    setConfig,
    async close() {
      await browser.close().catch(() => {});
      await stack.stop();
    },
  };
}

const consoleByContext = new WeakMap();

/**
 * A fresh browser context (own cookies and storage: a new "person") that records
 * token endpoint traffic and writes the browser console to .dev-logs/e2e/browser.log.
 */
export async function newSession(browser, name = 'session') {
  return wireSession(await browser.newContext({ baseURL: APP }), name);
}

/**
 * Like newSession, but in a normal (not incognito-like) browser profile of its own that allows
 * third-party cookies, so that a credentialed request from the app (localhost:8080) to the
 * provider (127.0.0.1:9000, another site) would carry the provider's cookies. Playwright's
 * contexts block third-party cookies, which would make "sends no cookie" true for any client.
 * Closing the context ends that browser and removes the profile.
 */
export async function newSessionWithThirdPartyCookies(name = 'session') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leptos-e2e-profile-'));
  mkdirSync(path.join(dir, 'Default'));
  writeFileSync(path.join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000, baseURL: APP,
  });
  const remove = () => {
    try { rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch { /* left in tmp */ }
  };
  process.once('exit', remove); // in case close() is never called
  const close = context.close.bind(context);
  // Resolves once that browser has exited: only then is the profile no longer written to.
  context.close = async (...args) => {
    await close(...args);
    remove();
  };
  return wireSession(context, name);
}

async function wireSession(context, name) {
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(20000);
  const recorder = recordTokenTraffic(context);
  const log = path.join(LOG_DIR, 'browser.log');
  const consoleLines = [];
  consoleByContext.set(context, consoleLines);
  context.on('console', (msg) => {
    consoleLines.push(msg.text());
    appendFile(log, `[${name}] console.${msg.type()}: ${msg.text()}\n`).catch(() => {});
  });
  context.on('weberror', (err) => {
    appendFile(log, `[${name}] page error: ${err.error()}\n`).catch(() => {});
  });
  const page = context.pages()[0] ?? await context.newPage();
  return { context, page, recorder };
}

/** The session's token traffic (see recorder.mjs). */
export function recordTokenTraffic(context) {
  return recordTraffic(context, { tokenEndpoints: TOKEN_ENDPOINTS, revocationEndpoint: REVOCATION_ENDPOINT });
}

/** Test hooks of the provider and the two APIs. */
export async function stats() {
  return (await fetch(`${ISSUER}/__test/stats`)).json();
}
export async function apiStats() {
  return (await fetch(`${API}/__test/stats`)).json();
}
export async function ordersStats() {
  return (await fetch(`${ORDERS}/__test/stats`)).json();
}
/** POSTs JSON to a test hook (they refuse any other content type with 415). */
export function postJson(url, body = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
export async function resetStats() {
  for (const url of [`${ISSUER}/__test/reset`, `${API}/__test/reset`, `${ORDERS}/__test/reset`]) {
    const res = await postJson(url);
    assert.equal(res.status, 204, `${url}: ${res.status}`);
  }
}

/**
 * Arms a token endpoint fault at the provider (see dev/provider.mjs): mode 'down' | 'hang' |
 * '500' | '503' | 'garbage'; grant 'refresh_token' (default) | 'authorization_code' | 'any';
 * count = how many requests (default: until cleared). resetStats() also clears it.
 */
export async function setFault(mode, { grant, count } = {}) {
  const res = await postJson(`${ISSUER}/__test/fault`, { mode, grant, count });
  const body = await res.json();
  assert.equal(res.status, 200, `fault not armed: ${JSON.stringify(body)}`);
  return body.fault;
}
export const clearFault = () => setFault('off');

/** Waits for the app to show a given auth state; returns the status element. */
export async function expectState(page, stateName, timeout = 15000) {
  const status = page.locator(sel.state(stateName));
  try {
    await status.waitFor({ state: 'attached', timeout });
  } catch (err) {
    const now = await page.locator(sel.status).first().evaluate(
      (n) => `data-state=${n.dataset.state} data-error=${n.dataset.error ?? ''} text=${n.textContent.trim().slice(0, 300)}`,
    ).catch(() => 'no auth-status element');
    const where = page.url().replace(/([?&](?:code|state)=)[^&]+/g, '$1…');
    throw new Error(`expected data-state=${stateName} at ${where}, app shows: ${now}`, { cause: err });
  }
  return status;
}

/** Waits until the app has settled on a state other than signing-in; returns it. */
export async function settledState(page, timeout = 15000) {
  const status = page.locator(`${sel.status}:not([data-state=signing-in])`);
  await status.waitFor({ state: 'attached', timeout });
  return status.getAttribute('data-state');
}

/** Fills and submits the provider's login form (the page must be on it). */
export async function submitLogin(page, login = 'alice', password = 'wonderland') {
  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Signs in like a person: click sign-in, use the provider's login form if it is shown
 * (an existing OP session skips it), and wait until the app says signed-in.
 */
export async function signIn(page, { login = 'alice', password = 'wonderland' } = {}) {
  await page.locator(sel.signIn).first().click();
  const first = await Promise.race([
    page.locator('#login').waitFor({ timeout: 20000 }).then(() => 'form'),
    page.locator(sel.state('signed-in')).waitFor({ state: 'attached', timeout: 20000 }).then(() => 'signed-in'),
  ]);
  if (first === 'form') await submitLogin(page, login, password);
  return expectState(page, 'signed-in', 20000);
}

/**
 * Starts a sign-out like a person: clicks sign-out and, when the app does RP-initiated logout,
 * waits until the provider's confirmation page shows (it needs a click: no auto-submit).
 * Returns { endSession: the end_session URL the app navigated to (or undefined when the app
 * signed out without leaving) }.
 */
export async function startSignOut(page) {
  let endSession;
  const onRequest = (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame() && req.url().startsWith(ISSUER)) endSession ??= req.url();
  };
  page.on('request', onRequest);
  try {
    await page.locator(sel.signOut).click();
    const first = await Promise.race([
      page.locator('#logout-confirm').waitFor({ timeout: 20000 }).then(() => 'confirm'),
      page.locator(sel.state('signed-out')).waitFor({ state: 'attached', timeout: 20000 }).then(() => 'signed-out'),
    ]);
    // Signed out on the app without leaving it: only when no trip to the provider started.
    if (first === 'signed-out' && !endSession) return { endSession };
    await page.locator('#logout-confirm').waitFor({ timeout: 20000 });
    return { endSession };
  } finally {
    page.off('request', onRequest);
  }
}

/** On the provider's logout confirmation page: clicks "Sign out" and waits to be back on the app. */
export async function confirmSignOut(page) {
  await page.locator('#logout-confirm').click();
  await page.waitForURL((url) => url.origin === APP, { timeout: 20000 });
}

/**
 * Signs out like a person: click sign-out, confirm at the provider if the app does RP-initiated
 * logout, and wait until the app says signed-out (on the app origin). Returns startSignOut's.
 */
export async function signOut(page) {
  const started = await startSignOut(page);
  if (started.endSession) await confirmSignOut(page);
  await expectState(page, 'signed-out', 20000);
  return started;
}

/**
 * Asserts that none of `tokens` is in the app origin's localStorage, sessionStorage,
 * document.cookie, window.name or history.state, in any cookie of the context, in the
 * browser console output, or in the page URL. The page must currently show the app.
 */
export async function assertNoTokenLeak(page, tokens) {
  assert.ok(tokens.length > 0, 'no tokens were captured: nothing to check');
  assert.equal(new URL(page.url()).origin, APP, 'assertNoTokenLeak needs a page on the app origin');
  const found = await page.evaluate(() => {
    const dump = (storage) => Array.from({ length: storage.length }, (_, i) => {
      const key = storage.key(i);
      return `${key}=${storage.getItem(key)}`;
    });
    return {
      localStorage: dump(localStorage).join('\n'),
      sessionStorage: dump(sessionStorage).join('\n'),
      cookie: document.cookie,
      windowName: window.name,
      historyState: JSON.stringify(history.state ?? null),
    };
  });
  found.url = page.url();
  found.browserConsole = (consoleByContext.get(page.context()) ?? []).join('\n');
  found.contextCookies = (await page.context().cookies()).map((c) => `${c.domain}${c.path} ${c.name}=${c.value}`).join('\n');
  for (const [where, text] of Object.entries(found)) {
    tokens.forEach((token, i) => {
      // Never print token values, not even in a failure message.
      assert.ok(!text.includes(token), `token #${i + 1} of ${tokens.length} (${token.length} chars) leaked into ${where}`);
    });
  }
}
