// Browser end-to-end tests of how the built app (dist/) copes when things go wrong or get in
// the way: page reloads (tokens are in memory only), a visitor without a provider session,
// many concurrent API calls, API 401s, a failing token endpoint (connection reset, no answer,
// 500, 503, garbage), refresh-token reuse detection, going offline.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/resilience.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log.
//
// Timing: access tokens live ACCESS_TOKEN_TTL = 10 s here, so the app's timer refreshes 7.5 s
// after a token arrives (25 % of the lifetime before expiry); the app gives up on a request
// after request_timeout_ms (2000, 1000 in the 'hang' test). Where a test must show that
// something does NOT happen, it waits for counters to come to rest (waitForQuiet), and runs the
// page's own timers ahead (Playwright's page.clock) instead of sleeping through them. Faults come from the provider's
// test hook (POST /__test/fault, see dev/provider.mjs); the app itself is never patched.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  API, APP, ISSUER, LOG_DIR, TOKEN_ENDPOINT, apiStats, assertNoTokenLeak, clearFault,
  expectState, newSession, resetStats, sel, setFault, setupSuite, signIn, signOut, skipReason,
  stats, submitLogin, waitForQuiet, waitUntil,
} from './harness.mjs';
import { leaveHint, readHint } from './hint.mjs';

const skip = skipReason();

const TTL_S = 10;
const REFRESH_AT_MS = TTL_S * 1000 * 0.75; // the app's timer: 25 % of the lifetime before expiry
const TIMEOUT_MS = 2000; // request_timeout_ms for this file
const HANG_TIMEOUT_MS = 1000; // for the 'hang' test: the call that joins the hung refresh must
//                              still find its access token valid after the timeout
const CONFIG = { request_timeout_ms: TIMEOUT_MS };

const API_HELLO = `${API}/api/hello`;
const isApiGet = (req) => req.url().startsWith(API_HELLO) && req.method() === 'GET';
// Top-level authorization requests (not the /auth/:uid resume hops after the login form).
const isAuthorize = (req) => req.isNavigationRequest() && req.url().startsWith(`${ISSUER}/auth?`);
const isLoginForm = (req) => req.isNavigationRequest() && req.url().startsWith(`${ISSUER}/interaction/`);


async function sessionStorageKeys(page) {
  return page.evaluate(() => Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i)));
}

async function statusText(page) {
  return page.locator(sel.status).first().evaluate(
    (n) => `data-state=${n.dataset.state} data-error=${n.dataset.error ?? ''}`,
  ).catch(() => 'no auth-status element');
}

// Clicks call-api and returns the shown result's HTTP status (data-status) and text.
async function callApi(page, timeout = 15000) {
  const result = page.locator(sel.apiResult);
  await page.locator(sel.callApi).click();
  // The button is disabled while the call runs; the result then replaces the spinner.
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor({ timeout });
  await result.waitFor({ timeout });
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

// Every access/refresh/ID token that showed up in this file, for the final log check.
const allTokens = new Set();

describe('Leptos SPA resilience (browser)', { skip, timeout: 600000 }, () => {
  let suite;
  const sessions = [];
  // `clock`: Playwright's clock is installed before the app loads (time flows normally until a
  // test pauses it or runs the page's timers ahead).
  const open = async (name, { clock = false } = {}) => {
    const session = await newSession(suite.browser, name);
    sessions.push(session);
    const { page } = session;
    if (clock) await page.clock.install();
    session.authorizeRequests = [];
    session.loginForms = [];
    session.apiGets = [];
    page.on('request', (req) => {
      if (isAuthorize(req)) session.authorizeRequests.push(new URL(req.url()).searchParams.get('prompt') ?? '');
      if (isLoginForm(req)) session.loginForms.push(Date.now());
      if (isApiGet(req)) session.apiGets.push({ at: Date.now(), auth: req.headers().authorization ?? '' });
    });
    return session;
  };
  // A new person at `path`: the app first tries a silent sign-in (no provider session: quietly
  // signed out), then signs in with the form. Returns the session and the sign-in's tokens.
  const signedIn = async (name, at = '/', options = {}) => {
    const session = await open(name, options);
    await session.page.goto(at);
    if (new URL(at, APP).pathname === '/profile') {
      // A signed-in-only page: its guard takes the person to the provider's form by itself.
      await session.page.locator('#login').waitFor({ timeout: 20000 });
      await submitLogin(session.page);
      await expectState(session.page, 'signed-in', 20000);
    } else {
      await expectState(session.page, 'signed-out');
      await signIn(session.page);
    }
    await session.recorder.settled();
    const exchanges = session.recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 1, 'one code exchange');
    assert.equal(exchanges[0].status, 200);
    session.signedInAt = exchanges[0].at;
    session.first = exchanges[0].body;
    return session;
  };

  before(async () => {
    suite = await setupSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_S) }, config: CONFIG });
  });
  // Close each test's browser so that its background refreshes never reach the next test's
  // counters; remember its tokens for the final log check.
  afterEach(async () => {
    await clearFault().catch(() => {});
    await suite.setConfig(CONFIG);
    for (const { context, recorder } of sessions.splice(0)) {
      await recorder.settled().catch(() => {});
      for (const token of recorder.tokens()) allTokens.add(token);
      await context.close().catch(() => {});
    }
  });
  after(async () => {
    await suite?.close();
  });

  it('1. a reload keeps the session: back signed in on the same page, silently, with no form', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder, authorizeRequests, loginForms } = await signedIn('reload', '/profile?tab=2');
    assert.equal(page.url(), `${APP}/profile?tab=2`);
    const authorizeBefore = authorizeRequests.length;
    const formsBefore = loginForms.length;

    await page.reload();
    await expectState(page, 'signed-in', 20000);
    await page.waitForURL(`${APP}/profile?tab=2`);
    assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');

    assert.deepEqual(authorizeRequests.slice(authorizeBefore), ['none'], 'exactly one authorization request, with prompt=none');
    assert.equal(loginForms.length, formsBefore, 'no login form during the reload');
    assert.equal(await page.locator('#login').count(), 0);
    const keys = await sessionStorageKeys(page);
    assert.deepEqual(keys.filter((k) => k.startsWith('oidc.pending.')), [], 'no pending sign-in left in sessionStorage');

    await recorder.settled();
    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 2, 'the reload redeemed a fresh code');
    assert.equal(exchanges[1].status, 200);
    assert.equal((await stats()).token_successes.authorization_code, 2);
    await assertNoTokenLeak(page, recorder.tokens());
  });

  // What the browser and the provider have seen of authorization requests, to wait on.
  const authCounters = (session) => async () => {
    const op = (await stats()).authorization_requests;
    return { browser: session.authorizeRequests.length, provider: op.total, providerNone: op.prompt_none, forms: session.loginForms.length };
  };

  it('2a. a first visit makes no authorization request; a hinted visitor without a provider session is quietly signed out: one silent attempt in the tab, none on later loads', { timeout: 60000 }, async () => {
    await resetStats();
    const session = await open('visitor');
    const { page, authorizeRequests, loginForms } = session;

    await page.goto('/');
    await expectState(page, 'signed-out');
    const none = await waitForQuiet(authCounters(session), { page });
    assert.deepEqual(none, { browser: 0, provider: 0, providerNone: 0, forms: 0 }, 'a first visit stays on the page');

    // This browser had a session with the provider once (the hint a sign-in leaves), and the
    // provider's session has ended since.
    await leaveHint(page);
    await page.reload();
    const status = await expectState(page, 'signed-out');
    assert.equal(await status.getAttribute('data-error'), null, 'no error shown');
    assert.equal(page.url(), `${APP}/`, 'back on the page, without the error response in the URL');
    // A loop would keep adding authorization requests: wait until the counts stop moving.
    const first = await waitForQuiet(authCounters(session), { page });
    assert.deepEqual(first, { browser: 1, provider: 1, providerNone: 1, forms: 0 }, 'hinted load: exactly one silent (prompt=none) attempt');
    assert.equal(await statusText(page), 'data-state=signed-out data-error=');
    assert.deepEqual(authorizeRequests, ['none']);
    assert.equal((await stats()).authorizations.error, 1, 'the provider answered login_required once');
    assert.equal(await readHint(page), null, 'login_required removed the hint');

    for (let load = 2; load <= 3; load += 1) {
      await page.reload();
      await expectState(page, 'signed-out');
      const now = await waitForQuiet(authCounters(session), { page });
      assert.deepEqual(now, first, `load ${load}: ZERO authorization requests (the tab remembers login_required)`);
      assert.equal(await statusText(page), 'data-state=signed-out data-error=');
    }
    assert.equal(loginForms.length, 0, 'no login form without the person asking');
    await page.locator(sel.signIn).first().waitFor({ state: 'visible' });
  });

  it('2b. after signing out (the provider session ends too) reloads stay signed out with no authorization request', { timeout: 60000 }, async () => {
    const session = await signedIn('after-sign-out');
    const { page, recorder } = session;
    await signOut(page);
    const after = await waitForQuiet(authCounters(session), { page });
    for (let load = 1; load <= 2; load += 1) {
      await page.reload();
      const status = await expectState(page, 'signed-out');
      assert.deepEqual(await waitForQuiet(authCounters(session), { page }), after, `reload ${load} after sign-out: no authorization request at all`);
      assert.equal(await status.getAttribute('data-error'), null);
      assert.equal(await statusText(page), 'data-state=signed-out data-error=');
    }
    await recorder.settled();
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('2c. consent_required from the provider (a scope the app is not registered for) is quiet too; asking interactively shows access_denied', { timeout: 60000 }, async () => {
    const session = await signedIn('consent');
    const { page } = session;
    // The app now asks for api:write too, which the provider does not grant this client.
    await suite.setConfig({ ...CONFIG, scopes: ['openid', 'profile', 'email', 'api:read', 'api:write'] });
    const before = await waitForQuiet(authCounters(session), { page });
    await page.reload();
    const status = await expectState(page, 'signed-out', 20000);
    assert.equal(await status.getAttribute('data-error'), null, 'consent_required is not shown as an error');
    const first = await waitForQuiet(authCounters(session), { page });
    assert.equal(first.browser - before.browser, 1, 'one silent attempt');
    assert.equal(first.providerNone - before.providerNone, 1);
    assert.deepEqual(session.authorizeRequests.slice(before.browser), ['none']);
    await page.reload();
    await expectState(page, 'signed-out');
    assert.deepEqual(await waitForQuiet(authCounters(session), { page }), first, 'none on the next load');

    await page.locator(sel.signIn).first().click();
    const refused = await expectState(page, 'error', 20000);
    assert.equal(await refused.getAttribute('data-error'), 'access_denied');
    await page.getByText('not registered for').first().waitFor();
    assert.equal(await page.locator(sel.userName).count(), 0);
  });

  it('3. twenty concurrent API calls with a due token share exactly one refresh', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder } = await signedIn('burst', '/', { clock: true });
    // The token becomes due while the app's timer cannot fire (the page's clock is paused), so
    // the burst owns the refresh; nothing depends on how fast this machine is.
    const t0 = await page.evaluate(() => Date.now());
    await page.clock.pauseAt(t0 + 50);
    await page.clock.setSystemTime(t0 + REFRESH_AT_MS + 1000); // due (7.5 s), not expired (10 s)
    await resetStats();
    await expectState(page, 'signed-in');
    const clicked = Date.now();

    await page.locator(sel.burst).click();
    const result = page.locator(sel.burstResult);
    await result.waitFor({ timeout: 15000 });
    assert.equal(await result.getAttribute('data-total'), '20');
    assert.equal(await result.getAttribute('data-ok'), '20', (await result.textContent()).trim());
    await page.getByText('20 of 20 calls succeeded').first().waitFor();

    // A timer left armed for the old token would be overdue now: let the page's timers run
    // (for less than the new token's own refresh point) and see that nothing else is sent.
    await page.clock.runFor(1000);
    await waitForQuiet(async () => [recorder.requests.length, (await stats()).totals.requests], { page });
    await recorder.settled();
    const refreshes = recorder.requests.filter((r) => r.at >= clicked && r.form.grant_type === 'refresh_token');
    assert.equal(refreshes.length, 1, `refresh requests from the browser since the burst: ${refreshes.length}`);
    assert.equal(refreshes[0].status, 200);
    const op = await stats();
    assert.equal(op.token_requests.refresh_token, 1, 'the provider saw exactly one refresh');
    assert.equal(op.token_successes.refresh_token, 1);
    const api = await apiStats();
    assert.equal(api.ok, 20, `API answers: ${JSON.stringify(api.by_status)}`);
    assert.equal(api.unauthorized, 0, 'no call went out with the old token and bounced');
    await expectState(page, 'signed-in');
    assert.equal(await page.locator(sel.warning).count(), 0, 'no warning after the successful refresh');
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('4. an API 401 causes at most one refresh and one retry per call; concurrent 401s share the refresh', { timeout: 60000 }, async () => {
    // The demo API has no hook to refuse a valid token, so the test network stands in for an
    // API that stopped accepting a token (revocation, key rotation): requests carrying a token
    // in `refused` reach the real API with a corrupted signature and get its real 401.
    await resetStats();
    const { page, recorder, apiGets, first } = await signedIn('401');
    await page.locator(sel.callApi).waitFor();
    const refused = new Set([first.access_token]);
    let refuseAll = false;
    await page.route((url) => url.href.startsWith(API_HELLO), async (route) => {
      const req = route.request();
      // Bearer, or DPoP (the default with the local provider): the scheme is kept.
      const [scheme, token = ''] = (req.headers().authorization ?? '').split(' ');
      if (req.method() !== 'GET' || !(refuseAll || refused.has(token))) return route.continue();
      if (scheme === 'DPoP') {
        // A corrupted DPoP-bound token would no longer match its proof's `ath`, and the API would
        // blame the proof (which no refresh can fix): answer as the API does for a token it no
        // longer accepts.
        return route.fulfill({
          status: 401,
          headers: {
            'WWW-Authenticate': 'DPoP error="invalid_token", error_description="the access token is no longer accepted"',
            'Access-Control-Allow-Origin': APP,
            'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce, Date',
          },
          body: '',
        });
      }
      const corrupted = `${token.slice(0, -6)}${token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
      const response = await route.fetch({ headers: { ...(await req.allHeaders()), authorization: `${scheme} ${corrupted}` } });
      return route.fulfill({ response });
    });
    const refreshesSince = (t) => recorder.requests.filter((r) => r.at >= t && r.form.grant_type === 'refresh_token');

    // a) The token is refused once: one refresh, one retry with the new token, 200.
    let since = Date.now();
    let calls = apiGets.length;
    let answer = await callApi(page);
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /Hello/);
    assert.equal(apiGets.length - calls, 2, 'the call was sent twice: refused, then retried');
    await recorder.settled();
    assert.equal(refreshesSince(since).length, 1, 'one refresh after the 401');
    assert.notEqual(apiGets.at(-1).auth, apiGets.at(-2).auth, 'the retry carried the refreshed token');

    // b) Every token is refused: still one refresh and one retry, then the 401 is shown; no loop.
    refuseAll = true;
    since = Date.now();
    calls = apiGets.length;
    answer = await callApi(page);
    assert.equal(answer.status, 401, answer.text);
    await waitForQuiet(() => [apiGets.length, recorder.requests.length], { page });
    await recorder.settled();
    assert.equal(apiGets.length - calls, 2, 'exactly one retry');
    assert.equal(refreshesSince(since).length, 1, 'exactly one refresh');
    await expectState(page, 'signed-in');

    // c) Twenty concurrent calls with a refused token: one shared refresh, then twenty retries.
    refuseAll = false;
    await recorder.settled();
    refused.add(recorder.byGrant('refresh_token').at(-1).body.access_token);
    since = Date.now();
    calls = apiGets.length;
    await page.locator(sel.burst).click();
    const result = page.locator(sel.burstResult);
    await result.waitFor();
    assert.equal(await result.getAttribute('data-ok'), '20', (await result.textContent()).trim());
    await waitForQuiet(() => [apiGets.length, recorder.requests.length], { page });
    await recorder.settled();
    assert.equal(refreshesSince(since).length, 1, 'the twenty 401s shared one refresh');
    assert.equal(apiGets.length - calls, 40, 'each call: one refused attempt and one retry');
    assert.equal((await stats()).token_errors.refresh_token ?? 0, 0);
    await assertNoTokenLeak(page, recorder.tokens());
  });

  for (const mode of ['down', 'hang', '500', '503']) {
    it(`5. refresh fault "${mode}": still signed in with a warning, the API still works, then it recovers with the same refresh token`, { timeout: 60000 }, async () => {
      if (mode === 'hang') await suite.setConfig({ ...CONFIG, request_timeout_ms: HANG_TIMEOUT_MS });
      await resetStats();
      const { page, recorder, first } = await signedIn(`fault-${mode}`);
      const issued = first.refresh_token;
      await setFault(mode);

      // The timer's refresh (7.5 s after sign-in) meets the fault.
      await waitUntil(async () => (await stats()).faults_served >= 1, { timeout: 20000, interval: 25, message: 'a faulted refresh' });
      if (mode === 'hang') {
        // Call the API while that refresh hangs: the call waits for it (request_timeout_ms),
        // then goes ahead with the access token, which is still valid.
        const answer = await callApi(page);
        assert.equal(answer.status, 200, `API call during a hung refresh: ${answer.text}`);
        await page.locator(sel.warning).waitFor({ state: 'visible', timeout: 5000 });
      } else {
        await page.locator(sel.warning).waitFor({ state: 'visible', timeout: 5000 });
        const answer = await callApi(page);
        assert.equal(answer.status, 200, `API call while refreshing fails: ${answer.text}`);
      }
      await expectState(page, 'signed-in', 1000);
      await page.locator(sel.warning).waitFor({ state: 'visible' });
      assert.ok((await stats()).faults_served >= 1);

      // The provider is back: the app's own retry (backoff) succeeds and the warning goes.
      await clearFault();
      const recovered = Date.now();
      await page.locator(sel.warning).waitFor({ state: 'detached', timeout: 20000 });
      await expectState(page, 'signed-in', 1000);
      await recorder.settled();
      const refreshes = recorder.byGrant('refresh_token');
      const ok = refreshes.filter((r) => r.status === 200 && r.body?.access_token);
      assert.equal(ok.length, 1, `one successful refresh (statuses: ${refreshes.map((r) => r.status ?? 'none').join(',')})`);
      assert.ok(ok[0].at >= recovered - 100, 'the successful refresh came after the fault was cleared');
      assert.ok(refreshes.every((r) => r.form.refresh_token === issued), 'every attempt, and the successful one, used the last issued refresh token');
      const failed = refreshes.filter((r) => !ok.includes(r));
      assert.ok(failed.length >= 1, 'the browser saw the failed attempt(s)');
      if (mode === '500' || mode === '503') assert.ok(failed.every((r) => r.status === Number(mode)));
      if (mode === 'down' || mode === 'hang') assert.ok(failed.every((r) => r.status === undefined));

      const op = await stats();
      assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh was rejected by the provider');
      assert.equal(op.token_successes.refresh_token, 1);
      const answer = await callApi(page);
      assert.equal(answer.status, 200, answer.text);
      await assertNoTokenLeak(page, recorder.tokens());
    });
  }

  it('5b. a 2xx refresh answer that cannot be read ends the session (the token may be spent): no retry loop', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder } = await signedIn('fault-garbage');
    await setFault('garbage');
    const status = await expectState(page, 'error', 20000); // the timer's refresh meets the fault
    assert.equal(await status.getAttribute('data-error'), 'token_response_invalid');
    assert.equal(await page.locator(sel.signIn).count(), 1, 'the way back is offered');
    await clearFault();
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    assert.equal(refreshes.length, 1, 'the answer was not retried with a refresh token the server may have rotated');
    assert.equal(refreshes[0].status, 200);
    assert.equal((await stats()).faults_served, 1);
    assert.equal(await page.locator(sel.callApi).count(), 0, 'no token is left to call the API with');
  });

  it('6. refresh-token reuse (a stolen token replayed) ends the session cleanly with invalid_grant; signing in again returns to the page', { timeout: 90000 }, async () => {
    // Bearer refresh tokens: reuse detection is what ends the session here. (A DPoP-bound
    // refresh token replayed without its key is refused without revoking anything: the
    // stolen token is useless and the session lives on; see dev/README.md.)
    await suite.setConfig({ ...CONFIG, dpop: 'off' });
    await resetStats();
    const { page, recorder, first } = await signedIn('reuse', '/profile?tab=3', { clock: true });

    // The app rotates its refresh token once.
    await waitUntil(() => recorder.byGrant('refresh_token').length >= 1, { timeout: 20000, message: 'the first refresh' });
    await recorder.settled();
    const [rotation] = recorder.byGrant('refresh_token');
    assert.equal(rotation.status, 200);
    assert.equal(rotation.form.refresh_token, first.refresh_token);

    // An attacker replays the first (already rotated) refresh token: the provider refuses it
    // and revokes the whole grant, including the app's current refresh token.
    const replay = await fetch(TOKEN_ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'leptos-spa' }),
    });
    assert.equal(replay.status, 400);
    assert.equal((await replay.json()).error, 'invalid_grant');

    // The app's next refresh (timer) is refused: signed out, with a clear error.
    const status = await expectState(page, 'error', 20000);
    assert.equal(await status.getAttribute('data-error'), 'invalid_grant');
    assert.ok((await page.locator('[data-testid=error-message]').textContent()).trim().length > 0, 'an explanation is shown');
    assert.equal(await page.locator(sel.userName).count(), 0);
    await page.locator(sel.signIn).first().waitFor({ state: 'visible' });
    await recorder.settled();
    const refused = recorder.byGrant('refresh_token').at(-1);
    assert.equal(refused.status, 400);
    assert.equal(refused.body?.error, 'invalid_grant');
    const attempts = recorder.byGrant('refresh_token').length;
    // Run every timer the page could have armed (the longest retry backoff is 60 s): none may
    // send another refresh.
    await page.clock.runFor(61_000);
    await waitForQuiet(() => recorder.requests.length, { page });
    assert.equal(recorder.byGrant('refresh_token').length, attempts, 'no retry after invalid_grant');
    assert.equal(await statusText(page), 'data-state=error data-error=invalid_grant');
    await assertNoTokenLeak(page, recorder.tokens());

    // Sign in again (the provider may or may not ask for the password: its session survives
    // the grant's revocation) and land on the same page.
    await signIn(page);
    await page.waitForURL(`${APP}/profile?tab=3`);
    assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
    await recorder.settled();
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('7. offline pauses refreshing; back online, a due refresh happens at once', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, context, recorder } = await signedIn('offline', '/', { clock: true });
    // Freeze the page's timers, go offline, then run them past the refresh point and past
    // expiry: the refresh timer fires while offline (no attempt is even sent).
    const t0 = await page.evaluate(() => Date.now());
    await page.clock.pauseAt(t0 + 50);
    await context.setOffline(true);
    await page.clock.runFor(TTL_S * 1000 + 1000);
    await page.locator(sel.warning).waitFor({ state: 'visible', timeout: 5000 });
    await waitForQuiet(() => recorder.requests.length, { page });
    assert.equal(recorder.byGrant('refresh_token').length, 0, 'no refresh request while offline');
    await expectState(page, 'signed-in', 1000);

    // Back online: the `online` event refreshes at once (the page's timers are still frozen).
    await context.setOffline(false);
    const online = Date.now();
    await waitUntil(() => recorder.byGrant('refresh_token').length >= 1, { timeout: 5000, message: 'a refresh after going online' });
    await recorder.settled();
    const [refresh] = recorder.byGrant('refresh_token');
    assert.ok(refresh.at >= online, 'sent after going online');
    assert.equal(refresh.status, 200);
    await page.locator(sel.warning).waitFor({ state: 'detached', timeout: 5000 });
    await expectState(page, 'signed-in', 1000);
    const answer = await callApi(page);
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await stats()).token_successes.refresh_token, 1);
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('8. no token of this file reached a server log or the browser console log', async () => {
    assert.ok(allTokens.size > 0, 'tokens were captured');
    const files = (await readdir(LOG_DIR)).filter((f) => f.endsWith('.log'));
    assert.ok(files.includes('browser.log') && files.includes('provider.log'), `logs: ${files.join(', ')}`);
    const tokens = [...allTokens];
    for (const file of files) {
      const text = await readFile(path.join(LOG_DIR, file), 'utf8');
      tokens.forEach((token, i) => {
        assert.ok(!text.includes(token), `token #${i + 1} of ${tokens.length} (${token.length} chars) is in ${file}`);
      });
    }
  });
});
