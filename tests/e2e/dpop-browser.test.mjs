// Browser end-to-end tests of DPoP (RFC 9449) and PAR (RFC 9126) in the built app (dist/):
// what a person sees (auth-status data-state/data-error, the API result, the user name) and
// what really goes over the wire (token responses from the recorder, the DPoP and
// Authorization headers of every request the browser sends, the API's `dpop` counters).
// Four stacks, one after the other:
//   A. defaults (DPOP=on, PAR=on, config dpop auto): DPoP-bound sign-in, API calls, refresh,
//      revocation; config dpop "off" gives Bearer; a reload restores silently with the new
//      page's key; a stolen access token is useless outside the page.
//   B. DPOP=off: Bearer as before; config dpop "required" makes the sign-in an error.
//   C. DPOP_NONCE=1 + API_DPOP_NONCE=1: one use_dpop_nonce refusal answered once at each end.
//   D. PAR=required: the browser goes to /auth with client_id and request_uri only.
//
//   flock /tmp/leptos-e2e.lock env E2E_DIST=/work/dist-dpop E2E_REQUIRE_APP=1 \
//     node --test --test-concurrency=1 tests/e2e/dpop-browser.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Access tokens live
// ACCESS_TOKEN_TTL = 6 s (the harness default): the app refreshes such short-lived tokens on
// demand, so a click on call-api after expiry makes the refresh.

import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair,
} from 'jose';

import {
  ACCESS_TOKEN_TTL, API, APP, ISSUER, REVOCATION_ENDPOINT, TOKEN_ENDPOINT, apiStats, expectState,
  newSession, postJson, resetStats, sel, setupSuite, signIn, signOut, skipReason, sleep, stats, submitLogin,
} from './harness.mjs';

const skip = skipReason();

const API_HELLO = `${API}/api/hello`;
const PAR_ENDPOINT = `${ISSUER}/request`;
const PAR_URN = 'urn:ietf:params:oauth:request_uri:';

const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
/** Header and payload of a compact JWS (no signature check: the servers check those). */
const decodeJws = (jws) => {
  const [header, payload] = jws.split('.');
  return { header: b64json(header), payload: b64json(payload) };
};
const ath = (token) => createHash('sha256').update(token, 'ascii').digest('base64url');
const isAuthorize = (url) => url.startsWith(`${ISSUER}/auth?`);

/**
 * Every request the browser context sends to the provider or the API (all methods,
 * navigations included), with its headers and, once answered, status and headers.
 */
function recordTraffic(context) {
  const entries = [];
  const pending = new Set();
  context.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(ISSUER) && !url.startsWith(API)) return;
    const entry = {
      url,
      method: req.method(),
      headers: req.headers(),
      navigation: req.isNavigationRequest(),
      form: req.method() === 'POST' ? Object.fromEntries(new URLSearchParams(req.postData() || '')) : undefined,
      status: undefined,
      responseHeaders: undefined,
    };
    entries.push(entry);
    // Status and headers only: reading a body the page never reads would wait for ever (the
    // app drops the body of a use_dpop_nonce refusal and retries).
    const done = req.response().then((res) => {
      if (!res) return;
      entry.status = res.status();
      entry.responseHeaders = res.headers();
    }).catch(() => {}).finally(() => pending.delete(done));
    pending.add(done);
  });
  return {
    entries,
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    apiGets: () => entries.filter((e) => e.method === 'GET' && e.url.startsWith(API_HELLO)),
    /** Top-level navigations to the authorization endpoint (not the /auth/:uid resumes). */
    authorizations: () => entries.filter((e) => e.navigation && isAuthorize(e.url)).map((e) => new URL(e.url)),
    pushes: () => entries.filter((e) => e.method === 'POST' && e.url === PAR_ENDPOINT),
  };
}

/** Reads one DPoP proof header and checks the claims every proof must have. */
function checkProof(proof, { htm, htu, accessToken, what }) {
  assert.ok(proof, `${what}: a DPoP header was sent`);
  assert.match(proof, /^[\w-]+\.[\w-]+\.[\w-]+$/, `${what}: the DPoP header is a compact JWS`);
  const { header, payload } = decodeJws(proof);
  assert.equal(header.typ, 'dpop+jwt', `${what}: typ`);
  assert.equal(header.alg, 'ES256', `${what}: alg`);
  assert.equal(header.jwk?.kty, 'EC', `${what}: a public EC jwk in the header`);
  assert.equal(header.jwk.crv, 'P-256', `${what}: crv`);
  assert.equal(header.jwk.d, undefined, `${what}: no private part in the jwk`);
  assert.equal(payload.htm, htm, `${what}: htm`);
  assert.equal(payload.htu, htu, `${what}: htu`);
  assert.ok(typeof payload.jti === 'string' && payload.jti.length >= 16, `${what}: a jti`);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, `${what}: iat is now`);
  if (accessToken === undefined) assert.equal(payload.ath, undefined, `${what}: no ath`);
  else assert.equal(payload.ath, ath(accessToken), `${what}: ath = hash of the access token sent`);
  return { header, payload };
}

const cnfJkt = (accessToken) => decodeJws(accessToken).payload.cnf?.jkt;
const thumbprint = (jwk) => calculateJwkThumbprint({
  kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y,
}, 'sha256');

/** Clicks call-api and returns the result the page then shows (data-status, text). */
async function callApi(page, timeout = 20000) {
  // Mark the result on screen now: the answer to this click is a new element.
  await page.locator(sel.apiResult).evaluateAll((nodes) => nodes.forEach((n) => n.setAttribute('data-old', '')));
  await page.locator(sel.callApi).click();
  const result = page.locator(`${sel.apiResult}:not([data-old])`);
  await result.waitFor({ timeout });
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

async function statusOf(page) {
  return page.locator(sel.status).first().evaluate((n) => ({
    state: n.dataset.state, error: n.dataset.error ?? null, text: n.textContent.trim().slice(0, 300),
  }));
}

// One test's browser sessions; each describe closes them after every test so that background
// work never reaches the next test's counters.
function sessionsOf(getSuite) {
  const sessions = [];
  return {
    async open(name) {
      const session = await newSession(getSuite().browser, name);
      session.traffic = recordTraffic(session.context);
      sessions.push(session);
      return session;
    },
    async closeAll() {
      for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
    },
  };
}

// A new person signs in from the home page (the first load's silent attempt finds no provider
// session and stays signed out). Returns the session and its code exchange entry.
async function signedIn(sessions, name) {
  const session = await sessions.open(name);
  await session.page.goto('/');
  await expectState(session.page, 'signed-out');
  await signIn(session.page);
  assert.equal((await session.page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
  await session.recorder.settled();
  await session.traffic.settled();
  return session;
}

/** No request to the provider or the API carried a DPoP header; tokens are Bearer. */
function assertNoDpopAnywhere(session) {
  const proved = session.traffic.entries.filter((e) => e.headers.dpop !== undefined);
  assert.deepEqual(proved.map((e) => `${e.method} ${e.url}`), [], 'no request carried a DPoP header');
  for (const e of session.traffic.entries) {
    assert.ok(!/^dpop /i.test(e.headers.authorization ?? ''), `${e.method} ${e.url}: no DPoP authorization scheme`);
  }
}

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

    const auths = traffic.authorizations();
    // The first load's silent attempt and the sign-in.
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
    assert.equal(pushes[0].form.prompt, 'none', 'the silent attempt was pushed too');
    for (const push of pushes) {
      assert.equal(push.headers.dpop, undefined, 'no proof on the pushed request');
      assert.equal(push.form.dpop_jkt, undefined, 'no dpop_jkt');
      assert.equal(push.form.code_challenge_method, 'S256');
      assert.ok(push.form.code_challenge && push.form.state, 'PKCE and state are in the pushed request');
    }

    const exchanges = recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 1);
    const key = checkProof(exchanges[0].request.headers().dpop, { htm: 'POST', htu: TOKEN_ENDPOINT, what: 'code exchange' }).header.jwk;
    assert.equal(exchanges[0].status, 200, JSON.stringify(exchanges[0].body));
    assert.equal(exchanges[0].body.token_type, 'DPoP');
    assert.equal(cnfJkt(exchanges[0].body.access_token), await thumbprint(key));
    assert.equal((await callApi(page)).status, 200);
    await traffic.settled();
    assert.equal(traffic.apiGets()[0].headers.authorization, `DPoP ${exchanges[0].body.access_token}`);
  });
});
