// Browser end-to-end tests of the built app (dist/) against the local provider and API.
// Everything here acts and checks like a person would, through the app's DOM contract
// (data-testid / data-state / data-error); the provider's test hooks count token requests.
//
//   node --test tests/e2e/                      all e2e tests; skips these if dist/ is not built
//   E2E_REQUIRE_APP=1 node --test tests/e2e/    fail instead of skipping (use in CI)
// Needs ports 8080, 9000 and 9100 free (stop `scripts/dev.sh` / trunk serve first).
// Server and browser logs: .dev-logs/e2e/*.log (E2E_VERBOSE=1 prints them instead).

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  ACCESS_TOKEN_TTL, API, APP, ISSUER, apiStats, assertNoTokenLeak, confirmSignOut, expectState,
  newSession, resetStats, sel, settledState, setupSuite, signIn, signOut, skipReason, sleep,
  startSignOut, stats, submitLogin, waitForQuiet,
} from './harness.mjs';

const skip = skipReason();
const PAST_TTL_MS = (ACCESS_TOKEN_TTL + 2) * 1000;

const isCallback = (url) => url.startsWith(`${APP}/callback?`);
// For failure messages: never print codes/state values.
const redact = (url) => url.replace(/([?&](?:code|state)=)[^&]+/g, '$1…');
const apiAnswer = (page) => page.waitForResponse(
  (res) => res.url().startsWith(`${API}/api/hello`) && res.request().method() === 'GET' && res.status() === 200,
  { timeout: 20000 },
);

async function callApi(page) {
  const answered = apiAnswer(page);
  await page.locator(sel.callApi).click();
  await answered;
  const result = page.locator(sel.apiResult);
  await result.filter({ hasText: 'Hello' }).waitFor();
  return result.textContent();
}

async function sessionStorageKeys(page) {
  return page.evaluate(() => Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i)));
}

describe('Leptos SPA sign-in (browser)', { skip, timeout: 300000 }, () => {
  let suite;
  const sessions = [];
  const open = async (name) => {
    const session = await newSession(suite.browser, name);
    sessions.push(session);
    return session;
  };

  before(async () => {
    suite = await setupSuite();
  });
  // Close each test's browser: the app's background refreshes must not leak into the
  // next test's provider counts.
  afterEach(async () => {
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('a. signs in from a deep link and returns there, leaving no token or code behind', { timeout: 60000 }, async () => {
    const { page, recorder } = await open('a');
    const visited = [];
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) visited.push(frame.url()); });

    await page.goto('/profile?tab=1');
    // A signed-in-only page: its guard takes the person to the provider's form by itself.
    await page.locator('#login').waitFor({ timeout: 20000 });
    await submitLogin(page);
    await expectState(page, 'signed-in', 20000);

    assert.equal(page.url(), `${APP}/profile?tab=1`, 'back on the page the sign-in started from, without code/state');
    assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
    assert.ok(visited.some(isCallback), 'the provider redirected to /callback');
    assert.deepEqual(await sessionStorageKeys(page), [], 'no pending request (or anything else) left in sessionStorage');

    await recorder.settled();
    assert.equal(recorder.byGrant('authorization_code').length, 1);
    assert.equal(recorder.byGrant('authorization_code')[0].status, 200);
    await assertNoTokenLeak(page, recorder.tokens());

    // The /callback?code=... entry was replaced: going back never shows it again.
    await page.goBack({ waitUntil: 'commit' }).catch(() => null);
    await waitForQuiet(() => page.url(), { page }); // wherever "back" leads, once it settled
    assert.ok(!isCallback(page.url()), `back went to ${redact(page.url())}`);
    if (page.url().startsWith(APP)) assert.doesNotMatch(page.url(), /[?&]code=/, `back showed a code in the app URL ${redact(page.url())}`);
  });

  it('b. calls the API, and keeps working past the access token lifetime by rotating the refresh token', { timeout: 90000 }, async () => {
    await resetStats();
    const { page, recorder } = await open('b');
    await page.goto('/');
    await signIn(page);

    assert.match(await callApi(page), /Hello/);
    for (let round = 1; round <= 2; round += 1) {
      await sleep(PAST_TTL_MS);
      assert.match(await callApi(page), /Hello/, `API answer shown after expiry #${round}`);
    }

    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    assert.ok(refreshes.length >= 2, `expected at least 2 refresh_token grants, saw ${refreshes.length}`);
    for (const r of refreshes) assert.equal(r.status, 200, `refresh failed: ${JSON.stringify(r.body)}`);
    const sent = refreshes.map((r) => r.form.refresh_token);
    assert.equal(new Set(sent).size, sent.length, 'a refresh token was sent twice');
    assert.notEqual(sent[1], sent[0], 'the second refresh used a different refresh token (rotation)');
    for (let i = 1; i < refreshes.length; i += 1) {
      assert.equal(sent[i], refreshes[i - 1].body.refresh_token, 'each refresh uses the token returned by the previous one');
    }

    const op = await stats();
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh was rejected');
    assert.ok(op.token_successes.refresh_token >= 2);
    assert.ok((await apiStats()).ok >= 3);
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('c. signs out back to the signed-out page', { timeout: 60000 }, async () => {
    const { page, recorder } = await open('c');
    await page.goto('/');
    await signIn(page);
    await signOut(page);
    assert.equal(new URL(page.url()).origin, APP);
    await page.locator(sel.signIn).first().waitFor({ state: 'visible' });
    assert.equal(await page.locator(sel.userName).count(), 0, 'no user name shown');
    await recorder.settled();
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('c2. sign-out also ends the provider session: signing in again asks for the password', { timeout: 60000 }, async () => {
    const { page } = await open('c2');
    await page.goto('/');
    await signIn(page);
    const before = (await stats()).logouts;
    await signOut(page);
    assert.equal((await stats()).logouts, before + 1, 'the app used RP-initiated logout (end_session)');
    await page.locator(sel.signIn).first().click();
    await page.locator('#login').waitFor();
  });

  it('c3. sign-out revokes the refresh token once (RFC 7009), then logs out at the provider with state and id_token_hint', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder } = await open('c3');
    const returns = [];
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame() && frame.url().startsWith(`${APP}/?`)) returns.push(frame.url()); });
    await page.goto('/');
    await signIn(page);
    await recorder.settled();
    const [exchange] = recorder.byGrant('authorization_code');
    const current = exchange.body.refresh_token;
    assert.ok(current, 'a refresh token was issued');

    const { endSession } = await startSignOut(page);
    // The revocation came before the trip to the provider, once, with the current refresh token.
    await recorder.settled();
    assert.equal(recorder.revocations.length, 1, 'one revocation request');
    const [revocation] = recorder.revocations;
    assert.deepEqual(revocation.form, { token: current, token_type_hint: 'refresh_token', client_id: 'leptos-spa' });
    assert.equal(revocation.status, 200);
    const op = await stats();
    assert.equal(op.revocations.requests, 1, 'the provider saw one revocation request');
    assert.equal(op.revocations.refresh_tokens_revoked, 1, 'and revoked a refresh token with it');
    assert.equal(op.logouts, 0, 'not logged out at the provider before the click');
    const refresh = await fetch(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current, client_id: 'leptos-spa' }),
    });
    assert.equal((await refresh.json()).error, 'invalid_grant', 'the refresh token is dead while the provider session still stands');

    const end = new URL(endSession);
    assert.equal(`${end.origin}${end.pathname}`, `${ISSUER}/session/end`);
    assert.equal(end.searchParams.get('client_id'), 'leptos-spa');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${APP}/`);
    assert.ok(end.searchParams.get('id_token_hint'), 'id_token_hint sent');
    const sent = end.searchParams.get('state');
    assert.match(sent, /^[A-Za-z0-9_-]{43}$/, 'a fresh random state');

    await confirmSignOut(page);
    const status = await expectState(page, 'signed-out');
    assert.equal(await status.getAttribute('data-error'), null);
    assert.equal(returns.length, 1);
    assert.equal(new URL(returns[0]).searchParams.get('state'), sent, 'the provider returned our state');
    assert.equal(page.url(), `${APP}/`, 'state wiped from the URL');
    assert.equal((await stats()).logouts, 1);
    await recorder.settled();
    assert.equal(recorder.revocations.length, 1, 'still one revocation');
    assert.equal((await stats()).revocations.requests, 1);

    // The same return again (history, a bookmark): no sign-out is pending any more, nothing to check.
    await page.goto(returns[0]);
    const again = await expectState(page, 'signed-out');
    assert.equal(await again.getAttribute('data-error'), null, 'a stale return is not an error');
    await assertNoTokenLeak(page, recorder.tokens());
  });

  it('c4. a forged state on the return from logout is state_mismatch; a stray one with no sign-out pending is just signed-out', { timeout: 60000 }, async () => {
    const { page, context } = await open('c4');
    await page.goto('/');
    await signIn(page);
    await startSignOut(page); // on the provider's confirmation page; the app stored its state

    // Someone sends the browser to the post-logout URI with a state of their own.
    await page.goto(`${APP}/?state=forged`);
    const status = await expectState(page, 'error');
    assert.equal(await status.getAttribute('data-error'), 'state_mismatch');
    assert.equal(await page.locator(sel.userName).count(), 0, 'still signed out (the tokens were dropped at the click)');
    await page.locator(sel.signIn).first().waitFor({ state: 'visible' });
    assert.equal(page.url(), `${APP}/`, 'the forged state is wiped from the URL');

    // The pending sign-out was used up: a reload is plainly signed out.
    await page.reload();
    const reloaded = await expectState(page, 'signed-out');
    assert.equal(await reloaded.getAttribute('data-error'), null);

    // A stray return with no sign-out pending at all, in another tab of a signed-out person.
    const stray = await context.newPage();
    await context.clearCookies();
    await stray.goto(`${APP}/?state=forged`);
    const strayStatus = await expectState(stray, 'signed-out');
    assert.equal(await strayStatus.getAttribute('data-error'), null, 'no pending sign-out: nothing to check, no error');
  });

  it('d. refuses a replayed authorization response (code replay)', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, context, recorder } = await open('d');
    let callbackUrl;
    page.on('request', (req) => {
      // The code-bearing callback (not the quiet prompt=none one made on first load).
      if (req.isNavigationRequest() && isCallback(req.url()) && new URL(req.url()).searchParams.has('code')) {
        callbackUrl ??= req.url();
      }
    });
    // Record what this tab stores as its pending sign-in (oidc.pending.*), so that a second
    // tab can later present the same code with a matching state and verifier. (Reading
    // sessionStorage while the tab navigates to the provider is not reliable.)
    const pendingSnapshot = {};
    await page.exposeBinding('__e2eRecordPending', (_source, key, value) => { pendingSnapshot[key] = value; });
    await page.addInitScript(() => {
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function recordPending(key, value) {
        if (this === window.sessionStorage && String(key).startsWith('oidc.pending.')) {
          window.__e2eRecordPending(String(key), String(value));
        }
        return setItem.call(this, key, value);
      };
    });
    await page.goto('/');
    await signIn(page);
    assert.ok(callbackUrl, 'captured the /callback URL');
    assert.equal((await stats()).token_successes.authorization_code, 1);

    // 1) Plain replay in a new tab of the same browser: no sign-in was started there, so the
    //    state matches nothing: state_mismatch, and the code never reaches the token endpoint.
    const tokenRequestsBefore = recorder.requests.length;
    const providerBefore = (await stats()).totals.requests;
    const replay = await context.newPage();
    await replay.goto(callbackUrl);
    const status = await expectState(replay, 'error');
    assert.equal(await status.getAttribute('data-error'), 'state_mismatch');
    assert.equal(await replay.locator(sel.userName).count(), 0, 'not signed in');
    await waitForQuiet(async () => [recorder.requests.length, (await stats()).totals.requests], { page: replay });
    await recorder.settled();
    assert.equal(recorder.requests.length, tokenRequestsBefore, 'no token request from the browser');
    assert.equal((await stats()).totals.requests, providerBefore, 'the provider saw no token request');
    assert.doesNotMatch(replay.url(), /[?&](code|state)=/, 'code/state wiped from the URL');

    // 2) Full replay: same code, with the original pending request restored in the tab.
    assert.ok(Object.keys(pendingSnapshot).length > 0, 'the app kept its pending request under oidc.pending.*');
    const forged = await context.newPage();
    await forged.goto('/');
    await settledState(forged); // may sign in silently (prompt=none): the provider session exists
    const codesRedeemed = (await stats()).token_successes.authorization_code;
    await forged.evaluate((items) => {
      for (const [k, v] of Object.entries(items)) sessionStorage.setItem(k, v);
    }, pendingSnapshot);
    await forged.goto(callbackUrl);
    const forgedStatus = await expectState(forged, 'error');
    assert.equal(await forgedStatus.getAttribute('data-error'), 'invalid_grant', 'the provider refused the used code');
    assert.equal(await forged.locator(sel.userName).count(), 0, 'not signed in');

    const op = await stats();
    assert.equal(op.token_successes.authorization_code, codesRedeemed, 'the replayed code was not redeemed again');
    assert.ok(op.token_error_codes.invalid_grant >= 1);
  });

  it('e. rejects a callback whose state was tampered with, without calling the token endpoint', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder } = await open('e');
    // The provider reaches /callback through redirects (POST login -> /auth/:uid -> /callback),
    // and Playwright cannot intercept redirect hops. So the login POST is intercepted and its
    // redirect chain walked here (with the context's cookies), then the browser is sent to
    // the callback URL with a changed state. The real code is never presented.
    let tampered;
    await page.route((url) => /\/interaction\/[^/]+\/login$/.test(url.pathname), async (route) => {
      let res = await route.fetch({ maxRedirects: 0 });
      for (let hop = 0; hop < 5 && !tampered; hop += 1) {
        const location = res.headers().location;
        assert.ok(location, `expected a redirect from the provider, got ${res.status()}`);
        const next = new URL(location, ISSUER);
        if (isCallback(next.href)) {
          next.searchParams.set('state', `${next.searchParams.get('state')}X`);
          tampered = next.href;
          break;
        }
        res = await page.request.get(next.href, { maxRedirects: 0 });
      }
      await route.fulfill({ status: 303, headers: { location: tampered } });
    });
    await page.goto('/');
    await page.locator(sel.signIn).first().click();
    await page.locator('#login').waitFor();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wonderland');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const status = await expectState(page, 'error', 20000);
    assert.ok(tampered, 'the callback was intercepted');
    assert.equal(await status.getAttribute('data-error'), 'state_mismatch');
    assert.equal(await page.locator(sel.userName).count(), 0);
    await recorder.settled();
    assert.equal(recorder.requests.length, 0, 'no token endpoint request from the browser');
    const op = await stats();
    assert.equal(op.token_requests.authorization_code ?? 0, 0, 'the provider saw no code exchange');
    assert.equal(op.totals.requests, 0, 'the provider saw no token request at all');
  });

  it('f. shows access_denied and the provider\'s description when the person cancels', { timeout: 60000 }, async () => {
    const { page, recorder } = await open('f');
    await page.goto('/');
    await page.locator(sel.signIn).first().click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    const status = await expectState(page, 'error', 20000);
    assert.equal(await status.getAttribute('data-error'), 'access_denied');
    await page.getByText('The user cancelled the sign-in.').first().waitFor({ state: 'visible' });
    await recorder.settled();
    assert.equal(recorder.requests.length, 0, 'no token request after a cancelled sign-in');
    await page.locator(sel.signIn).first().waitFor({ state: 'visible' }); // can try again
  });

  it('g. signing in from a second tab does not break the first', { timeout: 90000 }, async () => {
    await resetStats();
    const { page: first, context } = await open('g');
    await first.goto('/');
    await signIn(first);

    const second = await context.newPage();
    await second.goto('/');
    if ((await settledState(second)) !== 'signed-in') await signIn(second);

    assert.match(await callApi(first), /Hello/);
    await sleep(PAST_TTL_MS);
    assert.match(await callApi(first), /Hello/, 'first tab still works after the second signed in');
    assert.match(await callApi(second), /Hello/);
    const op = await stats();
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh token was reused or rejected');
  });
});
