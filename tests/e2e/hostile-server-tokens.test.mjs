// Self-test of the hostile provider (dev/hostile.mjs), without a browser: each defective-token
// scenario works like a provider but for exactly the defect it claims (ID token claims,
// signatures and keys, refresh answers, broken token responses). The control and protocol
// checks are in hostile-server.test.mjs. Uses its own port (HOSTILE_PORT 9393), so it can run
// next to the browser suite and that file.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeProtectedHeader, errors as joseErrors, exportSPKI, importJWK, jwtVerify } from 'jose';

import { pkcePair } from './node-client.mjs';
import {
  ISSUER, APP, REDIRECT_URI, CLIENT_ID, WRONG_ISSUER, useHostileServer, stats, jwks, discovery,
  use, authorize, tokenRequest, flow, claimsOf, atHash, verify, verifiesWith, isSignatureFailure,
} from './hostile-server-client.mjs';

describe('hostile provider (dev/hostile.mjs): defective tokens and token responses', { timeout: 60000 }, () => {
  useHostileServer('9393');

  // Claim scenarios: the signature is good; exactly the named claim is wrong.
  const claimCases = {
    'wrong-iss': (c) => assert.equal(c.iss, WRONG_ISSUER),
    'wrong-aud': (c) => assert.equal(c.aud, 'someone-else'),
    expired: (c, t) => {
      assert.ok(Math.abs(c.exp - (t - 3600)) < 5, 'exp = now - 3600');
      assert.ok(Math.abs(c.iat - (t - 7200)) < 5, 'iat = now - 7200');
    },
    'iat-future': (c, t) => {
      assert.ok(Math.abs(c.iat - (t + 3600)) < 5, 'iat = now + 3600');
      assert.ok(Math.abs(c.exp - (t + 7200)) < 5, 'exp = now + 7200');
    },
    'nonce-missing': (c) => assert.equal('nonce' in c, false),
    'nonce-wrong': (c) => assert.equal(c.nonce, 'not-the-one'),
    'at-hash-wrong': (c, _t, body) => {
      assert.ok(c.at_hash);
      assert.notEqual(c.at_hash, atHash(body.access_token));
    },
  };
  for (const [name, check] of Object.entries(claimCases)) {
    it(`${name}: a validly signed ID token with just that claim wrong`, async () => {
      const { auth, body } = await flow(name);
      const keySet = await jwks();
      const { payload } = await verify(body.id_token, keySet, {
        issuer: undefined, audience: undefined, currentDate: new Date(claimsOf(body.id_token).iat * 1000 + 1000),
      });
      check(payload, Math.floor(Date.now() / 1000), body);
      const usual = {
        iss: ISSUER, aud: CLIENT_ID, sub: 'alice', nonce: auth.query.nonce, at_hash: atHash(body.access_token),
      };
      const changed = Object.keys(usual).filter((k) => payload[k] !== usual[k]);
      const expected = {
        'wrong-iss': ['iss'], 'wrong-aud': ['aud'], 'nonce-missing': ['nonce'], 'nonce-wrong': ['nonce'], 'at-hash-wrong': ['at_hash'],
      }[name] ?? [];
      assert.deepEqual(changed, expected, 'no other claim differs');
      if (!['expired', 'iat-future'].includes(name)) {
        const t = Date.now() / 1000;
        assert.ok(payload.iat <= t + 1 && payload.exp > t, 'times are fine');
      }
    });
  }

  it('unknown-key: signed with kid k9, which no /jwks ever publishes', async () => {
    const { body } = await flow('unknown-key');
    assert.equal(decodeProtectedHeader(body.id_token).kid, 'k9');
    for (let i = 0; i < 3; i += 1) {
      const keySet = await jwks();
      assert.deepEqual(keySet.keys.map((k) => k.kid), ['k1']);
      await assert.rejects(verify(body.id_token, keySet), joseErrors.JWKSNoMatchingKey, 'no key for kid k9');
      // Not even k1 (the only published RSA key) verifies it: the signature check runs and fails.
      await assert.rejects(
        jwtVerify(body.id_token, await importJWK(keySet.keys[0], 'RS256'), { issuer: ISSUER, audience: CLIENT_ID }),
        isSignatureFailure,
      );
    }
  });

  it('bad-signature: kid k1 is published, and its signature check fails (the token is otherwise perfect)', async () => {
    const { auth, body } = await flow('bad-signature');
    const header = decodeProtectedHeader(body.id_token);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: 'k1' });
    const keySet = await jwks();
    assert.deepEqual(keySet.keys.map((k) => k.kid), ['k1'], 'the kid names a published key');
    // The key is found (no JWKSNoMatchingKey): jose runs the signature check, and it fails.
    await assert.rejects(verify(body.id_token, keySet), isSignatureFailure);
    assert.equal(await verifiesWith(body.id_token, keySet), false);
    assert.equal(Buffer.from(body.id_token.split('.')[2], 'base64url').length, 256, 'an RSA-2048-sized signature');
    const claims = claimsOf(body.id_token);
    assert.deepEqual(
      [claims.iss, claims.aud, claims.sub, claims.nonce, claims.at_hash],
      [ISSUER, CLIENT_ID, 'alice', auth.query.nonce, atHash(body.access_token)],
      'only the signature is wrong',
    );
    const t = Date.now() / 1000;
    assert.ok(claims.iat <= t + 1 && claims.exp > t);
  });

  // Refresh scenarios: the sign-in is correct (access token for 2 s); the refresh answer's ID
  // token is wrong in exactly one way.
  const refreshCases = {
    'refresh-ok': () => {},
    'refresh-bad-signature': () => {},
    'refresh-other-sub': (c) => assert.equal(c.sub, 'mallory'),
    'refresh-wrong-iss': (c) => assert.equal(c.iss, WRONG_ISSUER),
    'refresh-at-hash-wrong': (c, body) => {
      assert.ok(c.at_hash);
      assert.notEqual(c.at_hash, atHash(body.access_token));
    },
  };
  for (const [name, check] of Object.entries(refreshCases)) {
    it(`${name}: a correct short-lived sign-in, then ${name === 'refresh-ok' ? 'a correct refresh' : 'a refreshed ID token with one defect'}`, async () => {
      const { auth, body } = await flow(name);
      const keySet = await jwks();
      const { payload: first } = await verify(body.id_token, keySet);
      assert.equal(first.sub, 'alice');
      assert.equal(first.nonce, auth.query.nonce);
      assert.equal(first.at_hash, atHash(body.access_token));
      assert.equal(body.expires_in, 2, 'short-lived: the app refreshes within seconds');
      assert.ok(body.refresh_token);

      const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: body.refresh_token });
      assert.equal(refreshed.res.status, 200, refreshed.text);
      const { body: next } = refreshed;
      assert.equal(next.expires_in, 2);
      assert.ok(next.access_token && next.refresh_token && next.id_token);
      assert.equal(decodeProtectedHeader(next.id_token).kid, 'k1');
      const claims = claimsOf(next.id_token);
      if (name === 'refresh-bad-signature') {
        await assert.rejects(verify(next.id_token, keySet), isSignatureFailure, 'published kid, failing signature');
      } else {
        // Validly signed; check the claims without jose's iss check (the defect may be iss).
        await verify(next.id_token, keySet, { issuer: undefined });
      }
      check(claims, next);
      const usual = {
        iss: ISSUER, aud: CLIENT_ID, sub: 'alice', at_hash: atHash(next.access_token),
      };
      const changed = Object.keys(usual).filter((k) => claims[k] !== usual[k]);
      assert.deepEqual(changed, {
        'refresh-other-sub': ['sub'], 'refresh-wrong-iss': ['iss'], 'refresh-at-hash-wrong': ['at_hash'],
      }[name] ?? [], 'no other claim differs');
      assert.equal(claims.nonce, undefined, 'no nonce on refresh');
      const s = await stats();
      assert.equal(s.refresh, 1);
      assert.equal(s.token, 2);
    });
  }

  it('silent-interaction-required / silent-consent-required: prompt=none gets that error; sign-in works', async () => {
    for (const [name, error] of [['silent-interaction-required', 'interaction_required'], ['silent-consent-required', 'consent_required']]) {
      await use(name);
      const { callback, query } = await authorize({ prompt: 'none' });
      assert.equal(callback.searchParams.get('error'), error);
      assert.equal(callback.searchParams.get('state'), query.state);
      assert.equal(callback.searchParams.get('iss'), ISSUER);
      assert.equal(callback.searchParams.get('code'), null);
      const { body } = await flow(name);
      await verify(body.id_token, await jwks());
    }
  });

  it('alg-none: an unsecured ID token, and discovery even lists "none"', async () => {
    const { body } = await flow('alg-none');
    const [header, payload, signature] = body.id_token.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url')), { alg: 'none', typ: 'JWT' });
    assert.equal(signature, '');
    assert.equal(JSON.parse(Buffer.from(payload, 'base64url')).sub, 'alice');
    assert.ok((await discovery()).id_token_signing_alg_values_supported.includes('none'));
  });

  it('hs256-pubkey: HS256 keyed with the published RSA public key (PEM); discovery lists HS256', async () => {
    const { auth, body } = await flow('hs256-pubkey');
    assert.deepEqual(decodeProtectedHeader(body.id_token), { alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const [k1] = (await jwks()).keys;
    const pem = await exportSPKI(await importJWK(k1, 'RS256'));
    const { payload } = await jwtVerify(body.id_token, new TextEncoder().encode(pem), {
      algorithms: ['HS256'], issuer: ISSUER, audience: CLIENT_ID,
    });
    assert.equal(payload.nonce, auth.query.nonce, 'otherwise a perfect token');
    assert.ok((await discovery()).id_token_signing_alg_values_supported.includes('HS256'));
  });

  it('kid-absent-single: no kid, one key published, which verifies it', async () => {
    const { body } = await flow('kid-absent-single');
    assert.deepEqual(decodeProtectedHeader(body.id_token), { alg: 'RS256', typ: 'JWT' });
    const keySet = await jwks();
    assert.equal(keySet.keys.length, 1);
    await verify(body.id_token, keySet);
  });

  it('kid-absent-multiple: no kid, two RSA keys published, one of them verifies it', async () => {
    const { body } = await flow('kid-absent-multiple');
    assert.equal(decodeProtectedHeader(body.id_token).kid, undefined);
    const keySet = await jwks();
    assert.deepEqual(keySet.keys.map((k) => [k.kid, k.kty, k.alg]), [['k1', 'RSA', 'RS256'], ['k2', 'RSA', 'RS256']]);
    const results = await Promise.all(keySet.keys.map((key) => verifiesWith(body.id_token, { keys: [key] })));
    assert.deepEqual(results, [true, false]);
  });

  it('key-rotation: signed with k2; the first /jwks has only k1, later ones k1+k2', async () => {
    const { body } = await flow('key-rotation');
    assert.equal(decodeProtectedHeader(body.id_token).kid, 'k2');
    const first = await jwks();
    assert.deepEqual(first.keys.map((k) => k.kid), ['k1']);
    await assert.rejects(verify(body.id_token, first), joseErrors.JWKSNoMatchingKey, 'k2 is not published yet');
    const second = await jwks();
    assert.deepEqual(second.keys.map((k) => k.kid), ['k1', 'k2']);
    await verify(body.id_token, second);
    assert.deepEqual((await jwks()).keys.map((k) => k.kid), ['k1', 'k2']);
    assert.equal((await stats()).jwks, 3);
    await use('key-rotation');
    assert.equal((await stats()).jwks, 0, 'selecting the scenario resets the count');
    assert.deepEqual((await jwks()).keys.map((k) => k.kid), ['k1'], 'and the rotation');
  });

  it('iss-wrong-callback / iss-missing-callback: the code response names another issuer / none', async () => {
    await use('iss-wrong-callback');
    let { callback, query } = await authorize();
    assert.equal(callback.searchParams.get('iss'), WRONG_ISSUER);
    assert.equal(callback.searchParams.get('state'), query.state);
    assert.ok(callback.searchParams.get('code'));
    await use('iss-missing-callback');
    ({ callback } = await authorize());
    assert.equal(callback.searchParams.has('iss'), false);
    assert.ok(callback.searchParams.get('code'));
    assert.equal((await discovery()).authorization_response_iss_parameter_supported, true);
  });

  it('userinfo-sub: userinfo names mallory', async () => {
    const { body } = await flow('userinfo-sub');
    assert.equal((await verify(body.id_token, await jwks())).payload.sub, 'alice');
    const info = await fetch(`${ISSUER}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal((await info.json()).sub, 'mallory');
  });

  it('no-access-token / token-type-mac: otherwise good JSON token responses', async () => {
    let { res, body } = await flow('no-access-token');
    assert.equal(res.status, 200);
    assert.equal('access_token' in body, false);
    assert.equal(body.token_type, 'Bearer');
    await verify(body.id_token, await jwks());
    ({ res, body } = await flow('token-type-mac'));
    assert.equal(res.status, 200);
    assert.equal(body.token_type, 'MAC');
    assert.ok(body.access_token);
  });

  it('html-token / not-json / token-500: broken answers after a valid PKCE check', async () => {
    for (const [name, status, type, text] of [
      ['html-token', 200, /^text\/html/, /^<html>/],
      ['not-json', 200, /^application\/json/, /^not json$/],
      ['token-500', 500, /^text\/plain/, /./],
    ]) {
      const flowed = await flow(name);
      assert.equal(flowed.res.status, status, name);
      assert.match(flowed.res.headers.get('content-type'), type, name);
      assert.match(flowed.text, text, name);
      assert.equal(flowed.res.headers.get('access-control-allow-origin'), APP);
      const s = await stats();
      assert.equal(s.issued.access_tokens.length, 0, `${name}: nothing minted`);
      // A wrong verifier still gets a proper invalid_grant, not the scenario's answer.
      const auth = await authorize();
      const wrong = await tokenRequest({
        grant_type: 'authorization_code', code: auth.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier,
      });
      assert.equal(wrong.body?.error, 'invalid_grant', name);
    }
  });

  it('es256 / ps256: other asymmetric algorithms, each with its own published key', async () => {
    for (const [name, alg, kid, kty] of [['es256', 'ES256', 'e1', 'EC'], ['ps256', 'PS256', 'p1', 'RSA']]) {
      const { body } = await flow(name);
      assert.deepEqual(decodeProtectedHeader(body.id_token), { alg, typ: 'JWT', kid });
      const keySet = await jwks();
      const key = keySet.keys.find((k) => k.kid === kid);
      assert.equal(key.kty, kty);
      assert.equal(key.alg, alg);
      if (kty === 'EC') assert.equal(key.crv, 'P-256');
      const { payload } = await verify(body.id_token, keySet);
      assert.equal(payload.at_hash, atHash(body.access_token), 'at_hash uses SHA-256 for these');
    }
  });
});
