// Browser end-to-end tests of how the built app (dist/) talks to the provider and the API,
// for claims of the README that nothing else checks: `request_timeout_ms` bounds every kind of
// request (the code exchange, API calls), a due token is refreshed at once when the page wakes
// up (`visibilitychange`, `focus`), and requests to the provider carry no cookie
// (`credentials: omit`).
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/requests.test.mjs
//
// Faults come from the test hooks of dev/provider.mjs (token endpoint) and dev/api.mjs
// (`hang`). The page's clock is Playwright's (page.clock): paused, it lets time pass for the
// page without its timers firing, as in a sleeping laptop or a throttled background tab.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  API, ISSUER, apiStats, expectState, newSession, newSessionWithThirdPartyCookies, postJson,
  resetStats, sel, setFault, setupSuite, signIn, signOut, skipReason, stats, submitLogin,
  waitForQuiet, waitUntil,
} from './harness.mjs';

const skip = skipReason();

const TTL_S = 10; // access tokens: the app's timer would refresh 7.5 s after sign-in
const TIMEOUT_MS = 1500; // request_timeout_ms for this file
const CONFIG = { request_timeout_ms: TIMEOUT_MS };

async function callApi(page) {
  const result = page.locator(sel.apiResult);
  await page.locator(sel.callApi).click();
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor();
  await result.waitFor();
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

describe('how the app talks to servers (browser)', { skip, timeout: 300000 }, () => {
  let suite;
  const sessions = [];
  const open = async (name, { clock = false, thirdPartyCookies = false } = {}) => {
    const session = thirdPartyCookies ? await newSessionWithThirdPartyCookies(name) : await newSession(suite.browser, name);
    sessions.push(session);
    // Installed before the app loads; time flows normally until a test pauses it.
    if (clock) await session.page.clock.install();
    return session;
  };

  before(async () => {
    suite = await setupSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_S) }, config: CONFIG });
  });
  afterEach(async () => {
    await resetStats().catch(() => {}); // also clears the faults of the provider and the API
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('1. request_timeout_ms bounds the code exchange: a token endpoint that never answers ends in network_error', { timeout: 60000 }, async () => {
    await resetStats();
    await setFault('hang', { grant: 'authorization_code', count: 1 });
    const { page, recorder } = await open('token-timeout');
    await page.goto('/');
    await expectState(page, 'signed-out');
    await page.locator(sel.signIn).first().click();
    await submitLogin(page);

    // The default timeout is 15 s; this must end after the configured 1.5 s, not then.
    const status = await expectState(page, 'error', 10000);
    const shownAt = Date.now();
    assert.equal(await status.getAttribute('data-error'), 'network_error');
    const message = (await page.locator('[data-testid=error-message]').textContent()).trim();
    assert.match(message, new RegExp(`no answer within ${TIMEOUT_MS} ms`), message);
    const [exchange] = recorder.byGrant('authorization_code');
    assert.ok(exchange, 'the browser sent the code exchange');
    assert.equal(exchange.status, undefined, 'it got no answer');
    assert.ok(shownAt - exchange.at >= TIMEOUT_MS - 100, `gave up after ${shownAt - exchange.at} ms, before the timeout`);
    const op = await stats();
    assert.equal(op.faults_served, 1, 'the provider held exactly that request');
    assert.equal(op.token_successes.authorization_code ?? 0, 0);

    // Not stuck: signing in again works (the fault was for one request).
    await signIn(page);
    assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
  });

  it('1b. a provider answer over 1 MiB is refused: the sign-in fails with a clear error instead of the page parsing it', { timeout: 60000 }, async () => {
    await resetStats();
    const { page } = await open('huge-keys');
    // The network stands in for a provider whose key set grew absurdly large (2 MiB of valid
    // JSON): the app must refuse to take it in, not parse it.
    let served = 0;
    await page.route((url) => url.href.startsWith(`${ISSUER}/jwks`), async (route) => {
      served += 1;
      const padding = 'x'.repeat(2 * 1024 * 1024);
      await route.fulfill({
        status: 200,
        headers: { 'content-type': 'application/json', 'access-control-allow-origin': 'http://localhost:8080' },
        body: JSON.stringify({ keys: [], padding }),
      });
    });
    await page.goto('/');
    await expectState(page, 'signed-out');
    await page.locator(sel.signIn).first().click();
    await submitLogin(page);
    const status = await expectState(page, 'error', 20000);
    assert.equal(await status.getAttribute('data-error'), 'network_error');
    const message = (await page.locator('[data-testid=error-message]').textContent()).trim();
    assert.match(message, /too large/, message);
    assert.ok(served >= 1, 'the oversized key set was served');
    assert.equal(await page.locator(sel.userName).count(), 0, 'not signed in');
  });

  it('2. request_timeout_ms bounds API calls: an API that never answers shows a failed call; the session stays', { timeout: 60000 }, async () => {
    const { page } = await open('api-timeout');
    await page.goto('/');
    await expectState(page, 'signed-out');
    await signIn(page);
    await resetStats();
    const armed = await postJson(`${API}/__test/fault`, { mode: 'hang', count: 1 });
    assert.equal(armed.status, 200);

    const started = Date.now();
    const answer = await callApi(page);
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 0, `a failed call is shown: ${answer.text}`);
    assert.match(answer.text, new RegExp(`no answer within ${TIMEOUT_MS} ms`), answer.text);
    assert.ok(elapsed >= TIMEOUT_MS - 100, `gave up after ${elapsed} ms`);
    assert.equal((await apiStats()).faults_served, 1, 'the API held exactly that call');
    await expectState(page, 'signed-in', 1000);

    // The API answers again: the next call must work. (A request given up on but not aborted
    // stays open, and Chromium's HTTP cache makes the next identical GET wait up to 20 s
    // behind it, so that call would time out too.)
    const again = await callApi(page);
    assert.equal(again.status, 200, `the next call, with the API answering again: ${again.text}`);
    assert.match(again.text, /Hello/);
    await waitUntil(async () => (await apiStats()).faults_abandoned === 1, {
      timeout: 3000, message: 'the app to abort (close) the API request it gave up on',
    });
  });

  it('3. a due token is refreshed at once on visibilitychange and on focus, though its timer never fired', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder } = await open('wake-up', { clock: true });
    await page.goto('/');
    await expectState(page, 'signed-out');
    await signIn(page);
    await recorder.settled();
    const refreshes = () => recorder.byGrant('refresh_token').length;
    const quietRefreshes = () => waitForQuiet(async () => [refreshes(), (await stats()).token_requests.refresh_token ?? 0], { page });

    // The laptop sleeps: time passes for the page, its timers do not run.
    const t0 = await page.evaluate(() => Date.now());
    await page.clock.pauseAt(t0 + 50);
    let now = t0 + 50;
    for (const [event, wake] of [
      ['visibilitychange', () => document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))],
      ['focus', () => window.dispatchEvent(new Event('focus'))],
    ]) {
      const before = refreshes();
      now += (TTL_S + 1) * 1000; // past the refresh point and past expiry
      await page.clock.setSystemTime(now);
      assert.deepEqual(await quietRefreshes(), [before, before], `${event}: no refresh before the wake-up (the timer is frozen)`);
      await expectState(page, 'signed-in', 1000);

      const woke = Date.now();
      await page.evaluate(wake);
      await waitUntil(() => refreshes() > before, { timeout: 5000, message: `a refresh after ${event}` });
      await recorder.settled();
      const refresh = recorder.byGrant('refresh_token').at(-1);
      assert.equal(refresh.status, 200, `${event}: refresh answered ${refresh.status}`);
      assert.ok(refresh.at >= woke, 'sent after the event');
      assert.deepEqual(await quietRefreshes(), [before + 1, before + 1], `${event}: exactly one refresh`);
      await expectState(page, 'signed-in', 1000);
      const answer = await callApi(page);
      assert.equal(answer.status, 200, `${event}: the API works with the refreshed token: ${answer.text}`);
    }

    // Waking up with a token that is not due does nothing.
    const settled = refreshes();
    await page.evaluate(() => {
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
      window.dispatchEvent(new Event('focus'));
    });
    assert.deepEqual(await quietRefreshes(), [settled, settled], 'no refresh for a fresh token');
    assert.equal((await stats()).token_errors.refresh_token ?? 0, 0);
  });

  it('4. requests to the provider carry no cookie (credentials: omit), though the browser holds one it would send', { timeout: 60000 }, async () => {
    await resetStats();
    // A profile that allows third-party cookies, and a cookie for the provider's host that any
    // credentialed request from the app's page (another site) would carry.
    const { page, context, recorder } = await open('no-cookies', { clock: true, thirdPartyCookies: true });
    await context.addCookies([{
      name: 'e2e_probe', value: 'sent-with-credentials', domain: '127.0.0.1', path: '/', sameSite: 'None', secure: true,
    }]);
    const DISCOVERY = '/.well-known/openid-configuration';
    const byPath = async () => (await stats()).requests_by_path;

    await page.goto('/');
    await expectState(page, 'signed-out');
    // Control: a credentialed request from the app's page does reach the provider with a
    // cookie, so the absence below is the app's doing (credentials 'include' would show up).
    await page.evaluate((url) => fetch(url, { credentials: 'include', mode: 'no-cors' }).then(() => {}, () => {}), `${ISSUER}${DISCOVERY}?credentials-probe`);
    await waitUntil(async () => (await byPath())[DISCOVERY]?.with_cookie === 1, { timeout: 5000, message: 'the credentialed probe to arrive with its cookie' });

    await signIn(page); // discovery, keys, code exchange, userinfo
    assert.equal((await callApi(page)).status, 200);
    await page.clock.runFor(TTL_S * 1000); // fires the refresh timer now
    await waitUntil(() => recorder.byGrant('refresh_token').length >= 1, { message: 'a refresh' });
    await recorder.settled();
    await signOut(page); // revocation, then the logout page
    await expectState(page, 'signed-out');

    const seen = await byPath();
    const report = JSON.stringify(seen);
    for (const path of [DISCOVERY, '/jwks', '/token', '/token/revocation', '/me']) {
      assert.ok(seen[path]?.total >= 1, `the app requested ${path}: ${report}`);
      const expected = path === DISCOVERY ? 1 : 0; // the probe's
      assert.equal(seen[path].with_cookie, expected, `${path}: requests from the app with a Cookie header: ${report}`);
    }
    assert.ok(seen['/token'].total >= 2, 'the code exchange and the refresh');
    assert.ok(seen['/auth']?.with_cookie >= 1, 'top-level navigations to the provider do carry its cookies');
  });
});
