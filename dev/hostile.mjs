// A deliberately misbehaving OpenID provider for the e2e suite (tests/e2e/hostile.test.mjs).
// Plain node:http, no oidc-provider; keys and signatures by jose. There is no login form:
// /authorize answers at once with a code (or, for prompt=none, login_required or the scenario's
// silentError). What the provider does wrong is chosen by a *scenario*, modelled on the OpenID
// Foundation's RP certification tests (id_token signature/claims, key rotation, RFC 9207 iss,
// userinfo sub, broken token responses), and also at refresh time (refresh-*). The table SCENARIOS of
// dev/hostile-scenarios.mjs lists them; each is a few overrides of the correct behaviour (DEFAULTS).
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
//                                      id_tokens}, refusals: [why a request was refused],
//                                      streams: [{path, bytes, started, passed_cap_at, closed_at}]
//                                      (endless answers; ms since the epoch)}
//   Both answer a loopback Host header only (else 403: DNS rebinding).
// One log line per request (method, path, status); never query strings or tokens.

import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';

import {
  DEFAULTS, KEYS, SCENARIOS, TOKEN_TTL_S, atHash, b64url, now, random, sha256,
} from './hostile-scenarios.mjs';
import { HOST_REFUSAL, isLoopbackHost } from './test-hooks.mjs';

const PORT = Number(process.env.HOSTILE_PORT || 9300);
const ISSUER = (process.env.HOSTILE_ISSUER || `http://127.0.0.1:${PORT}`).replace(/\/$/, '');
const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const CLIENT_ID = 'leptos-spa';
const REDIRECT_URI = `${APP_ORIGIN}/callback`;
const CODE_TTL_MS = 60_000;

// ---------------------------------------------------------------------------------------
// State: the scenario, counters, and what was issued (reset by POST /__scenario).

let scenarioName = 'ok';
let scenario = DEFAULTS;
let state;

function reset(name) {
  scenarioName = name;
  scenario = { ...DEFAULTS, callbackIss: ISSUER, ...SCENARIOS[name] };
  state = {
    counts: { discovery: 0, authorize: 0, silent: 0, token: 0, refresh: 0, jwks: 0, userinfo: 0 },
    codes: new Map(), // code -> { challenge, nonce, redirectUri }
    refreshTokens: new Set(),
    accessTokens: new Set(),
    issued: { codes: [], access_tokens: [], refresh_tokens: [], id_tokens: [] },
    refusals: [],
    streams: [],
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
    // A length, as providers send: the client streams (and the test recorder cannot read) only
    // chunked answers, which the endless scenarios send on purpose.
    'Content-Length': Buffer.byteLength(text),
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

const BODY_CAP = 1024 * 1024; // the client's MAX_BODY_BYTES
const FILLER = Buffer.alloc(64 * 1024, ' '); // JSON whitespace: the body stays "valid so far"

/**
 * A 200 JSON answer that never ends: `prefix`, then 64 KiB of spaces every 10 ms (chunked, no
 * Content-Length; none while the socket is backed up) until the client closes the connection.
 * Recorded in state.streams: bytes written, and when (ms since the epoch) they passed the
 * client's 1 MiB cap and the client closed.
 */
function streamForever(res, path, prefix) {
  const record = { path, bytes: 0, started: Date.now(), passed_cap_at: null, closed_at: null };
  state.streams.push(record);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  const write = (chunk) => {
    res.write(chunk);
    record.bytes += chunk.length;
    if (record.passed_cap_at === null && record.bytes > BODY_CAP) record.passed_cap_at = Date.now();
  };
  write(Buffer.from(prefix));
  const timer = setInterval(() => { if (!res.writableNeedDrain) write(FILLER); }, 10);
  return new Promise((resolve) => {
    res.once('close', () => {
      clearInterval(timer);
      record.closed_at = Date.now();
      console.log(`stream ${path}: client closed after ${record.bytes} bytes, ${record.closed_at - record.started}ms`);
      resolve();
    });
  });
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

  if (scenario.stream === 'token') return streamForever(res, '/token', '{"access_token":"');
  if (scenario.tokenReply) {
    const { status, type, body } = scenario.tokenReply();
    return send(res, status, body, { 'Content-Type': type });
  }
  return send(res, 200, await mintTokens({ nonce, refresh }));
}

function jwks(_req, res) {
  state.counts.jwks += 1;
  if (scenario.stream === 'jwks') return streamForever(res, '/jwks', '{"keys":[');
  return send(res, 200, { keys: scenario.jwks(state.counts.jwks).map((name) => KEYS[name].jwk) });
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
    streams: state.streams,
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
  if (control && !isLoopbackHost(req.headers.host)) {
    send(res, 403, HOST_REFUSAL);
    return;
  }
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
