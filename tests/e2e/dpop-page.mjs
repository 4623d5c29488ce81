// What the browser DPoP suites (dpop-browser.test.mjs, dpop-browser-modes.test.mjs) share: a
// recorder of every request's DPoP and Authorization headers, proof checks, and sessions that
// sign alice in and are closed after each test.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { calculateJwkThumbprint } from 'jose';

import { API, ISSUER, expectState, newSession, sel, signIn } from './harness.mjs';

export const API_HELLO = `${API}/api/hello`;
export const PAR_ENDPOINT = `${ISSUER}/request`;
export const PAR_URN = 'urn:ietf:params:oauth:request_uri:';

export const b64json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
/** Header and payload of a compact JWS (no signature check: the servers check those). */
export const decodeJws = (jws) => {
  const [header, payload] = jws.split('.');
  return { header: b64json(header), payload: b64json(payload) };
};
export const ath = (token) => createHash('sha256').update(token, 'ascii').digest('base64url');
export const isAuthorize = (url) => url.startsWith(`${ISSUER}/auth?`);

/**
 * Every request the browser context sends to the provider or the API (all methods,
 * navigations included), with its headers and, once answered, status and headers.
 */
export function recordTraffic(context) {
  const entries = [];
  const pending = new Set();
  context.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(ISSUER) && !url.startsWith(API)) return;
    const entry = {
      url,
      method: req.method(),
      headers: req.headers(),
      navigation: req.isNavigationRequest(),
      form: req.method() === 'POST' ? Object.fromEntries(new URLSearchParams(req.postData() || '')) : undefined,
      status: undefined,
      responseHeaders: undefined,
    };
    entries.push(entry);
    // Status and headers only: reading a body the page never reads would wait for ever (the
    // app drops the body of a use_dpop_nonce refusal and retries).
    const done = req.response().then((res) => {
      if (!res) return;
      entry.status = res.status();
      entry.responseHeaders = res.headers();
    }).catch(() => {}).finally(() => pending.delete(done));
    pending.add(done);
  });
  return {
    entries,
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    apiGets: () => entries.filter((e) => e.method === 'GET' && e.url.startsWith(API_HELLO)),
    /** Top-level navigations to the authorization endpoint (not the /auth/:uid resumes). */
    authorizations: () => entries.filter((e) => e.navigation && isAuthorize(e.url)).map((e) => new URL(e.url)),
    pushes: () => entries.filter((e) => e.method === 'POST' && e.url === PAR_ENDPOINT),
  };
}

/** Reads one DPoP proof header and checks the claims every proof must have. */
export function checkProof(proof, { htm, htu, accessToken, what }) {
  assert.ok(proof, `${what}: a DPoP header was sent`);
  assert.match(proof, /^[\w-]+\.[\w-]+\.[\w-]+$/, `${what}: the DPoP header is a compact JWS`);
  const { header, payload } = decodeJws(proof);
  assert.equal(header.typ, 'dpop+jwt', `${what}: typ`);
  assert.equal(header.alg, 'ES256', `${what}: alg`);
  assert.equal(header.jwk?.kty, 'EC', `${what}: a public EC jwk in the header`);
  assert.equal(header.jwk.crv, 'P-256', `${what}: crv`);
  assert.equal(header.jwk.d, undefined, `${what}: no private part in the jwk`);
  assert.equal(payload.htm, htm, `${what}: htm`);
  assert.equal(payload.htu, htu, `${what}: htu`);
  assert.ok(typeof payload.jti === 'string' && payload.jti.length >= 16, `${what}: a jti`);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 120, `${what}: iat is now`);
  if (accessToken === undefined) assert.equal(payload.ath, undefined, `${what}: no ath`);
  else assert.equal(payload.ath, ath(accessToken), `${what}: ath = hash of the access token sent`);
  return { header, payload };
}

export const cnfJkt = (accessToken) => decodeJws(accessToken).payload.cnf?.jkt;
export const thumbprint = (jwk) => calculateJwkThumbprint({
  kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y,
}, 'sha256');

/** Clicks call-api and returns the result the page then shows (data-status, text). */
export async function callApi(page, timeout = 20000) {
  // Mark the result on screen now: the answer to this click is a new element.
  await page.locator(sel.apiResult).evaluateAll((nodes) => nodes.forEach((n) => n.setAttribute('data-old', '')));
  await page.locator(sel.callApi).click();
  const result = page.locator(`${sel.apiResult}:not([data-old])`);
  await result.waitFor({ timeout });
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

export async function statusOf(page) {
  return page.locator(sel.status).first().evaluate((n) => ({
    state: n.dataset.state, error: n.dataset.error ?? null, text: n.textContent.trim().slice(0, 300),
  }));
}

// One test's browser sessions; each describe closes them after every test so that background
// work never reaches the next test's counters.
export function sessionsOf(getSuite) {
  const sessions = [];
  return {
    async open(name) {
      const session = await newSession(getSuite().browser, name);
      session.traffic = recordTraffic(session.context);
      sessions.push(session);
      return session;
    },
    async closeAll() {
      for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
    },
  };
}

// A new person signs in from the home page (the first load's silent attempt finds no provider
// session and stays signed out). Returns the session and its code exchange entry.
export async function signedIn(sessions, name) {
  const session = await sessions.open(name);
  await session.page.goto('/');
  await expectState(session.page, 'signed-out');
  await signIn(session.page);
  assert.equal((await session.page.locator(sel.userName).textContent()).trim(), 'Alice Liddell');
  await session.recorder.settled();
  await session.traffic.settled();
  return session;
}

/** No request to the provider or the API carried a DPoP header; tokens are Bearer. */
export function assertNoDpopAnywhere(session) {
  const proved = session.traffic.entries.filter((e) => e.headers.dpop !== undefined);
  assert.deepEqual(proved.map((e) => `${e.method} ${e.url}`), [], 'no request carried a DPoP header');
  for (const e of session.traffic.entries) {
    assert.ok(!/^dpop /i.test(e.headers.authorization ?? ''), `${e.method} ${e.url}: no DPoP authorization scheme`);
  }
}
