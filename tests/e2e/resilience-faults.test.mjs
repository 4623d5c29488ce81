// Browser end-to-end tests of how the built app (dist/) copes when things go wrong: a failing
// token endpoint (connection reset, no answer, 500, 503, garbage), refresh-token reuse
// detection, going offline. Faults come from the provider's test hook (POST /__test/fault,
// see dev/provider-test-hooks.mjs); the app itself is never patched. Reloads, silent sign-in
// and shared refreshes: resilience.test.mjs.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/resilience-faults.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Timing and the shared setup:
// resilience-suite.mjs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  APP, TOKEN_ENDPOINT, assertNoTokenLeak, clearFault, expectState, resetStats, sel, setFault,
  signIn, skipReason, stats, waitForQuiet, waitUntil,
} from './harness.mjs';
import {
  TTL_S, HANG_TIMEOUT_MS, CONFIG, statusText, callApi, useResilienceSuite, itLeavesNoTokenInLogs,
} from './resilience-suite.mjs';

const skip = skipReason();

describe('Leptos SPA resilience (browser): failing refreshes, reuse, offline', { skip, timeout: 600000 }, () => {
  const { open, signedIn, setConfig } = useResilienceSuite();

  for (const mode of ['down', 'hang', '500', '503']) {
    it(`5. refresh fault "${mode}": still signed in with a warning, the API still works, then it recovers with the same refresh token`, { timeout: 60000 }, async () => {
      if (mode === 'hang') await setConfig({ ...CONFIG, request_timeout_ms: HANG_TIMEOUT_MS });
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
    await setConfig({ ...CONFIG, dpop: 'off' });
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

  itLeavesNoTokenInLogs();
});
