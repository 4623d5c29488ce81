// HTTP middleware of the dev provider that runs before oidc-provider's own routes: the access
// log, CORS for the known browser origins only, and no framing of its HTML pages.

import { CORS_ORIGINS, DPOP } from './provider-config.mjs';

// Access log: method, path (no query string: it can carry codes), status.
export async function accessLog(ctx, next) {
  const started = Date.now();
  try {
    await next();
  } finally {
    console.log(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - started}ms`);
  }
}

// CORS only for the app origin (and REFERENCE_ORIGIN), everywhere: oidc-provider reflects any
// Origin on discovery/jwks and on preflights; drop the grant for any other origin.
export async function corsForKnownOrigins(ctx, next) {
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
}

// HTML pages (login form, logout confirmation, errors) are never shown inside a frame, so a
// click on them cannot be hijacked (clickjacking).
export async function noFraming(ctx, next) {
  await next();
  if (ctx.response.is('html')) {
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
  }
}
