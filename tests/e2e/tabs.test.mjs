// Browser end-to-end tests of "one session across tabs": two and three tabs (pages) of ONE
// browser context (same origin: they share the BroadcastChannel `oidc:<issuer>:<client_id>`
// and Web Locks), checked through the app's DOM hooks and by counting real requests (page
// request events, the token-traffic recorder, the provider's /__test/stats). This file:
// joining, reloading, sign-in and sign-out across tabs; shared refreshes and storage are in
// tabs-refresh.test.mjs.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/tabs.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Timing and the shared setup:
// tabs-suite.mjs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { APP, ISSUER, expectState, resetStats, sel, signIn, skipReason, stats } from './harness.mjs';
import {
  JOIN_LIMIT_MS, USER, redact, authLog, describeLog, statusText, stateAppearsAt, userName,
  clickCallApi, assertNothingStored, backFromProvider, tab, signedInTab, joinedTab, useTabsSuite,
} from './tabs-suite.mjs';

const skip = skipReason();

describe('Leptos SPA: one session across tabs (browser): joining, sign-in and sign-out', { skip, timeout: 300000 }, () => {
  const { person } = useTabsSuite();

  it('1. a second tab joins the first tab\'s session: signed in, same user, no authorization request, fast', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('join');
    const { page: tab1 } = await signedInTab(context, recorder);
    const authBefore = (await stats()).authorizations;

    const { page: tab2, joinMs, wallMs } = await joinedTab(context, 'tab 2');
    t.diagnostic(`join time tab 2: ${joinMs.toFixed(1)} ms from navigation start to data-state=signed-in (page performance.now()); ${wallMs} ms wall clock from page.goto()`);
    assert.ok(joinMs < JOIN_LIMIT_MS, `tab 2 joined in ${joinMs.toFixed(1)} ms (limit ${JOIN_LIMIT_MS} ms)`);
    assert.deepEqual(tab2.tr.navigations.map((n) => redact(n.url)), [`${APP}/`], 'tab 2 never left the app');
    assert.deepEqual((await stats()).authorizations, authBefore, 'the provider saw no authorization from tab 2');
    t.diagnostic(`tab 2 requests to the provider: [${tab2.tr.providerPaths.join(', ')}]`);

    // Both tabs work with the session.
    assert.equal((await clickCallApi(tab2)).status, 200);
    assert.equal((await clickCallApi(tab1)).status, 200);
    await expectState(tab1, 'signed-in', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('2. reloading tab 2 while tab 1 lives: signed in again, without an authorization request', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('reload');
    const { page: tab1 } = await signedInTab(context, recorder);
    const { page: tab2, joinMs } = await joinedTab(context, 'tab 2');
    const authBefore = (await stats()).authorizations;

    const navigationsBefore = tab2.tr.navigations.length;
    const started = Date.now();
    await tab2.reload({ waitUntil: 'commit' });
    const appearedAt = await stateAppearsAt(tab2, 'signed-in', 10000);
    const wall = Date.now() - started;
    t.diagnostic(`join time tab 2: first open ${joinMs.toFixed(1)} ms; after reload ${appearedAt.toFixed(1)} ms from navigation start (${wall} ms wall clock from reload())`);
    assert.ok(appearedAt < JOIN_LIMIT_MS, `tab 2 rejoined in ${appearedAt.toFixed(1)} ms (limit ${JOIN_LIMIT_MS} ms)`);
    assert.equal(await userName(tab2), USER);
    assert.deepEqual(tab2.tr.authorize, [], `no authorization request from tab 2 (provider paths: ${tab2.tr.providerPaths.join(', ')})`);
    assert.deepEqual(tab2.tr.navigations.slice(navigationsBefore).map((n) => redact(n.url)), [`${APP}/`], 'only the reload itself');
    assert.equal(describeLog(await authLog(tab2)), 'signed-in', 'straight to signed-in after the reload');
    assert.deepEqual((await stats()).authorizations, authBefore, 'the provider saw no authorization');
    assert.equal(recorder.byGrant('authorization_code').length, 1, 'no new code exchange');
    assert.equal((await clickCallApi(tab2)).status, 200);
    await expectState(tab1, 'signed-in', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('3. sign-in in one tab signs in the other open tab, without any navigation of its own', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('propagate-in');
    const tab1 = await tab(context);
    const tab2 = await tab(context);
    // Both open signed out: no other tab has a session, and a first visit (no session hint)
    // makes no silent attempt.
    await Promise.all([tab1.goto('/'), tab2.goto('/')]);
    for (const [name, page] of [['tab 1', tab1], ['tab 2', tab2]]) {
      await page.waitForFunction(
        () => document.querySelector('[data-testid=auth-status]')?.dataset.state === 'signed-out',
        null,
        { timeout: 15000 },
      ).catch(async (err) => { throw new Error(`${name}: ${await statusText(page)}`, { cause: err }); });
      assert.equal(await page.locator(sel.status).getAttribute('data-error'), null, `${name}: no error`);
    }
    const tab2Navigations = tab2.tr.navigations.length;
    const tab2Authorize = tab2.tr.authorize.length;
    t.diagnostic(`before sign-in: tab 2 made ${tab2Authorize} authorization request(s)`);

    await signIn(tab1);
    const signedInAt = Date.now();
    await expectState(tab2, 'signed-in', 5000);
    const tab2Log = await authLog(tab2);
    const tab2SignedIn = tab2Log.find((e) => e.state === 'signed-in').at;
    t.diagnostic(`tab 2 signed in ${tab2SignedIn - signedInAt} ms after tab 1 showed signed-in (negative: before the test saw tab 1)`);
    assert.equal(await userName(tab2), USER);
    assert.equal(tab2.tr.navigations.length, tab2Navigations, `tab 2 did not navigate: ${tab2.tr.navigations.slice(tab2Navigations).map((n) => redact(n.url)).join(', ')}`);
    assert.equal(tab2.tr.authorize.length, tab2Authorize, 'tab 2 made no authorization request');
    assert.deepEqual(tab2.tr.tokenPosts, [], 'tab 2 made no token request');
    assert.ok(tab2Log.every((e) => e.state !== 'error'), `tab 2 states: ${describeLog(tab2Log)}`);
    await recorder.settled();
    assert.equal(recorder.byGrant('authorization_code').length, 1, 'one code exchange, in tab 1');
    assert.equal((await clickCallApi(tab2)).status, 200, 'tab 2 calls the API with the shared session');
    await assertNothingStored(t, { tab1, tab2 }, recorder.tokens());
  });

  it('4. sign-out in one of three tabs signs out the other two within 1 s, no error anywhere', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('propagate-out');
    const { page: tab1 } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');

    const navigationsBefore = new Map([tab1, tab3].map((page) => [page, page.tr.navigations.length]));
    const leftForProvider = tab2.waitForRequest((req) => req.isNavigationRequest() && req.url().startsWith(ISSUER), { timeout: 10000 });
    const clicked = Date.now();
    await tab2.locator(sel.signOut).click();
    const [out1, out3] = await Promise.all([
      expectState(tab1, 'signed-out', 1000).then(() => Date.now()),
      expectState(tab3, 'signed-out', 1000).then(() => Date.now()),
    ]);
    const leaving = await leftForProvider;
    const leftAt = Date.now();
    await backFromProvider(tab2);
    await expectState(tab2, 'signed-out', 10000);
    const log1 = await authLog(tab1);
    const log3 = await authLog(tab3);
    const at1 = log1.find((e) => e.state === 'signed-out').at;
    const at3 = log3.find((e) => e.state === 'signed-out').at;
    t.diagnostic(`signed out after the click: tab 1 ${at1 - clicked} ms, tab 3 ${at3 - clicked} ms (seen by the test at ${out1 - clicked} / ${out3 - clicked} ms); tab 2 left for ${new URL(leaving.url()).pathname} (seen at ${leftAt - clicked} ms)`);
    assert.ok(at1 - clicked < 1000 && at3 - clicked < 1000);

    // No error on the way, in any tab (every document of tab 2 too); tabs 1 and 3 went
    // straight from signed-in to signed-out and stayed where they were.
    for (const [name, log] of [['tab 1', log1], ['tab 3', log3]]) {
      const since = log.findIndex((e) => e.at >= clicked);
      assert.equal(describeLog(log.slice(since - 1)), 'signed-in → signed-out', `${name} states: ${describeLog(log)}`);
      assert.ok(log.every((e) => e.state !== 'error' && !e.error), `${name} states: ${describeLog(log)}`);
    }
    t.diagnostic(`tab 2 states over its documents: ${describeLog(tab2.tr.states)}`);
    assert.ok(tab2.tr.states.every((e) => e.state !== 'error' && !e.error), `tab 2 states: ${describeLog(tab2.tr.states)}`);
    assert.equal(await tab2.locator(sel.status).getAttribute('data-error'), null);
    for (const [name, page] of [['tab 1', tab1], ['tab 3', tab3]]) {
      assert.deepEqual(page.tr.navigations.slice(navigationsBefore.get(page)).map((n) => redact(n.url)), [], `${name} did not navigate`);
      assert.equal(await page.locator(sel.status).getAttribute('data-error'), null, `${name}: no data-error`);
      assert.equal(await page.locator(sel.userName).count(), 0, `${name}: no user shown`);
      await page.locator(sel.signIn).first().waitFor({ state: 'visible', timeout: 1000 });
    }
    assert.equal((await stats()).logouts, 1, 'one RP-initiated logout at the provider');
    // Still signed out a moment later (tab 2's return must not bring the session back).
    await expectState(tab1, 'signed-out', 1000);
    await expectState(tab3, 'signed-out', 1000);
    await recorder.settled();
    await assertNothingStored(t, { tab1, tab2, tab3 }, recorder.tokens());
  });
});
