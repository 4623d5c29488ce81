// What the node-only DPoP/PAR suites (dpop.test.mjs, dpop-modes.test.mjs) share: a dev stack
// per describe, alice's authorization codes (plain, dpop_jkt, PAR), token and API requests.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import { DpopClient, DpopKey } from './dpop-client.mjs';
import { authorizeAs, authorizeUrl, pkcePair } from './node-client.mjs';

export const APP = 'http://localhost:8080';
export const REDIRECT_URI = `${APP}/callback`;
export const CLIENT_ID = 'leptos-spa';
export const SCOPE = 'openid profile email api:read';
export const PAR_URN = 'urn:ietf:params:oauth:request_uri:';
// Form fields without the undefined ones.
export const defined = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
export const form = (fields) => new URLSearchParams(defined(fields)).toString();

// One stack at a time; `t` holds its URLs and discovery document.
export const t = {};
export function useStack(env) {
  before(async () => {
    t.stack = await startStack({
      testHooks: true,
      orders: false,
      quiet: !process.env.E2E_VERBOSE,
      env: { OP_PORT: '9320', API_PORT: '9420', ...env },
    });
    t.issuer = t.stack.urls.issuer;
    t.api = `${t.stack.urls.api}/api/hello`;
    t.meta = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json();
  });
  after(() => t.stack?.stop());
}

export const authParams = (pkce, extra = {}) => ({
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
export async function authorize(jar, params) {
  const step = await authorizeAs(jar, t.issuer, authorizeUrl(t.issuer, params));
  assert.equal(step.loginStatus ?? 303, 303, 'login accepted');
  return step.res ? { page: step } : { callback: new URL(step.url) };
}

// A fresh authorization code for alice. `dpopJkt`: sent as dpop_jkt. `par`: push the request
// first (with `par.client` it carries a DPoP proof) and authorize with client_id + request_uri.
export async function code(jar, { dpopJkt, par } = {}) {
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

export async function pushRequest(params, client) {
  const res = client
    ? await client.postForm(t.meta.pushed_authorization_request_endpoint, defined(params))
    : await fetch(t.meta.pushed_authorization_request_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
      body: form(params),
    });
  return { res, body: await res.json() };
}

export const exchangeFields = ({ code: c, pkce }) => ({
  client_id: CLIENT_ID, grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier,
});
export const refreshFields = (refreshToken) => ({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken });

// Token request: with a DpopClient (proof attached), or plain (Bearer).
export async function token(fields, client) {
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
export async function api(headers) {
  const res = await fetch(t.api, { headers: { origin: APP, ...headers } });
  return { res, body: await res.json(), challenge: res.headers.get('www-authenticate') };
}
export const apiDpop = async (client, accessToken) => {
  const res = await client.fetch(t.api, {}, { accessToken });
  return { res, body: await res.json(), challenge: res.headers.get('www-authenticate') };
};
export const apiStats = async () => (await fetch(`${t.stack.urls.api}/__test/stats`)).json();

export const dpopClient = async () => new DpopClient(await DpopKey.generate(), { origin: APP });
