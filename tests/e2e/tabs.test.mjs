// Browser end-to-end tests of "one session across tabs": two and three tabs (pages) of ONE
// browser context (same origin: they share the BroadcastChannel `oidc:<issuer>:<client_id>`
// and Web Locks), checked through the app's DOM hooks and by counting real requests (page
// request events, the token-traffic recorder, the provider's /__test/stats).
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/tabs.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log.
//
// Timing: access tokens live TTL_S = 10 s here, so each tab's timer refreshes 7.5 s after the
// token arrived (25 % of the lifetime before expiry). Tabs are frozen with the CDP debugger
// (Debugger.pause: no timer, message or task runs in them; checked with an in-page interval)
// to line their refreshes up or keep one out of the way.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  APP, ISSUER, TOKEN_ENDPOINT, apiStats, clearFault, expectState, newSession, resetStats, sel,
  setFault, setupSuite, signIn, skipReason, sleep, stats, waitUntil,
} from './harness.mjs';

const skip = skipReason();

const TTL_S = 10;
const REFRESH_AT_MS = TTL_S * 1000 * 0.75; // each tab's timer: 25 % of the lifetime before expiry
const JOIN_LIMIT_MS = 1000; // the product target is 300 ms
const USER = 'Alice Liddell';

// Top-level authorization requests (prompt=none or interactive), and PAR pushes.
const isAuthorize = (req) => req.url().startsWith(`${ISSUER}/auth?`) || req.url().startsWith(`${ISSUER}/auth/`)
  || req.url() === `${ISSUER}/auth` || req.url().startsWith(`${ISSUER}/request`);
const isTokenPost = (req) => req.method() === 'POST' && req.url().startsWith(TOKEN_ENDPOINT);
const ALLOWED_SESSION_KEY = /^oidc\.(pending\.[^.]+|logout\.[^.]+|silent\.skip)$/;

// Installed in every page of a context before the app runs: a log of every change of the
// status element (state, error, when), so that a transient error cannot go unseen and the
// moment a state appears is known to the millisecond (performance.now(): since navigation start).
function installStateLog() {
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
const redact = (url) => url.replace(/([?&](?:code|state)=)[^&]+/g, '$1…');
const authLog = (page) => page.evaluate(() => window.__authLog.map((e) => ({ ...e })));
const describeLog = (log) => log.map((e) => `${e.state}${e.error ? `(${e.error})` : ''}`).join(' → ');

async function statusText(page) {
  return page.locator(sel.status).first().evaluate(
    (n) => `data-state=${n.dataset.state} data-error=${n.dataset.error ?? ''}`,
  ).catch(() => 'no auth-status element');
}

// Waits for `state` and returns the page's performance.now() at the moment it appeared.
async function stateAppearsAt(page, state, timeout = 15000) {
  const handle = await page.waitForFunction(
    (s) => window.__authLog?.find((e) => e.state === s)?.t,
    state,
    { timeout, polling: 'raf' },
  ).catch(async (err) => {
    throw new Error(`expected data-state=${state}; app shows ${await statusText(page)}`, { cause: err });
  });
  return handle.jsonValue();
}

async function userName(page) {
  return (await page.locator(sel.userName).textContent()).trim();
}

async function clickCallApi(page) {
  const result = page.locator(sel.apiResult);
  await page.locator(sel.callApi).click();
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor();
  await result.waitFor();
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

// Every storage of the app origin in this tab: Web Storage keys and values, cookies,
// IndexedDB databases, Cache Storage.
async function storageOf(page) {
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

// 7. Nothing but the allowed sessionStorage markers, and no token value anywhere.
async function assertNothingStored(t, tabs, tokens) {
  assert.ok(tokens.length > 0, 'tokens were captured');
  for (const [name, page] of Object.entries(tabs)) {
    const s = await storageOf(page);
    t.diagnostic(`${name} storage: sessionStorage keys [${s.session.map(([k]) => k).join(', ')}], localStorage keys [${s.local.map(([k]) => k).join(', ')}], cookie "${s.cookie}", IndexedDB [${s.idb.join(', ')}], caches [${s.caches.join(', ')}]`);
    assert.deepEqual(s.local, [], `${name}: localStorage is empty`);
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
async function backFromProvider(page) {
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
async function freeze(page) {
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
const startTicks = (page) => page.evaluate(() => {
  window.__ticks = [];
  setInterval(() => window.__ticks.push(Date.now()), 100);
});
const ticksBetween = (page, from, to) => page.evaluate(([a, b]) => window.__ticks.filter((x) => x > a && x < b).length, [from, to]);

describe('Leptos SPA: one session across tabs (browser)', { skip, timeout: 300000 }, () => {
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
  // A tab of `context` whose requests are tracked.
  const tab = async (context) => {
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
  const signedInTab = async (context, recorder) => {
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
  const joinedTab = async (context, label) => {
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

  it('1. a second tab joins the first tab\'s session: signed in, same user, no authorization request, fast', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('join');
    const { page: tab1 } = await signedInTab(context, recorder);
    const authBefore = (await stats()).authorizations;

    const { page: tab2, joinMs, wallMs } = await joinedTab(context, 'tab 2');
    t.diagnostic(`join time tab 2: ${joinMs.toFixed(1)} ms from navigation start to data-state=signed-in (page performance.now()); ${wallMs} ms wall clock from page.goto()`);
    assert.ok(joinMs < JOIN_LIMIT_MS, `tab 2 joined in ${joinMs.toFixed(1)} ms (limit ${JOIN_LIMIT_MS} ms)`);
    assert.deepEqual(tab2.tr.navigations.map((n) => redact(n.url)), [`${APP}/`], 'tab 2 never left the app');
    assert.deepEqual((await stats()).authorizations, authBefore, 'the provider saw no authorization from tab 2');
    t.diagnostic(`tab 2 requests to the provider: [${tab2.tr.providerPaths.join(', ')}]`);

    // Both tabs work with the session.
    assert.equal((await clickCallApi(tab2)).status, 200);
    assert.equal((await clickCallApi(tab1)).status, 200);
    await expectState(tab1, 'signed-in', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('2. reloading tab 2 while tab 1 lives: signed in again, without an authorization request', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('reload');
    const { page: tab1 } = await signedInTab(context, recorder);
    const { page: tab2, joinMs } = await joinedTab(context, 'tab 2');
    const authBefore = (await stats()).authorizations;

    const navigationsBefore = tab2.tr.navigations.length;
    const started = Date.now();
    await tab2.reload({ waitUntil: 'commit' });
    const appearedAt = await stateAppearsAt(tab2, 'signed-in', 10000);
    const wall = Date.now() - started;
    t.diagnostic(`join time tab 2: first open ${joinMs.toFixed(1)} ms; after reload ${appearedAt.toFixed(1)} ms from navigation start (${wall} ms wall clock from reload())`);
    assert.ok(appearedAt < JOIN_LIMIT_MS, `tab 2 rejoined in ${appearedAt.toFixed(1)} ms (limit ${JOIN_LIMIT_MS} ms)`);
    assert.equal(await userName(tab2), USER);
    assert.deepEqual(tab2.tr.authorize, [], `no authorization request from tab 2 (provider paths: ${tab2.tr.providerPaths.join(', ')})`);
    assert.deepEqual(tab2.tr.navigations.slice(navigationsBefore).map((n) => redact(n.url)), [`${APP}/`], 'only the reload itself');
    assert.equal(describeLog(await authLog(tab2)), 'signed-in', 'straight to signed-in after the reload');
    assert.deepEqual((await stats()).authorizations, authBefore, 'the provider saw no authorization');
    assert.equal(recorder.byGrant('authorization_code').length, 1, 'no new code exchange');
    assert.equal((await clickCallApi(tab2)).status, 200);
    await expectState(tab1, 'signed-in', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('3. sign-in in one tab signs in the other open tab, without any navigation of its own', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('propagate-in');
    const tab1 = await tab(context);
    const tab2 = await tab(context);
    // Both open signed out: no other tab has a session, the silent attempt (prompt=none)
    // meets login_required and the tab settles quietly signed out.
    await Promise.all([tab1.goto('/'), tab2.goto('/')]);
    for (const [name, page] of [['tab 1', tab1], ['tab 2', tab2]]) {
      await page.waitForFunction(
        () => document.querySelector('[data-testid=auth-status]')?.dataset.state === 'signed-out'
          && sessionStorage.getItem('oidc.silent.skip') !== null,
        null,
        { timeout: 15000 },
      ).catch(async (err) => { throw new Error(`${name}: ${await statusText(page)}`, { cause: err }); });
      assert.equal(await page.locator(sel.status).getAttribute('data-error'), null, `${name}: no error`);
    }
    const tab2Navigations = tab2.tr.navigations.length;
    const tab2Authorize = tab2.tr.authorize.length;
    t.diagnostic(`before sign-in: tab 2 made ${tab2Authorize} authorization request(s) (its own silent attempt)`);

    await signIn(tab1);
    const signedInAt = Date.now();
    await expectState(tab2, 'signed-in', 5000);
    const tab2Log = await authLog(tab2);
    const tab2SignedIn = tab2Log.find((e) => e.state === 'signed-in').at;
    t.diagnostic(`tab 2 signed in ${tab2SignedIn - signedInAt} ms after tab 1 showed signed-in (negative: before the test saw tab 1)`);
    assert.equal(await userName(tab2), USER);
    assert.equal(tab2.tr.navigations.length, tab2Navigations, `tab 2 did not navigate: ${tab2.tr.navigations.slice(tab2Navigations).map((n) => redact(n.url)).join(', ')}`);
    assert.equal(tab2.tr.authorize.length, tab2Authorize, 'tab 2 made no authorization request');
    assert.deepEqual(tab2.tr.tokenPosts, [], 'tab 2 made no token request');
    assert.ok(tab2Log.every((e) => e.state !== 'error'), `tab 2 states: ${describeLog(tab2Log)}`);
    await recorder.settled();
    assert.equal(recorder.byGrant('authorization_code').length, 1, 'one code exchange, in tab 1');
    assert.equal((await clickCallApi(tab2)).status, 200, 'tab 2 calls the API with the shared session');
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('4. sign-out in one of three tabs signs out the other two within 1 s, no error anywhere', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('propagate-out');
    const { page: tab1 } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');

    const navigationsBefore = new Map([tab1, tab3].map((page) => [page, page.tr.navigations.length]));
    const leftForProvider = tab2.waitForRequest((req) => req.isNavigationRequest() && req.url().startsWith(ISSUER), { timeout: 10000 });
    const clicked = Date.now();
    await tab2.locator(sel.signOut).click();
    const [out1, out3] = await Promise.all([
      expectState(tab1, 'signed-out', 1000).then(() => Date.now()),
      expectState(tab3, 'signed-out', 1000).then(() => Date.now()),
    ]);
    const leaving = await leftForProvider;
    const leftAt = Date.now();
    await backFromProvider(tab2);
    await expectState(tab2, 'signed-out', 10000);
    const log1 = await authLog(tab1);
    const log3 = await authLog(tab3);
    const at1 = log1.find((e) => e.state === 'signed-out').at;
    const at3 = log3.find((e) => e.state === 'signed-out').at;
    t.diagnostic(`signed out after the click: tab 1 ${at1 - clicked} ms, tab 3 ${at3 - clicked} ms (seen by the test at ${out1 - clicked} / ${out3 - clicked} ms); tab 2 left for ${new URL(leaving.url()).pathname} (seen at ${leftAt - clicked} ms)`);
    assert.ok(at1 - clicked < 1000 && at3 - clicked < 1000);

    // No error on the way, in any tab (every document of tab 2 too); tabs 1 and 3 went
    // straight from signed-in to signed-out and stayed where they were.
    for (const [name, log] of [['tab 1', log1], ['tab 3', log3]]) {
      const since = log.findIndex((e) => e.at >= clicked);
      assert.equal(describeLog(log.slice(since - 1)), 'signed-in → signed-out', `${name} states: ${describeLog(log)}`);
      assert.ok(log.every((e) => e.state !== 'error' && !e.error), `${name} states: ${describeLog(log)}`);
    }
    t.diagnostic(`tab 2 states over its documents: ${describeLog(tab2.tr.states)}`);
    assert.ok(tab2.tr.states.every((e) => e.state !== 'error' && !e.error), `tab 2 states: ${describeLog(tab2.tr.states)}`);
    assert.equal(await tab2.locator(sel.status).getAttribute('data-error'), null);
    for (const [name, page] of [['tab 1', tab1], ['tab 3', tab3]]) {
      assert.deepEqual(page.tr.navigations.slice(navigationsBefore.get(page)).map((n) => redact(n.url)), [], `${name} did not navigate`);
      assert.equal(await page.locator(sel.status).getAttribute('data-error'), null, `${name}: no data-error`);
      assert.equal(await page.locator(sel.userName).count(), 0, `${name}: no user shown`);
      await page.locator(sel.signIn).first().waitFor({ state: 'visible', timeout: 1000 });
    }
    assert.equal((await stats()).logouts, 1, 'one RP-initiated logout at the provider');
    // Still signed out a moment later (tab 2's return must not bring the session back).
    await expectState(tab1, 'signed-out', 1000);
    await expectState(tab3, 'signed-out', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2, tab3 }, recorder.tokens());
  });

  it('5. three tabs frozen past expiry, resumed together, each fires 20 calls: ONE refresh for all', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('one-refresh');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');
    const tabs = [tab1, tab2, tab3];
    await Promise.all(tabs.map(startTicks));

    const frozen = await Promise.all(tabs.map(freeze));
    const frozenAt = Math.max(...frozen.map((f) => f.frozenAt));
    assert.ok(frozenAt < tokensAt + REFRESH_AT_MS - 500, `frozen ${frozenAt - tokensAt} ms after the tokens arrived: before any timer refresh`);
    // Let time pass beyond the access token's expiry.
    await sleep(tokensAt + TTL_S * 1000 + 1000 - Date.now());
    assert.equal(recorder.byGrant('refresh_token').length, 0, 'no refresh while frozen');
    const opBefore = await stats();
    assert.equal(opBefore.token_requests.refresh_token ?? 0, 0);

    const thawedAt = Math.min(...await Promise.all(frozen.map((f) => f.thaw())));
    await Promise.all(tabs.map((page) => page.locator(sel.burst).click()));
    const clickedAt = Date.now();
    t.diagnostic(`frozen ${frozenAt - tokensAt} ms after the tokens arrived, for ${thawedAt - frozenAt} ms (expiry at ${TTL_S * 1000} ms); bursts clicked ${clickedAt - thawedAt} ms after the thaw`);
    // The freeze really stopped the pages' timers.
    for (const [i, page] of tabs.entries()) {
      const ticks = await ticksBetween(page, frozenAt + 300, thawedAt - 300);
      assert.equal(ticks, 0, `tab ${i + 1}: its interval ticked ${ticks} times while frozen`);
    }

    const results = await Promise.all(tabs.map(async (page) => {
      const result = page.locator(sel.burstResult);
      await result.waitFor({ timeout: 20000 });
      return { ok: await result.getAttribute('data-ok'), total: await result.getAttribute('data-total'), text: (await result.textContent()).trim() };
    }));
    t.diagnostic(`burst results: ${results.map((r, i) => `tab ${i + 1}: ${r.text}`).join('; ')}`);
    for (const [i, r] of results.entries()) {
      assert.equal(r.total, '20', `tab ${i + 1}`);
      assert.equal(r.ok, '20', `tab ${i + 1}: ${r.text}`);
    }
    // Catch any late refresh by a tab that did not adopt.
    await sleep(1000);
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    const byTab = tabs.map((page) => page.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token').length);
    t.diagnostic(`refresh_token requests by tab: ${byTab.join(' / ')}; statuses: ${refreshes.map((r) => r.status ?? 'none').join(',')}`);
    assert.equal(refreshes.length, 1, 'the browser sent exactly one refresh request for the three tabs');
    assert.equal(refreshes[0].status, 200);
    const op = await stats();
    const api = await apiStats();
    t.diagnostic(`provider: token_requests ${JSON.stringify(op.token_requests)}, token_errors ${JSON.stringify(op.token_errors)}; API: ${JSON.stringify(api.by_status ?? api)}`);
    assert.equal(op.token_requests.refresh_token, 1, 'exactly one refresh_token grant reached the provider');
    assert.equal(op.token_successes.refresh_token, 1);
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh refused (no reuse detected)');
    assert.equal(op.token_error_codes.invalid_grant ?? 0, 0);
    for (const [i, page] of tabs.entries()) {
      await expectState(page, 'signed-in', 1000);
      assert.equal(await page.locator(sel.warning).count(), 0, `tab ${i + 1}: no warning`);
      const log = await authLog(page);
      assert.ok(log.filter((e) => e.at >= frozenAt).every((e) => e.state === 'signed-in'), `tab ${i + 1} states: ${describeLog(log)}`);
      assert.equal(log.at(-1).state, 'signed-in');
    }
    await assertNothingStored(t, { tab1, tab2, tab3 }, recorder.tokens());
  });

  it('6. a tab closed in the middle of its refresh: the other tab then refreshes with the same token and stays signed in', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('closed-mid-refresh');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    // Keep tab 2's timer out of the way so that tab 1 is the one that refreshes first.
    await startTicks(tab2);
    const frozen2 = await freeze(tab2);
    assert.ok(frozen2.frozenAt < tokensAt + REFRESH_AT_MS - 500, 'tab 2 frozen before its timer refresh');
    await setFault('hang');

    // Tab 1's timer refresh reaches the provider and hangs there.
    await waitUntil(async () => (await stats()).faults_served >= 1, { timeout: REFRESH_AT_MS + 5000, message: 'tab 1\'s refresh to hang' });
    // The provider can count the request before playwright reports it: wait for both.
    const refreshPosts = () => tab1.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token');
    await waitUntil(() => refreshPosts().length >= 1, { timeout: 5000, message: 'tab 1\'s refresh seen by the test' });
    const hung = refreshPosts();
    assert.equal(hung.length, 1, 'tab 1 sent its refresh');
    assert.equal(tab2.tr.tokenPosts.length, 0, 'tab 2 (frozen) sent nothing');
    await expectState(tab1, 'signed-in', 1000);
    await tab1.close();
    const closedAt = Date.now();
    await clearFault();

    // What the browser sent before the thaw: a refresh recorded after this point came later,
    // in the order the test saw the events (no comparison of instants taken on two sides).
    const sentBeforeThaw = recorder.byGrant('refresh_token').length;
    assert.equal(tab2.tr.tokenPosts.length, 0, 'tab 2 sent nothing while frozen');
    const thawedAt = await frozen2.thaw();
    assert.equal(await ticksBetween(tab2, frozen2.frozenAt + 300, thawedAt - 300), 0, 'tab 2 was really frozen');
    // Tab 2's timer (due while it was frozen) refreshes now; its API call works either way.
    const answer = await clickCallApi(tab2);
    assert.equal(answer.status, 200, `tab 2's API call: ${answer.text}`);
    await waitUntil(() => recorder.byGrant('refresh_token').some((r) => r.status === 200), { timeout: 10000, message: 'a successful refresh' });
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    const tab2Refreshes = tab2.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token');
    t.diagnostic(`tab 1 closed ${closedAt - hung[0].at} ms into its hung refresh; browser refresh statuses: ${refreshes.map((r) => r.status ?? 'none').join(',')}; tab 2 sent ${tab2Refreshes.length}, the first ${tab2Refreshes[0] ? tab2Refreshes[0].at - thawedAt : '-'} ms from the thaw's return (information only: the debugger may resume the tab before that call returns)`);
    assert.equal(tab2Refreshes.length, 1, 'tab 2 refreshed once');
    assert.equal(tab2Refreshes[0].form.refresh_token, hung[0].form.refresh_token, 'tab 2 presented the token tab 1\'s hung request never spent');
    const ok = refreshes.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, 'one successful refresh');
    assert.ok(refreshes.indexOf(ok[0]) >= sentBeforeThaw, 'sent after the thaw began');
    assert.equal(ok[0].request.frame().page(), tab2, 'made by tab 2');
    const op = await stats();
    t.diagnostic(`provider: token_requests ${JSON.stringify(op.token_requests)}, faults_served ${op.faults_served}, token_errors ${JSON.stringify(op.token_errors)}`);
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh was refused by the provider');
    assert.equal(op.token_successes.refresh_token, 1);
    assert.equal(op.faults_served, 1, 'only tab 1\'s request hung');
    await expectState(tab2, 'signed-in', 1000);
    const log2 = await authLog(tab2);
    assert.ok(log2.every((e) => e.state === 'signed-in'), `tab 2 states: ${describeLog(log2)}`);
    assert.equal((await clickCallApi(tab2)).status, 200);
    await assertNothingStored(t, { tab2 }, recorder.tokens());
  });

  it('7. nothing in storage: three tabs through sign-in, joins, a reload, a refresh and sign-out', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('storage');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');
    await tab3.reload({ waitUntil: 'commit' });
    await stateAppearsAt(tab3, 'signed-in', 5000);
    const tabs = { tab1, tab2, tab3 };
    await assertNothingStored(t, tabs, recorder.tokens());

    // One timer refresh (shared by the three tabs), then every tab calls the API.
    await waitUntil(() => recorder.byGrant('refresh_token').some((r) => r.status === 200), { timeout: REFRESH_AT_MS + 10000, message: 'the timer refresh' });
    t.diagnostic(`timer refresh ${recorder.byGrant('refresh_token')[0].at - tokensAt} ms after the tokens arrived`);
    for (const page of Object.values(tabs)) assert.equal((await clickCallApi(page)).status, 200);
    await recorder.settled();
    assert.equal(recorder.byGrant('refresh_token').length, 1, 'one refresh for the three tabs');
    await assertNothingStored(t, tabs, recorder.tokens());

    // Sign out in tab 1: every tab signed out, only the allowed markers left.
    await tab1.locator(sel.signOut).click();
    await Promise.all([expectState(tab2, 'signed-out', 1000), expectState(tab3, 'signed-out', 1000)]);
    await backFromProvider(tab1);
    await expectState(tab1, 'signed-out', 10000);
    await recorder.settled();
    await assertNothingStored(t, tabs, recorder.tokens());
  });
});
