// Several APIs, one sign-in (RFC 8707 resource indicators) on the dev stack, without a browser:
// the authorization request names both resources (the demo API and the orders API) with both
// scopes; the code exchange asks for the demo API's token, a refresh with resource=orders and
// scope=orders:read for the orders API's, on one rotating refresh token chain, with Bearer
// tokens and with DPoP (one key for every request). Each API refuses the other's token (`aud`).
// A sign-in that names no resource gets the demo API's token, as before. Uses its own ports
// (9350, 9450, 9550) so it can run next to the browser suite and the other self-tests.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DpopClient, DpopKey } from './dpop-client.mjs';
import {
  CookieJar, authorizeAs, authorizeUrl, decodeJwt, pkcePair,
} from './node-client.mjs';
import {
  APP, REDIRECT_URI, CLIENT_ID, SCOPE, ISSUER, API, ORDERS, meta, useDevStack, formBody,
  tokenRequest, postJson, authorize,
} from './provider-client.mjs';

const BOTH_SCOPE = `${SCOPE} orders:read`;
const both = (extra = {}) => ({ resource: [API, ORDERS], scope: BOTH_SCOPE, ...extra });

/** A code for alice (the login form when the jar has no session); asserts the callback has one. */
async function signIn(jar, extra) {
  const { callback, pkce, state } = await authorize(jar, { extra });
  assert.ok(callback, 'the provider redirected back (no consent page)');
  assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description'));
  assert.equal(callback.searchParams.get('state'), state);
  const code = callback.searchParams.get('code');
  assert.ok(code, 'an authorization code');
  return { code, pkce };
}

const exchangeFields = ({ code, pkce }, extra = {}) => ({
  grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier, ...extra,
});
const refreshFields = (refreshToken, extra = {}) => ({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

/** Token request: plain (Bearer), or with a DPoP proof of `client`'s key. */
async function token(fields, client) {
  if (!client) return tokenRequest(fields);
  const res = await client.fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody({ client_id: CLIENT_ID, ...fields }),
  });
  return { res, body: await res.json() };
}

/** GET on an API with the token, as Bearer or (with `client`) as DPoP with a proof. */
async function call(url, accessToken, client) {
  const res = client
    ? await client.fetch(url, {}, { accessToken })
    : await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, origin: APP } });
  return { res, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}
const demoApi = (accessToken, client) => call(`${API}/api/hello`, accessToken, client);
const ordersApi = (accessToken, client) => call(`${ORDERS}/api/orders`, accessToken, client);

/** Asserts a token response for one resource: an at+jwt with that one `aud` and that scope. */
function assertTokenFor({ res, body }, audience, scope, client) {
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.token_type, client ? 'DPoP' : 'Bearer');
  assert.equal(body.scope, scope);
  const { header, payload } = decodeJwt(body.access_token);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(header.alg, 'RS256');
  assert.equal(payload.aud, audience, 'one audience, a string');
  assert.equal(payload.scope, scope);
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.cnf?.jkt, client?.key.jkt);
  return payload;
}

/** Asserts the API's answer to a token of the other API: 401 invalid_token for `aud`. */
function assertOtherAudience({ res, body, challenge }, realm, client) {
  assert.equal(res.status, 401, JSON.stringify(body));
  assert.equal(body.error, 'invalid_token');
  assert.match(body.error_description, /"aud" claim/);
  assert.ok(challenge.startsWith(`${client ? 'DPoP' : 'Bearer'} realm="${realm}", error="invalid_token"`), challenge);
}

const apiStats = async (base) => (await fetch(`${base}/__test/stats`)).json();

describe('one sign-in, a token per API (RFC 8707, no browser)', { timeout: 60000 }, () => {
  useDevStack({ opPort: '9350', apiPort: '9450', ordersPort: '9550' });

  describe('Bearer: one refresh token chain for both APIs', () => {
    const jar = new CookieJar();
    let grant;
    let first;
    let second;

    it('names both resources with both scopes: signed in without a consent page, then silently (prompt=none)', async () => {
      for (const base of [ISSUER, API, ORDERS]) assert.equal((await postJson(`${base}/__test/reset`)).status, 204, base);
      await signIn(jar, both());
      grant = await signIn(jar, both({ prompt: 'none' }));
    });

    it('exchanges the code with resource=demo API: a token for it only; the orders API refuses it (401)', async () => {
      first = await token(exchangeFields(grant, { resource: API }));
      const claims = assertTokenFor(first, API, 'api:read');
      assert.ok(first.body.id_token && first.body.refresh_token);

      const ok = await demoApi(first.body.access_token);
      assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
      assert.deepEqual({ ...ok.body, message: undefined }, {
        message: undefined, sub: 'alice', scope: 'api:read', aud: API, expires_at: claims.exp,
      });
      assertOtherAudience(await ordersApi(first.body.access_token), 'orders-api');
    });

    it('refreshes with resource=orders&scope=orders:read: a token for the orders API only, a rotated refresh token', async () => {
      second = await token(refreshFields(first.body.refresh_token, { resource: ORDERS, scope: 'orders:read' }));
      const claims = assertTokenFor(second, ORDERS, 'orders:read');
      assert.ok(second.body.refresh_token);
      assert.notEqual(second.body.refresh_token, first.body.refresh_token, 'rotated');
      assert.equal(second.body.id_token, undefined, 'scope=orders:read asks for no openid: no ID token');

      const ok = await ordersApi(second.body.access_token);
      assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
      assert.ok(Array.isArray(ok.body.orders) && ok.body.orders.length > 0, 'the demo orders');
      assert.deepEqual({ ...ok.body, orders: undefined }, {
        orders: undefined, sub: 'alice', scope: 'orders:read', aud: ORDERS, expires_at: claims.exp,
      });
      assertOtherAudience(await demoApi(second.body.access_token), 'demo-api');
    });

    it('the rotated refresh token refreshes the demo API again; the spent one is invalid_grant (and ends the sign-in)', async () => {
      const third = await token(refreshFields(second.body.refresh_token, { resource: API }));
      assertTokenFor(third, API, 'api:read');
      assert.ok(third.body.id_token, 'the refresh token still holds openid');
      assert.equal((await demoApi(third.body.access_token)).res.status, 200);

      const spent = await token(refreshFields(first.body.refresh_token, { resource: API }));
      assert.equal(spent.res.status, 400);
      assert.equal(spent.body.error, 'invalid_grant');
      // Reuse detection revokes the grant: the newest refresh token of the chain is gone too.
      assert.equal((await token(refreshFields(third.body.refresh_token, { resource: ORDERS }))).body.error, 'invalid_grant');
    });

    it('each API counted its own requests (test hooks of both)', async () => {
      assert.deepEqual((await apiStats(API)).by_status, { 200: 2, 401: 1 });
      assert.deepEqual((await apiStats(ORDERS)).by_status, { 200: 1, 401: 1 });
    });
  });

  describe('DPoP: one key for the pushed request, both tokens and both APIs', () => {
    const jar = new CookieJar();
    let client;
    let grant;
    let first;
    let second;

    it('pushes the request naming both resources with a proof (PAR), signs in, the code is bound to the key', async () => {
      client = new DpopClient(await DpopKey.generate(), { origin: APP });
      const pkce = pkcePair();
      const state = `st-${Math.random()}`;
      const pushed = await client.fetch(meta.pushed_authorization_request_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({
          client_id: CLIENT_ID,
          response_type: 'code',
          redirect_uri: REDIRECT_URI,
          ...both(),
          state,
          nonce: `n-${Math.random()}`,
          code_challenge: pkce.challenge,
          code_challenge_method: 'S256',
        }),
      });
      const { request_uri: requestUri } = await pushed.json();
      assert.equal(pushed.status, 201);
      const step = await authorizeAs(jar, ISSUER, authorizeUrl(ISSUER, { client_id: CLIENT_ID, request_uri: requestUri }));
      assert.equal(step.loginStatus, 303, 'login accepted');
      const callback = new URL(step.url);
      assert.equal(callback.searchParams.get('error'), null, callback.searchParams.get('error_description'));
      assert.equal(callback.searchParams.get('state'), state);
      grant = { code: callback.searchParams.get('code'), pkce };
      assert.ok(grant.code);
    });

    it('exchanges the code with resource=demo API and a proof: a DPoP token for it only', async () => {
      first = await token(exchangeFields(grant, { resource: API }), client);
      assertTokenFor(first, API, 'api:read', client);
      assert.equal((await demoApi(first.body.access_token, client)).res.status, 200);
      assertOtherAudience(await ordersApi(first.body.access_token, client), 'orders-api', client);
    });

    it('the bound refresh token needs the key: no proof, or another key, is invalid_grant and spends nothing', async () => {
      const fields = refreshFields(first.body.refresh_token, { resource: ORDERS, scope: 'orders:read' });
      assert.equal((await token(fields)).body.error, 'invalid_grant', 'no proof');
      const thief = new DpopClient(await DpopKey.generate(), { origin: APP });
      assert.equal((await token(fields, thief)).body.error, 'invalid_grant', 'another key');
    });

    it('refreshes with resource=orders&scope=orders:read and the key: a DPoP token for the orders API only', async () => {
      second = await token(refreshFields(first.body.refresh_token, { resource: ORDERS, scope: 'orders:read' }), client);
      assertTokenFor(second, ORDERS, 'orders:read', client);
      assert.notEqual(second.body.refresh_token, first.body.refresh_token, 'rotated');
      const ok = await ordersApi(second.body.access_token, client);
      assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.aud, ORDERS);
      assertOtherAudience(await demoApi(second.body.access_token, client), 'demo-api', client);
    });

    it('the rotated refresh token refreshes the demo API again (same key); the spent one is invalid_grant', async () => {
      const third = await token(refreshFields(second.body.refresh_token, { resource: API }), client);
      assertTokenFor(third, API, 'api:read', client);
      assert.equal((await demoApi(third.body.access_token, client)).res.status, 200);
      const spent = await token(refreshFields(second.body.refresh_token, { resource: ORDERS, scope: 'orders:read' }), client);
      assert.equal(spent.body.error, 'invalid_grant');
    });
  });

  describe('what the provider does with other resource requests', () => {
    it('no `resource` anywhere: the demo API is the default, as before (orders: not granted, invalid_target)', async () => {
      const grant = await signIn(new CookieJar(), {});
      const first = await token(exchangeFields(grant));
      assertTokenFor(first, API, 'api:read');
      assert.equal((await demoApi(first.body.access_token)).res.status, 200);
      assertOtherAudience(await ordersApi(first.body.access_token), 'orders-api');

      const again = await token(refreshFields(first.body.refresh_token));
      assertTokenFor(again, API, 'api:read');

      // RFC 8707: a refresh may only name a resource of the grant. oidc-provider rotates before
      // it resolves the resource, so the refused request spends the refresh token.
      const orders = await token(refreshFields(again.body.refresh_token, { resource: ORDERS }));
      assert.equal(orders.res.status, 400);
      assert.equal(orders.body.error, 'invalid_target');
      assert.equal((await token(refreshFields(again.body.refresh_token))).body.error, 'invalid_grant', 'spent by the refusal');
    });

    it('both granted: a token request naming none gets the demo API; naming both is invalid_target (and spends the code)', async () => {
      const jar = new CookieJar();
      const none = await token(exchangeFields(await signIn(jar, both())));
      assertTokenFor(none, API, 'api:read');

      const grant = await signIn(jar, both({ prompt: 'none' }));
      const two = await token(exchangeFields(grant, { resource: [API, ORDERS] }));
      assert.equal(two.res.status, 400);
      assert.equal(two.body.error, 'invalid_target');
      assert.match(two.body.error_description, /only a single resource indicator/);
      assert.equal((await token(exchangeFields(grant, { resource: API }))).body.error, 'invalid_grant', 'code spent');
    });

    it('orders:write, which the client is not registered for: consent_required to prompt=none, access_denied interactively', async () => {
      const jar = new CookieJar();
      await signIn(jar, both());
      const scope = `${BOTH_SCOPE} orders:write`;
      const silent = await authorize(jar, { extra: both({ scope, prompt: 'none' }) });
      assert.equal(silent.callback.searchParams.get('error'), 'consent_required');
      assert.equal(silent.callback.searchParams.get('code'), null);
      const asked = await authorize(jar, { extra: both({ scope }) });
      assert.equal(asked.callback.searchParams.get('error'), 'access_denied');
      assert.equal(asked.callback.searchParams.get('code'), null);
    });

    it('a token for the orders API without orders:read (none was asked for) is refused there with 403 insufficient_scope', async () => {
      const grant = await signIn(new CookieJar(), { resource: [API, ORDERS], scope: SCOPE });
      const unscoped = await token(exchangeFields(grant, { resource: ORDERS }));
      assert.equal(unscoped.res.status, 200, JSON.stringify(unscoped.body));
      assert.equal(decodeJwt(unscoped.body.access_token).payload.aud, ORDERS);
      assert.equal(decodeJwt(unscoped.body.access_token).payload.scope, undefined);
      const refused = await ordersApi(unscoped.body.access_token);
      assert.equal(refused.res.status, 403);
      assert.equal(refused.body.error, 'insufficient_scope');
      assert.equal(refused.challenge, 'Bearer realm="orders-api", error="insufficient_scope", '
        + 'error_description="The access token lacks the orders:read scope.", scope="orders:read"');
    });
  });
});
