// Demo protected API for the Leptos SPA: GET /api/hello with a Bearer JWT access token
// issued by dev/provider.mjs (RFC 9068 "at+jwt", audience API_AUDIENCE, scope api:read).
//
// Env (all optional):
//   API_PORT      9100
//   ISSUER        http://127.0.0.1:9000
//   API_AUDIENCE  http://127.0.0.1:9100
//   APP_ORIGIN    http://localhost:8080
//   TEST_HOOKS    1 enables the test hooks (never in a deployment; no CORS, and every POST must
//                 be Content-Type: application/json, else 415, so no other site can trigger
//                 them with a simple cross-site request):
//                   GET  /__test/stats   counters (below)
//                   POST /__test/reset   clears the counters and the fault
//                   POST /__test/fault   {"mode": "hang"|"off", "count": N}: GET /api/hello
//                                        never answers (the socket stays open until the client
//                                        gives up), for N requests or until cleared;
//                   GET  /__test/fault   shows it. Faulted requests count in `faults_served`,
//                                        and in `faults_abandoned` once the client closed them.
//
// Answers (RFC 6750):
//   200 {message, sub, scope, expires_at}
//   401 + WWW-Authenticate: Bearer realm="demo-api"                       (no token)
//   401 + WWW-Authenticate: Bearer ..., error="invalid_token", ...         (bad/expired token)
//   403 + WWW-Authenticate: Bearer ..., error="insufficient_scope", ...    (no api:read)
//   503 {error: "temporarily_unavailable"}                                 (provider unreachable)
// Error bodies are JSON {error, error_description}. Tokens are never logged.

import http from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

const API_PORT = Number(process.env.API_PORT || 9100);
const ISSUER = (process.env.ISSUER || 'http://127.0.0.1:9000').replace(/\/$/, '');
const API_AUDIENCE = process.env.API_AUDIENCE || 'http://127.0.0.1:9100';
const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const TEST_HOOKS = process.env.TEST_HOOKS === '1';
const REQUIRED_SCOPE = 'api:read';
const REALM = 'demo-api';

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
});
let stats = newStats();
let fault = null; // { mode: 'hang', remaining: number | null }

function armFault(input) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error('expected a JSON object');
  if (input.mode === 'off') {
    fault = null;
    return;
  }
  if (input.mode !== 'hang') throw new Error('mode must be hang or off');
  let remaining = null;
  if (input.count !== undefined && input.count !== null) {
    if (!Number.isInteger(input.count) || input.count < 1) throw new Error('count must be a positive integer');
    remaining = input.count;
  }
  fault = { mode: 'hang', remaining };
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

class ApiError extends Error {
  constructor(status, error, description, { scope, challengeError = true } = {}) {
    super(description);
    Object.assign(this, { status, error, description, scope, challengeError });
  }
}

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
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!match) throw new ApiError(401, 'invalid_token', 'The Authorization header is not a Bearer token.');

  let jwks;
  try {
    jwks = await getJwks();
  } catch (err) {
    console.error(`api: cannot load provider keys: ${err.message}`);
    throw new ApiError(503, 'temporarily_unavailable', 'The authorization server is unreachable.');
  }

  let payload;
  try {
    ({ payload } = await jwtVerify(match[1], jwks, {
      issuer: ISSUER,
      audience: API_AUDIENCE,
      typ: 'at+jwt', // refuses ID tokens and other JWTs
      algorithms: ['RS256', 'ES256'],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 2,
    }));
  } catch (err) {
    throw new ApiError(401, 'invalid_token', describeJoseError(err));
  }

  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scopes.includes(REQUIRED_SCOPE)) {
    throw new ApiError(403, 'insufficient_scope', `The access token lacks the ${REQUIRED_SCOPE} scope.`, { scope: REQUIRED_SCOPE });
  }
  return payload;
}

function setCors(req, res) {
  const origin = req.headers.origin;
  if (origin !== APP_ORIGIN) return false;
  res.setHeader('Access-Control-Allow-Origin', APP_ORIGIN);
  res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
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

async function handle(req, res) {
  const { pathname } = new URL(req.url, 'http://api.invalid');
  res.setHeader('Vary', 'Origin');

  if (TEST_HOOKS && pathname.startsWith('/__test/')) {
    // Only for the test runner (node); deliberately no CORS headers, JSON POSTs only.
    if (req.method === 'POST' && !isJson(req)) {
      return send(res, 415, { error: 'invalid_request', error_description: 'test hooks take Content-Type: application/json only' });
    }
    if (pathname === '/__test/stats' && req.method === 'GET') return send(res, 200, stats);
    if (pathname === '/__test/reset' && req.method === 'POST') {
      stats = newStats();
      fault = null;
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

  const corsAllowed = setCors(req, res);

  if (pathname === '/api/hello') {
    if (req.method === 'OPTIONS') {
      if (corsAllowed && req.headers['access-control-request-method']) {
        res.setHeader('Access-Control-Allow-Methods', 'GET');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      return send(res, 204);
    }
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, OPTIONS' });

    stats.requests += 1;
    if (TEST_HOOKS && fault) {
      const active = fault;
      if (active.remaining !== null) {
        active.remaining -= 1;
        if (active.remaining <= 0 && fault === active) fault = null;
      }
      stats.faults_served += 1;
      console.log('api fault mode=hang');
      // No answer: wait until the client gives up and closes the connection (counted: a
      // client that stops waiting without aborting leaves it open).
      if (!req.socket.destroyed) await new Promise((resolve) => { req.socket.once('close', resolve); });
      stats.faults_abandoned += 1;
      return undefined;
    }
    try {
      const claims = await authenticate(req);
      stats.ok += 1;
      return send(res, 200, {
        message: `Hello, ${claims.sub}! The API verified your access token.`,
        sub: claims.sub,
        scope: claims.scope,
        expires_at: claims.exp,
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 401) stats.unauthorized += 1;
      if (err.status === 403) stats.forbidden += 1;
      res.locals = { reason: err.description };
      const params = [`realm=${quote(REALM)}`];
      if (err.challengeError && err.status !== 503) {
        params.push(`error=${quote(err.error)}`, `error_description=${quote(err.description)}`);
        if (err.scope) params.push(`scope=${quote(err.scope)}`);
      }
      const headers = err.status === 503 ? { 'Retry-After': '1' } : { 'WWW-Authenticate': `Bearer ${params.join(', ')}` };
      return send(res, err.status, { error: err.error, error_description: err.description }, headers);
    }
  }

  if (pathname === '/' && req.method === 'GET') {
    return send(res, 200, { service: 'demo-api', issuer: ISSUER, audience: API_AUDIENCE });
  }
  return send(res, 404, { error: 'not_found' });
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    const { pathname } = new URL(req.url, 'http://api.invalid');
    if (pathname === '/api/hello' && req.method === 'GET') {
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
  console.log(`api listening on http://127.0.0.1:${API_PORT} (issuer ${ISSUER}, audience ${API_AUDIENCE})`);
});

function shutdown(signal) {
  console.log(`api: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
