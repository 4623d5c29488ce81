// Self-test of the provider's token endpoint fault injection (dev/provider.mjs, TEST_HOOKS=1),
// without a browser: POST /__test/fault arms down / hang / 500 / 503 / garbage for refresh
// (or any) token requests, optionally for N requests; faulted requests never reach
// oidc-provider, so the refresh token they carried still works afterwards.
// Uses its own ports, so it can run next to the browser suite.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import {
  CookieJar, authorizeAs, authorizeUrl, pkcePair,
} from './node-client.mjs';

const APP = 'http://localhost:8080';
const REDIRECT_URI = `${APP}/callback`;
const CLIENT_ID = 'leptos-spa';

let stack;
let ISSUER;
let meta;

const stats = async () => (await fetch(`${ISSUER}/__test/stats`)).json();
const reset = async () => {
  const res = await fetch(`${ISSUER}/__test/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 204);
};

async function arm(body) {
  const res = await fetch(`${ISSUER}/__test/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

function tokenFetch(fields, { signal } = {}) {
  return fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...fields }).toString(),
    signal,
  });
}

async function tokenRequest(fields) {
  const res = await tokenFetch(fields);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { res, text, body };
}

// Signs alice in (form login, or silently with the jar's session) and returns the callback code.
async function authorizationCode(jar) {
  const pkce = pkcePair();
  const start = authorizeUrl(ISSUER, {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email api:read',
    state: `st-${Math.random()}`,
    nonce: `n-${Math.random()}`,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  });
  const step = await authorizeAs(jar, ISSUER, start);
  assert.equal(step.loginStatus ?? 303, 303, 'login accepted');
  const code = new URL(step.url).searchParams.get('code');
  assert.ok(code, 'got an authorization code');
  return { code, verifier: pkce.verifier };
}

const codeFields = ({ code, verifier }) => ({
  grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
});

describe('provider fault injection (no browser)', { timeout: 60000 }, () => {
  const jar = new CookieJar();
  let refreshToken;

  before(async () => {
    stack = await startStack({
      testHooks: true,
      orders: false,
      quiet: !process.env.E2E_VERBOSE,
      env: { OP_PORT: '9330', API_PORT: '9430' },
    });
    ISSUER = stack.urls.issuer;
    meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
  });
  after(() => stack?.stop());

  it('takes JSON only: a simple (text/plain or form) POST, which any site could send, is refused with 415', async () => {
    await reset();
    for (const [path, body] of [['/__test/fault', '{"mode":"down","grant":"any"}'], ['/__test/reset', '{}']]) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const res = await fetch(`${ISSUER}${path}`, {
          method: 'POST', headers: { origin: 'http://evil.test', ...(type ? { 'content-type': type } : {}) }, body,
        });
        assert.equal(res.status, 415, `${path} with ${type}`);
        assert.equal(res.headers.get('access-control-allow-origin'), null);
      }
    }
    assert.deepEqual(await (await fetch(`${ISSUER}/__test/fault`)).json(), { fault: null }, 'nothing was armed');
    // A cross-site JSON POST needs a preflight, which the hook does not grant.
    const preflight = await fetch(`${ISSUER}/__test/fault`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    assert.equal(preflight.headers.get('access-control-allow-methods'), null);
    // Counters were not reset by the refused POSTs either.
    const before = (await stats()).totals.requests;
    await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'unknown' });
    await fetch(`${ISSUER}/__test/reset`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal((await stats()).totals.requests, before + 1);
  });

  it('guards the hook: bad input is refused, GET shows the armed fault, off and reset disarm it', async () => {
    for (const bad of [{ mode: 'explode' }, { mode: '500', grant: 'password' }, { mode: '500', count: 0 }, { mode: '500', count: 1.5 }, '[1]', 'not json']) {
      const { status, body } = await arm(bad);
      assert.equal(status, 400, JSON.stringify(bad));
      assert.equal(body.error, 'invalid_request');
    }
    assert.deepEqual((await arm({ mode: '503', count: 2 })).body, { fault: { mode: '503', grant: 'refresh_token', remaining: 2 } });
    assert.deepEqual(await (await fetch(`${ISSUER}/__test/fault`)).json(), { fault: { mode: '503', grant: 'refresh_token', remaining: 2 } });
    assert.deepEqual((await arm({ mode: 'off' })).body, { fault: null });
    await arm({ mode: 'hang', grant: 'any' });
    await reset();
    assert.deepEqual(await (await fetch(`${ISSUER}/__test/fault`)).json(), { fault: null });
    const s = await stats();
    assert.equal(s.faults_served, 0);
    assert.deepEqual(s.token_faults, {});
  });

  it('lets a code exchange through while a refresh-only fault is armed (the body is handed on intact)', async () => {
    await reset();
    assert.equal((await arm({ mode: '500' })).status, 200);
    const { res, body } = await tokenRequest(codeFields(await authorizationCode(jar)));
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.access_token && body.refresh_token && body.id_token);
    refreshToken = body.refresh_token;
    const s = await stats();
    assert.equal(s.token_successes.authorization_code, 1);
    assert.equal(s.faults_served, 0);
  });

  for (const [mode, check] of [
    ['500', ({ res, text }) => {
      assert.equal(res.status, 500);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      assert.match(text, /fault injected/);
    }],
    ['503', ({ res }) => assert.equal(res.status, 503)],
    ['garbage', ({ res, text }) => {
      assert.equal(res.status, 200);
      assert.equal(text, '<html>oops</html>');
    }],
  ]) {
    it(`${mode}: answers with CORS for the app, and the refresh token survives`, async () => {
      await reset();
      await arm({ mode, count: 1 });
      const faulted = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
      check(faulted);
      assert.equal(faulted.res.headers.get('access-control-allow-origin'), APP, 'a browser can read the status');
      assert.equal(faulted.res.headers.get('cache-control'), 'no-store');

      // count 1: used up, so the same refresh token now works (it was never consumed).
      assert.deepEqual((await (await fetch(`${ISSUER}/__test/fault`)).json()).fault, null);
      const ok = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
      assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
      refreshToken = ok.body.refresh_token;

      const s = await stats();
      assert.equal(s.faults_served, 1);
      assert.deepEqual(s.token_faults, { refresh_token: 1 });
      assert.equal(s.token_requests.refresh_token, 2, 'faulted requests are counted as token requests');
      assert.equal(s.token_successes.refresh_token, 1);
      assert.equal(s.token_errors.refresh_token ?? 0, 0);
      assert.deepEqual(s.totals, { requests: 2, successes: 1, errors: 0, faults: 1 });
    });
  }

  it('down: resets the connection, without any HTTP answer', async () => {
    await reset();
    await arm({ mode: 'down' });
    for (let i = 0; i < 2; i += 1) {
      await assert.rejects(tokenFetch({ grant_type: 'refresh_token', refresh_token: refreshToken }), (err) => {
        assert.equal(err.name, 'TypeError'); // undici: "fetch failed", cause: socket reset/closed
        assert.equal(err.message, 'fetch failed');
        const cause = `${err.cause?.code ?? ''} ${err.cause?.message ?? ''}`;
        assert.match(cause, /ECONNRESET|UND_ERR_SOCKET|other side closed|socket hang up/, `not a connection reset: ${cause}`);
        return true;
      });
    }
    const s = await stats();
    assert.equal(s.faults_served, 2, 'unlimited until disarmed');
    await arm({ mode: 'off' });
    const ok = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(ok.res.status, 200);
    refreshToken = ok.body.refresh_token;
  });

  it('hang: never answers; the client gives up on its own', async () => {
    await reset();
    await arm({ mode: 'hang' });
    const started = Date.now();
    await assert.rejects(
      tokenFetch({ grant_type: 'refresh_token', refresh_token: refreshToken }, { signal: AbortSignal.timeout(700) }),
      (err) => err.name === 'TimeoutError',
    );
    assert.ok(Date.now() - started >= 650, 'no answer before the client timed out');
    assert.equal((await stats()).faults_served, 1);
    await reset(); // also disarms
    const ok = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(ok.res.status, 200);
    refreshToken = ok.body.refresh_token;
  });

  it('count N faults exactly N requests; grant "any" also faults code exchanges', async () => {
    await reset();
    await arm({ mode: '503', count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
      statuses.push(r.res.status);
      if (r.res.status === 200) refreshToken = r.body.refresh_token;
    }
    assert.deepEqual(statuses, [503, 503, 200]);

    await arm({ mode: '500', grant: 'any', count: 1 });
    const code = await authorizationCode(jar);
    assert.equal((await tokenRequest(codeFields(code))).res.status, 500);
    // The faulted exchange never reached oidc-provider: the code is still unused.
    const ok = await tokenRequest(codeFields(code));
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));

    const s = await stats();
    assert.equal(s.faults_served, 3);
    assert.deepEqual(s.token_faults, { refresh_token: 2, authorization_code: 1 });
    assert.equal(s.token_requests.refresh_token, 3);
    assert.equal(s.token_requests.authorization_code, 2);
  });

  it('faults only the token endpoint', async () => {
    await reset();
    await arm({ mode: 'down', grant: 'any' });
    assert.equal((await fetch(`${ISSUER}/.well-known/openid-configuration`)).status, 200);
    assert.equal((await fetch(meta.jwks_uri)).status, 200);
    const rev = await fetch(meta.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams({ client_id: CLIENT_ID, token: 'unknown', token_type_hint: 'refresh_token' }),
    });
    assert.equal(rev.status, 200);
    assert.equal((await stats()).faults_served, 0);
    await reset();
  });
});
