// Sender-constrained tokens on the dev stack, without a browser: DPoP (RFC 9449) and pushed
// authorization requests (RFC 9126) against the REAL dev/provider.mjs (oidc-provider 9) and
// dev/api.mjs, with the small DPoP client of tests/e2e/dpop-client.mjs (ES256, WebCrypto).
// This file: the defaults (DPOP=on, PAR=on). The other switches: dpop-modes.test.mjs.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { SignJWT } from 'jose';

import { DpopKey, ath } from './dpop-client.mjs';
import { CookieJar, decodeJwt, pkcePair } from './node-client.mjs';
import {
  APP, REDIRECT_URI, CLIENT_ID, PAR_URN, t, useStack, authParams, authorize, code, pushRequest,
  exchangeFields, refreshFields, token, api, apiDpop, apiStats, dpopClient,
} from './dpop-stack.mjs';

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
