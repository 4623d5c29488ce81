// Browser end-to-end tests of DPoP (RFC 9449) and PAR (RFC 9126) in the built app (dist/)
// under the provider's other switches (the defaults: dpop-browser.test.mjs). Three stacks, one
// after the other:
//   B. DPOP=off: Bearer as before; config dpop "required" makes the sign-in an error.
//   C. DPOP_NONCE=1 + API_DPOP_NONCE=1: one use_dpop_nonce refusal answered once at each end.
//   D. PAR=required: the browser goes to /auth with client_id and request_uri only.
//
//   flock /tmp/leptos-e2e.lock env E2E_DIST=/work/dist-dpop E2E_REQUIRE_APP=1 \
//     node --test --test-concurrency=1 tests/e2e/dpop-browser-modes.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  ACCESS_TOKEN_TTL, API, TOKEN_ENDPOINT, apiStats, expectState, postJson, resetStats, sel,
  setupSuite, signOut, skipReason, sleep, stats, submitLogin,
} from './harness.mjs';
import {
  API_HELLO, PAR_URN, checkProof, cnfJkt, thumbprint, callApi, sessionsOf, signedIn,
  assertNoDpopAnywhere,
} from './dpop-page.mjs';

const skip = skipReason();

// ---------------------------------------------------------------------------
describe('DPoP in the browser against a provider without DPoP (DPOP=off)', { skip, timeout: 90000 }, () => {
  let suite;
  const sessions = sessionsOf(() => suite);
  before(async () => {
    suite = await setupSuite({ env: { DPOP: 'off' }, config: {} });
  });
  afterEach(async () => {
    await sessions.closeAll();
    await suite.setConfig({});
  });
  after(async () => {
    await suite?.close();
  });

  it('2. Bearer as today: token_type Bearer, no DPoP header on any request, API 200, sign-out revokes', { timeout: 45000 }, async () => {
    await resetStats();
    const session = await signedIn(sessions, 'bearer-2');
    const [exchange] = session.recorder.byGrant('authorization_code');
    assert.equal(exchange.status, 200);
    assert.equal(exchange.body.token_type, 'Bearer');
    assert.equal(cnfJkt(exchange.body.access_token), undefined, 'an unbound access token');
    assert.equal((await callApi(session.page)).status, 200, 'the page shows HTTP 200');
    await session.traffic.settled();
    const calls = session.traffic.apiGets();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].headers.authorization, `Bearer ${exchange.body.access_token}`);
    await signOut(session.page);
    await session.recorder.settled();
    await session.traffic.settled();
    assert.equal(session.recorder.revocations.length, 1);
    assert.equal(session.recorder.revocations[0].status, 200);
    assertNoDpopAnywhere(session);
    const api = await apiStats();
    assert.equal(api.ok, 1);
    assert.equal(api.dpop.requests, 0, 'the API saw no DPoP request');
  });

  it('7. config dpop "required" against it: the Bearer answer makes the sign-in an error the person sees', { timeout: 45000 }, async () => {
    await suite.setConfig({ dpop: 'required' });
    await resetStats();
    const { page, recorder, traffic } = await sessions.open('required-7');
    await page.goto('/');
    await expectState(page, 'signed-out');
    await page.locator(sel.signIn).first().click();
    await page.locator('#login').waitFor({ timeout: 20000 });
    await submitLogin(page);
    const status = await expectState(page, 'error', 20000);
    assert.equal(await status.getAttribute('data-error'), 'token_response_invalid');
    assert.equal(await page.locator(sel.userName).count(), 0, 'no user name shown');
    assert.equal(await page.locator(sel.callApi).count(), 0, 'no API button');

    await recorder.settled();
    await traffic.settled();
    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 1, 'one code exchange, not retried');
    assert.equal(exchanges[0].status, 200);
    assert.equal(exchanges[0].body.token_type, 'Bearer', 'the provider answered Bearer');
    checkProof(exchanges[0].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'code exchange under required' });
    assert.equal(traffic.apiGets().length, 0, 'the Bearer token was never used');
    assert.equal((await apiStats()).requests, 0);
  });
});

// ---------------------------------------------------------------------------
describe('DPoP in the browser with server nonces (DPOP_NONCE=1, API_DPOP_NONCE=1)', { skip, timeout: 90000 }, () => {
  let suite;
  const sessions = sessionsOf(() => suite);
  before(async () => {
    suite = await setupSuite({ env: { DPOP_NONCE: '1', API_DPOP_NONCE: '1' } });
  });
  afterEach(() => sessions.closeAll());
  after(async () => {
    await suite?.close();
  });

  it('3. each server\'s use_dpop_nonce is answered exactly once, then the nonce is remembered', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder, traffic } = await signedIn(sessions, 'nonce-3');

    // Token endpoint: refused once for want of a nonce, the retry carries it.
    const exchanges = recorder.byGrant('authorization_code');
    assert.ok(exchanges[0]?.request.headers().dpop, 'the code exchange carried a DPoP proof');
    assert.deepEqual(exchanges.map((e) => e.status), [400, 200], 'two code exchange requests: refused, then accepted');
    assert.equal(exchanges[0].body.error, 'use_dpop_nonce');
    const providerNonce = (await exchanges[0].request.response()).headers()['dpop-nonce'];
    assert.ok(providerNonce, 'the refusal carried a DPoP-Nonce');
    const refused = checkProof(exchanges[0].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'first exchange' });
    assert.equal(refused.payload.nonce, undefined, 'the first proof had no nonce');
    const retried = checkProof(exchanges[1].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'retried exchange' });
    assert.equal(retried.payload.nonce, providerNonce, 'the retry carries the provider\'s nonce');
    assert.equal(exchanges[0].form.code, exchanges[1].form.code, 'the same code, presented again');
    assert.equal(exchanges[1].body.token_type, 'DPoP');
    const op = await stats();
    assert.equal(op.token_error_codes.use_dpop_nonce, 1, 'one use_dpop_nonce at the provider');
    assert.equal(op.token_successes.authorization_code, 1);

    // API: refused once (401 use_dpop_nonce), the retry with the API's nonce gets 200.
    assert.equal((await callApi(page)).status, 200, 'the page shows HTTP 200');
    await traffic.settled();
    const calls = traffic.apiGets();
    assert.deepEqual(calls.map((c) => c.status), [401, 200], 'two API requests: refused, then accepted');
    assert.match(calls[0].responseHeaders['www-authenticate'], /^DPoP .*error="use_dpop_nonce"/);
    const apiNonce = calls[0].responseHeaders['dpop-nonce'];
    assert.ok(apiNonce, 'the 401 carried a DPoP-Nonce');
    assert.notEqual(apiNonce, providerNonce);
    const token = exchanges[1].body.access_token;
    assert.equal(checkProof(calls[0].headers.dpop, { htm: 'GET', htu: API_HELLO, accessToken: token, what: 'first API call' }).payload.nonce, undefined);
    assert.equal(checkProof(calls[1].headers.dpop, { htm: 'GET', htu: API_HELLO, accessToken: token, what: 'retried API call' }).payload.nonce, apiNonce);
    let api = await apiStats();
    assert.deepEqual(
      [api.requests, api.dpop.use_dpop_nonce, api.dpop.ok],
      [2, 1, 1],
      `API: one nonce refusal, one success: ${JSON.stringify(api.dpop)}`,
    );

    // The nonce is remembered: the next call needs a single request.
    assert.equal((await callApi(page)).status, 200);
    await traffic.settled();
    assert.deepEqual(traffic.apiGets().slice(2).map((c) => c.status), [200], 'one request with the remembered nonce');

    // A nonce the API no longer accepts: one refusal, one retry with the new one.
    assert.equal((await postJson(`${API}/__test/expire-nonces`)).status < 300, true);
    assert.equal((await callApi(page)).status, 200, 'a stale nonce is renewed once and the call succeeds');
    await traffic.settled();
    assert.deepEqual(traffic.apiGets().slice(3).map((c) => c.status), [401, 200], 'stale nonce: exactly one retry');
    api = await apiStats();
    assert.equal(api.dpop.use_dpop_nonce, 2);

    // A refresh after expiry uses the remembered provider nonce: one token request.
    await sleep(Math.max(0, exchanges[1].at + ACCESS_TOKEN_TTL * 1000 + 1500 - Date.now()));
    assert.equal((await callApi(page)).status, 200, 'the call after expiry shows HTTP 200');
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    assert.deepEqual(refreshes.map((r) => r.status), [200], 'one refresh request, accepted at once');
    assert.equal(refreshes[0].body.token_type, 'DPoP');
    assert.ok(checkProof(refreshes[0].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'refresh' }).payload.nonce, 'the refresh proof carries a nonce');
    assert.equal((await stats()).token_error_codes.use_dpop_nonce, 1, 'still one use_dpop_nonce at the provider');
  });
});

// ---------------------------------------------------------------------------
describe('PAR required in the browser (PAR=required, DPOP=on)', { skip, timeout: 90000 }, () => {
  let suite;
  const sessions = sessionsOf(() => suite);
  before(async () => {
    suite = await setupSuite({ env: { PAR: 'required' } });
  });
  afterEach(() => sessions.closeAll());
  after(async () => {
    await suite?.close();
  });

  it('4. the browser goes to /auth with only client_id and request_uri; the sign-in gives DPoP-bound tokens', { timeout: 45000 }, async () => {
    await resetStats();
    const { page, recorder, traffic } = await signedIn(sessions, 'par-4');

    // A first visit makes no silent attempt: the sign-in; then a reload's silent restore (the
    // session hint is there now), pushed too.
    await page.reload();
    await expectState(page, 'signed-in', 20000);
    await traffic.settled();
    const auths = traffic.authorizations();
    assert.equal(auths.length, 2, `two authorization requests: ${auths.map((u) => u.pathname).join(', ')}`);
    for (const url of auths) {
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'], `only client_id and request_uri: ${[...url.searchParams.keys()]}`);
      assert.equal(url.searchParams.get('client_id'), 'leptos-spa');
      assert.ok(url.searchParams.get('request_uri').startsWith(PAR_URN), 'a pushed request_uri');
    }
    const pushes = traffic.pushes();
    assert.equal(pushes.length, 2, 'one pushed request per authorization request');
    assert.deepEqual(pushes.map((p) => p.status), [201, 201]);
    const uris = auths.map((u) => u.searchParams.get('request_uri'));
    assert.equal(new Set(uris).size, uris.length, 'a new request_uri each time');
    assert.equal(pushes[1].form.prompt, 'none', 'the silent restore was pushed too');
    for (const push of pushes) {
      assert.equal(push.headers.dpop, undefined, 'no proof on the pushed request');
      assert.equal(push.form.dpop_jkt, undefined, 'no dpop_jkt');
      assert.equal(push.form.code_challenge_method, 'S256');
      assert.ok(push.form.code_challenge && push.form.state, 'PKCE and state are in the pushed request');
    }

    await recorder.settled();
    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 2, 'the sign-in and the restore');
    const key = checkProof(exchanges[0].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'code exchange' }).header.jwk;
    assert.equal(exchanges[0].status, 200, JSON.stringify(exchanges[0].body));
    assert.equal(exchanges[0].body.token_type, 'DPoP');
    assert.equal(cnfJkt(exchanges[0].body.access_token), await thumbprint(key));
    assert.equal((await callApi(page)).status, 200);
    await traffic.settled();
    assert.equal(traffic.apiGets()[0].headers.authorization, `DPoP ${exchanges.at(-1).body.access_token}`, 'the restored session calls the API');
  });
});
