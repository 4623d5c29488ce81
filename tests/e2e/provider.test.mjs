// Self-test of the dev stack without a browser: documents what dev/provider.mjs and
// dev/api.mjs really do. This file: discovery, CORS, PKCE, the login form, silent consent and
// a stack without test hooks; a whole sign-in (silent SSO, rotation, reuse detection, logout,
// API 200/401) and the API's hooks are in provider-signin.test.mjs. Uses its own ports so it
// can run next to the browser suite.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import { CookieJar, authorizeUrl, decodeJwt, follow, pkcePair, postForm } from './node-client.mjs';
import {
  APP, REDIRECT_URI, CLIENT_ID, SCOPE, ISSUER, meta, useDevStack, form, tokenRequest, postJson,
  authorize,
} from './provider-client.mjs';

describe('dev provider + API (no browser)', { timeout: 60000 }, () => {
  useDevStack({ opPort: '9310', apiPort: '9410' });

  it('publishes discovery for an S256-only, iss-returning provider', () => {
    assert.equal(meta.issuer, ISSUER);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.ok(meta.end_session_endpoint && meta.revocation_endpoint && meta.userinfo_endpoint);
    assert.deepEqual(meta.grant_types_supported.sort(), ['authorization_code', 'refresh_token']);
  });

  it('allows CORS only for the app origin', async () => {
    const ok = await fetch(meta.jwks_uri, { headers: { origin: APP } });
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    const other = await fetch(meta.jwks_uri, { headers: { origin: 'http://evil.test' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const { res, body } = await tokenRequest({ grant_type: 'refresh_token', refresh_token: 'x' }, 'http://evil.test');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(body.error, 'invalid_request');
  });

  it('requires PKCE (no challenge, or method plain, is refused)', async () => {
    const jar = new CookieJar();
    for (const extra of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain' }]) {
      const { callback } = await authorize(jar, { extra });
      assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(callback.searchParams.get('code'), null);
    }
  });

  it('answers prompt=none without a session with login_required', async () => {
    const { callback, state } = await authorize(new CookieJar(), { extra: { prompt: 'none' } });
    assert.equal(callback.searchParams.get('error'), 'login_required');
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('iss'), ISSUER);
  });

  it('re-renders the login form with an alert on a wrong password', async () => {
    const { loginPage } = await authorize(new CookieJar(), { password: 'nope' });
    assert.match(loginPage, /role="alert"/);
    assert.ok(form(loginPage, 'login') && form(loginPage, 'password'));
    assert.match(loginPage, /id="sign-in-submit"[^>]*>Sign in</);
    assert.match(loginPage, /id="cancel"[^>]*>Cancel</);
  });

  it('returns access_denied with a description when the user cancels', async () => {
    const jar = new CookieJar();
    const state = 'cancel-state';
    const start = authorizeUrl(ISSUER, {
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: SCOPE, state,
      code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    });
    const page = await follow(jar, start, ISSUER);
    const action = new URL(page.body.match(/formaction="([^"]+)"/)[1], ISSUER).href;
    const res = await postForm(jar, action, {});
    const { url } = await follow(jar, new URL(res.headers.get('location'), ISSUER).href, ISSUER);
    const callback = new URL(url);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('error_description'), 'The user cancelled the sign-in.');
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('iss'), ISSUER);
  });

  describe('silent consent: only what the client is registered for', () => {
    const jar = new CookieJar();
    const withWrite = { scope: `${SCOPE} api:write` };

    it('grants the registered scopes without a consent page', async () => {
      const { callback, pkce } = await authorize(jar);
      const { body } = await tokenRequest({
        grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier,
      });
      assert.equal(decodeJwt(body.access_token).payload.scope, 'api:read');
      assert.equal(decodeJwt(body.id_token).payload.email, 'alice@example.test', 'profile and email granted');
    });

    it('answers consent_required to prompt=none asking for an unregistered API scope (api:write)', async () => {
      const { callback, state } = await authorize(jar, { extra: { ...withWrite, prompt: 'none' } });
      assert.equal(callback.searchParams.get('error'), 'consent_required');
      assert.equal(callback.searchParams.get('code'), null);
      assert.equal(callback.searchParams.get('state'), state);
    });

    it('refuses it interactively with access_denied, and the grant keeps api:read only', async () => {
      const { callback } = await authorize(jar, { extra: withWrite });
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.match(callback.searchParams.get('error_description'), /not registered/);
      assert.equal(callback.searchParams.get('code'), null);

      const again = await authorize(jar, { extra: { prompt: 'none' } });
      const { body } = await tokenRequest({
        grant_type: 'authorization_code', code: again.callback.searchParams.get('code'), redirect_uri: REDIRECT_URI, code_verifier: again.pkce.verifier,
      });
      assert.equal(decodeJwt(body.access_token).payload.scope, 'api:read');
      const wider = await tokenRequest({ grant_type: 'refresh_token', refresh_token: body.refresh_token, scope: 'openid api:write' });
      assert.equal(wider.body.error, 'invalid_scope', 'a refresh cannot widen it either');
    });
  });
});

describe('without TEST_HOOKS (a copied dev stack)', { timeout: 30000 }, () => {
  let plain;
  before(async () => {
    plain = await startStack({
      quiet: true, env: { OP_PORT: '9312', API_PORT: '9412', ORDERS_PORT: '9512', TEST_HOOKS: '0' },
    });
  });
  after(() => plain?.stop());

  it('has no test hooks at all: stats, reset and fault are 404 at the provider and both APIs', async () => {
    const { issuer, api, orders } = plain.urls;
    for (const base of [issuer, api, orders]) {
      assert.equal((await fetch(`${base}/__test/stats`)).status, 404, `${base} stats`);
      for (const path of ['/__test/reset', '/__test/fault']) {
        const res = await postJson(`${base}${path}`, { mode: 'hang' });
        assert.equal(res.status, 404, `${base}${path}`);
      }
    }
    // And the APIs still answer normally (no fault was armed by the POSTs above).
    for (const url of [`${api}/api/hello`, `${orders}/api/orders`]) {
      assert.equal((await fetch(url, { headers: { origin: APP } })).status, 401, url);
    }
  });
});
