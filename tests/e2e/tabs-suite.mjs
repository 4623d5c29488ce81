// What the tab suites (tabs.test.mjs, tabs-refresh.test.mjs) share: tabs whose requests and
// auth states are tracked, storage checks, freezing a tab, and the stack and browser setup.
//
// Timing: access tokens live TTL_S = 10 s here, so each tab's timer refreshes 7.5 s after the
// token arrived (25 % of the lifetime before expiry). Tabs are frozen with the CDP debugger
// (Debugger.pause: no timer, message or task runs in them; checked with an in-page interval)
// to line their refreshes up or keep one out of the way.

import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';

import {
  APP, ISSUER, TOKEN_ENDPOINT, clearFault, expectState, newSession, sel, setupSuite, signIn, waitUntil,
} from './harness.mjs';

export const TTL_S = 10;
export const REFRESH_AT_MS = TTL_S * 1000 * 0.75; // each tab's timer: 25 % of the lifetime before expiry
export const JOIN_LIMIT_MS = 1000; // the product target is 300 ms
export const USER = 'Alice Liddell';

// Top-level authorization requests (prompt=none or interactive), and PAR pushes.
export const isAuthorize = (req) => req.url().startsWith(`${ISSUER}/auth?`) || req.url().startsWith(`${ISSUER}/auth/`)
  || req.url() === `${ISSUER}/auth` || req.url().startsWith(`${ISSUER}/request`);
export const isTokenPost = (req) => req.method() === 'POST' && req.url().startsWith(TOKEN_ENDPOINT);
export const ALLOWED_SESSION_KEY = /^oidc\.(pending\.[^.]+|logout\.[^.]+|silent\.skip)$/;

// Installed in every page of a context before the app runs: a log of every change of the
// status element (state, error, when), so that a transient error cannot go unseen and the
// moment a state appears is known to the millisecond (performance.now(): since navigation start).
export function installStateLog() {
  const log = [];
  Object.defineProperty(window, '__authLog', { value: log });
  let last = '';
  const look = () => {
    const el = document.querySelector('[data-testid=auth-status]');
    if (!el) return;
    const key = `${el.dataset.state}|${el.dataset.error ?? ''}`;
    if (key === last) return;
    last = key;
    log.push({
      state: el.dataset.state, error: el.dataset.error ?? null, t: performance.now(), at: Date.now(),
    });
    // Also seen by the test after the page navigated away (page console events).
    console.debug(`[auth-state] ${key}`);
  };
  new MutationObserver(look).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-error'],
  });
}

// For failure messages: never print codes or state values.
export const redact = (url) => url.replace(/([?&](?:code|state)=)[^&]+/g, '$1…');
export const authLog = (page) => page.evaluate(() => window.__authLog.map((e) => ({ ...e })));
export const describeLog = (log) => log.map((e) => `${e.state}${e.error ? `(${e.error})` : ''}`).join(' → ');

export async function statusText(page) {
  return page.locator(sel.status).first().evaluate(
    (n) => `data-state=${n.dataset.state} data-error=${n.dataset.error ?? ''}`,
  ).catch(() => 'no auth-status element');
}

// Waits for `state` and returns the page's performance.now() at the moment it appeared.
export async function stateAppearsAt(page, state, timeout = 15000) {
  const handle = await page.waitForFunction(
    (s) => window.__authLog?.find((e) => e.state === s)?.t,
    state,
    { timeout, polling: 'raf' },
  ).catch(async (err) => {
    throw new Error(`expected data-state=${state}; app shows ${await statusText(page)}`, { cause: err });
  });
  return handle.jsonValue();
}

export async function userName(page) {
  return (await page.locator(sel.userName).textContent()).trim();
}

export async function clickCallApi(page) {
  const result = page.locator(sel.apiResult);
  await page.locator(sel.callApi).click();
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor();
  await result.waitFor();
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

// Every storage of the app origin in this tab: Web Storage keys and values, cookies,
// IndexedDB databases, Cache Storage.
export async function storageOf(page) {
  assert.equal(new URL(page.url()).origin, APP, `storage check needs the app origin, tab is at ${page.url()}`);
  return page.evaluate(async () => {
    const dump = (storage) => Array.from({ length: storage.length }, (_, i) => {
      const key = storage.key(i);
      return [key, storage.getItem(key)];
    });
    return {
      session: dump(sessionStorage),
      local: dump(localStorage),
      cookie: document.cookie,
      idb: (await indexedDB.databases()).map((d) => d.name),
      caches: typeof caches === 'undefined' ? [] : await caches.keys(),
    };
  });
}

// 7. Nothing but the allowed sessionStorage markers and the localStorage hint, and no token value
// anywhere.
export async function assertNothingStored(t, tabs, tokens) {
  assert.ok(tokens.length > 0, 'tokens were captured');
  for (const [name, page] of Object.entries(tabs)) {
    const s = await storageOf(page);
    t.diagnostic(`${name} storage: sessionStorage keys [${s.session.map(([k]) => k).join(', ')}], localStorage keys [${s.local.map(([k]) => k).join(', ')}], cookie "${s.cookie}", IndexedDB [${s.idb.join(', ')}], caches [${s.caches.join(', ')}]`);
    // localStorage holds only the session hint (a time) and ended sessions' hashes: no token
    // (checked below with the other stores), no identity.
    for (const [key] of s.local) assert.match(key, /^oidc\.(hint|ended):/, `${name}: unexpected localStorage key`);
    assert.equal(s.cookie, '', `${name}: no cookie on the app origin`);
    assert.deepEqual(s.idb, [], `${name}: no IndexedDB database`);
    assert.deepEqual(s.caches, [], `${name}: no Cache Storage`);
    for (const [key] of s.session) assert.match(key, ALLOWED_SESSION_KEY, `${name}: unexpected sessionStorage key`);
    const text = [...s.session.flat(), ...s.local.flat(), s.cookie].join('\n');
    tokens.forEach((token, i) => {
      // Never print token values, not even in a failure message.
      assert.ok(!text.includes(token), `${name}: token #${i + 1} of ${tokens.length} (${token.length} chars) is in storage`);
    });
  }
  const cookies = await Object.values(tabs)[0].context().cookies(APP);
  assert.deepEqual(cookies.map((c) => c.name), [], 'no cookie for the app origin in the context');
}

// Waits until a tab that left for the provider (RP-initiated logout) is back on the app.
export async function backFromProvider(page) {
  // The provider asks to confirm the sign-out: a click, never an auto-submit (no logout CSRF).
  await page.locator('#logout-confirm').click({ timeout: 20000 });
  await waitUntil(() => {
    const navs = page.tr.navigations;
    const left = navs.findIndex((n) => n.url.startsWith(ISSUER));
    return left >= 0 && navs.slice(left).some((n) => n.url.startsWith(APP));
  }, { timeout: 20000, message: 'the return from the provider' });
  await page.waitForLoadState('domcontentloaded');
}

// Freezes a tab: the debugger pauses it at its next statement, so that no timer, message,
// lock grant or task of the page runs until thaw(). (Page.setWebLifecycleState 'frozen' does
// not stop timers in this headless Chromium.) Never evaluate in a frozen tab.
export async function freeze(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  return {
    frozenAt: Date.now(),
    async thaw() {
      await cdp.send('Debugger.resume').catch(() => {}); // fails if it never got to pause
      await cdp.send('Debugger.disable');
      const thawedAt = Date.now();
      await cdp.detach().catch(() => {});
      return thawedAt;
    },
  };
}

// An in-page clock that ticks every 100 ms, to prove a freeze stopped the page's timers.
export const startTicks = (page) => page.evaluate(() => {
  window.__ticks = [];
  setInterval(() => window.__ticks.push(Date.now()), 100);
});
export const ticksBetween = (page, from, to) => page.evaluate(([a, b]) => window.__ticks.filter((x) => x > a && x < b).length, [from, to]);

// A tab of `context` whose requests are tracked.
export const tab = async (context) => {
  const page = await context.newPage();
  const tr = {
    authorize: [], navigations: [], tokenPosts: [], providerPaths: [], states: [],
  };
  page.on('console', (msg) => {
    const m = /^\[auth-state\] ([a-z-]+)\|(.*)$/.exec(msg.text());
    if (m) tr.states.push({ state: m[1], error: m[2] || null, at: Date.now() });
  });
  page.on('request', (req) => {
    if (req.url().startsWith(ISSUER)) tr.providerPaths.push(new URL(req.url()).pathname);
    if (isAuthorize(req)) tr.authorize.push({ at: Date.now(), nav: req.isNavigationRequest(), path: new URL(req.url()).pathname });
    if (isTokenPost(req)) {
      tr.tokenPosts.push({ at: Date.now(), form: Object.fromEntries(new URLSearchParams(req.postData() || '')) });
    }
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) tr.navigations.push({ at: Date.now(), url: frame.url() });
  });
  page.tr = tr;
  return page;
};
// Tab 1 of a new person signs in with the login form; returns the code exchange's time.
export const signedInTab = async (context, recorder) => {
  const page = await tab(context);
  await page.goto('/');
  await expectState(page, 'signed-out'); // no provider session: the silent attempt ends quietly
  await signIn(page);
  assert.equal(await userName(page), USER);
  await recorder.settled();
  const exchanges = recorder.byGrant('authorization_code');
  assert.equal(exchanges.length, 1, 'one code exchange');
  assert.equal(exchanges[0].status, 200);
  return { page, tokensAt: exchanges[0].at };
};
// A tab that joins the session of the open tabs: signed in with no authorization request.
export const joinedTab = async (context, label) => {
  const page = await tab(context);
  const started = Date.now();
  await page.goto('/', { waitUntil: 'commit' });
  const appearedAt = await stateAppearsAt(page, 'signed-in', 10000);
  const wall = Date.now() - started;
  assert.equal(await userName(page), USER, `${label}: same user`);
  assert.deepEqual(page.tr.authorize, [], `${label}: no authorization request (provider paths: ${page.tr.providerPaths.join(', ')})`);
  assert.deepEqual(page.tr.tokenPosts, [], `${label}: no token request`);
  assert.deepEqual(describeLog(await authLog(page)), 'signed-in', `${label}: straight to signed-in`);
  return { page, joinMs: appearedAt, wallMs: wall };
};

/**
 * The stack and browser of the calling describe (ACCESS_TOKEN_TTL = TTL_S), with `person`: a
 * fresh browser context whose contexts are closed after each test.
 */
export function useTabsSuite() {
  let suite;
  const contexts = [];

  // A fresh browser context ("a person"), its first tab, and the recorder of its token traffic.
  const person = async (name) => {
    const session = await newSession(suite.browser, name);
    await session.context.addInitScript(installStateLog);
    contexts.push(session);
    // The first page was opened before the init script: replace it.
    await session.page.close();
    return session;
  };
  before(async () => {
    suite = await setupSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_S) } });
  });
  // Close each test's browser context so that its tabs' refreshes never reach the next
  // test's counters.
  afterEach(async () => {
    await clearFault().catch(() => {});
    for (const { context, recorder } of contexts.splice(0)) {
      await recorder.settled().catch(() => {});
      await context.close().catch(() => {});
    }
  });
  after(async () => {
    await suite?.close();
  });
  return { person };
}
