// What the hostile provider's self-tests (hostile-server.test.mjs, hostile-server-tokens.test.mjs)
// share: the provider on a port of the file's own, scenarios, authorization and token requests
// like the app's, and ID token checks.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before } from 'node:test';

import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';

import { startStack } from '../../dev/stack.mjs';
import { b64url, pkcePair } from './node-client.mjs';

// Set by useHostileServer: each file runs its own hostile provider, on a port of its own.
export let ISSUER;
export const APP = 'http://localhost:8080';
export const REDIRECT_URI = `${APP}/callback`;
export const CLIENT_ID = 'leptos-spa';
export const WRONG_ISSUER = 'http://127.0.0.1:9999';

/** Runs the hostile provider on `port` around the tests of the calling describe. */
export function useHostileServer(port) {
  ISSUER = `http://127.0.0.1:${port}`;
  let stack;
  before(async () => {
    stack = await startStack({
      provider: false, api: false, orders: false, hostile: true, quiet: true, env: { HOSTILE_PORT: port, APP_ORIGIN: APP },
    });
  });
  after(async () => {
    await stack?.stop();
  });
}

export const stats = async () => (await fetch(`${ISSUER}/__stats`)).json();
export const jwks = async () => (await fetch(`${ISSUER}/jwks`)).json();
export const discovery = async () => (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();

export async function use(name) {
  const res = await fetch(`${ISSUER}/__scenario`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 200, `scenario ${name}: ${await res.text()}`);
}

export function authorizeUrl(params = {}) {
  const pkce = pkcePair();
  const query = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    state: b64url(Buffer.from(`state-${Math.random()}`)),
    nonce: b64url(Buffer.from(`nonce-${Math.random()}`)),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...params,
  };
  for (const [k, v] of Object.entries(query)) if (v === undefined) delete query[k];
  return { url: `${ISSUER}/authorize?${new URLSearchParams(query)}`, query, pkce };
}

/** GET /authorize without following the redirect: { res, callback (URL or undefined), ... }. */
export async function authorize(params) {
  const request = authorizeUrl(params);
  const res = await fetch(request.url, { redirect: 'manual' });
  const location = res.headers.get('location');
  return { ...request, res, callback: location ? new URL(location) : undefined };
}

export async function tokenRequest(fields) {
  const res = await fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...fields }).toString(),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { res, text, body };
}

/** Authorization + code exchange as the app does it, under scenario `name`. */
export async function flow(name) {
  await use(name);
  const auth = await authorize();
  assert.equal(auth.res.status, 302);
  const code = auth.callback.searchParams.get('code');
  assert.ok(code, 'a code');
  const token = await tokenRequest({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.pkce.verifier,
  });
  return { auth, token, ...token };
}

export const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
// Computed here independently of dev/hostile.mjs: base64url(left half of SHA-256).
export const atHash = (accessToken) => b64url(createHash('sha256').update(accessToken).digest().subarray(0, 16));

/** Verifies `jwt` against the key set, issuer, audience; returns { payload, protectedHeader }. */
export const verify = (jwt, keySet, options = {}) => jwtVerify(jwt, createLocalJWKSet(keySet), {
  issuer: ISSUER, audience: CLIENT_ID, algorithms: ['RS256', 'PS256', 'ES256'], ...options,
});

/**
 * Whether `jwt`'s signature verifies with `keySet`: false only when jose ran the signature
 * check and it failed. Anything else (no matching key, a claim check, a malformed token) is
 * rethrown, so a test cannot pass because the check never ran.
 */
export async function verifiesWith(jwt, keySet, options) {
  try {
    await verify(jwt, keySet, options);
    return true;
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return false;
    throw err;
  }
}
export const isSignatureFailure = (err) => err instanceof joseErrors.JWSSignatureVerificationFailed;
