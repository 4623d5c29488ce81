// Self-test of the hostile provider (dev/hostile.mjs), without a browser: each scenario
// misbehaves exactly the way it claims and is otherwise a correct provider (PKCE enforced,
// codes single use, signatures valid unless the scenario is about the signature).
// This file: its control endpoints, the protocol checks and the `ok` scenario; the defective
// tokens are in hostile-server-tokens.test.mjs. Uses its own port (HOSTILE_PORT 9391), so it
// can run next to the browser suite.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pkcePair } from './node-client.mjs';
import {
  ISSUER, APP, REDIRECT_URI, CLIENT_ID, useHostileServer, stats, jwks, use, authorize,
  tokenRequest, flow, atHash, verify,
} from './hostile-server-client.mjs';

describe('hostile provider (dev/hostile.mjs): control, protocol, the ok scenario', { timeout: 60000 }, () => {
  useHostileServer('9391');

  it('publishes discovery with CORS for the app, and answers preflights for userinfo', async () => {
    await use('ok');
    const res = await fetch(`${ISSUER}/.well-known/openid-configuration`, { headers: { origin: APP } });
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const doc = await res.json();
    assert.equal(doc.issuer, ISSUER);
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) {
      assert.ok(doc[field].startsWith(`${ISSUER}/`), field);
    }
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256', 'ES256', 'PS256']);
    assert.equal(doc.authorization_response_iss_parameter_supported, true);
    assert.equal(doc.end_session_endpoint, undefined);

    const pre = await fetch(`${ISSUER}/userinfo`, {
      method: 'OPTIONS',
      headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), APP);
    assert.match(pre.headers.get('access-control-allow-headers'), /authorization/i);
    const jwksRes = await fetch(`${ISSUER}/jwks`, { headers: { origin: APP } });
    assert.equal(jwksRes.headers.get('access-control-allow-origin'), APP);
    const token = await fetch(`${ISSUER}/token`, { method: 'POST', headers: { origin: APP } });
    assert.equal(token.headers.get('access-control-allow-origin'), APP, 'errors carry CORS too');
  });

  it('rejects unknown scenarios and lists the known ones', async () => {
    const res = await fetch(`${ISSUER}/__scenario`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"nope"}' });
    assert.equal(res.status, 400);
    const { scenarios } = await res.json();
    assert.ok(scenarios.includes('ok') && scenarios.length >= 24, scenarios.join());
  });

  it('takes scenario changes as JSON only (415 for a simple cross-site request)', async () => {
    await use('ok');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await fetch(`${ISSUER}/__scenario`, {
        method: 'POST', headers: type ? { 'content-type': type } : {}, body: '{"name":"alg-none"}',
      });
      assert.equal(res.status, 415, String(type));
    }
    assert.equal((await stats()).scenario, 'ok');
  });

  it('checks the authorization request like a real server', async () => {
    await use('ok');
    assert.equal((await authorize({ client_id: 'other' })).res.status, 400, 'unknown client: no redirect');
    assert.equal((await authorize({ redirect_uri: 'http://evil.example/cb' })).res.status, 400, 'unregistered redirect_uri: no redirect');
    for (const [params, error] of [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'profile' }, 'invalid_scope'],
    ]) {
      const { callback, query } = await authorize(params);
      assert.equal(callback.searchParams.get('error'), error, JSON.stringify(params));
      assert.equal(callback.searchParams.get('state'), query.state);
      assert.equal(callback.searchParams.get('code'), null);
    }
    const s = await stats();
    assert.equal(s.issued.codes.length, 0);
    assert.equal(s.authorize, 7);
  });

  it('answers prompt=none with login_required, state and the right iss (in every scenario)', async () => {
    for (const name of ['ok', 'iss-wrong-callback', 'iss-missing-callback']) {
      await use(name);
      const { callback, query } = await authorize({ prompt: 'none' });
      assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
      assert.equal(callback.searchParams.get('error'), 'login_required');
      assert.equal(callback.searchParams.get('state'), query.state);
      assert.equal(callback.searchParams.get('iss'), ISSUER, name);
      assert.equal(callback.searchParams.get('code'), null);
      const s = await stats();
      assert.equal(s.silent, 1);
      assert.equal(s.issued.codes.length, 0);
    }
  });

  it('enforces PKCE S256, single-use codes and the redirect_uri at the token endpoint', async () => {
    await use('ok');
    const exchange = (auth, fields = {}) => tokenRequest({
      grant_type: 'authorization_code',
      code: auth.callback.searchParams.get('code'),
      redirect_uri: REDIRECT_URI,
      code_verifier: auth.pkce.verifier,
      ...fields,
    });
    const a = await authorize();
    const wrong = await exchange(a, { code_verifier: pkcePair().verifier });
    assert.equal(wrong.res.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.equal((await exchange(a)).body.error, 'invalid_grant', 'a code is gone after a failed attempt too');

    const b = await authorize();
    assert.equal((await exchange(b, { code_verifier: undefined })).body.error, 'invalid_grant', 'verifier required');
    const c = await authorize();
    assert.equal((await exchange(c, { code_verifier: b.pkce.challenge })).body.error, 'invalid_grant', 'the challenge is not the verifier');
    const d = await authorize();
    assert.equal((await exchange(d, { redirect_uri: `${APP}/other` })).body.error, 'invalid_grant');
    const e = await authorize();
    assert.equal((await exchange(e, { client_id: 'other' })).res.status, 401);

    const f = await authorize();
    const good = await exchange(f);
    assert.equal(good.res.status, 200, good.text);
    assert.equal((await exchange(f)).body.error, 'invalid_grant', 'code replay');

    const s = await stats();
    assert.equal(s.token, 8);
    assert.equal(s.issued.access_tokens.length, 1);
    assert.ok(s.refusals.some((r) => /PKCE/.test(r)), s.refusals.join('\n'));
  });

  it('ok: a correct token response, ID token verifiable against /jwks, userinfo for the bearer', async () => {
    const { auth, res, body } = await flow('ok');
    assert.equal(auth.callback.searchParams.get('iss'), ISSUER);
    assert.equal(auth.callback.searchParams.get('state'), auth.query.state);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 300);
    assert.ok(body.access_token && body.refresh_token);
    const keySet = await jwks();
    assert.deepEqual(keySet.keys.map((k) => k.kid), ['k1']);
    const { payload, protectedHeader } = await verify(body.id_token, keySet);
    assert.deepEqual(protectedHeader, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.aud, CLIENT_ID);
    assert.equal(payload.nonce, auth.query.nonce);
    assert.equal(payload.name, 'Alice Hostile');
    assert.equal(payload.at_hash, atHash(body.access_token));
    const nowS = Date.now() / 1000;
    assert.ok(Math.abs(payload.iat - nowS) < 5);
    assert.equal(payload.exp - payload.iat, 300);

    const info = await fetch(`${ISSUER}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}`, origin: APP } });
    assert.equal(info.status, 200);
    assert.equal(info.headers.get('access-control-allow-origin'), APP);
    assert.deepEqual(await info.json(), { sub: 'alice', name: 'Alice Hostile' });
    assert.equal((await fetch(`${ISSUER}/userinfo`)).status, 401, 'bearer required');
    assert.equal((await fetch(`${ISSUER}/userinfo`, { headers: { authorization: 'Bearer nope' } })).status, 401);

    // Refresh rotates and returns good tokens (no nonce on refresh).
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: body.refresh_token });
    assert.equal(refreshed.res.status, 200);
    assert.notEqual(refreshed.body.refresh_token, body.refresh_token);
    assert.equal((await verify(refreshed.body.id_token, keySet)).payload.nonce, undefined);
    const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: body.refresh_token });
    assert.equal(reuse.body.error, 'invalid_grant');

    const s = await stats();
    assert.deepEqual(
      { scenario: s.scenario, authorize: s.authorize, token: s.token, jwks: s.jwks, userinfo: s.userinfo },
      { scenario: 'ok', authorize: 1, token: 3, jwks: 1, userinfo: 3 },
    );
    assert.deepEqual(s.issued.id_tokens, [body.id_token, refreshed.body.id_token]);
    assert.deepEqual(s.issued.access_tokens, [body.access_token, refreshed.body.access_token]);
    assert.ok(s.issued.codes.length === 1 && s.issued.refresh_tokens.length === 2);
  });
});
