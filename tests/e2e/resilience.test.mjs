// Browser end-to-end tests of how the built app (dist/) copes when things get in the way:
// page reloads (tokens are in memory only), a visitor without a provider session,
// consent_required, many concurrent API calls, API 401s. Failing refreshes, refresh-token
// reuse and going offline: resilience-faults.test.mjs.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/resilience.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Timing and the shared setup:
// resilience-suite.mjs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  APP, apiStats, assertNoTokenLeak, expectState, resetStats, sel, signOut, skipReason, stats,
  waitForQuiet,
} from './harness.mjs';
import {
  REFRESH_AT_MS, CONFIG, API_HELLO, sessionStorageKeys, statusText, callApi, useResilienceSuite,
  itLeavesNoTokenInLogs,
} from './resilience-suite.mjs';
import { leaveHint, readHint } from './hint.mjs';

const skip = skipReason();

describe('Leptos SPA resilience (browser): reloads, silent sign-in, shared refreshes', { skip, timeout: 600000 }, () => {
  const { open, signedIn, setConfig } = useResilienceSuite();

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
    await setConfig({ ...CONFIG, scopes: ['openid', 'profile', 'email', 'api:read', 'api:write'] });
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

  itLeavesNoTokenInLogs();
});
