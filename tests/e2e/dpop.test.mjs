// Sender-constrained tokens on the dev stack, without a browser: DPoP (RFC 9449) and pushed
// authorization requests (RFC 9126) against the REAL dev/provider.mjs (oidc-provider 9) and
// dev/api.mjs, with the small DPoP client of tests/e2e/dpop-client.mjs (ES256, WebCrypto).
// Four stacks, one after the other, on their own ports: the defaults (DPOP=on, PAR=on),
// server nonces (DPOP_NONCE=1 + API_DPOP_NONCE=1), DPOP=required + PAR=required, and
// DPOP=off + PAR=off.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SignJWT } from 'jose';

import { startStack } from '../../dev/stack.mjs';
import { DpopClient, DpopKey, ath } from './dpop-client.mjs';
import {
  CookieJar, authorizeAs, authorizeUrl, decodeJwt, pkcePair,
} from './node-client.mjs';

const APP = 'http://localhost:8080';
const REDIRECT_URI = `${APP}/callback`;
const CLIENT_ID = 'leptos-spa';
const SCOPE = 'openid profile email api:read';
const PAR_URN = 'urn:ietf:params:oauth:request_uri:';
// Form fields without the undefined ones.
const defined = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
const form = (fields) => new URLSearchParams(defined(fields)).toString();

// One stack at a time; `t` holds its URLs and discovery document.
const t = {};
function useStack(env) {
  before(async () => {
    t.stack = await startStack({
      testHooks: true,
      quiet: !process.env.E2E_VERBOSE,
      env: { OP_PORT: '9320', API_PORT: '9420', ...env },
    });
    t.issuer = t.stack.urls.issuer;
    t.api = `${t.stack.urls.api}/api/hello`;
    t.meta = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json();
  });
  after(() => t.stack?.stop());
}

const authParams = (pkce, extra = {}) => ({
  client_id: CLIENT_ID,
  response_type: 'code',
  redirect_uri: REDIRECT_URI,
  scope: SCOPE,
  state: `st-${Math.random()}`,
  nonce: `n-${Math.random()}`,
  code_challenge: pkce.challenge,
  code_challenge_method: 'S256',
  ...extra,
});

// Runs an authorization request (signing alice in on the login form when it shows) and
// returns where the provider finally sent the browser: the callback URL, or a rendered page.
async function authorize(jar, params) {
  const step = await authorizeAs(jar, t.issuer, authorizeUrl(t.issuer, params));
  assert.equal(step.loginStatus ?? 303, 303, 'login accepted');
  return step.res ? { page: step } : { callback: new URL(step.url) };
}

// A fresh authorization code for alice. `dpopJkt`: sent as dpop_jkt. `par`: push the request
// first (with `par.client` it carries a DPoP proof) and authorize with client_id + request_uri.
async function code(jar, { dpopJkt, par } = {}) {
  const pkce = pkcePair();
  const params = authParams(pkce, dpopJkt ? { dpop_jkt: dpopJkt } : {});
  let front = params;
  if (par) {
    const pushed = await pushRequest(params, par.client);
    assert.equal(pushed.res.status, 201, JSON.stringify(pushed.body));
    front = { client_id: CLIENT_ID, request_uri: pushed.body.request_uri };
  }
  const { callback } = await authorize(jar, front);
  assert.ok(callback, 'the provider redirected back');
  const value = callback.searchParams.get('code');
  assert.ok(value, `expected a code, got ${callback.search}`);
  assert.equal(callback.searchParams.get('state'), params.state);
  assert.equal(callback.searchParams.get('iss'), t.issuer);
  return { code: value, pkce };
}

async function pushRequest(params, client) {
  const res = client
    ? await client.postForm(t.meta.pushed_authorization_request_endpoint, defined(params))
    : await fetch(t.meta.pushed_authorization_request_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: form(params),
    });
  return { res, body: await res.json() };
}

const exchangeFields = ({ code: c, pkce }) => ({
  client_id: CLIENT_ID, grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier,
});
const refreshFields = (refreshToken) => ({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken });

// Token request: with a DpopClient (proof attached), or plain (Bearer).
async function token(fields, client) {
  const res = client
    ? await client.postForm(t.meta.token_endpoint, fields)
    : await fetch(t.meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams(fields).toString(),
    });
  return { res, body: await res.json() };
}

// API call with any headers (for hand-made attacks).
async function api(headers) {
  const res = await fetch(t.api, { headers: { origin: APP, ...headers } });
  return { res, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}
const apiDpop = async (client, accessToken) => {
  const res = await client.fetch(t.api, {}, { accessToken });
  return { res, body: await res.json(), challenge: res.headers.get('www-authenticate') };
};
const apiStats = async () => (await fetch(`${t.stack.urls.api}/__test/stats`)).json();

const dpopClient = async () => new DpopClient(await DpopKey.generate(), { origin: APP });

// ---------------------------------------------------------------------------
describe('DPoP and PAR with the defaults (DPOP=on, PAR=on)', { timeout: 60000 }, () => {
  useStack({});
  const jar = new CookieJar();

  it('advertises DPoP (ES256) and PAR in discovery, neither required', () => {
    assert.ok(t.meta.dpop_signing_alg_values_supported.includes('ES256'));
    assert.deepEqual(t.meta.dpop_signing_alg_values_supported, ['ES256', 'Ed25519', 'EdDSA']);
    assert.equal(t.meta.pushed_authorization_request_endpoint, `${t.issuer}/request`);
    assert.equal(t.meta.require_pushed_authorization_requests, undefined);
  });

  it('still works with Bearer tokens; an unbound token sent as DPoP is refused', async () => {
    const { res, body } = await token(exchangeFields(await code(jar)));
    assert.equal(res.status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(decodeJwt(body.access_token).payload.cnf, undefined);
    const ok = await api({ authorization: `Bearer ${body.access_token}` });
    assert.equal(ok.res.status, 200);

    const asDpop = await apiDpop(await dpopClient(), body.access_token);
    assert.equal(asDpop.res.status, 401);
    assert.match(asDpop.challenge, /^DPoP realm="demo-api", error="invalid_token", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$/);
  });

  it('binds code exchange, refresh and API calls to the DPoP key (cnf.jkt, token_type DPoP)', async () => {
    const client = await dpopClient();
    const first = await token(exchangeFields(await code(jar)), client);
    assert.equal(first.res.status, 200, JSON.stringify(first.body));
    assert.equal(first.res.headers.get('access-control-allow-origin'), APP);
    assert.equal(first.body.token_type, 'DPoP');
    assert.equal(decodeJwt(first.body.access_token).payload.cnf.jkt, client.key.jkt);
    assert.equal(client.nonces.size, 0, 'no DPoP-Nonce without DPOP_NONCE=1');

    assert.equal((await apiDpop(client, first.body.access_token)).res.status, 200);

    const refreshed = await token(refreshFields(first.body.refresh_token), client);
    assert.equal(refreshed.res.status, 200, JSON.stringify(refreshed.body));
    assert.equal(refreshed.body.token_type, 'DPoP');
    assert.notEqual(refreshed.body.refresh_token, first.body.refresh_token);
    assert.equal(decodeJwt(refreshed.body.access_token).payload.cnf.jkt, client.key.jkt);
    const { res, body } = await apiDpop(client, refreshed.body.access_token);
    assert.equal(res.status, 200);
    assert.equal(body.sub, 'alice');
  });

  it('binds the refresh token of the public client: no proof or another key is invalid_grant, without burning it', async () => {
    const client = await dpopClient();
    const { body: tokens } = await token(exchangeFields(await code(jar)), client);

    const bearer = await token(refreshFields(tokens.refresh_token));
    assert.equal(bearer.res.status, 400);
    assert.equal(bearer.body.error, 'invalid_grant');
    assert.equal(bearer.body.error_description, 'grant request is invalid');
    const thief = await token(refreshFields(tokens.refresh_token), await dpopClient());
    assert.equal(thief.body.error, 'invalid_grant');

    // Neither attempt consumed the token nor revoked the grant.
    const owner = await token(refreshFields(tokens.refresh_token), client);
    assert.equal(owner.res.status, 200, JSON.stringify(owner.body));

    // Revocation needs no proof (oidc-provider does not check DPoP there).
    const rev = await fetch(t.meta.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: new URLSearchParams({ client_id: CLIENT_ID, token: owner.body.refresh_token, token_type_hint: 'refresh_token' }),
    });
    assert.equal(rev.status, 200);
    assert.equal((await token(refreshFields(owner.body.refresh_token), client)).body.error, 'invalid_grant');
  });

  it('does not bind a refresh token issued without DPoP, even when later refreshed with a proof', async () => {
    const client = await dpopClient();
    const { body: tokens } = await token(exchangeFields(await code(jar)));
    const upgraded = await token(refreshFields(tokens.refresh_token), client);
    assert.equal(upgraded.res.status, 200, JSON.stringify(upgraded.body));
    assert.equal(upgraded.body.token_type, 'DPoP');
    assert.equal(decodeJwt(upgraded.body.access_token).payload.cnf.jkt, client.key.jkt);
    // The rotated refresh token stays a bearer refresh token.
    const plain = await token(refreshFields(upgraded.body.refresh_token));
    assert.equal(plain.res.status, 200, JSON.stringify(plain.body));
    assert.equal(plain.body.token_type, 'Bearer');
  });

  it('refuses a stolen DPoP access token at the API (as Bearer, without proof, other key, forged proof)', async () => {
    const client = await dpopClient();
    const { body: tokens } = await token(exchangeFields(await code(jar)), client);
    const at = tokens.access_token;
    const thief = await DpopKey.generate();
    const check = async (headers, error) => {
      const r = await api(headers);
      assert.equal(r.res.status, 401, `${error}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, error);
      assert.match(r.challenge, new RegExp(`^DPoP realm="demo-api", error="${error}", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$`));
      assert.equal(r.res.headers.get('access-control-allow-origin'), APP);
    };

    await check({ authorization: `Bearer ${at}` }, 'invalid_token');
    await check({ authorization: `DPoP ${at}` }, 'invalid_dpop_proof');
    await check({ authorization: `DPoP ${at}`, dpop: await thief.proof('GET', t.api, { accessToken: at }) }, 'invalid_token');
    // The victim's public key in the header, signed with the thief's key.
    const forged = await new SignJWT({ htm: 'GET', htu: t.api, jti: 'forged', iat: Math.floor(Date.now() / 1000), ath: ath(at) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: client.key.jwk }).sign(thief.privateKey);
    await check({ authorization: `DPoP ${at}`, dpop: forged }, 'invalid_dpop_proof');

    // Proofs of the right key that do not fit this request.
    const k = client.key;
    const bad = {
      'no ath': await k.proof('GET', t.api),
      'ath of another token': await k.proof('GET', t.api, { accessToken: tokens.id_token }),
      'htm POST': await k.proof('POST', t.api, { accessToken: at }),
      'htu other path': await k.proof('GET', `${t.stack.urls.api}/api/other`, { accessToken: at }),
      'htu other origin': await k.proof('GET', 'http://localhost:9420/api/hello', { accessToken: at }),
      'iat 2 min old': await k.proof('GET', t.api, { accessToken: at, iat: Math.floor(Date.now() / 1000) - 120 }),
      'iat 2 min ahead': await k.proof('GET', t.api, { accessToken: at, iat: Math.floor(Date.now() / 1000) + 120 }),
      'typ jwt': await k.proof('GET', t.api, { accessToken: at, typ: 'JWT' }),
    };
    for (const [why, dpop] of Object.entries(bad)) {
      const r = await api({ authorization: `DPoP ${at}`, dpop });
      assert.equal(r.res.status, 401, why);
      assert.equal(r.body.error, 'invalid_dpop_proof', why);
    }
    // Two DPoP headers.
    const two = await fetch(t.api, { headers: [['authorization', `DPoP ${at}`], ['dpop', bad['no ath']], ['dpop', bad['no ath']]] });
    assert.equal((await two.json()).error, 'invalid_dpop_proof');

    assert.equal((await apiDpop(client, at)).res.status, 200, 'the owner still gets in');
  });

  it('refuses a replayed proof (same jti)', async () => {
    const client = await dpopClient();
    const { body: tokens } = await token(exchangeFields(await code(jar)), client);
    const before = (await apiStats()).dpop.replays;
    const headers = { authorization: `DPoP ${tokens.access_token}`, dpop: await client.key.proof('GET', t.api, { accessToken: tokens.access_token }) };
    assert.equal((await api(headers)).res.status, 200);
    const replay = await api(headers);
    assert.equal(replay.res.status, 401);
    assert.equal(replay.body.error, 'invalid_dpop_proof');
    assert.match(replay.body.error_description, /already used/);
    assert.equal((await apiStats()).dpop.replays, before + 1);

    // The provider refuses a replayed proof at the token endpoint too.
    const proof = await client.key.proof('POST', t.meta.token_endpoint);
    const send = (rt) => fetch(t.meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
      body: new URLSearchParams(refreshFields(rt)),
    }).then(async (res) => ({ res, body: await res.json() }));
    const once = await send(tokens.refresh_token);
    assert.equal(once.res.status, 200);
    const twice = await send(once.body.refresh_token);
    assert.equal(twice.body.error, 'invalid_grant');
    assert.equal(twice.body.error_description, 'grant request is invalid');
  });

  it('binds the code with dpop_jkt on the authorization request', async () => {
    const client = await dpopClient();
    const grant = await code(jar, { dpopJkt: client.key.jkt });
    const other = await token(exchangeFields(grant), await dpopClient());
    assert.equal(other.body.error, 'invalid_grant', 'another key');
    // oidc-provider consumes the code before it compares the keys: that code is gone.
    assert.equal((await token(exchangeFields(grant), client)).body.error, 'invalid_grant', 'code burnt');
    const bearer = await token(exchangeFields(await code(jar, { dpopJkt: client.key.jkt })));
    assert.equal(bearer.body.error, 'invalid_grant', 'no proof');

    const ok = await token(exchangeFields(await code(jar, { dpopJkt: client.key.jkt })), client);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.access_token).payload.cnf.jkt, client.key.jkt);
  });

  it('accepts pushed authorization requests (PAR) with CORS, then client_id + request_uri', async () => {
    const pkce = pkcePair();
    const params = authParams(pkce);
    const { res, body } = await pushRequest(params);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(body.expires_in, 60);
    assert.ok(body.request_uri.startsWith(PAR_URN), body.request_uri);

    const { callback } = await authorize(jar, { client_id: CLIENT_ID, request_uri: body.request_uri });
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    assert.equal(callback.searchParams.get('state'), params.state);
    const tokens = await token(exchangeFields({ code: callback.searchParams.get('code'), pkce }));
    assert.equal(tokens.res.status, 200);
    assert.equal(decodeJwt(tokens.body.id_token).payload.nonce, params.nonce);

    // A request_uri is single-use. The refusal goes to the (only) registered redirect URI,
    // without state (the pushed parameters are gone).
    const again = await authorize(jar, { client_id: CLIENT_ID, request_uri: body.request_uri });
    assert.equal(again.callback.origin + again.callback.pathname, REDIRECT_URI);
    assert.equal(again.callback.searchParams.get('error'), 'invalid_request_uri');
    assert.equal(again.callback.searchParams.get('error_description'), 'request_uri is invalid, expired, or was already used');
    assert.equal(again.callback.searchParams.get('state'), null);
    assert.equal(again.callback.searchParams.get('code'), null);

    // PKCE is enforced at the PAR endpoint already.
    const noPkce = await pushRequest(authParams(pkce, { code_challenge: undefined, code_challenge_method: undefined }));
    assert.equal(noPkce.res.status, 400);
    assert.equal(noPkce.body.error, 'invalid_request');
  });

  it('binds the code to the DPoP key of the PAR request (PAR + DPoP)', async () => {
    const client = await dpopClient();
    const other = await token(exchangeFields(await code(jar, { par: { client } })), await dpopClient());
    assert.equal(other.body.error, 'invalid_grant', 'another key');
    const bearer = await token(exchangeFields(await code(jar, { par: { client } })));
    assert.equal(bearer.body.error, 'invalid_grant', 'no proof');
    const ok = await token(exchangeFields(await code(jar, { par: { client } })), client);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
    assert.equal(decodeJwt(ok.body.access_token).payload.cnf.jkt, client.key.jkt);

    // dpop_jkt that contradicts the PAR request's proof.
    const mismatch = await pushRequest(authParams(pkcePair(), { dpop_jkt: (await DpopKey.generate()).jkt }), client);
    assert.equal(mismatch.res.status, 400);
    assert.equal(mismatch.body.error, 'invalid_request');
  });

  it('lets the app origin send the DPoP header (CORS) and read DPoP-Nonce and WWW-Authenticate', async () => {
    for (const url of [t.meta.token_endpoint, t.meta.pushed_authorization_request_endpoint, t.meta.revocation_endpoint, t.meta.userinfo_endpoint, t.api]) {
      const method = url === t.api || url === t.meta.userinfo_endpoint ? 'GET' : 'POST';
      const pre = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: APP, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,dpop' },
      });
      assert.equal(pre.headers.get('access-control-allow-origin'), APP, url);
      assert.match(pre.headers.get('access-control-allow-headers'), /\bdpop\b/i, url);
      const evil = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.test', 'access-control-request-method': method, 'access-control-request-headers': 'dpop' },
      });
      assert.equal(evil.headers.get('access-control-allow-origin'), null, url);

      const res = await fetch(url, { method, headers: { origin: APP, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) }, ...(method === 'POST' ? { body: `client_id=${CLIENT_ID}` } : {}) });
      const exposed = (res.headers.get('access-control-expose-headers') || '').toLowerCase().split(/\s*,\s*/);
      assert.ok(exposed.includes('dpop-nonce') && exposed.includes('www-authenticate'), `${url}: ${exposed}`);
    }
  });
});

// ---------------------------------------------------------------------------
describe('DPoP server nonces (DPOP_NONCE=1, API_DPOP_NONCE=1)', { timeout: 60000 }, () => {
  useStack({ DPOP_NONCE: '1', API_DPOP_NONCE: '1' });
  const jar = new CookieJar();
  let client;
  let tokens;

  it('token endpoint: refuses a proof without nonce with use_dpop_nonce + DPoP-Nonce, accepts the retry', async () => {
    client = await dpopClient();
    const grant = await code(jar);
    // By hand first, to see the refusal itself.
    const res = await fetch(t.meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP, dpop: await client.key.proof('POST', t.meta.token_endpoint) },
      body: new URLSearchParams(exchangeFields(grant)),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'use_dpop_nonce', error_description: 'nonce is required in the DPoP proof' });
    assert.match(res.headers.get('dpop-nonce'), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.match(res.headers.get('access-control-expose-headers'), /DPoP-Nonce/);
    assert.equal(res.headers.get('www-authenticate'), null);

    // The refusal did not consume the code: the client retries with the nonce.
    const r = await token(exchangeFields(grant), client);
    assert.deepEqual(client.log.map((l) => [l.status, l.nonce]), [[400, false], [200, true]]);
    assert.equal(r.res.status, 200, JSON.stringify(r.body));
    assert.equal(decodeJwt(r.body.access_token).payload.cnf.jkt, client.key.jkt);
    tokens = r.body;
  });

  it('token endpoint: the remembered nonce works for the refresh at once', async () => {
    client.log.length = 0;
    const r = await token(refreshFields(tokens.refresh_token), client);
    assert.equal(r.res.status, 200, JSON.stringify(r.body));
    assert.deepEqual(client.log.map((l) => l.status), [200]);
    tokens = r.body;
  });

  it('API: refuses without its own nonce (401 use_dpop_nonce + DPoP-Nonce), accepts the retry', async () => {
    client.log.length = 0;
    // The provider's nonce means nothing to the API: nonces are per server.
    const foreign = await api({
      authorization: `DPoP ${tokens.access_token}`,
      dpop: await client.key.proof('GET', t.api, { accessToken: tokens.access_token, nonce: client.nonces.get(new URL(t.issuer).origin) }),
    });
    assert.equal(foreign.res.status, 401);
    assert.match(foreign.challenge, /^DPoP realm="demo-api", error="use_dpop_nonce", error_description="[^"]+", algs="ES256 Ed25519 EdDSA"$/);
    assert.match(foreign.res.headers.get('dpop-nonce'), /^[A-Za-z0-9_-]{32}$/);
    assert.equal(foreign.res.headers.get('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce, Date');

    const r = await apiDpop(client, tokens.access_token);
    assert.equal(r.res.status, 200);
    assert.deepEqual(client.log.map((l) => [l.status, l.nonce]), [[401, false], [200, true]]);
    client.log.length = 0;
    assert.equal((await apiDpop(client, tokens.access_token)).res.status, 200);
    assert.deepEqual(client.log.map((l) => l.status), [200], 'no refusal once the nonce is known');
  });

  it('API: nonces expired by the test hook cost exactly one retry', async () => {
    assert.equal((await fetch(`${t.stack.urls.api}/__test/expire-nonces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 204);
    client.log.length = 0;
    assert.equal((await apiDpop(client, tokens.access_token)).res.status, 200);
    assert.deepEqual(client.log.map((l) => l.status), [401, 200]);
  });

  it('does not loop: a second use_dpop_nonce refusal is returned, at the token endpoint and the API', async () => {
    const stubborn = await dpopClient();
    stubborn.tamperNonce = (nonce) => `${nonce.slice(0, -2)}xx`;
    const r = await token(refreshFields(tokens.refresh_token), stubborn);
    assert.equal(r.res.status, 400);
    assert.deepEqual(r.body, { error: 'use_dpop_nonce', error_description: 'invalid nonce in DPoP proof' });
    const a = await apiDpop(stubborn, tokens.access_token);
    assert.equal(a.res.status, 401);
    assert.match(a.challenge, /error="use_dpop_nonce"/);
    assert.deepEqual(stubborn.log.map((l) => [l.status, l.retry]), [[400, false], [400, true], [401, false], [401, true]]);
    // The refused refresh did not burn the refresh token.
    assert.equal((await token(refreshFields(tokens.refresh_token), client)).res.status, 200);
  });

  it('PAR endpoint asks for the nonce too; Bearer needs none', async () => {
    const par = await dpopClient();
    const { code: c, pkce } = await code(jar, { par: { client: par } });
    assert.deepEqual(par.log.map((l) => l.status), [400, 201]);
    par.log.length = 0;
    const r = await token(exchangeFields({ code: c, pkce }), par);
    assert.equal(r.res.status, 200);
    assert.deepEqual(par.log.map((l) => l.status), [200], 'the nonce of the PAR answer serves the token request');

    const bearer = await token(exchangeFields(await code(jar)));
    assert.equal(bearer.body.token_type, 'Bearer');
    assert.equal((await api({ authorization: `Bearer ${bearer.body.access_token}` })).res.status, 200);
  });
});

// ---------------------------------------------------------------------------
describe('DPOP=required and PAR=required', { timeout: 60000 }, () => {
  useStack({ DPOP: 'required', PAR: 'required' });
  const jar = new CookieJar();

  it('says require_pushed_authorization_requests in discovery and refuses a plain authorization request', async () => {
    assert.equal(t.meta.require_pushed_authorization_requests, true);
    const params = authParams(pkcePair());
    const { callback } = await authorize(jar, params);
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
    assert.equal(callback.searchParams.get('error_description'), 'Pushed Authorization Request must be used');
    assert.equal(callback.searchParams.get('state'), params.state);
    assert.equal(callback.searchParams.get('iss'), t.issuer);
  });

  it('refuses a token request without proof (the code survives), accepts it with one', async () => {
    const client = await dpopClient();
    const grant = await code(jar, { par: {} });
    const bearer = await token(exchangeFields(grant));
    assert.equal(bearer.res.status, 400);
    assert.equal(bearer.body.error, 'invalid_grant');
    const ok = await token(exchangeFields(grant), client);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.token_type, 'DPoP');

    const refresh = await token(refreshFields(ok.body.refresh_token));
    assert.equal(refresh.body.error, 'invalid_grant');
    assert.equal((await token(refreshFields(ok.body.refresh_token), client)).res.status, 200);
  });
});

// ---------------------------------------------------------------------------
describe('DPOP=off and PAR=off', { timeout: 60000 }, () => {
  useStack({ DPOP: 'off', PAR: 'off' });

  it('advertises neither, and ignores a DPoP header (Bearer token)', async () => {
    assert.equal(t.meta.dpop_signing_alg_values_supported, undefined);
    assert.equal(t.meta.pushed_authorization_request_endpoint, undefined);
    const client = await dpopClient();
    const { res, body } = await token(exchangeFields(await code(new CookieJar())), client);
    assert.equal(res.status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(decodeJwt(body.access_token).payload.cnf, undefined);
    assert.equal((await api({ authorization: `Bearer ${body.access_token}` })).res.status, 200);
  });
});
