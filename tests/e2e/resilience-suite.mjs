// What the resilience suites (resilience.test.mjs, resilience-faults.test.mjs) share: the
// stack and browser setup, tracked sessions, page helpers and the final log check.
//
// Timing: access tokens live ACCESS_TOKEN_TTL = 10 s here, so the app's timer refreshes 7.5 s
// after a token arrives (25 % of the lifetime before expiry); the app gives up on a request
// after request_timeout_ms (2000, 1000 in the 'hang' test). Where a test must show that
// something does NOT happen, it waits for counters to come to rest (waitForQuiet), and runs the
// page's own timers ahead (Playwright's page.clock) instead of sleeping through them. Faults come from the provider's
// test hook (POST /__test/fault, see dev/provider.mjs); the app itself is never patched.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, it } from 'node:test';

import {
  API, APP, ISSUER, LOG_DIR, clearFault, expectState, newSession, sel, setupSuite, signIn, submitLogin,
} from './harness.mjs';

export const TTL_S = 10;
export const REFRESH_AT_MS = TTL_S * 1000 * 0.75; // the app's timer: 25 % of the lifetime before expiry
export const TIMEOUT_MS = 2000; // request_timeout_ms for this file
export const HANG_TIMEOUT_MS = 1000; // for the 'hang' test: the call that joins the hung refresh must
//                              still find its access token valid after the timeout
export const CONFIG = { request_timeout_ms: TIMEOUT_MS };

export const API_HELLO = `${API}/api/hello`;
export const isApiGet = (req) => req.url().startsWith(API_HELLO) && req.method() === 'GET';
// Top-level authorization requests (not the /auth/:uid resume hops after the login form).
export const isAuthorize = (req) => req.isNavigationRequest() && req.url().startsWith(`${ISSUER}/auth?`);
export const isLoginForm = (req) => req.isNavigationRequest() && req.url().startsWith(`${ISSUER}/interaction/`);


export async function sessionStorageKeys(page) {
  return page.evaluate(() => Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i)));
}

export async function statusText(page) {
  return page.locator(sel.status).first().evaluate(
    (n) => `data-state=${n.dataset.state} data-error=${n.dataset.error ?? ''}`,
  ).catch(() => 'no auth-status element');
}

// Clicks call-api and returns the shown result's HTTP status (data-status) and text.
export async function callApi(page, timeout = 15000) {
  const result = page.locator(sel.apiResult);
  await page.locator(sel.callApi).click();
  // The button is disabled while the call runs; the result then replaces the spinner.
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor({ timeout });
  await result.waitFor({ timeout });
  return { status: Number(await result.getAttribute('data-status')), text: (await result.textContent()).trim() };
}

// Every access/refresh/ID token that showed up in a file, for its final log check.
export const allTokens = new Set();

// A browser session whose authorization requests, login forms and API calls are tracked.
// `clock`: Playwright's clock is installed before the app loads (time flows normally until a
// test pauses it or runs the page's timers ahead).
export async function openSession(suite, sessions, name, { clock = false } = {}) {
  const session = await newSession(suite.browser, name);
  sessions.push(session); // closed after the test, whatever happens next
  const { page } = session;
  if (clock) await page.clock.install();
  session.authorizeRequests = [];
  session.loginForms = [];
  session.apiGets = [];
  page.on('request', (req) => {
    if (isAuthorize(req)) session.authorizeRequests.push(new URL(req.url()).searchParams.get('prompt') ?? '');
    if (isLoginForm(req)) session.loginForms.push(Date.now());
    if (isApiGet(req)) session.apiGets.push({ at: Date.now(), auth: req.headers().authorization ?? '' });
  });
  return session;
}

/**
 * The stack and browser of the calling describe (ACCESS_TOKEN_TTL = TTL_S, CONFIG), with
 * `open` (a tracked session), `signedIn` (a new person signed in) and `setConfig`. Each
 * test's sessions are closed after it, their tokens kept for itLeavesNoTokenInLogs.
 */
export function useResilienceSuite() {
  let suite;
  const sessions = [];
  const open = (name, options) => openSession(suite, sessions, name, options);
  // A new person at `path` (a first visit: no silent attempt) signs in with the form. Returns
  // the session and the sign-in's tokens.
  const signedIn = async (name, at = '/', options = {}) => {
    const session = await open(name, options);
    await session.page.goto(at);
    if (new URL(at, APP).pathname === '/profile') {
      // A signed-in-only page: its guard takes the person to the provider's form by itself.
      await session.page.locator('#login').waitFor({ timeout: 20000 });
      await submitLogin(session.page);
      await expectState(session.page, 'signed-in', 20000);
    } else {
      await expectState(session.page, 'signed-out');
      await signIn(session.page);
    }
    await session.recorder.settled();
    const exchanges = session.recorder.byGrant('authorization_code');
    assert.equal(exchanges.length, 1, 'one code exchange');
    assert.equal(exchanges[0].status, 200);
    session.signedInAt = exchanges[0].at;
    session.first = exchanges[0].body;
    return session;
  };

  before(async () => {
    suite = await setupSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_S) }, config: CONFIG });
  });
  // Close each test's browser so that its background refreshes never reach the next test's
  // counters; remember its tokens for the final log check.
  afterEach(async () => {
    await clearFault().catch(() => {});
    await suite.setConfig(CONFIG);
    for (const { context, recorder } of sessions.splice(0)) {
      await recorder.settled().catch(() => {});
      for (const token of recorder.tokens()) allTokens.add(token);
      await context.close().catch(() => {});
    }
  });
  after(async () => {
    await suite?.close();
  });
  return { open, signedIn, setConfig: (config) => suite.setConfig(config) };
}

/** The last test of a file: no token seen in it reached a server log or the browser console. */
export function itLeavesNoTokenInLogs() {
  it('8. no token of this file reached a server log or the browser console log', async () => {
    assert.ok(allTokens.size > 0, 'tokens were captured');
    const files = (await readdir(LOG_DIR)).filter((f) => f.endsWith('.log'));
    assert.ok(files.includes('browser.log') && files.includes('provider.log'), `logs: ${files.join(', ')}`);
    const tokens = [...allTokens];
    for (const file of files) {
      const text = await readFile(path.join(LOG_DIR, file), 'utf8');
      tokens.forEach((token, i) => {
        assert.ok(!text.includes(token), `token #${i + 1} of ${tokens.length} (${token.length} chars) is in ${file}`);
      });
    }
  });
}
