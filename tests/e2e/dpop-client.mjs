// A small DPoP (RFC 9449) client for the browserless tests (tests/e2e/dpop.test.mjs): an ES256
// key pair made with WebCrypto (the private key is not extractable, as in the app), proofs
// signed with jose, server nonces remembered per origin, and one retry on use_dpop_nonce.

import { createHash, randomUUID } from 'node:crypto';
import {
  SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair,
} from 'jose';

/** base64url(SHA-256(access token)): the proof's `ath`. */
export const ath = (accessToken) => createHash('sha256').update(accessToken, 'ascii').digest('base64url');

/** The use_dpop_nonce refusal of an authorization server (400 JSON) or a resource server (401 challenge). */
export async function isNonceChallenge(res) {
  if (res.status === 401) return /^DPoP\b.*\berror="use_dpop_nonce"/i.test(res.headers.get('www-authenticate') || '');
  if (res.status !== 400) return false;
  const body = await res.clone().json().catch(() => undefined);
  return body?.error === 'use_dpop_nonce';
}

export class DpopKey {
  /** @returns {Promise<DpopKey>} a fresh ES256 key pair (private key not extractable). */
  static async generate() {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: false });
    const jwk = await exportJWK(publicKey);
    const key = new DpopKey();
    key.privateKey = privateKey;
    key.jwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    key.jkt = await calculateJwkThumbprint(key.jwk, 'sha256');
    return key;
  }

  /**
   * A DPoP proof JWT for one request. `url` loses its query and fragment (htu).
   * Overrides for tests: jti, iat (seconds), typ, and any extra claims.
   */
  async proof(method, url, { accessToken, nonce, jti = randomUUID(), iat = Math.floor(Date.now() / 1000), typ = 'dpop+jwt', extra = {} } = {}) {
    const htu = new URL(url);
    htu.search = '';
    htu.hash = '';
    const claims = { htm: method, htu: htu.href, jti, iat, ...extra };
    if (accessToken !== undefined) claims.ath = ath(accessToken);
    if (nonce !== undefined) claims.nonce = nonce;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ, jwk: this.jwk }).sign(this.privateKey);
  }
}

/**
 * Sends requests with DPoP proofs made by `key`, remembering each origin's latest DPoP-Nonce.
 * A use_dpop_nonce refusal is retried once with the nonce it carried; a second refusal is
 * returned as it is (no loop). `log` records every attempt: { url, status, nonce, retry }.
 */
export class DpopClient {
  constructor(key, { origin } = {}) {
    this.key = key;
    this.origin = origin; // sent as the Origin header (CORS checks of the servers)
    this.nonces = new Map(); // origin -> nonce
    this.log = [];
    this.tamperNonce = undefined; // tests: (nonce) => another value, to provoke a second refusal
  }

  /**
   * fetch(url, init) with a proof; `accessToken` makes it a resource request
   * (`Authorization: DPoP <token>` and `ath`). Returns the final Response.
   */
  async fetch(url, init = {}, { accessToken } = {}) {
    const { origin } = new URL(url);
    const method = (init.method || 'GET').toUpperCase();
    let retried = false;
    for (;;) {
      let nonce = this.nonces.get(origin);
      if (retried && nonce !== undefined && this.tamperNonce) nonce = this.tamperNonce(nonce);
      const headers = new Headers(init.headers);
      headers.set('dpop', await this.key.proof(method, url, { accessToken, nonce }));
      if (accessToken !== undefined) headers.set('authorization', `DPoP ${accessToken}`);
      if (this.origin) headers.set('origin', this.origin);
      const res = await fetch(url, { ...init, method, headers, redirect: 'manual' });
      const fresh = res.headers.get('dpop-nonce');
      if (fresh) this.nonces.set(origin, fresh);
      this.log.push({ url, status: res.status, nonce: nonce !== undefined, retry: retried });
      if (!retried && fresh && await isNonceChallenge(res)) {
        retried = true;
        continue;
      }
      return res;
    }
  }

  /** POST a form with a proof (token endpoint, PAR endpoint). */
  postForm(url, fields) {
    return this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
}
