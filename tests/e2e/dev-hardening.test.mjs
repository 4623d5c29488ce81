// The dev servers are safe to copy (no browser; own ports, no lock):
// - dev/api.mjs records a DPoP proof's jti only after the access token and its cnf.jkt
//   verified (proofs with bad tokens take no room), and with its replay cache full of live
//   entries it refuses (503) instead of evicting one that could still be replayed;
// - the test hooks of the provider, both APIs and the hostile provider answer loopback Host
//   headers only (a DNS-rebound name is refused with 403).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import { DpopClient, DpopKey } from './dpop-client.mjs';
import { CookieJar, authorizeAs, authorizeUrl, pkcePair } from './node-client.mjs';

const OP_PORT = '9340';
const API_PORT = '9440';
const ORDERS_PORT = '9540';
const HOSTILE_PORT = '9392';
const CACHE_MAX = 3; // API_REPLAY_CACHE_MAX of this stack
const APP = 'http://localhost:8080';
const CLIENT_ID = 'leptos-spa';
const REDIRECT_URI = `${APP}/callback`;

let stack;
let issuer;
let apiUrl;

/** A DPoP-bound access token for alice, and the client whose key it is bound to. */
async function boundToken() {
  const jar = new CookieJar();
  const pkce = pkcePair();
  const step = await authorizeAs(jar, issuer, authorizeUrl(issuer, {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email api:read',
    state: `st-${randomUUID()}`,
    nonce: `n-${randomUUID()}`,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  }));
  const code = new URL(step.url).searchParams.get('code');
  assert.ok(code, 'an authorization code');
  const client = new DpopClient(await DpopKey.generate(), { origin: APP });
  const res = await client.postForm(`${issuer}/token`, {
    client_id: CLIENT_ID, grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier,
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.token_type, 'DPoP');
  return { client, accessToken: body.access_token };
}

/** GET /api/hello with `Authorization: DPoP <token>` and a proof with this `jti`. */
async function callApi(key, accessToken, jti = randomUUID()) {
  const proof = await key.proof('GET', apiUrl, { accessToken, jti });
  const res = await fetch(apiUrl, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
  return { status: res.status, body: await res.json() };
}

const apiStats = async () => (await fetch(`http://127.0.0.1:${API_PORT}/__test/stats`)).json();

/** A request with a Host header of our choosing (fetch does not let one set it). */
function withHost(port, host, path, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const req = http.request({
      host: '127.0.0.1', port, path, method, headers,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('dev servers: safe to copy (no browser)', { timeout: 60000 }, () => {
  before(async () => {
    stack = await startStack({
      testHooks: true,
      hostile: true,
      quiet: !process.env.E2E_VERBOSE,
      env: {
        OP_PORT, API_PORT, ORDERS_PORT, HOSTILE_PORT, API_REPLAY_CACHE_MAX: String(CACHE_MAX),
      },
    });
    issuer = stack.urls.issuer;
    apiUrl = `${stack.urls.api}/api/hello`;
  });
  after(() => stack?.stop());

  it('API: a proof that came with a bad token is not recorded; its jti still works with the real token', async () => {
    const { client, accessToken } = await boundToken();
    const jti = randomUUID();
    const forged = `${accessToken.slice(0, -8)}AAAAAAAA`; // signature no longer matches
    const flood = await Promise.all([jti, ...Array.from({ length: 2 * CACHE_MAX }, randomUUID)]
      .map((id) => callApi(client.key, forged, id)));
    for (const answer of flood) assert.equal(answer.body.error, 'invalid_token', JSON.stringify(answer.body));
    assert.equal((await apiStats()).replay_cache, 0, 'nothing recorded for proofs with a bad token');

    const real = await callApi(client.key, accessToken, jti);
    assert.equal(real.status, 200, `the jti of a refused request is still unused: ${JSON.stringify(real.body)}`);
    const replay = await callApi(client.key, accessToken, jti);
    assert.equal(replay.status, 401);
    assert.match(replay.body.error_description, /already used/);
  });

  it('API: with the replay cache full of live entries a new proof is refused (503), none is evicted', async () => {
    const { client, accessToken } = await boundToken();
    const first = randomUUID();
    assert.equal((await callApi(client.key, accessToken, first)).status, 200);
    while ((await apiStats()).replay_cache < CACHE_MAX) {
      assert.equal((await callApi(client.key, accessToken)).status, 200);
    }
    const refused = await callApi(client.key, accessToken);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'temporarily_unavailable');
    assert.match(refused.body.error_description, /replay cache is full/);
    const replay = await callApi(client.key, accessToken, first);
    assert.equal(replay.status, 401, 'the first proof is still remembered: its replay is refused');
    assert.match(replay.body.error_description, /already used/);
    const stats = await apiStats();
    assert.equal(stats.replay_cache, CACHE_MAX);
    assert.equal(stats.dpop.replay_cache_full, 1);
  });

  it('test hooks answer loopback Host headers only (provider, both APIs, hostile provider)', async () => {
    const hooks = [
      [OP_PORT, '/__test/stats'],
      [OP_PORT, '/__test/reset', { method: 'POST', body: {} }],
      [API_PORT, '/__test/stats'],
      [API_PORT, '/__test/fault', { method: 'POST', body: { mode: 'hang' } }],
      [ORDERS_PORT, '/__test/stats'],
      [ORDERS_PORT, '/__test/fault', { method: 'POST', body: { mode: 'hang' } }],
      [HOSTILE_PORT, '/__stats'],
      [HOSTILE_PORT, '/__scenario', { method: 'POST', body: { name: 'ok' } }],
    ];
    for (const [port, path, init] of hooks) {
      for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`]) {
        const res = await withHost(port, host, path, init);
        assert.equal(res.status, 403, `${host} ${path}: ${res.text}`);
        assert.match(res.text, /loopback Host/);
      }
    }
    for (const port of [API_PORT, ORDERS_PORT]) {
      assert.deepEqual(JSON.parse((await withHost(port, 'localhost', '/__test/fault')).text), { fault: null }, `${port}: nothing was armed`);
    }
    for (const [port, path] of hooks.filter(([, , init]) => !init)) {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
        assert.equal((await withHost(port, host, path)).status, 200, `${host} ${path}`);
      }
    }
  });
});
