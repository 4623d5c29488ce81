// The dev provider's settings (from the environment), its one test account, its clients and
// the oidc-provider configuration. The entry point is provider.mjs, whose header lists the env.
//
//
// Behaviour notes, verified against oidc-provider 9.13 (see tests/e2e/provider.test.mjs):
// - userinfo does NOT work with the SPA's access tokens. Each is bound to one resource (JWT,
//   aud = API_AUDIENCE with scope 'api:read', or ORDERS_AUDIENCE with 'orders:read': see
//   "Resource indicators" below), and oidc-provider's userinfo endpoint (a) only accepts
//   access tokens it stored, which JWT-format tokens are not, so it answers 401
//   invalid_token "invalid token provided", and (b) would refuse any token with an
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
// - Resource indicators, RFC 8707 (see tests/e2e/provider-resources.test.mjs): two resource
//   servers, the demo API (API_AUDIENCE, the default) and the orders API (ORDERS_AUDIENCE). An
//   authorization request (or PAR) may repeat `resource`; the grant gets each one's registered
//   scopes silently, and the code and its refresh tokens remember every resource and scope
//   named. Each token request yields ONE access token with ONE audience (`aud` a string),
//   scoped to that resource's granted scopes only (the response's `scope` says which): the
//   code exchange or a refresh names one `resource`, optionally narrowing `scope` (e.g.
//   resource=orders&scope=orders:read). Naming none gives the demo API's token, also when both
//   are granted (defaultResource); naming several is invalid_target ("only a single resource
//   indicator value ..."). Any refresh token of the (one, rotating) chain can ask for either.
// - A token request for a resource that is not in the code / refresh token (not named at
//   authorization, unknown, or several) is invalid_target AND spends the code or refresh
//   token: oidc-provider consumes the code, or rotates the refresh token, before it resolves
//   the resource. The new refresh token is never handed out, and presenting the old one again
//   is reuse (invalid_grant, grant revoked). Only ask for resources named at authorization.
// - A refresh with scope=orders:read (no openid) answers without an ID token; one without a
//   `scope` parameter keeps the refresh token's scopes, openid included, and gets one.
// - DPoP with several resources works as with one: every access token carries cnf.jkt of the
//   request's proof, and the refresh token stays bound to the key of the code exchange,
//   whichever resource a refresh asks for.
// - A resource named without any of its scopes in `scope` is granted nothing, yet a token for
//   it is still issued: no `scope` claim (its API answers 403 insufficient_scope). orders:write
//   (not registered) is like api:write: consent_required to prompt=none, else access_denied.

import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { errors } from 'oidc-provider';

import { errorPage, logoutPage, signedOutPage } from './provider-pages.mjs';

export const OP_PORT = Number(process.env.OP_PORT || 9000);
export const ISSUER = (process.env.ISSUER || `http://127.0.0.1:${OP_PORT}`).replace(/\/$/, '');
export const APP_ORIGIN = (process.env.APP_ORIGIN || 'http://localhost:8080').replace(/\/$/, '');
const API_AUDIENCE = process.env.API_AUDIENCE || 'http://127.0.0.1:9100';
const ORDERS_AUDIENCE = process.env.ORDERS_AUDIENCE || 'http://127.0.0.1:9200';
if (ORDERS_AUDIENCE === API_AUDIENCE) throw new Error('ORDERS_AUDIENCE must differ from API_AUDIENCE (one audience per resource server)');
const ACCESS_TOKEN_TTL = Number(process.env.ACCESS_TOKEN_TTL || 60);
const REFRESH_TOKEN_TTL = Number(process.env.REFRESH_TOKEN_TTL || 86400);
const ID_TOKEN_TTL = Number(process.env.ID_TOKEN_TTL || 3600);
export const TEST_HOOKS = process.env.TEST_HOOKS === '1';
function choice(name, allowed, fallback) {
  const value = process.env[name] || fallback;
  if (!allowed.includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got ${value})`);
  return value;
}
export const DPOP = choice('DPOP', ['on', 'required', 'off'], 'on');
const DPOP_NONCE = process.env.DPOP_NONCE === '1';
const PAR = choice('PAR', ['on', 'required', 'off'], 'on');
if (DPOP_NONCE && DPOP === 'off') throw new Error('DPOP_NONCE=1 needs DPOP=on or required');

const CLIENT_ID = 'leptos-spa';
const REFERENCE_ORIGIN = process.env.REFERENCE_ORIGIN ? process.env.REFERENCE_ORIGIN.replace(/\/$/, '') : undefined;
const REFERENCE_CLIENT_ID = 'bench-reference';
// Clients that get what they are registered for without a consent page (see loadExistingGrant).
const FIRST_PARTY = new Set([CLIENT_ID, ...(REFERENCE_ORIGIN ? [REFERENCE_CLIENT_ID] : [])]);
// Browser origins allowed to call the provider (CORS), each for its own client only.
export const CORS_ORIGINS = new Map([[APP_ORIGIN, CLIENT_ID], ...(REFERENCE_ORIGIN ? [[REFERENCE_ORIGIN, REFERENCE_CLIENT_ID]] : [])]);
const API_SCOPE = 'api:read';
const ORDERS_SCOPE = 'orders:read';
// The resource servers by audience (= resource indicator) and the scopes each knows: the demo
// API and the orders API each also know a write scope, which the SPA is NOT registered for.
const RESOURCE_SERVERS = new Map([
  [API_AUDIENCE, [API_SCOPE, 'api:write']],
  [ORDERS_AUDIENCE, [ORDERS_SCOPE, 'orders:write']],
]);

// What the first-party client is registered for, and so what it gets without a consent page:
// these OIDC scopes (oidc-provider itself refuses any other known scope with invalid_scope)
// and these scopes per resource server. Anything else needs a consent this provider never
// gives: prompt=none answers consent_required, an interactive request access_denied.
const CLIENT_OIDC_SCOPES = ['openid', 'profile', 'email'];
const CLIENT_RESOURCE_SCOPES = { [API_AUDIENCE]: [API_SCOPE], [ORDERS_AUDIENCE]: [ORDERS_SCOPE] };

// ---------------------------------------------------------------------------
// The one test account.
export const USERS = new Map([
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
// Provider configuration.
export const configuration = {
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
  // openid/profile/email are OIDC scopes; api:read and orders:read are resource-server scopes (below).
  scopes: ['openid'],
  // Put profile/email claims in the ID token (the access tokens are for the APIs only).
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
      // the app's `state`. The page cannot be framed (noFraming in provider-http.mjs), so
      // the click cannot be hijacked either.
      async logoutSource(ctx, form) {
        ctx.body = logoutPage(ctx.oidc.client?.clientName, form);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = signedOutPage();
      },
    },
    resourceIndicators: {
      enabled: true,
      // The SPA does not have to send `resource`: the demo API is the default resource, at the
      // authorization request (oneOf undefined) and at a token request that names none while
      // the grant holds several (oneOf = the granted ones). A token request naming several
      // keeps them: oidc-provider then answers invalid_target (one audience per token).
      async defaultResource(ctx, _client, oneOf) {
        if (!oneOf) return API_AUDIENCE;
        if (!Array.isArray(ctx.oidc.params.resource) && oneOf.includes(API_AUDIENCE)) return API_AUDIENCE;
        return oneOf;
      },
      // Token endpoint requests without `resource` get a token for the granted resource.
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, resourceIndicator) {
        const scopes = RESOURCE_SERVERS.get(resourceIndicator);
        if (!scopes) throw new errors.InvalidTarget();
        return {
          scope: scopes.join(' '),
          audience: resourceIndicator,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },

  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = errorPage(out);
  },
};

// The silent consent of a first-party client, restricted to what it is registered for.
// `missing` is what a request asks for beyond the grant (OIDC scopes, resource scopes by
// resource indicator); returns the part this client may get without asking the person, and
// whether anything asked for is outside that (then no consent is given at all).
export function registeredPart(clientId, { oidcScopes = [], resourceScopes = {} }) {
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
