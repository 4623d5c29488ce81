// The dev provider's test statistics and test hooks (GET /__test/stats, POST /__test/reset,
// /__test/fault), with the token endpoint fault injection they arm. The hooks are installed
// only with TEST_HOOKS=1; the statistics are always counted (they are cheap).

import { APP_ORIGIN } from './provider-config.mjs';
import { HOST_REFUSAL, isLoopbackHost } from './test-hooks.mjs';

// ---------------------------------------------------------------------------
// Test statistics (counted from provider events, never from request bodies).
const newStats = () => ({
  token_requests: {}, // by grant_type
  token_successes: {}, // by grant_type
  token_errors: {}, // by grant_type
  token_error_codes: {}, // by OAuth error code
  totals: { requests: 0, successes: 0, errors: 0, faults: 0 },
  authorizations: { success: 0, error: 0 },
  // Every authorization request (GET/POST /auth, not the /auth/:uid resume after the login
  // form), whatever its outcome, and how many of them had prompt=none.
  authorization_requests: { total: 0, prompt_none: 0 },
  logouts: 0,
  // POST /token/revocation: requests, answers by status, refresh tokens found and revoked.
  revocations: { requests: 0, by_status: {}, refresh_tokens_revoked: 0 },
  // Every request by path (no query): how many, and how many carried a Cookie header (its
  // presence only, never its value).
  requests_by_path: {}, // { "/token": { total, with_cookie } }
  // Fault injection (TEST_HOOKS): token requests answered by an armed fault. They are also
  // counted in token_requests (by grant_type) and totals.requests, never in successes/errors.
  faults_served: 0,
  token_faults: {}, // by grant_type
});
let stats = newStats();
const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1; };
const grantTypeOf = (ctx) => ctx.oidc?.params?.grant_type || 'unknown';

/** Counts token, authorization and logout events (never their content). */
export function countEvents(provider) {
  provider.on('grant.success', (ctx) => {
    const gt = grantTypeOf(ctx);
    bump(stats.token_requests, gt);
    bump(stats.token_successes, gt);
    stats.totals.requests += 1;
    stats.totals.successes += 1;
  });
  provider.on('grant.error', (ctx, err) => {
    const gt = grantTypeOf(ctx);
    bump(stats.token_requests, gt);
    bump(stats.token_errors, gt);
    bump(stats.token_error_codes, err.error || 'server_error');
    stats.totals.requests += 1;
    stats.totals.errors += 1;
    // Error codes/descriptions never contain token values.
    console.log(`token error grant_type=${gt} error=${err.error} description=${JSON.stringify(err.error_description ?? '')}`);
  });
  provider.on('authorization.success', () => { stats.authorizations.success += 1; });
  provider.on('authorization.error', (_ctx, err) => {
    stats.authorizations.error += 1;
    console.log(`authorization error=${err.error} description=${JSON.stringify(err.error_description ?? '')}`);
  });
  provider.on('end_session.success', () => { stats.logouts += 1; });
}

// Counts requests (by path, with or without cookies), authorization and revocation requests
// for the test stats (never their content).
export function countRequests(provider) {
  let authorizationPath;
  let revocationPath;
  return async (ctx, next) => {
    authorizationPath ??= provider.pathFor('authorization');
    revocationPath ??= provider.pathFor('revocation');
    if (!ctx.path.startsWith('/__test/')) {
      const byPath = (stats.requests_by_path[ctx.path] ??= { total: 0, with_cookie: 0 });
      byPath.total += 1;
      if (ctx.get('Cookie')) byPath.with_cookie += 1;
    }
    if (ctx.path === authorizationPath && (ctx.method === 'GET' || ctx.method === 'POST')) {
      stats.authorization_requests.total += 1;
      if (ctx.query.prompt === 'none') stats.authorization_requests.prompt_none += 1;
    }
    await next();
    if (ctx.path === revocationPath && ctx.method === 'POST') {
      stats.revocations.requests += 1;
      bump(stats.revocations.by_status, ctx.status);
      if (ctx.status === 200 && ctx.oidc?.entities?.RefreshToken) stats.revocations.refresh_tokens_revoked += 1;
    }
  };
}

// ---------------------------------------------------------------------------
// Fault injection (TEST_HOOKS only): makes the token endpoint fail the way real networks and
// servers do, so tests can check that the app survives a failing refresh.
//
//   POST /__test/fault {"mode": "down"|"hang"|"500"|"503"|"garbage"|"off",
//                       "grant": "refresh_token" (default) | "authorization_code" | "any",
//                       "count": N (optional; how many requests to fault, default unlimited)}
//   GET  /__test/fault  the armed fault ({"fault": null} when none)
//
//   down     the connection is reset (TCP RST), no HTTP answer at all
//   hang     never answers; the socket stays open until the client gives up
//   500/503  plain-text error with that status (and CORS for APP_ORIGIN, so a browser sees it)
//   garbage  200 with an HTML body "<html>oops</html>" (and CORS)
//
// A faulted request never reaches oidc-provider: the refresh token it carried is NOT consumed
// and still works afterwards. POST /__test/reset also disarms the fault. Without an armed fault
// token requests pass through untouched. With one armed, the form body is read here to learn
// the grant_type; a request that is then not faulted is handed on with that body in req.body,
// which oidc-provider's body parser uses when the stream was already read (it warns once).
const FAULT_MODES = new Set(['down', 'hang', '500', '503', 'garbage']);
const FAULT_GRANTS = new Set(['refresh_token', 'authorization_code', 'any']);
let fault = null; // { mode, grant, remaining } (remaining: number or null = unlimited)

async function readRaw(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request entity too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function armFault(input) {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new Error('expected a JSON object');
  const mode = String(input.mode ?? '');
  if (mode === 'off') {
    fault = null;
    return;
  }
  if (!FAULT_MODES.has(mode)) throw new Error(`mode must be one of off, ${[...FAULT_MODES].join(', ')}`);
  const grant = input.grant === undefined ? 'refresh_token' : String(input.grant);
  if (!FAULT_GRANTS.has(grant)) throw new Error(`grant must be one of ${[...FAULT_GRANTS].join(', ')}`);
  let remaining = null;
  if (input.count !== undefined && input.count !== null) {
    if (!Number.isInteger(input.count) || input.count < 1) throw new Error('count must be a positive integer');
    remaining = input.count;
  }
  fault = { mode, grant, remaining };
}

async function serveFault(ctx, active, grantType) {
  if (active.remaining !== null) {
    active.remaining -= 1;
    if (active.remaining <= 0 && fault === active) fault = null;
  }
  stats.faults_served += 1;
  bump(stats.token_faults, grantType);
  bump(stats.token_requests, grantType);
  stats.totals.requests += 1;
  stats.totals.faults += 1;
  console.log(`token fault mode=${active.mode} grant_type=${grantType}`);

  const cors = () => {
    if (ctx.get('Origin') === APP_ORIGIN) {
      ctx.set('Access-Control-Allow-Origin', APP_ORIGIN);
      ctx.set('Vary', 'Origin');
    }
    ctx.set('Cache-Control', 'no-store');
  };
  const socket = ctx.req.socket;
  switch (active.mode) {
    case 'down':
      ctx.respond = false;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    case 'hang':
      ctx.respond = false;
      if (!socket.destroyed) await new Promise((resolve) => { socket.once('close', resolve); });
      return;
    case 'garbage':
      cors();
      ctx.status = 200;
      ctx.type = 'text/html';
      ctx.body = '<html>oops</html>';
      return;
    default: // '500', '503'
      cors();
      ctx.status = Number(active.mode);
      ctx.type = 'text/plain';
      ctx.body = `fault injected: HTTP ${active.mode}\n`;
  }
}

// The test hooks below exist only with TEST_HOOKS=1 (never in a deployment): they let anyone
// who can reach the port read counters and break the token endpoint. They carry no CORS
// headers, and every POST must be `Content-Type: application/json`, which a browser sends
// cross-site only after a CORS preflight that these hooks never grant: a page on another
// site cannot trigger them with a "simple" (form or text/plain) request. Others get 415.
// They answer a loopback Host header only (403 else): a rebound DNS name is refused.
const isJson = (ctx) => (ctx.get('Content-Type') || '').split(';')[0].trim().toLowerCase() === 'application/json';

/** The /__test/* routes. */
export async function testHookRoutes(ctx, next) {
  if (!ctx.path.startsWith('/__test/')) return next();
  ctx.set('Cache-Control', 'no-store');
  if (!isLoopbackHost(ctx.get('Host'))) {
    ctx.status = 403;
    ctx.body = HOST_REFUSAL;
    return;
  }
  if (ctx.method === 'POST' && !isJson(ctx)) {
    ctx.status = 415;
    ctx.body = { error: 'invalid_request', error_description: 'test hooks take Content-Type: application/json only' };
    return;
  }
  if (ctx.path === '/__test/stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/__test/reset' && ctx.method === 'POST') {
    stats = newStats();
    fault = null;
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/fault') {
    if (ctx.method === 'POST') {
      try {
        armFault(JSON.parse((await readRaw(ctx.req, 4096)).toString('utf8') || '{}'));
      } catch (err) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: err.message };
        return;
      }
      console.log(fault ? `fault armed: ${JSON.stringify(fault)}` : 'fault cleared');
    } else if (ctx.method !== 'GET') {
      ctx.throw(405);
    }
    ctx.body = { fault };
    return;
  }
  ctx.status = 404;
  ctx.body = { error: 'not_found' };
}

/** Fault injection at the token endpoint (see above). */
export function tokenFaults(provider) {
  let tokenPath;
  return async (ctx, next) => {
    tokenPath ??= provider.pathFor('token');
    if (fault && ctx.method === 'POST' && ctx.path === tokenPath) {
      const raw = await readRaw(ctx.req);
      const grantType = (ctx.is('application/x-www-form-urlencoded')
        && new URLSearchParams(raw.toString('utf8')).get('grant_type')) || 'unknown';
      // Looked up again after the read: concurrent requests may have used up a counted fault.
      const active = fault;
      if (active && (active.grant === 'any' || active.grant === grantType)) {
        await serveFault(ctx, active, grantType);
        return;
      }
      ctx.req.body = raw; // not faulted: oidc-provider parses this instead of the stream
    }
    await next();
  };
}
