// A deliberately misbehaving OpenID provider for the e2e suite (tests/e2e/hostile.test.mjs).
// Plain node:http, no oidc-provider; keys and signatures by jose. There is no login form:
// /authorize answers at once with a code (or, for prompt=none, login_required or the scenario's
// silentError). What the provider does wrong is chosen by a *scenario*, modelled on the OpenID
// Foundation's RP certification tests (id_token signature/claims, key rotation, RFC 9207 iss,
// userinfo sub, broken token responses), and also at refresh time (refresh-*). The table SCENARIOS below lists them; each is a few overrides
// of the correct behaviour (DEFAULTS).
//
// Env (all optional):
//   HOSTILE_PORT    9300
//   HOSTILE_ISSUER  http://127.0.0.1:${HOSTILE_PORT}
//   APP_ORIGIN      http://localhost:8080 (CORS origin; redirect URI ${APP_ORIGIN}/callback)
//
// Endpoints: /.well-known/openid-configuration, /authorize, /token, /jwks, /userinfo, with
// CORS for APP_ORIGIN (preflight included). Test control (no CORS):
//   POST /__scenario {"name": "..."}  select a scenario; resets counters, codes and tokens
//                                     (Content-Type: application/json only, else 415)
//   GET  /__stats                     {scenario, discovery, authorize, silent, token, refresh, jwks,
//                                      userinfo, issued: {codes, access_tokens, refresh_tokens,
//                                      id_tokens}, refusals: [why a request was refused]}
// One log line per request (method, path, status); never query strings or tokens.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import {
  SignJWT, exportJWK, exportSPKI, generateKeyPair,
} from 'jose';

const PORT = Number(process.env.HOSTILE_PORT || 9300);
const ISSUER = (process.env.HOSTILE_ISSUER || `http://127.0.0.1:${PORT}`).replace(/\/$/, '');
const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const CLIENT_ID = 'leptos-spa';
const REDIRECT_URI = `${APP_ORIGIN}/callback`;
const WRONG_ISSUER = 'http://127.0.0.1:9999';
const ALGS = ['RS256', 'ES256', 'PS256'];
const CODE_TTL_MS = 60_000;
const TOKEN_TTL_S = 300;

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const random = () => b64url(randomBytes(32));
const sha256 = (text) => createHash('sha256').update(text).digest();
const now = () => Math.floor(Date.now() / 1000);
/** OIDC Core §3.1.3.6: base64url of the left half of SHA-256 (all algorithms used here). */
const atHash = (accessToken) => b64url(sha256(accessToken).subarray(0, 16));

// ---------------------------------------------------------------------------------------
// Keys. Only the ones a scenario's jwks() names are published; k9 never is.

async function makeKey(kid, alg) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk, spki: await exportSPKI(publicKey) };
}

const KEYS = Object.fromEntries(await Promise.all([
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
//   callbackIss iss of the code response (null: left out); prompt=none answers always use ISSUER
//   sign        claims -> compact JWS
//   jwks(n)     key names published by the n-th GET /jwks (1-based, since the scenario began)
//   claims(c)   ID token claims
//   tokenBody(b) JSON token response; tokenReply: a fixed answer instead (nothing minted)
//   userinfo(u) userinfo answer
//   ttl         expires_in of the access token (s); a short one makes the app refresh soon
//   refresh     overrides (sign, claims, tokenBody) used only for tokens minted by a
//               refresh_token grant: the sign-in is correct, the refresh answer is not
//   silentError the error a prompt=none request gets (nobody is ever signed in here)

const DEFAULTS = {
  algs: ALGS,
  callbackIss: ISSUER,
  sign: signWith('k1'),
  jwks: () => ['k1'],
  claims: (c) => c,
  tokenBody: (b) => b,
  tokenReply: undefined,
  userinfo: (u) => u,
  ttl: TOKEN_TTL_S,
  refresh: {},
  silentError: 'login_required',
};

const REFRESH_TTL_S = 2; // the app refreshes 25 % of the lifetime before expiry: after 1.5 s

const SCENARIOS = {
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
};

// ---------------------------------------------------------------------------------------
// State: the scenario, counters, and what was issued (reset by POST /__scenario).

let scenarioName = 'ok';
let scenario = DEFAULTS;
let state;

function reset(name) {
  scenarioName = name;
  scenario = { ...DEFAULTS, ...SCENARIOS[name] };
  state = {
    counts: { discovery: 0, authorize: 0, silent: 0, token: 0, refresh: 0, jwks: 0, userinfo: 0 },
    codes: new Map(), // code -> { challenge, nonce, redirectUri }
    refreshTokens: new Set(),
    accessTokens: new Set(),
    issued: { codes: [], access_tokens: [], refresh_tokens: [], id_tokens: [] },
    refusals: [],
  };
}
reset('ok');

function refuse(where, why) {
  state.refusals.push(`${where}: ${why}`);
}

// ---------------------------------------------------------------------------------------
// HTTP helpers

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function oauthError(res, status, error, description, where) {
  refuse(where, `${error} (${description})`);
  send(res, status, { error, error_description: description });
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------------------
// Endpoints

function discovery(_req, res) {
  state.counts.discovery += 1;
  send(res, 200, {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/authorize`,
    token_endpoint: `${ISSUER}/token`,
    jwks_uri: `${ISSUER}/jwks`,
    userinfo_endpoint: `${ISSUER}/userinfo`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    scopes_supported: ['openid', 'profile'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: scenario.algs,
    authorization_response_iss_parameter_supported: true,
  });
}

function authorize(req, res, url) {
  state.counts.authorize += 1;
  const q = url.searchParams;
  // Without a valid client and redirect URI there is nowhere safe to send an error.
  if (q.get('client_id') !== CLIENT_ID) return oauthError(res, 400, 'invalid_client', 'unknown client_id', 'authorize');
  if (q.get('redirect_uri') !== REDIRECT_URI) return oauthError(res, 400, 'invalid_request', 'unregistered redirect_uri', 'authorize');

  const back = (params, iss = ISSUER) => {
    const target = new URL(REDIRECT_URI);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    if (q.has('state')) target.searchParams.set('state', q.get('state'));
    if (iss !== null) target.searchParams.set('iss', iss);
    res.writeHead(302, { Location: target.href, 'Cache-Control': 'no-store' });
    res.end();
  };
  const error = (code, description) => {
    refuse('authorize', `${code} (${description})`);
    back({ error: code, error_description: description });
  };

  if (q.get('response_type') !== 'code') return error('unsupported_response_type', 'only response_type=code');
  if (q.get('code_challenge_method') !== 'S256') return error('invalid_request', 'code_challenge_method must be S256');
  if (!/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') || '')) return error('invalid_request', 'code_challenge must be a base64url SHA-256');
  if (!(q.get('scope') || '').split(' ').includes('openid')) return error('invalid_scope', 'openid scope required');
  if (q.get('prompt') === 'none') {
    // Nobody is ever signed in here: the app's quiet first-load check ends at once.
    state.counts.silent += 1;
    return back({ error: scenario.silentError, error_description: 'no session at the hostile provider' });
  }

  const code = random();
  state.codes.set(code, {
    challenge: q.get('code_challenge'),
    nonce: q.get('nonce') ?? undefined,
    redirectUri: q.get('redirect_uri'),
    at: Date.now(),
  });
  state.issued.codes.push(code);
  return back({ code }, scenario.callbackIss);
}

/** Access + refresh + ID token, as the scenario has it (its `refresh` part for a refresh). */
async function mintTokens({ nonce, refresh = false }) {
  const behaviour = refresh ? { ...scenario, ...scenario.refresh } : scenario;
  const accessToken = random();
  const refreshToken = random();
  const t = now();
  const claims = behaviour.claims({
    iss: ISSUER,
    sub: 'alice',
    aud: CLIENT_ID,
    exp: t + TOKEN_TTL_S,
    iat: t,
    ...(nonce !== undefined ? { nonce } : {}),
    at_hash: atHash(accessToken),
    name: 'Alice Hostile',
  });
  const idToken = await behaviour.sign(claims);
  state.accessTokens.add(accessToken);
  state.refreshTokens.add(refreshToken);
  state.issued.access_tokens.push(accessToken);
  state.issued.refresh_tokens.push(refreshToken);
  state.issued.id_tokens.push(idToken);
  return behaviour.tokenBody({
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: behaviour.ttl,
    refresh_token: refreshToken,
    id_token: idToken,
    scope: 'openid profile',
  });
}

async function token(req, res) {
  state.counts.token += 1;
  if (req.method !== 'POST') return oauthError(res, 405, 'invalid_request', 'POST only', 'token');
  if (!(req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
    return oauthError(res, 400, 'invalid_request', 'form body expected', 'token');
  }
  const form = new URLSearchParams(await readBody(req));
  if (form.get('client_id') !== CLIENT_ID) return oauthError(res, 401, 'invalid_client', 'unknown client_id', 'token');

  let nonce;
  const refresh = form.get('grant_type') === 'refresh_token';
  if (form.get('grant_type') === 'authorization_code') {
    const code = form.get('code') || '';
    const grant = state.codes.get(code);
    state.codes.delete(code); // single use, whatever happens next
    const verifier = form.get('code_verifier') || '';
    if (!grant || Date.now() - grant.at > CODE_TTL_MS) return oauthError(res, 400, 'invalid_grant', 'unknown, used or expired code', 'token');
    if (form.get('redirect_uri') !== grant.redirectUri) return oauthError(res, 400, 'invalid_grant', 'redirect_uri differs', 'token');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return oauthError(res, 400, 'invalid_grant', 'malformed code_verifier', 'token');
    if (!sameSecret(b64url(sha256(verifier)), grant.challenge)) return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed', 'token');
    nonce = grant.nonce;
  } else if (refresh) {
    state.counts.refresh += 1;
    const refreshToken = form.get('refresh_token') || '';
    if (!state.refreshTokens.delete(refreshToken)) return oauthError(res, 400, 'invalid_grant', 'unknown or used refresh token', 'token');
  } else {
    return oauthError(res, 400, 'unsupported_grant_type', 'authorization_code or refresh_token', 'token');
  }

  if (scenario.tokenReply) {
    const { status, type, body } = scenario.tokenReply();
    return send(res, status, body, { 'Content-Type': type });
  }
  return send(res, 200, await mintTokens({ nonce, refresh }));
}

function jwks(_req, res) {
  state.counts.jwks += 1;
  send(res, 200, { keys: scenario.jwks(state.counts.jwks).map((name) => KEYS[name].jwk) });
}

function userinfo(req, res) {
  state.counts.userinfo += 1;
  const [scheme, accessToken] = (req.headers.authorization || '').split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !state.accessTokens.has(accessToken)) {
    refuse('userinfo', 'invalid_token');
    return send(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
  return send(res, 200, scenario.userinfo({ sub: 'alice', name: 'Alice Hostile' }));
}

async function setScenario(req, res) {
  // Test control: JSON only (a cross-site page cannot send that without a CORS preflight,
  // which control paths never grant), like the hooks of dev/provider.mjs and dev/api.mjs.
  if ((req.headers['content-type'] || '').split(';')[0].trim().toLowerCase() !== 'application/json') {
    return send(res, 415, { error: 'Content-Type: application/json required' });
  }
  let name;
  try {
    ({ name } = JSON.parse(await readBody(req)));
  } catch {
    name = undefined;
  }
  if (!Object.hasOwn(SCENARIOS, name)) {
    return send(res, 400, { error: 'unknown scenario', scenarios: Object.keys(SCENARIOS) });
  }
  reset(name);
  return send(res, 200, { scenario: name });
}

function stats(_req, res) {
  send(res, 200, {
    scenario: scenarioName,
    ...state.counts,
    issued: state.issued,
    refusals: state.refusals,
  });
}

// ---------------------------------------------------------------------------------------

const ROUTES = {
  'GET /.well-known/openid-configuration': discovery,
  'GET /authorize': authorize,
  'POST /token': token,
  'GET /jwks': jwks,
  'GET /userinfo': userinfo,
  'POST /userinfo': userinfo,
  'POST /__scenario': setScenario,
  'GET /__stats': stats,
};

const CORS = {
  'Access-Control-Allow-Origin': APP_ORIGIN,
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Max-Age': '600',
  Vary: 'Origin',
};

async function handle(req, res) {
  const url = new URL(req.url, ISSUER);
  const control = url.pathname.startsWith('/__');
  if (!control) for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);
  if (req.method === 'OPTIONS' && !control) {
    res.writeHead(204);
    res.end();
    return;
  }
  const route = ROUTES[`${req.method} ${url.pathname}`];
  if (!route) {
    send(res, 404, { error: 'not_found' });
    return;
  }
  await route(req, res, url);
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    const { pathname } = new URL(req.url, ISSUER);
    console.log(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms [${scenarioName}]`);
  });
  handle(req, res).catch((err) => {
    console.error('hostile: error', err);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
    else res.end();
  });
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, '127.0.0.1', resolve);
});
console.log(`hostile provider listening on ${ISSUER} (app ${APP_ORIGIN}; ${Object.keys(SCENARIOS).length} scenarios)`);

function shutdown(signal) {
  console.log(`hostile: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
