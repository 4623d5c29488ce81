// The dev provider's interaction pages (/interaction/:uid): the login form and its cancel
// button, and the silent consent of a first-party client (there is no consent page).

import { configuration, registeredPart, USERS } from './provider-config.mjs';
import { loginPage } from './provider-pages.mjs';

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

// Reached when the request asks for more than loadExistingGrant grants silently (a scope the
// client is not registered for), or with prompt=consent. There is no consent page: what the
// client is registered for is approved, anything beyond it is refused.
async function silentConsent(provider, details, finish) {
  const clientId = details.params.client_id;
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
}

// The interaction of this request, or undefined after an error page (expired, unknown, or
// another uid than the path's).
async function interactionOf(provider, ctx, uid) {
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
    return undefined;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    await configuration.renderError(ctx, { error: 'invalid_request', error_description: 'Interaction mismatch.' });
    return undefined;
  }
  return details;
}

const INTERACTION = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/;

/** Koa middleware serving /interaction/:uid, /interaction/:uid/login and /interaction/:uid/abort. */
export function interactionPages(provider) {
  return async (ctx, next) => {
    const match = INTERACTION.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    ctx.set('Cache-Control', 'no-store');

    const details = await interactionOf(provider, ctx, uid);
    if (!details) return;
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
        await silentConsent(provider, details, finish);
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
      await finish({ error: 'access_denied', error_description: 'The user cancelled the sign-in.' });
      return;
    }

    ctx.throw(405);
  };
}
