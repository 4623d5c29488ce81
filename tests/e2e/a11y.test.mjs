// Accessibility of the built app: axe-core finds nothing on each state (signed out, signing in,
// signed in, errors), sign-in and sign-out work with the keyboard alone (the provider's form
// too), and status changes happen inside a live region that was on the page before them.
//
// axe is injected with page.addScriptTag, which the app's own CSP refuses (no inline scripts,
// no Trusted Types policy): the axe context alone uses playwright's bypassCSP.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  APP, TOKEN_ENDPOINT, expectState, newSession, sel, setupSuite, skipReason, submitLogin,
} from './harness.mjs';

const skip = skipReason();
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page as it is now, as readable lines. */
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A gate: requests to `url` wait until release() is called. */
async function hold(page, url) {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  let held = 0;
  await page.route(url, async (route) => {
    held += 1;
    await gate;
    await route.continue();
  });
  return { release: () => release(), held: () => held };
}

/** Presses Tab until `selector` has the focus; returns how many presses it took. */
async function tabTo(page, selector, max = 20) {
  for (let presses = 1; presses <= max; presses += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return presses;
  }
  throw new Error(`${selector} not reached with ${max} presses of Tab`);
}

describe('accessibility (browser)', { skip, timeout: 180000 }, () => {
  let suite;
  let context;

  before(async () => {
    suite = await setupSuite();
  });
  afterEach(async () => {
    await context?.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('axe: no violations when signed out, signing in, signed in, and on errors', { timeout: 60000 }, async () => {
    context = await suite.browser.newContext({ baseURL: APP, bypassCSP: true });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const check = async (label) => assert.deepEqual(await axeViolations(page), [], `axe on ${label}`);

    await page.goto('/');
    await expectState(page, 'signed-out');
    await check('signed-out');

    const token = await hold(page, TOKEN_ENDPOINT);
    await page.locator(sel.signIn).click();
    await submitLogin(page);
    await expectState(page, 'signing-in', 20000);
    await check('signing-in');
    token.release();
    await expectState(page, 'signed-in', 20000);
    await check('signed-in');
    await page.locator(sel.callApi).click();
    await page.locator(sel.apiResult).filter({ hasText: 'Hello' }).waitFor();
    await check('signed-in, API answered');
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.locator('dl.claims').waitFor();
    await check('signed-in, profile');
    await page.unroute(TOKEN_ENDPOINT);

    // A callback that matches no sign-in of this tab.
    await page.goto('/callback?code=forged&state=forged');
    const forged = await expectState(page, 'error');
    assert.equal(await forged.getAttribute('data-error'), 'state_mismatch');
    await check('error (state_mismatch)');

    // Cancelled at the provider (new context: no provider session).
    await context.close();
    context = await suite.browser.newContext({ baseURL: APP, bypassCSP: true });
    context.setDefaultTimeout(15000);
    const fresh = await context.newPage();
    await fresh.goto('/');
    await fresh.locator(sel.signIn).click();
    await fresh.getByRole('button', { name: 'Cancel' }).click();
    const denied = await expectState(fresh, 'error', 20000);
    assert.equal(await denied.getAttribute('data-error'), 'access_denied');
    assert.deepEqual(await axeViolations(fresh), [], 'axe on error (access_denied)');
  });

  it('the error says what happened and what to do next', async () => {
    let page;
    ({ context, page } = await newSession(suite.browser, 'error-words'));
    await page.goto('/callback?code=forged&state=forged');
    const status = await expectState(page, 'error');
    const text = (await status.innerText()).replace(/\s+/g, ' ');
    assert.match(await page.locator('[data-testid=error-message]').innerText(), /does not match a sign-in started in this tab/);
    assert.match(text, /Sign-in did not complete/, 'what happened');
    assert.match(text, /choose “Sign in again”/, 'what to do next');
    assert.match(text, /state_mismatch/, 'the code, for support');
    await page.getByRole('button', { name: 'Sign in again' }).waitFor();
  });

  it('signs in and out with the keyboard alone, with a visible focus', { timeout: 60000 }, async () => {
    let page;
    ({ context, page } = await newSession(suite.browser, 'keyboard'));
    await page.goto('/');
    await expectState(page, 'signed-out');

    await tabTo(page, sel.signIn);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused button shows a focus outline');
    await page.keyboard.press('Enter');

    // The provider's form: the username field has the focus (autofocus), Tab to the password.
    await page.locator('#login').waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'login');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type('wonderland');
    await page.keyboard.press('Enter');
    await expectState(page, 'signed-in', 20000);
    assert.equal(new URL(page.url()).origin, APP);

    await tabTo(page, sel.signOut);
    await page.keyboard.press('Enter');
    // The provider asks to confirm (a click, never an auto-submit: no logout CSRF); its
    // "Sign out" button has the focus, so Enter confirms.
    await page.locator('#logout-confirm').waitFor({ timeout: 20000 });
    await page.waitForFunction(() => document.activeElement?.id === 'logout-confirm');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.origin === APP && !url.search, { timeout: 20000 });
    await expectState(page, 'signed-out', 20000);
    await page.locator(sel.signIn).waitFor();
  });

  it('status changes happen inside a live region that was there before them', { timeout: 60000 }, async () => {
    let page;
    ({ context, page } = await newSession(suite.browser, 'live-region'));
    const region = (p) => p.locator('[aria-live=polite], [aria-live=assertive], [role=status], [role=alert], [role=log]');

    // A first visit (no session hint) starts in place, signed out.
    await page.goto('/');
    await expectState(page, 'signed-out');

    // Start-up held: the region is already there around the loading notice.
    const config = await hold(page, `${APP}/config.json`);
    await page.reload({ waitUntil: 'commit' });
    await page.locator('[data-testid=app-loading]').waitFor({ state: 'attached' });
    const aroundLoading = region(page).filter({ has: page.locator('[data-testid=app-loading]') });
    assert.ok(await aroundLoading.count() >= 1, 'a live region holds the loading notice');
    const live = await aroundLoading.first().elementHandle();
    config.release();
    await expectState(page, 'signed-out');
    const holdsStatus = () => live.evaluate((n) => n.isConnected && n.contains(document.querySelector('[data-testid=auth-status]')));
    assert.ok(await holdsStatus(), 'the same region now holds the signed-out status');

    // Signing in: the callback page's region is there while signing in, and gets the result.
    const token = await hold(page, TOKEN_ENDPOINT);
    await page.locator(sel.signIn).click();
    await submitLogin(page);
    await expectState(page, 'signing-in', 20000);
    const aroundStatus = region(page).filter({ has: page.locator(sel.status) });
    assert.ok(await aroundStatus.count() >= 1, 'a live region holds the signing-in status');
    const callbackLive = await aroundStatus.first().elementHandle();
    token.release();
    await expectState(page, 'signed-in', 20000);
    assert.ok(await callbackLive.evaluate((n) => n.isConnected && n.contains(document.querySelector('[data-testid=user-name]'))),
      'the signed-in status appeared in the region that was there while signing in');

    // A background notice (offline while a refresh is due) is announced by the same region.
    await context.setOffline(true);
    await page.locator(sel.warning).waitFor({ timeout: 10000 });
    assert.ok(await callbackLive.evaluate((n) => n.isConnected && n.contains(document.querySelector('[data-testid=auth-warning]'))),
      'the warning appeared inside the region');
    await context.setOffline(false);
  });
});
