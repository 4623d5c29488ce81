// DPoP (RFC 9449) and PAR (RFC 9126) on the dev stack under its other switches, without a
// browser: server nonces (DPOP_NONCE=1 + API_DPOP_NONCE=1), DPOP=required + PAR=required, and
// DPOP=off + PAR=off; three stacks one after the other, on ports of their own (9321, 9421), so
// this file can run next to dpop.test.mjs (the defaults).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CookieJar, decodeJwt, pkcePair } from './node-client.mjs';
import {
  APP, REDIRECT_URI, t, useStack, authParams, authorize, code, exchangeFields, refreshFields,
  token, api, apiDpop, dpopClient,
} from './dpop-stack.mjs';

// Ports other than dpop.test.mjs's.
const PORTS = { OP_PORT: '9321', API_PORT: '9421' };

// ---------------------------------------------------------------------------
describe('DPoP server nonces (DPOP_NONCE=1, API_DPOP_NONCE=1)', { timeout: 60000 }, () => {
  useStack({ ...PORTS, DPOP_NONCE: '1', API_DPOP_NONCE: '1' });
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
  useStack({ ...PORTS, DPOP: 'required', PAR: 'required' });
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
  useStack({ ...PORTS, DPOP: 'off', PAR: 'off' });

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
