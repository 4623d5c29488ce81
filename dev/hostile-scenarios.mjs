// The hostile provider's keys, forgeries and scenarios (dev/hostile.mjs serves them): what a
// scenario breaks, as overrides of a correct provider (DEFAULTS).

import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  SignJWT, exportJWK, exportSPKI, generateKeyPair,
} from 'jose';

export const WRONG_ISSUER = 'http://127.0.0.1:9999';
const ALGS = ['RS256', 'ES256', 'PS256'];
export const TOKEN_TTL_S = 300;

export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
export const random = () => b64url(randomBytes(32));
export const sha256 = (text) => createHash('sha256').update(text).digest();
export const now = () => Math.floor(Date.now() / 1000);
/** OIDC Core §3.1.3.6: base64url of the left half of SHA-256 (all algorithms used here). */
export const atHash = (accessToken) => b64url(sha256(accessToken).subarray(0, 16));

// ---------------------------------------------------------------------------------------
// Keys. Only the ones a scenario's jwks() names are published; k9 never is.

async function makeKey(kid, alg) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk, spki: await exportSPKI(publicKey) };
}

export const KEYS = Object.fromEntries(await Promise.all([
  ['k1', 'RS256'], // the normal signing key
  ['k2', 'RS256'], // a second RSA key (rotation; ambiguity without kid)
  ['k9', 'RS256'], // signs, but is never published
  ['p1', 'PS256'], // RSA-PSS
  ['e1', 'ES256'], // EC P-256
].map(async ([kid, alg]) => [kid, await makeKey(kid, alg)])));

/** A JWS signed properly with KEYS[keyName]; `withKid: false` leaves kid out of the header. */
function signWith(keyName, { withKid = true } = {}) {
  const key = KEYS[keyName];
  return (claims) => new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(withKid ? { kid: key.kid } : {}) })
    .sign(key.privateKey);
}

/**
 * A JWS that `sign` signed properly, with its signature then corrupted (the last 8 bytes
 * inverted, so an RSA signature stays below the modulus): header and kid are those of a
 * published key, so a client finds the key and must fail at signature verification itself.
 */
function corruptSignature(sign) {
  return async (claims) => {
    const [header, payload, signature] = (await sign(claims)).split('.');
    const bytes = Buffer.from(signature, 'base64url');
    for (let i = bytes.length - 8; i < bytes.length; i += 1) bytes[i] ^= 0xff;
    return `${header}.${payload}.${b64url(bytes)}`;
  };
}

/** An unsecured JWS (RFC 7519 §6): alg "none", empty signature. */
function unsigned(claims) {
  const part = (obj) => b64url(JSON.stringify(obj));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** The key-confusion forgery: HS256 with k1's public key (SPKI PEM text) as the HMAC secret. */
function hmacWithPublicKey(claims) {
  const part = (obj) => b64url(JSON.stringify(obj));
  const input = `${part({ alg: 'HS256', typ: 'JWT', kid: 'k1' })}.${part(claims)}`;
  return `${input}.${createHmac('sha256', KEYS.k1.spki).update(input).digest('base64url')}`;
}

/** A fixed (non-JSON-token) answer of the token endpoint. */
const reply = (status, type, body) => () => ({ status, type, body });

// ---------------------------------------------------------------------------------------
// Scenarios. DEFAULTS is a correct provider; each scenario overrides what it breaks.
//   algs        id_token_signing_alg_values_supported in discovery
//   callbackIss iss of the code response (null: left out; default: the issuer, set by
//               dev/hostile.mjs); prompt=none answers always use the issuer
//   sign        claims -> compact JWS
//   jwks(n)     key names published by the n-th GET /jwks (1-based, since the scenario began)
//   claims(c)   ID token claims
//   tokenBody(b) JSON token response; tokenReply: a fixed answer instead (nothing minted)
//   userinfo(u) userinfo answer
//   ttl         expires_in of the access token (s); a short one makes the app refresh soon
//   refresh     overrides (sign, claims, tokenBody) used only for tokens minted by a
//               refresh_token grant: the sign-in is correct, the refresh answer is not
//   silentError the error a prompt=none request gets (nobody is ever signed in here)
//   stream      'jwks' | 'token': that endpoint answers 200 with a JSON body that never ends

export const DEFAULTS = {
  algs: ALGS,
  sign: signWith('k1'),
  jwks: () => ['k1'],
  claims: (c) => c,
  tokenBody: (b) => b,
  tokenReply: undefined,
  userinfo: (u) => u,
  ttl: TOKEN_TTL_S,
  refresh: {},
  silentError: 'login_required',
  stream: undefined,
};

const REFRESH_TTL_S = 2; // the app refreshes 25 % of the lifetime before expiry: after 1.5 s

export const SCENARIOS = {
  ok: {},
  'unknown-key': { sign: signWith('k9') },
  'alg-none': { algs: [...ALGS, 'none'], sign: unsigned },
  'hs256-pubkey': { algs: [...ALGS, 'HS256'], sign: hmacWithPublicKey },
  'wrong-iss': { claims: (c) => ({ ...c, iss: WRONG_ISSUER }) },
  'wrong-aud': { claims: (c) => ({ ...c, aud: 'someone-else' }) },
  expired: { claims: (c) => ({ ...c, exp: now() - 3600, iat: now() - 7200 }) },
  'iat-future': { claims: (c) => ({ ...c, iat: now() + 3600, exp: now() + 7200 }) },
  'nonce-missing': { claims: ({ nonce, ...c }) => c },
  'nonce-wrong': { claims: (c) => ({ ...c, nonce: 'not-the-one' }) },
  'at-hash-wrong': { claims: (c) => ({ ...c, at_hash: atHash('some-other-access-token') }) },
  'kid-absent-single': { sign: signWith('k1', { withKid: false }) },
  'kid-absent-multiple': { sign: signWith('k1', { withKid: false }), jwks: () => ['k1', 'k2'] },
  'key-rotation': { sign: signWith('k2'), jwks: (n) => (n === 1 ? ['k1'] : ['k1', 'k2']) },
  'iss-wrong-callback': { callbackIss: WRONG_ISSUER },
  'iss-missing-callback': { callbackIss: null },
  'userinfo-sub': { userinfo: (u) => ({ ...u, sub: 'mallory' }) },
  'no-access-token': { tokenBody: ({ access_token, ...b }) => b },
  'token-type-mac': { tokenBody: (b) => ({ ...b, token_type: 'MAC' }) },
  'html-token': { tokenReply: reply(200, 'text/html; charset=utf-8', '<html><body><h1>Welcome</h1></body></html>') },
  'not-json': { tokenReply: reply(200, 'application/json', 'not json') },
  'token-500': { tokenReply: reply(500, 'text/plain; charset=utf-8', 'internal server error') },
  es256: { sign: signWith('e1'), jwks: () => ['k1', 'e1'] },
  ps256: { sign: signWith('p1'), jwks: () => ['k1', 'p1'] },
  // kid k1 is published: the key is found, the signature itself does not verify.
  'bad-signature': { sign: corruptSignature(signWith('k1')) },

  // Refresh scenarios: a correct sign-in with a short-lived access token, then a refresh
  // answer whose new ID token is wrong in one way.
  'refresh-ok': { ttl: REFRESH_TTL_S },
  'refresh-bad-signature': { ttl: REFRESH_TTL_S, refresh: { sign: corruptSignature(signWith('k1')) } },
  'refresh-other-sub': { ttl: REFRESH_TTL_S, refresh: { claims: (c) => ({ ...c, sub: 'mallory', name: 'Mallory' }) } },
  'refresh-wrong-iss': { ttl: REFRESH_TTL_S, refresh: { claims: (c) => ({ ...c, iss: WRONG_ISSUER }) } },
  'refresh-at-hash-wrong': { ttl: REFRESH_TTL_S, refresh: { claims: (c) => ({ ...c, at_hash: atHash('some-other-access-token') }) } },

  // prompt=none answers with another "not signed in quietly" error than login_required.
  'silent-interaction-required': { silentError: 'interaction_required' },
  'silent-consent-required': { silentError: 'consent_required' },

  // Endless answers (chunked, no Content-Length, until the client closes): the client must
  // give up soon after its 1 MiB body cap, not at its request timeout.
  'jwks-endless': { stream: 'jwks' },
  'token-endless': { stream: 'token' },
};
