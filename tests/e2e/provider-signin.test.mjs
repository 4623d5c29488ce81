// Self-test of the dev stack without a browser, signed in: a whole sign-in against
// dev/provider.mjs and dev/api.mjs (code flow + PKCE, silent SSO, rotation, reuse detection,
// expiry, revocation, logout, API 200/401) and the API's test hooks. The rest is in
// provider.test.mjs. Uses its own ports (9311, 9411) so it can run next to the browser suite
// and that file.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { CookieJar, decodeJwt, follow, pkcePair, postForm, request } from './node-client.mjs';
import {
  APP, REDIRECT_URI, CLIENT_ID, ACCESS_TOKEN_TTL, ISSUER, API, meta, useDevStack, form,
  tokenRequest, callApi, stats, postJson, authorize,
} from './provider-client.mjs';

describe('dev provider + API (no browser), signed in', { timeout: 60000 }, () => {
  useDevStack({ opPort: '9311', apiPort: '9411' });

  describe('a full sign-in', () => {
    const jar = new CookieJar();
    let tokens;
    let first;

    it('returns code, state and iss to the redirect URI and exchanges the code', async () => {
      assert.equal((await postJson(`${ISSUER}/__test/reset`)).status, 204);
      first = await authorize(jar);
      const { callback, state, pkce } = first;
      assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
      assert.equal(callback.searchParams.get('state'), state);
      assert.equal(callback.searchParams.get('iss'), ISSUER);
      const code = callback.searchParams.get('code');
      assert.ok(code);

      const wrong = await tokenRequest({
        grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkcePair().verifier,
      });
      assert.equal(wrong.body.error, 'invalid_grant', 'wrong code_verifier is refused');

      // oidc-provider checks PKCE before consuming the code: a wrong verifier does not burn it.
      first.code = code;
      const { res, body } = await tokenRequest({
        grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier,
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      tokens = body;
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, ACCESS_TOKEN_TTL);
      assert.ok(body.refresh_token, 'refresh token issued without offline_access');
      assert.ok(body.id_token);
    });

    it('issues an RS256 at+jwt access token for the API and an ID token with profile claims', () => {
      const at = decodeJwt(tokens.access_token);
      assert.equal(at.header.alg, 'RS256');
      assert.equal(at.header.typ, 'at+jwt');
      assert.equal(at.payload.iss, ISSUER);
      assert.equal(at.payload.aud, API);
      assert.equal(at.payload.sub, 'alice');
      assert.equal(at.payload.scope, 'api:read');
      assert.equal(at.payload.client_id, CLIENT_ID);

      const id = decodeJwt(tokens.id_token);
      assert.equal(id.payload.aud, CLIENT_ID);
      assert.equal(id.payload.name, 'Alice Liddell');
      assert.equal(id.payload.email, 'alice@example.test');
      assert.equal(id.payload.email_verified, true);
      assert.ok(id.payload.nonce);
    });

    it('refuses a replayed authorization code', async () => {
      const { body } = await tokenRequest({
        grant_type: 'authorization_code', code: first.code, redirect_uri: REDIRECT_URI, code_verifier: first.pkce.verifier,
      });
      assert.equal(body.error, 'invalid_grant');
      // oidc-provider revokes what the code produced when a code is replayed.
      const again = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(again.body.error, 'invalid_grant', 'code replay revoked the refresh token');
    });

    it('signs in silently with an existing OP session (prompt=none works)', async () => {
      first = await authorize(jar, { extra: { prompt: 'none' } });
      const code = first.callback.searchParams.get('code');
      assert.ok(code, `expected a code, got ${first.callback.search}`);
      const { body } = await tokenRequest({
        grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: first.pkce.verifier,
      });
      assert.ok(body.access_token, body.error_description);
      tokens = body;
    });

    it('lets the API answer 200 for the access token', async () => {
      const { res, body } = await callApi(tokens.access_token);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      assert.equal(body.message, 'Hello, alice! The API verified your access token.');
      assert.equal(body.sub, 'alice');
      assert.equal(body.scope, 'api:read');
      assert.equal(body.expires_at, decodeJwt(tokens.access_token).payload.exp);
    });

    it('lets the API answer 401 without a token, with a bad token, or with the ID token', async () => {
      const none = await callApi();
      assert.equal(none.res.status, 401);
      assert.equal(none.res.headers.get('www-authenticate'), 'Bearer realm="demo-api"');

      const tampered = tokens.access_token.slice(0, -4) + (tokens.access_token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      for (const token of [tampered, tokens.id_token, 'not-a-jwt']) {
        const { res, body } = await callApi(token);
        assert.equal(res.status, 401);
        assert.equal(body.error, 'invalid_token');
        assert.match(res.headers.get('www-authenticate'), /^Bearer realm="demo-api", error="invalid_token", error_description=".+"$/);
        assert.equal(res.headers.get('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce, Date');
      }
    });

    it('does NOT accept the JWT access token at userinfo, nor revoke it', async () => {
      // JWT access tokens are not stored by oidc-provider, so userinfo cannot find them
      // (and would refuse any token with an audience anyway). Profile data: use the ID token.
      const res = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}`, origin: APP } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
      // Revocation refuses structured (JWT) tokens: revoke the refresh token instead.
      const rev = await fetch(meta.revocation_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
        body: new URLSearchParams({ client_id: CLIENT_ID, token: tokens.access_token }),
      });
      assert.equal(rev.status, 400);
      assert.equal((await rev.json()).error, 'unsupported_token_type');
    });

    it('rotates refresh tokens and rejects reuse of a rotated one (revoking the chain)', async () => {
      const r1 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(r1.res.status, 200, r1.body.error_description);
      assert.notEqual(r1.body.refresh_token, tokens.refresh_token);
      assert.equal(decodeJwt(r1.body.access_token).payload.aud, API, 'refreshed token is for the API too');
      assert.equal(decodeJwt(r1.body.id_token).payload.name, 'Alice Liddell');

      const r2 = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token });
      assert.equal(r2.res.status, 200);

      const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token });
      assert.equal(reuse.res.status, 400);
      assert.equal(reuse.body.error, 'invalid_grant');

      const latest = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r2.body.refresh_token });
      assert.equal(latest.body.error, 'invalid_grant', 'reuse detection revokes the newest refresh token too');

      const s = await stats();
      assert.ok(s.token_successes.refresh_token >= 2);
      assert.ok(s.token_errors.refresh_token >= 2);
      assert.ok(s.token_error_codes.invalid_grant >= 2);
    });

    it('lets the API answer 401 for an expired access token', async () => {
      const fresh = await authorize(jar, { extra: { prompt: 'none' } });
      const { body } = await tokenRequest({
        grant_type: 'authorization_code',
        code: fresh.callback.searchParams.get('code'),
        redirect_uri: REDIRECT_URI,
        code_verifier: fresh.pkce.verifier,
      });
      tokens = body;
      await sleep((ACCESS_TOKEN_TTL + 3) * 1000); // TTL + the API's clock tolerance
      const { res, body: err } = await callApi(tokens.access_token);
      assert.equal(res.status, 401);
      assert.equal(err.error_description, 'The access token expired.');
    });

    it('revokes a refresh token at the revocation endpoint (and counts it in the test stats)', async () => {
      const r = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      tokens = r.body;
      const before = (await stats()).revocations;
      const res = await fetch(meta.revocation_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
        body: new URLSearchParams({ client_id: CLIENT_ID, token: tokens.refresh_token, token_type_hint: 'refresh_token' }),
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), APP);
      const after = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(after.body.error, 'invalid_grant');
      // An unknown token is answered 200 too (RFC 7009), but nothing is revoked.
      await fetch(meta.revocation_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
        body: new URLSearchParams({ client_id: CLIENT_ID, token: 'unknown', token_type_hint: 'refresh_token' }),
      });
      const counted = (await stats()).revocations;
      assert.equal(counted.requests, before.requests + 2);
      assert.equal(counted.by_status[200], (before.by_status[200] ?? 0) + 2);
      assert.equal(counted.refresh_tokens_revoked, before.refresh_tokens_revoked + 1);
    });

    it('counts authorization requests, and those with prompt=none, in the test stats', async () => {
      const before = (await stats()).authorization_requests;
      await authorize(jar, { extra: { prompt: 'none' } });
      await authorize(new CookieJar(), { extra: { prompt: 'none' } }); // login_required: counted too
      const { callback } = await authorize(new CookieJar()); // login form, then the /auth/:uid resume
      assert.ok(callback.searchParams.get('code'));
      const after = (await stats()).authorization_requests;
      assert.equal(after.prompt_none, before.prompt_none + 2);
      assert.equal(after.total, before.total + 3, 'the /auth/:uid resume hop is not counted');
    });

    // Opens the end_session page for the current tokens; returns its confirmation form.
    async function logoutPage(state) {
      const end = new URL(meta.end_session_endpoint);
      end.searchParams.set('id_token_hint', tokens.id_token);
      end.searchParams.set('post_logout_redirect_uri', `${APP}/`);
      end.searchParams.set('state', state);
      const res = await request(jar, end.href);
      assert.equal(res.status, 200);
      const html = await res.text();
      const action = html.match(/<form id="op.logoutForm" method="post" action="([^"]+)"/)[1];
      const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { res, html, action: new URL(action, ISSUER).href, fields };
    }
    async function freshTokens() {
      const fresh = await authorize(jar, { extra: { prompt: 'none' } });
      const code = fresh.callback.searchParams.get('code');
      assert.ok(code, `prompt=none gave no code: ${fresh.callback.search}`);
      const { body } = await tokenRequest({
        grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: fresh.pkce.verifier,
      });
      assert.ok(body.refresh_token, body.error_description);
      tokens = body;
    }

    it('asks for a real click to sign out: no script, not frameable, and opening the page ends nothing', async () => {
      await freshTokens();
      const before = (await stats()).logouts;
      const { res, html, fields } = await logoutPage('look');
      assert.doesNotMatch(html, /<script/i, 'the confirmation page has no script (no auto-submit)');
      assert.doesNotMatch(html, /\.submit\(/);
      assert.match(html, /<button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-confirm"[^>]*>Sign out</);
      assert.deepEqual(Object.keys(fields), ['xsrf'], 'logout=yes is on the button, not a hidden field');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'");
      // Only looking at the page (what a cross-site redirect or frame gets) changes nothing.
      assert.equal((await stats()).logouts, before);
      const silent = await authorize(jar, { extra: { prompt: 'none' } });
      assert.ok(silent.callback.searchParams.get('code'), 'the provider session is intact');
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refresh.res.status, 200, 'and the app\'s grant too');
      tokens = refresh.body;
    });

    it('"Keep my provider session" ends only the app\'s grant, and returns the state', async () => {
      await freshTokens();
      const { action, fields } = await logoutPage('app-only');
      const confirm = await postForm(jar, action, fields); // the second button: no logout=yes
      assert.equal(confirm.status, 303);
      const { url } = await follow(jar, new URL(confirm.headers.get('location'), ISSUER).href, ISSUER);
      assert.equal(url, `${APP}/?state=app-only`);
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refresh.body.error, 'invalid_grant', 'the app\'s refresh token is gone');
      const silent = await authorize(jar, { extra: { prompt: 'none' } });
      assert.ok(silent.callback.searchParams.get('code'), 'the provider session stays');
    });

    it('"Sign out" (logout=yes) ends the OP session and returns the state', async () => {
      await freshTokens();
      const before = (await stats()).logouts;
      const { action, fields } = await logoutPage('bye');
      const confirm = await postForm(jar, action, { ...fields, logout: 'yes' }); // the click on #logout-confirm
      const { url } = await follow(jar, new URL(confirm.headers.get('location'), ISSUER).href, ISSUER);
      assert.equal(url, `${APP}/?state=bye`);

      const silent = await authorize(jar, { extra: { prompt: 'none' } });
      assert.equal(silent.callback.searchParams.get('error'), 'login_required');
      const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
      assert.equal(refresh.body.error, 'invalid_grant', 'refresh tokens end with the OP session');
      assert.equal((await stats()).logouts, before + 1);
    });
  });

  it('counts API answers in its test stats; its hooks take JSON only', async () => {
    const s = await (await fetch(`${API}/__test/stats`)).json();
    assert.ok(s.ok >= 1 && s.unauthorized >= 4);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const res = await fetch(`${API}/__test/reset`, {
        method: 'POST', headers: { origin: 'http://evil.test', ...(type ? { 'content-type': type } : {}) }, body: '{}',
      });
      assert.equal(res.status, 415, String(type));
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
    assert.equal((await (await fetch(`${API}/__test/stats`)).json()).requests, s.requests, 'not reset');
    const reset = await postJson(`${API}/__test/reset`);
    assert.equal(reset.status, 204);
    assert.equal((await (await fetch(`${API}/__test/stats`)).json()).requests, 0);
  });

  it('makes the API hang on request (fault hook), for N calls', async () => {
    assert.equal((await postJson(`${API}/__test/fault`, { mode: 'hang', count: 1 })).status, 200);
    assert.equal((await postJson(`${API}/__test/fault`, { mode: 'explode' })).status, 400);
    const started = Date.now();
    await assert.rejects(
      fetch(`${API}/api/hello`, { headers: { origin: APP }, signal: AbortSignal.timeout(700) }),
      (err) => err.name === 'TimeoutError',
    );
    assert.ok(Date.now() - started >= 650);
    assert.deepEqual(await (await fetch(`${API}/__test/fault`)).json(), { fault: null }, 'count 1: used up');
    assert.equal((await callApi()).res.status, 401, 'answers again');
    const apiCounts = await (await fetch(`${API}/__test/stats`)).json();
    assert.equal(apiCounts.faults_served, 1);
    assert.equal(apiCounts.faults_abandoned, 1, 'the client closed the held request');
  });
});
