// Local OpenID Provider for development and end-to-end tests (oidc-provider v9).
//
// Serves a single public client `leptos-spa` (authorization code + PKCE S256, rotating refresh
// tokens, JWT access tokens for two resource servers (RFC 8707): the demo API, the default
// resource, and the orders API) and one test user: login `alice`, password `wonderland`.
// (With REFERENCE_ORIGIN, a second client for the benchmark's reference page: see below.)
//
// Env (all optional):
//   OP_PORT            9000
//   ISSUER             http://127.0.0.1:$OP_PORT
//   APP_ORIGIN         http://localhost:8080
//   API_AUDIENCE       http://127.0.0.1:9100  the demo API (resource indicator and `aud`; scope api:read)
//   ORDERS_AUDIENCE    http://127.0.0.1:9200  the orders API (likewise; scope orders:read)
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
//
// This file wires the parts together and listens: provider-config.mjs (settings, account,
// clients, oidc-provider configuration and the behaviour notes), provider-pages.mjs (HTML),
// provider-interaction.mjs (login form, silent consent), provider-http.mjs (access log, CORS,
// no framing) and provider-test-hooks.mjs (stats, TEST_HOOKS routes, token fault injection).

import Provider from 'oidc-provider';

import { configuration, ISSUER, OP_PORT, TEST_HOOKS } from './provider-config.mjs';
import { accessLog, corsForKnownOrigins, noFraming } from './provider-http.mjs';
import { interactionPages } from './provider-interaction.mjs';
import { countEvents, countRequests, testHookRoutes, tokenFaults } from './provider-test-hooks.mjs';

const provider = new Provider(ISSUER, configuration);
countEvents(provider);
provider.on('server_error', (_ctx, err) => { console.error('server_error', err); });

// Middleware, in this order, before oidc-provider's own routes.
provider.use(accessLog);
provider.use(countRequests(provider));
provider.use(corsForKnownOrigins);
provider.use(noFraming);
if (TEST_HOOKS) {
  provider.use(testHookRoutes);
  provider.use(tokenFaults(provider));
}
provider.use(interactionPages(provider));

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
