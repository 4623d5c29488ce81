// Sign-in options against the local provider: the profile page's "Confirm it's you" is a step-up
// with `prompt=login` and `login_hint` (the signed-in person's subject). The provider must ask for
// credentials again although its session lives, and the app comes back to /profile signed in as
// the same person, having exchanged one more code.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  ISSUER, expectState, newSession, sel, setupSuite, skipReason, submitLogin,
} from './harness.mjs';

const skip = skipReason();

describe('Sign-in options: prompt=login and login_hint (browser)', { skip, timeout: 120000 }, () => {
  let suite;
  const sessions = [];

  before(async () => {
    suite = await setupSuite();
  });
  afterEach(async () => {
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('"Confirm it\'s you" asks for the password again (prompt=login, login_hint) and keeps the same person', { timeout: 60000 }, async () => {
    const session = await newSession(suite.browser, 'confirm-identity');
    sessions.push(session);
    const { page, recorder } = session;
    const authorize = [];
    page.on('request', (req) => {
      if (req.isNavigationRequest() && req.url().startsWith(`${ISSUER}/auth?`)) authorize.push(new URL(req.url()).searchParams);
    });

    // /profile is signed-in only: its guard sends the person to the form once.
    await page.goto('/profile');
    await page.locator('#login').waitFor({ timeout: 20000 });
    await submitLogin(page);
    await expectState(page, 'signed-in', 20000);
    const name = (await page.locator(sel.userName).first().textContent()).trim();
    assert.equal(authorize.length, 1, 'one authorization request for the sign-in');

    await page.locator('[data-testid=reauthenticate]').click();
    // The provider's session lives, yet prompt=login shows the form again.
    await page.locator('#login').waitFor({ timeout: 20000 });
    assert.equal(authorize.length, 2);
    const step = authorize[1];
    assert.equal(step.get('prompt'), 'login');
    assert.equal(step.get('login_hint'), 'alice', 'the signed-in subject as the hint');
    await submitLogin(page);
    await expectState(page, 'signed-in', 20000);
    assert.equal(new URL(page.url()).pathname, '/profile', 'back where the step-up started');
    assert.equal((await page.locator(sel.userName).first().textContent()).trim(), name, 'the same person');
    await recorder.settled();
    assert.equal(recorder.byGrant('authorization_code').length, 2, 'one more code exchanged');
  });
});
