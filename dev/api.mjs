// The dev stack's protected APIs, one per process (API_NAME): the demo API (default) answers
// GET /api/hello, the orders API GET /api/orders. Each takes a JWT access token issued by
// dev/provider.mjs for its own resource (RFC 9068 "at+jwt", aud = API_AUDIENCE, scope
// API_SCOPE; RFC 8707: the provider issues one token per resource), sent either as
// `Authorization: Bearer <token>` (RFC 6750) or, for a DPoP-bound token (cnf.jkt), as
// `Authorization: DPoP <token>` with a `DPoP: <proof>` header (RFC 9449). A token for the
// other API (another `aud`) is refused: a token cannot be replayed at another resource.
//
// Env (all optional; the defaults depend on API_NAME, so `API_NAME=orders node dev/api.mjs`
// serves the orders API where dev/provider.mjs expects it):
//   API_NAME        demo | orders                       demo
//   API_PORT        9100 (demo) | 9200 (orders)
//   API_ORIGIN      http://127.0.0.1:$API_PORT  (the API's own origin, for the proofs' htu)
//   ISSUER          http://127.0.0.1:9000
//   API_AUDIENCE    http://127.0.0.1:9100 (demo) | http://127.0.0.1:9200 (orders): the `aud`
//                   it accepts (the provider's API_AUDIENCE / ORDERS_AUDIENCE)
//   API_SCOPE       api:read (demo) | orders:read (orders): the scope a token must carry
//   APP_ORIGIN      http://localhost:8080
//   API_DPOP_NONCE  1: DPoP proofs must carry the API's current server nonce (RFC 9449 §9)
//   API_REPLAY_CACHE_MAX  10000: how many proof jtis the replay cache holds (tests set fewer)
//   TEST_HOOKS      1 enables the test hooks (never in a deployment; no CORS, only for a loopback
//                 Host header, else 403 (DNS rebinding), and every POST must be
//                 Content-Type: application/json, else 415, so no other site can trigger
//                 them with a simple cross-site request):
//                   GET  /__test/stats   counters (below), replay_cache (live jtis held)
//                   POST /__test/reset   clears the counters and the fault
//                   POST /__test/fault   {"mode": "hang"|"off", "count": N}: the API's route
//                                        never answers (the socket stays open until the client
//                                        gives up), for N requests or until cleared;
//                                        {"mode": "redirect", "location": URL}: it answers
//                                        302 to URL (with CORS) instead;
//                   GET  /__test/fault   shows it. Faulted requests count in `faults_served`,
//                                        and in `faults_abandoned` once the client closed them.
//                   POST /__test/expire-nonces   every DPoP nonce handed out so far is refused
//
// Answers (REALM is demo-api or orders-api):
//   200 {message, sub, scope, aud, expires_at}   (demo: GET /api/hello)
//   200 {orders, sub, scope, aud, expires_at}    (orders: GET /api/orders)
//   401 + WWW-Authenticate: Bearer realm=REALM                            (no token)
//   401 + WWW-Authenticate: Bearer ..., error="invalid_token", ...         (bad/expired token,
//                                                                          another API's aud)
//   403 + WWW-Authenticate: Bearer ..., error="insufficient_scope", ...    (no API_SCOPE)
//   503 {error: "temporarily_unavailable"}    (provider unreachable; or the DPoP replay cache is
//                                             full of live entries: none is evicted to make room)
//   DPoP (the challenge is `DPoP realm=REALM, error=..., error_description=..., algs="ES256 Ed25519 EdDSA"`):
//   401 error="invalid_token"        a DPoP-bound token sent as Bearer; a token whose cnf.jkt is
//                                    not the proof's key; an unbound token sent as DPoP; bad token
//   401 error="invalid_dpop_proof"   no/several DPoP headers, bad signature/typ/alg/jwk, htm, htu,
//                                    iat more than 60 s off, ath mismatch, a replayed jti (a jti
//                                    is recorded only once the token and its cnf.jkt are verified)
//   401 error="use_dpop_nonce"       (API_DPOP_NONCE=1) no or stale nonce; + DPoP-Nonce header
//   403 error="insufficient_scope"
//   With API_DPOP_NONCE=1 a DPoP-Nonce header also comes with a 200 whose proof did not carry
//   the newest nonce. Nonces rotate every 5 minutes; the previous one stays valid.
// Error bodies are JSON {error, error_description}. Tokens and proofs are never logged.

import http from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

import {
  ApiError, DPOP_ALGS, ReplayCache, currentNonce, dpopError, rotateNonce, verifyProof,
} from './api-dpop.mjs';
import { HOST_REFUSAL, isLoopbackHost } from './test-hooks.mjs';

// What tells the two APIs apart: their route, their answer and their defaults.
const DEMO_ORDERS = [
  { id: 'ord-1001', item: 'Tea set', quantity: 1, status: 'shipped' },
  { id: 'ord-1002', item: 'Jam tarts', quantity: 12, status: 'processing' },
];
const APIS = {
  demo: {
    port: 9100,
    scope: 'api:read',
    route: '/api/hello',
    answer: (claims) => ({ message: `Hello, ${claims.sub}! The API verified your access token.` }),
  },
  orders: {
    port: 9200,
    scope: 'orders:read',
    route: '/api/orders',
    answer: () => ({ orders: DEMO_ORDERS }),
  },
};
const API_NAME = process.env.API_NAME || 'demo';
if (!Object.hasOwn(APIS, API_NAME)) throw new Error(`API_NAME must be one of ${Object.keys(APIS).join(', ')} (got ${API_NAME})`);
const SERVED = APIS[API_NAME];

const API_PORT = Number(process.env.API_PORT || SERVED.port);
const API_ORIGIN = new URL(process.env.API_ORIGIN || `http://127.0.0.1:${API_PORT}`).origin;
const API_DPOP_NONCE = process.env.API_DPOP_NONCE === '1';
const ISSUER = (process.env.ISSUER || 'http://127.0.0.1:9000').replace(/\/$/, '');
const API_AUDIENCE = process.env.API_AUDIENCE || `http://127.0.0.1:${SERVED.port}`;
const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const TEST_HOOKS = process.env.TEST_HOOKS === '1';
const REQUIRED_SCOPE = process.env.API_SCOPE || SERVED.scope;
const REALM = `${API_NAME}-api`;
const REPLAY_CACHE_MAX = Number(process.env.API_REPLAY_CACHE_MAX || 10000);

// Discovery is fetched lazily (the provider may start after the API) and retried on failure.
let jwksPromise;
function getJwks() {
  jwksPromise ??= (async () => {
    const res = await fetch(`${ISSUER}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const meta = await res.json();
    if (meta.issuer !== ISSUER) throw new Error(`discovery issuer mismatch: ${meta.issuer}`);
    // jose caches the key set and refetches it when it sees an unknown kid.
    return createRemoteJWKSet(new URL(meta.jwks_uri));
  })().catch((err) => {
    jwksPromise = undefined;
    throw err;
  });
  return jwksPromise;
}

const newStats = () => ({
  requests: 0, ok: 0, unauthorized: 0, forbidden: 0, by_status: {}, faults_served: 0, faults_abandoned: 0,
  // DPoP: requests with the DPoP scheme, and the refusals by error code.
  dpop: {
    requests: 0, ok: 0, use_dpop_nonce: 0, invalid_dpop_proof: 0, invalid_token: 0, replays: 0, replay_cache_full: 0,
  },
});
const replayCache = new ReplayCache(REPLAY_CACHE_MAX);
let stats = newStats();
let fault = null; // { mode: 'hang' | 'redirect', remaining: number | null, location? }

function armFault(input) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error('expected a JSON object');
  if (input.mode === 'off') {
    fault = null;
    return;
  }
  if (input.mode !== 'hang' && input.mode !== 'redirect') throw new Error('mode must be hang, redirect or off');
  let location;
  if (input.mode === 'redirect') {
    location = new URL(input.location).href; // throws on a bad URL: 400
    if (!/^https?:$/.test(new URL(location).protocol)) throw new Error('location must be an http(s) URL');
  }
  let remaining = null;
  if (input.count !== undefined && input.count !== null) {
    if (!Number.isInteger(input.count) || input.count < 1) throw new Error('count must be a positive integer');
    remaining = input.count;
  }
  fault = { mode: input.mode, remaining, ...(location ? { location } : {}) };
}

async function readBody(req, limit = 4096) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isJson = (req) => (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase() === 'application/json';

const quote = (s) => `"${String(s).replace(/["\\]/g, '\\$&')}"`;

function describeJoseError(err) {
  if (err instanceof joseErrors.JWTExpired) return 'The access token expired.';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `The access token's "${err.claim}" claim is not valid.`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The access token signature is not valid.';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The access token was signed with an unknown key.';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The access token uses a disallowed algorithm.';
  return 'The access token is malformed.';
}

async function authenticate(req) {
  const header = req.headers.authorization;
  if (!header) {
    // RFC 6750 §3.1: no error code when the request carries no credentials.
    throw new ApiError(401, 'invalid_token', 'Missing bearer token.', { challengeError: false });
  }
  const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw new ApiError(401, 'invalid_token', 'The Authorization header is not a Bearer or DPoP token.');
  const dpop = match[1].toLowerCase() === 'dpop';
  const token = match[2];
  const fail = dpop ? dpopError : (...args) => new ApiError(...args);
  let proof;
  if (dpop) {
    stats.dpop.requests += 1;
    proof = await verifyProof(req, token, { origin: API_ORIGIN, requireNonce: API_DPOP_NONCE });
  }

  let jwks;
  try {
    jwks = await getJwks();
  } catch (err) {
    console.error(`api: cannot load provider keys: ${err.message}`);
    throw new ApiError(503, 'temporarily_unavailable', 'The authorization server is unreachable.');
  }

  let payload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: API_AUDIENCE,
      typ: 'at+jwt', // refuses ID tokens and other JWTs
      algorithms: ['RS256', 'ES256'],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 2,
    }));
  } catch (err) {
    throw fail(401, 'invalid_token', describeJoseError(err));
  }

  const jkt = payload.cnf?.jkt;
  if (!dpop && jkt !== undefined) {
    // RFC 9449 §7.2: a DPoP-bound token is not a bearer token.
    throw dpopError(401, 'invalid_token', 'The access token is DPoP-bound: send it with the DPoP scheme and a DPoP proof.');
  }
  if (dpop && typeof jkt !== 'string') throw dpopError(401, 'invalid_token', 'The access token is not DPoP-bound: send it with the Bearer scheme.');
  if (dpop && jkt !== proof.jkt) throw dpopError(401, 'invalid_token', 'The access token is bound to another key than the DPoP proof.');
  if (dpop) recordProof(proof);

  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scopes.includes(REQUIRED_SCOPE)) {
    throw fail(403, 'insufficient_scope', `The access token lacks the ${REQUIRED_SCOPE} scope.`, { scope: REQUIRED_SCOPE });
  }
  return { claims: payload, proof };
}

// Only a proof that came with a valid token bound to its key takes room in the replay cache.
function recordProof({ jkt, jti }) {
  const seen = replayCache.record(jkt, jti);
  if (seen === 'replay') {
    stats.dpop.replays += 1;
    throw dpopError(401, 'invalid_dpop_proof', 'The DPoP proof was already used (jti seen before).');
  }
  if (seen === 'full') {
    stats.dpop.replay_cache_full += 1;
    throw new ApiError(503, 'temporarily_unavailable', 'The DPoP replay cache is full: try again in a moment.');
  }
}

function setCors(req, res) {
  const origin = req.headers.origin;
  if (origin !== APP_ORIGIN) return false;
  res.setHeader('Access-Control-Allow-Origin', APP_ORIGIN);
  res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce, Date');
  return true;
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(data);
}

// The /__test/* routes. Only for the test runner (node): deliberately no CORS headers,
// loopback Host and JSON POSTs only.
async function testHook(req, res, pathname) {
  if (!isLoopbackHost(req.headers.host)) return send(res, 403, HOST_REFUSAL);
  if (req.method === 'POST' && !isJson(req)) {
    return send(res, 415, { error: 'invalid_request', error_description: 'test hooks take Content-Type: application/json only' });
  }
  if (pathname === '/__test/stats' && req.method === 'GET') return send(res, 200, { ...stats, replay_cache: replayCache.size });
  if (pathname === '/__test/reset' && req.method === 'POST') {
    stats = newStats();
    fault = null;
    return send(res, 204);
  }
  if (pathname === '/__test/expire-nonces' && req.method === 'POST') {
    // Every DPoP nonce handed out so far is refused from now on (use_dpop_nonce).
    rotateNonce();
    rotateNonce();
    return send(res, 204);
  }
  if (pathname === '/__test/fault' && req.method === 'GET') return send(res, 200, { fault });
  if (pathname === '/__test/fault' && req.method === 'POST') {
    try {
      armFault(JSON.parse((await readBody(req)) || '{}'));
    } catch (err) {
      return send(res, 400, { error: 'invalid_request', error_description: err.message });
    }
    console.log(fault ? `fault armed: ${JSON.stringify(fault)}` : 'fault cleared');
    return send(res, 200, { fault });
  }
  return send(res, 404, { error: 'not_found' });
}

// Answers GET on the API's route with the armed fault: a redirect, or no answer at all.
async function serveFault(req, res) {
  const active = fault;
  if (active.remaining !== null) {
    active.remaining -= 1;
    if (active.remaining <= 0 && fault === active) fault = null;
  }
  stats.faults_served += 1;
  console.log(`api fault mode=${active.mode}`);
  if (active.mode === 'redirect') return send(res, 302, undefined, { Location: active.location });
  // No answer: wait until the client gives up and closes the connection (counted: a
  // client that stops waiting without aborting leaves it open).
  if (!req.socket.destroyed) await new Promise((resolve) => { req.socket.once('close', resolve); });
  stats.faults_abandoned += 1;
  return undefined;
}

// The refusal of a request to the API's route: counted, with its challenge (RFC 6750 / RFC 9449).
function sendRefusal(res, err) {
  if (err.status === 401) stats.unauthorized += 1;
  if (err.status === 403) stats.forbidden += 1;
  if (err.scheme === 'DPoP' && err.error in stats.dpop) stats.dpop[err.error] += 1;
  res.locals = { reason: err.description };
  const params = [`realm=${quote(REALM)}`];
  if (err.challengeError && err.status !== 503) {
    params.push(`error=${quote(err.error)}`, `error_description=${quote(err.description)}`);
    if (err.scope) params.push(`scope=${quote(err.scope)}`);
  }
  if (err.scheme === 'DPoP') params.push(`algs=${quote(DPOP_ALGS.join(' '))}`);
  const headers = err.status === 503 ? { 'Retry-After': '1' } : { 'WWW-Authenticate': `${err.scheme} ${params.join(', ')}` };
  if (err.error === 'use_dpop_nonce') headers['DPoP-Nonce'] = currentNonce();
  return send(res, err.status, { error: err.error, error_description: err.description }, headers);
}

async function serve(req, res, corsAllowed) {
  if (req.method === 'OPTIONS') {
    if (corsAllowed && req.headers['access-control-request-method']) {
      res.setHeader('Access-Control-Allow-Methods', 'GET');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, DPoP');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    return send(res, 204);
  }
  if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, OPTIONS' });

  stats.requests += 1;
  if (TEST_HOOKS && fault) return serveFault(req, res);
  try {
    const { claims, proof } = await authenticate(req);
    stats.ok += 1;
    if (proof) stats.dpop.ok += 1;
    // A proof signed with the previous nonce works; hand out the newest one with the answer.
    const fresh = API_DPOP_NONCE && proof && proof.nonce !== currentNonce() ? { 'DPoP-Nonce': currentNonce() } : {};
    return send(res, 200, {
      ...SERVED.answer(claims),
      sub: claims.sub,
      scope: claims.scope,
      aud: claims.aud,
      expires_at: claims.exp,
    }, fresh);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return sendRefusal(res, err);
  }
}

async function handle(req, res) {
  const { pathname } = new URL(req.url, 'http://api.invalid');
  res.setHeader('Vary', 'Origin');
  if (TEST_HOOKS && pathname.startsWith('/__test/')) return testHook(req, res, pathname);
  const corsAllowed = setCors(req, res);
  if (pathname === SERVED.route) return serve(req, res, corsAllowed);
  if (pathname === '/' && req.method === 'GET') {
    return send(res, 200, { service: REALM, issuer: ISSUER, audience: API_AUDIENCE, scope: REQUIRED_SCOPE });
  }
  return send(res, 404, { error: 'not_found' });
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    const { pathname } = new URL(req.url, 'http://api.invalid');
    if (pathname === SERVED.route && req.method === 'GET') {
      stats.by_status[res.statusCode] = (stats.by_status[res.statusCode] || 0) + 1;
    }
    const reason = res.locals?.reason ? ` (${res.locals.reason})` : '';
    console.log(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms${reason}`);
  });
  handle(req, res).catch((err) => {
    console.error('api: internal error', err);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
    else res.destroy();
  });
});

server.listen(API_PORT, '127.0.0.1', () => {
  console.log(`${REALM} listening on http://127.0.0.1:${API_PORT}${SERVED.route} (issuer ${ISSUER}, audience ${API_AUDIENCE}, scope ${REQUIRED_SCOPE})`);
});

function shutdown(signal) {
  console.log(`api: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
