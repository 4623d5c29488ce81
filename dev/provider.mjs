// Local OpenID Provider for development and end-to-end tests (oidc-provider v9).
//
// Serves a single public client `leptos-spa` (authorization code + PKCE S256,
// rotating refresh tokens, JWT access tokens for the demo API) and one test
// user: login `alice`, password `wonderland`. (With REFERENCE_ORIGIN, a second client for the
// benchmark's reference page: see below.)
//
// Env (all optional):
//   OP_PORT            9000
//   ISSUER             http://127.0.0.1:$OP_PORT
//   APP_ORIGIN         http://localhost:8080
//   API_AUDIENCE       http://127.0.0.1:9100
//   ACCESS_TOKEN_TTL   60      seconds
//   REFRESH_TOKEN_TTL  86400   seconds
//   ID_TOKEN_TTL       3600    seconds
//   TEST_HOOKS         1 enables GET /__test/stats, POST /__test/reset and POST /__test/fault
//                      (token endpoint fault injection, see "Fault injection" below)
//   DPOP               on (default) | required | off. DPoP (RFC 9449): `on` lets the client bind
//                      tokens with a DPoP proof (else Bearer as before); `required` refuses
//                      token requests without a proof (client metadata dpop_bound_access_tokens);
//                      `off` disables the feature (a DPoP header is ignored, not advertised).
//   DPOP_NONCE         1: server nonces. A DPoP proof without a current nonce is answered
//                      400 {"error":"use_dpop_nonce"} + a DPoP-Nonce header (token, PAR; 401 at userinfo).
//   PAR                on (default) | required | off. Pushed authorization requests (RFC 9126) at
//                      POST /request; `required` refuses plain authorization requests.
//   REFERENCE_ORIGIN   unset (default), or the origin of the benchmark's reference page
//                      (bench/reference/, an oidc-client-ts page): registers a second public
//                      client `bench-reference` with its redirect `${REFERENCE_ORIGIN}/callback`,
//                      the same scopes and silent grant as the app, and CORS for that origin.
//                      Only bench/run.mjs sets it; unset, nothing changes.
//
// Behaviour notes, verified against oidc-provider 9.13 (see tests/e2e/provider.test.mjs):
// - userinfo does NOT work with the SPA's access token. That token is bound to the API
//   resource (JWT, aud = API_AUDIENCE, scope = 'api:read'), and oidc-provider's userinfo
//   endpoint (a) only accepts access tokens it stored, which JWT-format tokens are not, so it
//   answers 401 invalid_token "invalid token provided", and (b) would refuse any token with an
//   audience anyway ("token audience prevents accessing the userinfo endpoint"). The
//   revocation endpoint likewise refuses JWT access tokens (unsupported_token_type); revoke
//   the refresh token instead. The app reads name/email from the ID token
//   (conformIdTokenClaims: false puts the profile and email claims there).
// - RFC 9207: v9 always adds `iss` to authorization responses (no feature flag); discovery
//   says authorization_response_iss_parameter_supported: true.
// - Reusing a rotated refresh token answers invalid_grant AND revokes the whole grant, so
//   every token of that sign-in stops working (the app must then sign in again).
// - Codes and refresh tokens are bound to the OP session (no offline_access): signing out
//   at the end_session endpoint invalidates the refresh token too.
// - DPoP (see tests/e2e/dpop.test.mjs): a code exchanged with a proof gives token_type "DPoP",
//   an access token with cnf.jkt and a refresh token bound to the same key (public client):
//   refreshing it without a proof, or with another key, is invalid_grant. dpop_jkt in the
//   authorization request (or a DPoP header at PAR) binds the code to a key.

import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

import { HOST_REFUSAL, isLoopbackHost } from './test-hooks.mjs';

const OP_PORT = Number(process.env.OP_PORT || 9000);
const ISSUER = (process.env.ISSUER || `http://127.0.0.1:${OP_PORT}`).replace(/\/$/, '');
const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const API_AUDIENCE = process.env.API_AUDIENCE || 'http://127.0.0.1:9100';
const ACCESS_TOKEN_TTL = Number(process.env.ACCESS_TOKEN_TTL || 60);
const REFRESH_TOKEN_TTL = Number(process.env.REFRESH_TOKEN_TTL || 86400);
const ID_TOKEN_TTL = Number(process.env.ID_TOKEN_TTL || 3600);
const TEST_HOOKS = process.env.TEST_HOOKS === '1';
function choice(name, allowed, fallback) {
  const value = process.env[name] || fallback;
  if (!allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got ${value})`);
  return value;
}
const DPOP = choice('DPOP', ['on', 'required', 'off'], 'on');
const DPOP_NONCE = process.env.DPOP_NONCE === '1';
const PAR = choice('PAR', ['on', 'required', 'off'], 'on');
if (DPOP_NONCE && DPOP === 'off') throw new Error('DPOP_NONCE=1 needs DPOP=on or required');

const CLIENT_ID = 'leptos-spa';
const REFERENCE_ORIGIN = process.env.REFERENCE_ORIGIN ? process.env.REFERENCE_ORIGIN.replace(/\/$/, '') : undefined;
const REFERENCE_CLIENT_ID = 'bench-reference';
// Clients that get what they are registered for without a consent page (see loadExistingGrant).
const FIRST_PARTY = new Set([CLIENT_ID, ...(REFERENCE_ORIGIN ? [REFERENCE_CLIENT_ID] : [])]);
// Browser origins allowed to call the provider (CORS), each for its own client only.
const CORS_ORIGINS = new Map([[APP_ORIGIN, CLIENT_ID], ...(REFERENCE_ORIGIN ? [[REFERENCE_ORIGIN, REFERENCE_CLIENT_ID]] : [])]);
const API_SCOPE = 'api:read';
// The API also knows a write scope, which the SPA is NOT registered for.
const API_SCOPES = [API_SCOPE, 'api:write'];

// What the first-party client is registered for, and so what it gets without a consent page:
// these OIDC scopes (oidc-provider itself refuses any other known scope with invalid_scope)
// and these scopes per resource server. Anything else needs a consent this provider never
// gives: prompt=none answers consent_required, an interactive request access_denied.
const CLIENT_OIDC_SCOPES = ['openid', 'profile', 'email'];
const CLIENT_RESOURCE_SCOPES = { [API_AUDIENCE]: [API_SCOPE] };

// ---------------------------------------------------------------------------
// The one test account.
const USERS = new Map([
  ['alice', {
    password: 'wonderland',
    claims: {
      sub: 'alice',
      name: 'Alice Liddell',
      given_name: 'Alice',
      family_name: 'Liddell',
      preferred_username: 'alice',
      email: 'alice@example.test',
      email_verified: true,
    },
  }],
]);

async function findAccount(_ctx, sub) {
  const user = USERS.get(sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    // oidc-provider masks the result by granted scope/claims itself.
    async claims() { return { ...user.claims }; },
  };
}

// ---------------------------------------------------------------------------
// Keys: fresh on every start, so tokens from a previous run never verify.
async function makeJwks() {
  const keys = [];
  for (const alg of ['RS256', 'ES256']) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomUUID()}` });
  }
  return { keys };
}

// ---------------------------------------------------------------------------
// HTML helpers (no external resources: the machine has no internet access).
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  // No script on these pages: nothing here submits itself.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; padding: 2rem 1rem; background: #f4f4f7; color: #1b1b1f; }
  main { max-width: 22rem; margin: 0 auto; background: #fff; padding: 1.5rem; border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  .actions { display: flex; gap: .5rem; margin-top: 1rem; }
  button { padding: .5rem 1rem; font-size: 1rem; cursor: pointer; }
  #sign-in-submit { background: #2456c6; color: #fff; border: 0; border-radius: .25rem; }
  [role=alert] { color: #a30000; background: #fde8e8; padding: .5rem; border-radius: .25rem; }
  .hint { color: #555; font-size: .85rem; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function loginPage({ uid, clientName, login = '', error }) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('Sign in', `
<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientName)}</strong></p>
${error ? `<p role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="${action}/login">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" value="${esc(login)}" required autofocus
         autocomplete="username" autocapitalize="off" spellcheck="false"${error ? ' aria-describedby="login-error"' : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required autocomplete="current-password">
  <div class="actions">
    <button type="submit" id="sign-in-submit">Sign in</button>
    <button type="submit" id="cancel" formaction="${action}/abort" formnovalidate>Cancel</button>
  </div>
</form>
<p class="hint">Development provider. Test user: <code>alice</code> / <code>wonderland</code>.</p>`);
}

// ---------------------------------------------------------------------------
// Provider configuration.
const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_name: 'Leptos SPA (dev)',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${APP_ORIGIN}/callback`],
    post_logout_redirect_uris: [`${APP_ORIGIN}/`],
    // DPOP=required: token requests without a DPoP proof are refused (no Bearer tokens).
    ...(DPOP === 'required' ? { dpop_bound_access_tokens: true } : {}),
    scope: CLIENT_OIDC_SCOPES.join(' '),
  },
  // The benchmark's baseline (REFERENCE_ORIGIN): like the app's registration, but it never
  // requires DPoP (oidc-client-ts sends Bearer requests) and has no logout redirect.
  ...(REFERENCE_ORIGIN ? [{
    client_id: REFERENCE_CLIENT_ID,
    client_name: 'oidc-client-ts reference (benchmark)',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [`${REFERENCE_ORIGIN}/callback`],
    scope: CLIENT_OIDC_SCOPES.join(' '),
  }] : [])],

  jwks: await makeJwks(),
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
  },

  findAccount,
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // openid/profile/email are OIDC scopes; api:read is a resource-server scope (below).
  scopes: ['openid'],
  // Put profile/email claims in the ID token (the access token is for the API only).
  conformIdTokenClaims: false,

  responseTypes: ['code'],
  // Only public clients here; don't advertise secret-based methods.
  clientAuthMethods: ['none'],
  pkce: {
    // S256 is the only method oidc-provider v9 accepts; require it for every client.
    required: () => true,
  },

  // Always issue refresh tokens to clients allowed to use them; no offline_access needed.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Rotate on every use; a reused (consumed) refresh token fails with invalid_grant.
  rotateRefreshToken: true,

  // First-party app: what it is registered for is granted silently, nothing more.
  loadExistingGrant,

  // CORS for token/userinfo/revocation: only the app origin (discovery/jwks: see middleware),
  // and the reference page's origin for its own client.
  clientBasedCORS: (_ctx, origin, client) => CORS_ORIGINS.get(origin) === client?.clientId,

  ttl: {
    AccessToken: () => ACCESS_TOKEN_TTL,
    AuthorizationCode: () => 60,
    IdToken: () => ID_TOKEN_TTL,
    Interaction: () => 60 * 60,
    // Keep the session and grant at least as long as refresh tokens (tokens are session-bound).
    Session: () => Math.max(REFRESH_TOKEN_TTL, ID_TOKEN_TTL),
    Grant: () => Math.max(REFRESH_TOKEN_TTL, ID_TOKEN_TTL),
    RefreshToken(ctx, token, client) {
      // Like oidc-provider's default: a rotated public-client refresh token inherits the
      // remaining lifetime, so rotation never extends a sign-in beyond REFRESH_TOKEN_TTL.
      const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
      if (rotated && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
        return rotated.remainingTTL;
      }
      return REFRESH_TOKEN_TTL;
    },
  },

  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    revocation: { enabled: true },
    // PAR (RFC 9126): POST /request; PAR=required also says so in discovery.
    pushedAuthorizationRequests: {
      enabled: PAR !== 'off',
      requirePushedAuthorizationRequests: PAR === 'required',
    },
    // DPoP (RFC 9449), ES256/Ed25519/EdDSA proofs. DPOP_NONCE=1: nonces are required
    // wherever oidc-provider checks a proof (token, PAR, userinfo); they rotate every 60 s.
    dPoP: {
      enabled: DPOP !== 'off',
      ...(DPOP_NONCE ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
    },
    rpInitiatedLogout: {
      enabled: true,
      // The confirmation needs a real click. An auto-submitted confirmation would be a logout
      // CSRF: any site could send the browser to end_session and sign the person out. `form` is
      // oidc-provider's <form id="op.logoutForm"> with its xsrf field; the buttons submit it.
      // "Sign out" (logout=yes) ends the provider session and every grant of it; the other
      // button only ends this client's grant and keeps the provider session (oidc-provider's
      // "No, stay signed in"). Either way the person returns to post_logout_redirect_uri with
      // the app's `state`. The page cannot be framed (see "HTML pages" below), so the click
      // cannot be hijacked either.
      async logoutSource(ctx, form) {
        const clientName = ctx.oidc.client?.clientName;
        ctx.body = page('Sign out', `
<h1>Sign out?</h1>
<p>${clientName ? `<strong>${esc(clientName)}</strong> asks to sign you out.` : 'An application asks to sign you out.'}
Signing out also ends your session at this identity provider.</p>
${form}
<div class="actions">
  <button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-confirm" autofocus>Sign out</button>
  <button type="submit" form="op.logoutForm" id="logout-app-only">Keep my provider session</button>
</div>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<h1>Signed out</h1><p>You have been signed out.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      // The SPA does not have to send `resource`: the API is the default resource.
      defaultResource: async () => API_AUDIENCE,
      // Token endpoint requests without `resource` get a token for the granted resource.
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator !== API_AUDIENCE) throw new errors.InvalidTarget();
        return {
          scope: API_SCOPES.join(' '),
          audience: API_AUDIENCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },

  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in error', `
<h1>Something went wrong</h1>
<p role="alert"><strong>${esc(out.error)}</strong>${out.error_description ? `: ${esc(out.error_description)}` : ''}</p>`);
  },
};

// The silent consent of a first-party client, restricted to what it is registered for.
// `missing` is what a request asks for beyond the grant (OIDC scopes, resource scopes by
// resource indicator); returns the part this client may get without asking the person, and
// whether anything asked for is outside that (then no consent is given at all).
function registeredPart(clientId, { oidcScopes = [], resourceScopes = {} }) {
  const firstParty = FIRST_PARTY.has(clientId);
  const allowedOIDC = new Set(firstParty ? CLIENT_OIDC_SCOPES : []);
  const oidc = oidcScopes.filter((s) => allowedOIDC.has(s));
  let outside = oidc.length !== oidcScopes.length;
  const resources = {};
  for (const [indicator, scopes] of Object.entries(resourceScopes)) {
    const allowed = new Set(firstParty ? CLIENT_RESOURCE_SCOPES[indicator] ?? [] : []);
    const ok = scopes.filter((s) => allowed.has(s));
    if (ok.length !== scopes.length) outside = true;
    if (ok.length) resources[indicator] = ok;
  }
  return { oidc, resources, outside };
}

// Creates or extends the session's grant of the first-party client with the requested scopes
// it is registered for, and nothing else: no other client, no unregistered scope, no `claims`
// request parameter (features.claimsParameter stays off). If the request asks for more,
// oidc-provider's consent prompt follows (see the interaction handler: it refuses).
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const accountId = oidc.session.accountId;
  const clientId = oidc.client.clientId;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);

  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!FIRST_PARTY.has(clientId)) return grant;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }

  const resourceScopes = {};
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
    resourceScopes[indicator] = [...oidc.requestParamScopes].filter((s) => resourceServer.scopes.has(s));
  }
  const { oidc: oidcScopes, resources } = registeredPart(clientId, {
    oidcScopes: [...oidc.requestParamOIDCScopes],
    resourceScopes,
  });
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  for (const [indicator, scopes] of Object.entries(resources)) grant.addResourceScope(indicator, scopes.join(' '));
  await grant.save();
  return grant;
}

const provider = new Provider(ISSUER, configuration);

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
provider.on('server_error', (_ctx, err) => { console.error('server_error', err); });

// ---------------------------------------------------------------------------
// Middleware (runs before oidc-provider's own routes).

// Access log: method, path (no query string: it can carry codes), status.
provider.use(async (ctx, next) => {
  const started = Date.now();
  try {
    await next();
  } finally {
    console.log(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
  }
});

// Counts requests (by path, with or without cookies), authorization and revocation requests
// for the test stats (never their content).
let authorizationPath;
let revocationPath;
provider.use(async (ctx, next) => {
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
});

// CORS only for the app origin (and REFERENCE_ORIGIN), everywhere: oidc-provider reflects any
// Origin on discovery/jwks and on preflights; drop the grant for any other origin.
provider.use(async (ctx, next) => {
  await next();
  const origin = ctx.get('Origin');
  if (origin && !CORS_ORIGINS.has(origin)) {
    ctx.remove('Access-Control-Allow-Origin');
    ctx.remove('Access-Control-Allow-Credentials');
  }
  // oidc-provider exposes DPoP-Nonce on token/PAR/userinfo only with DPOP_NONCE=1 and never
  // on revocation; expose it wherever the app may read headers (harmless when never sent).
  const exposed = ctx.response.get('Access-Control-Expose-Headers');
  if (DPOP !== 'off' && exposed && !/\bDPoP-Nonce\b/i.test(exposed)) {
    ctx.set('Access-Control-Expose-Headers', `${exposed},DPoP-Nonce`);
  }
});

// HTML pages (login form, logout confirmation, errors) are never shown inside a frame, so a
// click on them cannot be hijacked (clickjacking).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.response.is('html')) {
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
  }
});

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
let tokenPath;

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

if (TEST_HOOKS) {
  provider.use(async (ctx, next) => {
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
  });

  // Fault injection at the token endpoint (see above).
  provider.use(async (ctx, next) => {
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
  });
}

async function readForm(ctx, limit = 16 * 1024) {
  if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
  let size = 0;
  const chunks = [];
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > limit) ctx.throw(413);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Interaction pages: login form, cancel, silent consent.
const INTERACTION = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/;
provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (!match) return next();
  const [, uid, action] = match;
  ctx.set('Cache-Control', 'no-store');

  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    // Expired/unknown interaction (e.g. an old tab): show an error page, not a stack.
    ctx.status = 400;
    await configuration.renderError(ctx, {
      error: err.error || 'invalid_request',
      error_description: 'This sign-in request has expired or is unknown. Go back to the app and sign in again.',
    });
    return;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    await configuration.renderError(ctx, { error: 'invalid_request', error_description: 'Interaction mismatch.' });
    return;
  }

  const clientId = details.params.client_id;
  const clientName = (await provider.Client.find(clientId))?.clientName || clientId;
  const finish = async (result) => {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(returnTo);
  };

  if (ctx.method === 'GET' && !action) {
    if (details.prompt.name === 'login') {
      ctx.type = 'html';
      ctx.body = loginPage({ uid, clientName, login: details.params.login_hint || '' });
      return;
    }
    if (details.prompt.name === 'consent') {
      // Reached when the request asks for more than loadExistingGrant grants silently (a scope
      // the client is not registered for), or with prompt=consent. There is no consent page:
      // what the client is registered for is approved, anything beyond it is refused.
      const { missingOIDCScope = [], missingResourceScopes = {} } = details.prompt.details;
      const { oidc: oidcScopes, resources, outside } = registeredPart(clientId, {
        oidcScopes: missingOIDCScope,
        resourceScopes: missingResourceScopes,
      });
      if (outside) {
        await finish({
          error: 'access_denied',
          error_description: 'The application asked for access it is not registered for.',
        });
        return;
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId });
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      for (const [indicator, scopes] of Object.entries(resources)) grant.addResourceScope(indicator, scopes.join(' '));
      await finish({ consent: { grantId: await grant.save() } });
      return;
    }
    ctx.throw(400, `unsupported prompt ${details.prompt.name}`);
  }

  if (ctx.method === 'POST' && action === 'login') {
    const form = await readForm(ctx);
    const login = (form.get('login') || '').trim();
    const user = USERS.get(login);
    if (!user || form.get('password') !== user.password) {
      ctx.type = 'html';
      ctx.body = loginPage({ uid, clientName, login, error: 'Invalid username or password.' });
      return;
    }
    await finish({ login: { accountId: login } });
    return;
  }

  if (ctx.method === 'POST' && action === 'abort') {
    await finish({
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in.',
    });
    return;
  }

  ctx.throw(405);
});

// ---------------------------------------------------------------------------
const server = provider.listen(OP_PORT, new URL(ISSUER).hostname === 'localhost' ? 'localhost' : '127.0.0.1', () => {
  console.log(`provider listening on ${ISSUER}`);
});

function shutdown(signal) {
  console.log(`provider: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
