// Browser end-to-end tests of DPoP (RFC 9449) and PAR (RFC 9126) in the built app (dist/):
// what a person sees (auth-status data-state/data-error, the API result, the user name) and
// what really goes over the wire (token responses from the recorder, the DPoP and
// Authorization headers of every request the browser sends, the API's `dpop` counters).
// This file: the defaults (DPOP=on, PAR=on, config dpop auto): DPoP-bound sign-in, API calls,
// refresh, revocation; config dpop "off" gives Bearer; a reload restores silently with the new
// page's key; a stolen access token is useless outside the page. The other provider
// switches are in dpop-browser-modes.test.mjs.
//
//   flock /tmp/leptos-e2e.lock env E2E_DIST=/work/dist-dpop E2E_REQUIRE_APP=1 \
//     node --test --test-concurrency=1 tests/e2e/dpop-browser.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Access tokens live
// ACCESS_TOKEN_TTL = 6 s (the harness default): the app refreshes such short-lived tokens on
// demand, so a click on call-api after expiry makes the refresh.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';

import { SignJWT, exportJWK, generateKeyPair } from 'jose';

import {
  ACCESS_TOKEN_TTL, APP, REVOCATION_ENDPOINT, TOKEN_ENDPOINT, apiStats, expectState, resetStats,
  sel, setupSuite, signOut, skipReason, sleep, stats,
} from './harness.mjs';
import {
  API_HELLO, decodeJws, ath, checkProof, cnfJkt, thumbprint, callApi, statusOf, sessionsOf,
  signedIn, assertNoDpopAnywhere,
} from './dpop-page.mjs';

const skip = skipReason();

// ---------------------------------------------------------------------------
describe('DPoP in the browser, defaults (DPOP=on, PAR=on, config dpop auto)', { skip, timeout: 120000 }, () => {
  let suite;
  const sessions = sessionsOf(() => suite);
  before(async () => {
    suite = await setupSuite({ config: {} });
  });
  afterEach(async () => {
    await sessions.closeAll();
    await suite.setConfig({});
  });
  after(async () => {
    await suite?.close();
  });

  it('1. signs in, calls the API, refreshes and revokes with DPoP proofs of the page key', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder, traffic } = await signedIn(sessions, 'dpop-1');

    // The front channel does not bind the code: no dpop_jkt in any authorization request.
    const auths = traffic.authorizations();
    assert.ok(auths.length >= 1, 'the app went to the authorization endpoint');
    for (const url of auths) assert.equal(url.searchParams.get('dpop_jkt'), null, 'no dpop_jkt in the authorization request');

    // The code exchange: one request, with a proof, answered with a DPoP-bound token.
    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 1, 'one code exchange');
    const [exchange] = exchanges;
    const first = checkProof(exchange.request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'code exchange' });
    assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
    assert.equal(exchange.body.token_type, 'DPoP', 'the code exchange answered token_type DPoP');
    const jkt = await thumbprint(first.header.jwk);
    assert.equal(cnfJkt(exchange.body.access_token), jkt, 'the access token is bound (cnf.jkt) to the proof key');

    // The API call: 200 shown, sent as Authorization: DPoP <token> with a proof of the same key.
    assert.equal((await callApi(page)).status, 200, 'the page shows HTTP 200 from the API');
    await traffic.settled();
    const [call] = traffic.apiGets();
    assert.equal(traffic.apiGets().length, 1, 'one API request');
    assert.equal(call.status, 200);
    assert.equal(call.headers.authorization, `DPoP ${exchange.body.access_token}`, 'Authorization: DPoP <access token>');
    const apiProof = checkProof(call.headers.dpop, {
      htm: 'GET', htu: API_HELLO, accessToken: exchange.body.access_token, what: 'API call',
    });
    assert.deepEqual(apiProof.header.jwk, first.header.jwk, 'the API proof is made by the same page key');
    assert.notEqual(apiProof.payload.jti, first.payload.jti, 'a fresh jti per proof');
    const afterCall = await apiStats();
    assert.deepEqual(
      [afterCall.dpop.requests, afterCall.dpop.ok, afterCall.ok],
      [1, 1, 1],
      `the API verified one DPoP request: ${JSON.stringify(afterCall.dpop)}`,
    );

    // Past the access token's lifetime the next call refreshes first, with a proof.
    await sleep(Math.max(0, exchange.at + ACCESS_TOKEN_TTL * 1000 + 1500 - Date.now()));
    assert.equal((await callApi(page)).status, 200, 'the call after expiry shows HTTP 200');
    await recorder.settled();
    await traffic.settled();
    const refreshes = recorder.byGrant('refresh_token');
    assert.equal(refreshes.length, 1, 'one refresh');
    const [refresh] = refreshes;
    assert.equal(refresh.form.refresh_token, exchange.body.refresh_token);
    assert.equal(refresh.status, 200, JSON.stringify(refresh.body));
    assert.equal(refresh.body.token_type, 'DPoP', 'the refresh answered token_type DPoP');
    const refreshProof = checkProof(refresh.request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'refresh' });
    assert.deepEqual(refreshProof.header.jwk, first.header.jwk, 'the refresh proof is made by the same page key');
    assert.equal(cnfJkt(refresh.body.access_token), jkt, 'the refreshed access token is bound to the same key');
    const second = traffic.apiGets()[1];
    assert.equal(traffic.apiGets().length, 2, 'one more API request');
    assert.equal(second.status, 200);
    assert.equal(second.headers.authorization, `DPoP ${refresh.body.access_token}`, 'the call uses the refreshed token');
    checkProof(second.headers.dpop, {
      htm: 'GET', htu: API_HELLO, accessToken: refresh.body.access_token, what: 'API call after refresh',
    });

    // Sign-out: the current refresh token is revoked (with a proof), then the person is signed out.
    await signOut(page);
    await recorder.settled();
    assert.equal(recorder.revocations.length, 1, 'one revocation request');
    const [revocation] = recorder.revocations;
    assert.equal(revocation.form.token, refresh.body.refresh_token, 'the current refresh token is revoked');
    assert.equal(revocation.status, 200);
    checkProof(revocation.request.headers().dpop, { htm: 'POST', htu: REVOCATION_ENDPOINT, what: 'revocation' });
    const op = await stats();
    assert.equal(op.revocations.refresh_tokens_revoked, 1, 'the provider revoked the refresh token');
    assert.equal(op.logouts, 1, 'and ended its session');
    assert.equal((await statusOf(page)).error, null, 'signed out without an error');
    assert.equal(await page.locator(sel.userName).count(), 0, 'no user name shown');
  });

  it('2b. config dpop "off" against a DPoP provider: Bearer as before, no DPoP header anywhere', { timeout: 45000 }, async () => {
    await suite.setConfig({ dpop: 'off' });
    await resetStats();
    const session = await signedIn(sessions, 'dpop-2b');
    const [exchange] = session.recorder.byGrant('authorization_code');
    assert.equal(exchange.status, 200);
    assert.equal(exchange.body.token_type, 'Bearer');
    assert.equal(cnfJkt(exchange.body.access_token), undefined, 'an unbound access token');
    assert.equal((await callApi(session.page)).status, 200);
    await session.traffic.settled();
    const [call] = session.traffic.apiGets();
    assert.equal(call.headers.authorization, `Bearer ${exchange.body.access_token}`);
    assertNoDpopAnywhere(session);
    assert.equal((await apiStats()).dpop.requests, 0, 'the API saw no DPoP request');
  });

  it('5. a reload restores the session silently with the new page\'s key: DPoP tokens, API works', { timeout: 60000 }, async () => {
    await resetStats();
    const { page, recorder, traffic } = await signedIn(sessions, 'dpop-5');
    const [firstExchange] = recorder.byGrant('authorization_code');
    const firstKey = checkProof(firstExchange.request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'first exchange' }).header.jwk;
    assert.equal(firstExchange.body.token_type, 'DPoP');
    const authsBefore = traffic.authorizations().length;

    await page.reload();
    await expectState(page, 'signed-in', 20000);
    assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
    assert.equal(await page.locator('#login').count(), 0, 'no login form');
    await recorder.settled();
    await traffic.settled();
    const silent = traffic.authorizations().slice(authsBefore);
    assert.deepEqual(silent.map((u) => u.searchParams.get('prompt')), ['none'], 'one authorization request, prompt=none');

    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 2, 'the restore redeemed a fresh code');
    const restored = exchanges[1];
    const newKey = checkProof(restored.request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'restore exchange' }).header.jwk;
    assert.equal(restored.status, 200, JSON.stringify(restored.body));
    assert.equal(restored.body.token_type, 'DPoP', 'the restored tokens are DPoP-bound');
    assert.notEqual(newKey.x, firstKey.x, 'the restore proof is made by a new key (jwk.x differs)');
    assert.equal(cnfJkt(restored.body.access_token), await thumbprint(newKey), 'the restored token is bound to the new key');

    assert.equal((await callApi(page)).status, 200, 'the API call after the reload shows HTTP 200');
    await traffic.settled();
    const calls = traffic.apiGets();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].status, 200);
    assert.equal(calls[0].headers.authorization, `DPoP ${restored.body.access_token}`);
    const apiKey = checkProof(calls[0].headers.dpop, {
      htm: 'GET', htu: API_HELLO, accessToken: restored.body.access_token, what: 'API call after reload',
    }).header.jwk;
    assert.deepEqual(apiKey, newKey, 'the API proof uses the new page key');
  });

  it('6. a stolen access token replayed from outside the page is refused; the page\'s own call works', { timeout: 45000 }, async () => {
    const { page, recorder, traffic } = await signedIn(sessions, 'dpop-6');
    const [exchange] = recorder.byGrant('authorization_code');
    checkProof(exchange.request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'code exchange' });
    assert.equal(exchange.body.token_type, 'DPoP');
    const stolen = exchange.body.access_token;
    await resetStats();

    const attempt = async (headers) => {
      const res = await fetch(API_HELLO, { headers: { origin: APP, ...headers } });
      return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
    };
    // (a) the DPoP scheme without a proof
    const noProof = await attempt({ authorization: `DPoP ${stolen}` });
    assert.equal(noProof.status, 401, 'DPoP without a proof');
    assert.match(noProof.challenge, /^DPoP .*error="invalid_dpop_proof"/);

    // (b) a valid proof, but made by the thief's own key
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const proof = await new SignJWT({
      htm: 'GET', htu: API_HELLO, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: ath(stolen),
    }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } }).sign(privateKey);
    const otherKey = await attempt({ authorization: `DPoP ${stolen}`, dpop: proof });
    assert.equal(otherKey.status, 401, 'DPoP with another key\'s proof');
    // The proof itself passed; the token's binding (cnf.jkt) refused it.
    assert.match(otherKey.challenge, /^DPoP .*error="invalid_token"/);

    // (c) as a plain Bearer token
    const bearer = await attempt({ authorization: `Bearer ${stolen}` });
    assert.equal(bearer.status, 401, 'the DPoP-bound token sent as Bearer');
    assert.match(bearer.challenge, /error="invalid_token"/);

    const api = await apiStats();
    assert.equal(api.ok, 0, 'none of the replays got through');
    assert.equal(api.unauthorized, 3);
    assert.equal(api.dpop.invalid_dpop_proof, 1);
    assert.equal(api.dpop.invalid_token, 2);

    // The page still holds the key: its own call with the same token works.
    assert.equal((await callApi(page)).status, 200, 'the page\'s own call shows HTTP 200');
    await traffic.settled();
    const own = traffic.apiGets();
    assert.equal(own.length, 1);
    assert.equal(own[0].headers.authorization, `DPoP ${stolen}`, 'the page sent the same token');
    assert.deepEqual(
      decodeJws(own[0].headers.dpop).header.jwk,
      decodeJws(exchange.request.headers().dpop).header.jwk,
      'with a proof of its own key',
    );
    const after = await apiStats();
    assert.equal(after.ok, 1);
    assert.equal(after.dpop.ok, 1);
  });
});
