// Start-up failures are a clear message on the page, never a blank screen: a config.json the
// app cannot use, and a provider it cannot reach (with a button that retries).

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';

import { ISSUER, expectState, newSession, sel, setupSuite, skipReason } from './harness.mjs';

const skip = skipReason();

describe('start-up errors (browser)', { skip, timeout: 120000 }, () => {
  let suite;
  let context;
  const visit = async (name) => {
    const session = await newSession(suite.browser, name);
    context = session.context;
    await session.page.goto('/');
    return session.page;
  };
  const message = (page) => page.locator('[data-testid=error-message]').textContent();

  before(async () => {
    suite = await setupSuite({ config: {} });
  });
  afterEach(async () => {
    await context?.close();
    await suite.setConfig({});
  });
  after(async () => {
    await suite?.close();
  });

  it('an unusable issuer in config.json is config_invalid, naming the field, with no sign-in button', async () => {
    await suite.setConfig({ issuer: 'http://id.example.com' }); // plain http off loopback
    const page = await visit('insecure-issuer');
    const status = await expectState(page, 'error');
    assert.equal(await status.getAttribute('data-error'), 'config_invalid');
    assert.match(await message(page), /`issuer` must use https/);
    assert.equal(await page.locator(sel.signIn).count(), 0, 'nothing to retry until the config is fixed');
  });

  it('a misspelt required field in config.json is refused by the name it lacks', async () => {
    // Unknown fields are the app's own settings (api_url here) and are ignored; a misspelling
    // of a required field still fails, naming the field that is missing.
    await suite.setConfig({ client_id: undefined, clientid: 'leptos-spa' });
    const page = await visit('unknown-field');
    const status = await expectState(page, 'error');
    assert.equal(await status.getAttribute('data-error'), 'config_invalid');
    assert.match(await message(page), /client_id/);
  });

  it('an unreachable provider costs a first visit nothing; the sign-in is discovery_failed, and one click on "Sign in again" goes on to the provider', async () => {
    const session = await newSession(suite.browser, 'unreachable');
    context = session.context;
    const { page } = session;
    // The network loses every request to the provider until the route is lifted.
    const toProvider = [];
    const provider = (url) => url.origin === ISSUER;
    await context.route(provider, (route) => { toProvider.push(route.request().url()); return route.abort('connectionrefused'); });
    await page.goto('/');
    // Nothing asks the provider before a sign-in: the page settles signed out, with no error.
    const status = await expectState(page, 'signed-out');
    assert.equal(await status.getAttribute('data-error'), null);
    assert.deepEqual(toProvider, [], 'a first visit sends the provider nothing');

    await page.locator(sel.signIn).click();
    const failed = await expectState(page, 'error');
    assert.equal(await failed.getAttribute('data-error'), 'discovery_failed');
    assert.match(await message(page), /identity provider/);
    assert.deepEqual(toProvider, [`${ISSUER}/.well-known/openid-configuration`]);

    await context.unroute(provider); // the provider is back
    await page.locator(sel.signIn).click();
    // Asked again (a failure is not kept), then on to the provider's login form.
    await page.waitForURL((url) => url.href.startsWith(`${ISSUER}/`), { timeout: 20000 });
  });
});
