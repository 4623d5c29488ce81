// The demo on leptos_router: the signed-in-only /profile behind <RequireAuth>, and what the
// session hint and the callback rules mean for ordinary pages. Each test counts what a loop or
// a bounce would add (authorization requests, token requests, the app's document loads), waits
// until those counts stop moving, and asserts small exact numbers.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  APP, ISSUER, expectState, newSession, resetStats, sel, setupSuite, skipReason, stats,
  submitLogin, waitForQuiet,
} from './harness.mjs';

const skip = skipReason();

const isMainDocument = (page, req) => req.isNavigationRequest() && req.frame() === page.mainFrame();

describe('Signed-in-only route and first visits (browser, leptos_router)', { skip, timeout: 300000 }, () => {
  let suite;
  const sessions = [];
  // A new person (fresh context: no provider session, no session hint) whose page counts the
  // authorization requests it makes (with their `prompt`) and the app documents it loads.
  const open = async (name) => {
    const session = await newSession(suite.browser, name);
    sessions.push(session);
    const { page } = session;
    session.authorize = [];
    session.appLoads = [];
    page.on('request', (req) => {
      if (!isMainDocument(page, req)) return;
      const url = new URL(req.url());
      if (req.url().startsWith(`${ISSUER}/auth?`)) session.authorize.push(url.searchParams.get('prompt') ?? '');
      if (url.origin === APP) session.appLoads.push(url.pathname);
    });
    session.counts = () => ({
      authorize: session.authorize.length,
      appLoads: session.appLoads.length,
      tokenRequests: session.recorder.requests.length,
    });
    return session;
  };
  const quiet = (session) => waitForQuiet(session.counts, { page: session.page });

  before(async () => {
    suite = await setupSuite();
  });
  afterEach(async () => {
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('a. a signed-out visit to /profile goes to the provider once and comes back to /profile signed in', { timeout: 60000 }, async () => {
    const session = await open('guard-a');
    const { page } = session;

    await page.goto('/profile');
    // Nobody clicked anything: the guard started the sign-in by itself.
    await page.locator('#login').waitFor({ timeout: 20000 });
    await submitLogin(page);
    await expectState(page, 'signed-in', 20000);
    const claims = page.locator('dl.claims');
    await claims.filter({ hasText: 'Alice Liddell' }).waitFor();

    assert.equal(page.url(), `${APP}/profile`, 'back on /profile, without code or state');
    assert.equal(await page.getByRole('link', { name: 'Profile' }).getAttribute('aria-current'), 'page');
    assert.equal(await page.getByRole('link', { name: 'Home' }).getAttribute('aria-current'), null);
    assert.deepEqual(await quiet(session), { authorize: 1, appLoads: 2, tokenRequests: 1 },
      'one authorization request, two app documents (/profile, /callback), one code exchange');
    assert.deepEqual(session.authorize, [''], 'an interactive request, not prompt=none');
    assert.deepEqual(session.appLoads, ['/profile', '/callback']);
  });

  it('b. a cancelled sign-in on /profile shows the error and does not redirect again', { timeout: 60000 }, async () => {
    const session = await open('guard-b');
    const { page } = session;

    await page.goto('/profile');
    await page.locator('#login').waitFor({ timeout: 20000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    const status = await expectState(page, 'error', 20000);
    assert.equal(await status.getAttribute('data-error'), 'access_denied');
    await page.locator('[data-testid=error-message]').filter({ hasText: 'cancelled' }).waitFor();
    // The guard's signed-out view explains instead of leaving again.
    await page.getByRole('button', { name: 'Sign in to see your profile' }).waitFor();
    assert.equal(page.url(), `${APP}/profile`);

    assert.deepEqual(await quiet(session), { authorize: 1, appLoads: 2, tokenRequests: 0 },
      'one authorization request, two app documents (/profile, /callback), no code exchange');

    // Going home and back to /profile in the app starts nothing either.
    await page.getByRole('link', { name: 'Home' }).click();
    await page.getByRole('heading', { name: 'Protected API' }).waitFor();
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('button', { name: 'Sign in to see your profile' }).waitFor();
    assert.deepEqual(await quiet(session), { authorize: 1, appLoads: 2, tokenRequests: 0 }, 'still one of each');
    assert.equal(await page.locator('#login').count(), 0, 'no login form shown again');
  });

  it('d. a first visit to / stays on the page and sends the provider nothing, not even discovery', { timeout: 60000 }, async () => {
    await resetStats();
    const session = await open('first-visit');
    const { page } = session;
    const toProvider = [];
    session.context.on('request', (req) => { if (new URL(req.url()).origin === ISSUER) toProvider.push(req.url()); });

    await page.goto('/');
    const status = await expectState(page, 'signed-out');
    assert.equal(await status.getAttribute('data-error'), null, 'no error shown');
    await page.locator(sel.signIn).waitFor({ state: 'visible' });
    assert.deepEqual(await quiet(session), { authorize: 0, appLoads: 1, tokenRequests: 0 });
    assert.equal(page.url(), `${APP}/`);
    assert.equal((await stats()).authorization_requests.total, 0, 'the provider saw no authorization request');
    assert.deepEqual(toProvider, [], 'no request from the page to the provider');
  });

  it('e. a query with code and state on an ordinary page is the app\'s: kept, not taken as a callback', { timeout: 60000 }, async () => {
    const session = await open('promo');
    const { page } = session;
    const address = `${APP}/?promo=1&code=SPRING25&state=NY`;

    await page.goto(address);
    const status = await expectState(page, 'signed-out');
    assert.equal(await status.getAttribute('data-error'), null, 'no state_mismatch: not a callback');
    await page.getByRole('heading', { name: 'Protected API' }).waitFor();
    assert.deepEqual(await quiet(session), { authorize: 0, appLoads: 1, tokenRequests: 0 });
    assert.equal(page.url(), address, 'the query is untouched');
  });
});
