// What the dev stack's self-tests (provider.test.mjs, provider-signin.test.mjs,
// provider-resources.test.mjs) share: the provider and API (and the orders API, for a file that
// gives it a port) on ports of the file's own, token and API requests, alice's sign-in.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import { authorizeUrl, follow, pkcePair, postForm } from './node-client.mjs';

export const APP = 'http://localhost:8080';
export const REDIRECT_URI = `${APP}/callback`;
export const CLIENT_ID = 'leptos-spa';
export const SCOPE = 'openid profile email api:read';
export const ACCESS_TOKEN_TTL = 3;

// Set by useDevStack: each file runs its own provider and API, on ports of its own.
export let ISSUER;
export let API;
export let ORDERS;
export let meta;

/**
 * Runs the dev provider and API (test hooks on) around the tests of the calling describe, and
 * the orders API on `ordersPort` when one is given.
 */
export function useDevStack({ opPort, apiPort, ordersPort }) {
  let stack;
  before(async () => {
    stack = await startStack({
      testHooks: true,
      quiet: !process.env.E2E_VERBOSE,
      orders: ordersPort !== undefined,
      env: {
        OP_PORT: opPort,
        API_PORT: apiPort,
        ...(ordersPort !== undefined ? { ORDERS_PORT: ordersPort } : {}),
        ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      },
    });
    ISSUER = stack.urls.issuer;
    API = stack.urls.api;
    ORDERS = stack.urls.orders;
    meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
  });
  after(() => stack?.stop());
}

export const form = (body, name) => new RegExp(`<input[^>]*name="${name}"`).test(body);

// A form body; an array value repeats the field (e.g. several `resource`s, RFC 8707).
export const formBody = (fields) => new URLSearchParams(
  Object.entries(fields).flatMap(([name, value]) => [value].flat().map((item) => [name, item])),
).toString();

export async function tokenRequest(fields, origin = APP) {
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: formBody({ client_id: CLIENT_ID, ...fields }),
  });
  return { res, body: await res.json() };
}

export async function callApi(token) {
  const res = await fetch(`${API}/api/hello`, {
    headers: token ? { authorization: `Bearer ${token}`, origin: APP } : { origin: APP },
  });
  return { res, body: await res.json() };
}

export const stats = async () => (await fetch(`${ISSUER}/__test/stats`)).json();
export const postJson = (url, body = {}) => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

// Runs the authorization request and, if the login form shows, signs in as alice.
// Returns the callback URL (on the app origin) as a URL object.
export async function authorize(jar, { pkce = pkcePair(), state = 'st-' + Math.random(), extra = {}, password = 'wonderland' } = {}) {
  const start = authorizeUrl(ISSUER, {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state,
    nonce: 'n-' + Math.random(),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  let step = await follow(jar, start, ISSUER);
  if (step.res && /\/interaction\//.test(step.url)) {
    const action = new URL(step.body.match(/<form method="post" action="([^"]+)"/)[1], ISSUER).href;
    const res = await postForm(jar, action, { login: 'alice', password });
    if (res.status === 200) return { loginPage: await res.text() };
    assert.equal(res.status, 303);
    step = await follow(jar, new URL(res.headers.get('location'), ISSUER).href, ISSUER);
  }
  return { callback: new URL(step.url), pkce, state };
}
