// A minimal browserless OAuth client for tests/e2e/provider.test.mjs: a cookie jar,
// PKCE by hand, and the login form submitted with fetch.

import { createHash, randomBytes } from 'node:crypto';

export const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

// Just enough of RFC 6265 for one host: name+path keyed cookies, path matching, deletion.
export class CookieJar {
  #cookies = new Map();

  store(res) {
    for (const header of res.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cookiePath = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.toLowerCase();
        if (key === 'path') cookiePath = v || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name}\u0000${cookiePath}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path: cookiePath });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    const matches = [...this.#cookies.values()].filter(({ path: p }) => pathname === p
      || (pathname.startsWith(p) && (p.endsWith('/') || pathname[p.length] === '/')));
    return matches.map(({ name, value }) => `${name}=${value}`).join('; ');
  }

  get size() { return this.#cookies.size; }
}

// fetch with the jar and without following redirects.
export async function request(jar, url, init = {}) {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(res);
  return res;
}

export function location(res, base) {
  const loc = res.headers.get('location');
  if (!loc) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(loc, base).href;
}

// Follows redirects (through the jar) until one leaves `origin` or a page is rendered.
export async function follow(jar, url, origin) {
  let current = url;
  for (let i = 0; i < 10; i += 1) {
    if (new URL(current).origin !== origin) return { url: current };
    const res = await request(jar, current);
    if (res.status >= 300 && res.status < 400) {
      current = location(res, current);
      continue;
    }
    return { url: current, res, body: await res.text() };
  }
  throw new Error('too many redirects');
}

// An array value repeats the parameter (e.g. several `resource`s, RFC 8707).
export function authorizeUrl(issuer, params) {
  const url = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries(params)) {
    for (const item of [v].flat()) if (item !== undefined) url.searchParams.append(k, item);
  }
  return url.href;
}

/**
 * Starts an authorization request at `issuer` and, when the provider shows its login form,
 * signs in (alice by default). Returns `{ url }` when the provider sent the browser off its
 * origin (the callback), else the rendered page `{ url, res, body }`; `loginStatus` is the
 * status of the form POST when there was one (303: accepted).
 */
export async function authorizeAs(jar, issuer, start, { login = 'alice', password = 'wonderland' } = {}) {
  const step = await follow(jar, start, issuer);
  if (!step.res || !/\/interaction\//.test(step.url)) return step;
  const action = new URL(step.body.match(/<form method="post" action="([^"]+)"/)[1], issuer).href;
  const res = await postForm(jar, action, { login, password });
  if (res.status !== 303) return { url: action, res, body: await res.text(), loginStatus: res.status };
  return { ...await follow(jar, new URL(res.headers.get('location'), issuer).href, issuer), loginStatus: 303 };
}

// POST a form (urlencoded) through the jar.
export function postForm(jar, url, fields, headers = {}) {
  return request(jar, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export function decodeJwt(jwt) {
  const [h, p] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}
