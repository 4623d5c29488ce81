// DPoP (RFC 9449) for the dev APIs (dev/api.mjs): the proof check, the API's server nonces and
// the jti replay cache. The API checks the access token and its cnf.jkt first and records the
// proof's jti only then (a proof that came with a bad token takes no room in the cache).

import { createHash, randomBytes } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';

export const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA']; // as the provider's dpop_signing_alg_values_supported
export const DPOP_IAT_WINDOW = 60; // seconds either side of now
const NONCE_ROTATION = 5 * 60; // seconds a nonce stays the newest

export class ApiError extends Error {
  constructor(status, error, description, { scope, challengeError = true, scheme = 'Bearer' } = {}) {
    super(description);
    Object.assign(this, { status, error, description, scope, challengeError, scheme });
  }
}

export const dpopError = (status, error, description, extra = {}) => new ApiError(status, error, description, { scheme: 'DPoP', ...extra });

// --- DPoP server nonces (API_DPOP_NONCE=1): the newest and the previous one are accepted.
const nonces = { current: undefined, previous: undefined, since: 0 };
export function rotateNonce() {
  nonces.previous = nonces.current;
  nonces.current = randomBytes(24).toString('base64url');
  nonces.since = Date.now();
}
export function currentNonce() {
  if (!nonces.current || Date.now() - nonces.since >= NONCE_ROTATION * 1000) rotateNonce();
  return nonces.current;
}
const nonceValid = (n) => typeof n === 'string' && (n === currentNonce() || n === nonces.previous);

/**
 * The jti of every accepted proof, per key, while a proof with it could still be accepted
 * (2 × the iat window). Every entry lives as long, so insertion order is expiry order: expired
 * ones are dropped from the front. When it is full of live entries, a new proof is refused
 * ('full'), never let in by forgetting one that could still be replayed.
 */
export class ReplayCache {
  constructor(max, ttlMs = 2 * DPOP_IAT_WINDOW * 1000) {
    Object.assign(this, { max, ttlMs, seen: new Map() }); // `${jkt}.${jti}` -> expires (ms)
  }

  #purge(now) {
    for (const [key, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(key);
    }
  }

  get size() {
    this.#purge(Date.now());
    return this.seen.size;
  }

  /** 'fresh' (recorded now), 'replay' (seen before) or 'full' (not recorded: refuse). */
  record(jkt, jti, now = Date.now()) {
    this.#purge(now);
    const key = `${jkt}.${jti}`;
    if (this.seen.has(key)) return 'replay';
    if (this.seen.size >= this.max) return 'full';
    this.seen.set(key, now + this.ttlMs);
    return 'fresh';
  }
}

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const refuse = (description) => dpopError(401, 'invalid_dpop_proof', description);

/** The proof's signature and claims: { payload, jwk }. */
async function readProof(req, origin) {
  const header = req.headersDistinct.dpop;
  if (!header) throw refuse('The request has no DPoP proof.');
  if (header.length !== 1 || !JWS.test(header[0])) throw refuse('Exactly one DPoP proof (a compact JWS) is needed.');
  let verified;
  try {
    verified = await jwtVerify(header[0], EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS });
  } catch {
    throw refuse('The DPoP proof is not a valid dpop+jwt signed by its embedded public key.');
  }
  const { payload } = verified;
  if (payload.htm !== req.method) throw refuse('The DPoP proof htm does not match the request method.');
  let htu;
  try {
    htu = new URL(payload.htu);
  } catch {
    throw refuse('The DPoP proof htu is not a URL.');
  }
  if (htu.origin !== origin || htu.pathname !== new URL(req.url, origin).pathname) {
    throw refuse('The DPoP proof htu does not match the request URL.');
  }
  return { payload, jwk: verified.protectedHeader.jwk };
}

/**
 * Checks the DPoP proof of a request that presents `accessToken` (RFC 9449 §4.3, §7.1), all
 * but the jti's single use; returns { jkt: the proof key's thumbprint, jti, nonce }. The
 * caller checks the token and its cnf.jkt, then records the jti (ReplayCache).
 */
export async function verifyProof(req, accessToken, { origin, requireNonce }) {
  const { payload, jwk } = await readProof(req, origin);
  if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > DPOP_IAT_WINDOW) {
    throw refuse(`The DPoP proof iat is not within ${DPOP_IAT_WINDOW} s of the server time.`);
  }
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) {
    throw refuse('The DPoP proof has no usable jti.');
  }
  const ath = createHash('sha256').update(accessToken, 'ascii').digest('base64url');
  if (payload.ath !== ath) throw refuse('The DPoP proof ath does not match the access token.');
  if (requireNonce && !nonceValid(payload.nonce)) {
    throw dpopError(401, 'use_dpop_nonce', 'The DPoP proof must carry the nonce of the DPoP-Nonce header.');
  }
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti: payload.jti, nonce: payload.nonce };
}
