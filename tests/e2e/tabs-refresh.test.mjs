// Browser end-to-end tests of "one session across tabs", refreshes: tabs of ONE browser
// context share one refresh (frozen and resumed together, or closed in the middle of it) and
// store nothing. Joining, sign-in and sign-out across tabs: tabs.test.mjs.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/tabs-refresh.test.mjs
//
// Needs ports 8080, 9000 and 9100 (shared with the other browser suites: always run under the
// flock above). Server and browser logs: .dev-logs/e2e/*.log. Timing and the shared setup:
// tabs-suite.mjs.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  apiStats, clearFault, expectState, resetStats, sel, setFault, skipReason, sleep, stats, waitUntil,
} from './harness.mjs';
import {
  TTL_S, REFRESH_AT_MS, authLog, describeLog, stateAppearsAt, clickCallApi, assertNothingStored,
  backFromProvider, freeze, startTicks, ticksBetween, signedInTab, joinedTab, useTabsSuite,
} from './tabs-suite.mjs';

const skip = skipReason();

describe('Leptos SPA: one session across tabs (browser): shared refreshes, storage', { skip, timeout: 300000 }, () => {
  const { person } = useTabsSuite();

  it('5. three tabs frozen past expiry, resumed together, each fires 20 calls: ONE refresh for all', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('one-refresh');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');
    const tabs = [tab1, tab2, tab3];
    await Promise.all(tabs.map(startTicks));

    const frozen = await Promise.all(tabs.map(freeze));
    const frozenAt = Math.max(...frozen.map((f) => f.frozenAt));
    assert.ok(frozenAt < tokensAt + REFRESH_AT_MS - 500, `frozen ${frozenAt - tokensAt} ms after the tokens arrived: before any timer refresh`);
    // Let time pass beyond the access token's expiry.
    await sleep(tokensAt + TTL_S * 1000 + 1000 - Date.now());
    assert.equal(recorder.byGrant('refresh_token').length, 0, 'no refresh while frozen');
    const opBefore = await stats();
    assert.equal(opBefore.token_requests.refresh_token ?? 0, 0);

    const thawedAt = Math.min(...await Promise.all(frozen.map((f) => f.thaw())));
    await Promise.all(tabs.map((page) => page.locator(sel.burst).click()));
    const clickedAt = Date.now();
    t.diagnostic(`frozen ${frozenAt - tokensAt} ms after the tokens arrived, for ${thawedAt - frozenAt} ms (expiry at ${TTL_S * 1000} ms); bursts clicked ${clickedAt - thawedAt} ms after the thaw`);
    // The freeze really stopped the pages' timers.
    for (const [i, page] of tabs.entries()) {
      const ticks = await ticksBetween(page, frozenAt + 300, thawedAt - 300);
      assert.equal(ticks, 0, `tab ${i + 1}: its interval ticked ${ticks} times while frozen`);
    }

    const results = await Promise.all(tabs.map(async (page) => {
      const result = page.locator(sel.burstResult);
      await result.waitFor({ timeout: 20000 });
      return { ok: await result.getAttribute('data-ok'), total: await result.getAttribute('data-total'), text: (await result.textContent()).trim() };
    }));
    t.diagnostic(`burst results: ${results.map((r, i) => `tab ${i + 1}: ${r.text}`).join('; ')}`);
    for (const [i, r] of results.entries()) {
      assert.equal(r.total, '20', `tab ${i + 1}`);
      assert.equal(r.ok, '20', `tab ${i + 1}: ${r.text}`);
    }
    // Catch any late refresh by a tab that did not adopt.
    await sleep(1000);
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    const byTab = tabs.map((page) => page.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token').length);
    t.diagnostic(`refresh_token requests by tab: ${byTab.join(' / ')}; statuses: ${refreshes.map((r) => r.status ?? 'none').join(',')}`);
    assert.equal(refreshes.length, 1, 'the browser sent exactly one refresh request for the three tabs');
    assert.equal(refreshes[0].status, 200);
    const op = await stats();
    const api = await apiStats();
    t.diagnostic(`provider: token_requests ${JSON.stringify(op.token_requests)}, token_errors ${JSON.stringify(op.token_errors)}; API: ${JSON.stringify(api.by_status ?? api)}`);
    assert.equal(op.token_requests.refresh_token, 1, 'exactly one refresh_token grant reached the provider');
    assert.equal(op.token_successes.refresh_token, 1);
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh refused (no reuse detected)');
    assert.equal(op.token_error_codes.invalid_grant ?? 0, 0);
    for (const [i, page] of tabs.entries()) {
      await expectState(page, 'signed-in', 1000);
      assert.equal(await page.locator(sel.warning).count(), 0, `tab ${i + 1}: no warning`);
      const log = await authLog(page);
      assert.ok(log.filter((e) => e.at >= frozenAt).every((e) => e.state === 'signed-in'), `tab ${i + 1} states: ${describeLog(log)}`);
      assert.equal(log.at(-1).state, 'signed-in');
    }
    await assertNothingStored(t, { tab1, tab2, tab3 }, recorder.tokens());
  });

  it('6. a tab closed in the middle of its refresh: the other tab then refreshes with the same token and stays signed in', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('closed-mid-refresh');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    // Keep tab 2's timer out of the way so that tab 1 is the one that refreshes first.
    await startTicks(tab2);
    const frozen2 = await freeze(tab2);
    assert.ok(frozen2.frozenAt < tokensAt + REFRESH_AT_MS - 500, 'tab 2 frozen before its timer refresh');
    await setFault('hang');

    // Tab 1's timer refresh reaches the provider and hangs there.
    await waitUntil(async () => (await stats()).faults_served >= 1, { timeout: REFRESH_AT_MS + 5000, message: 'tab 1\'s refresh to hang' });
    // The provider can count the request before playwright reports it: wait for both.
    const refreshPosts = () => tab1.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token');
    await waitUntil(() => refreshPosts().length >= 1, { timeout: 5000, message: 'tab 1\'s refresh seen by the test' });
    const hung = refreshPosts();
    assert.equal(hung.length, 1, 'tab 1 sent its refresh');
    assert.equal(tab2.tr.tokenPosts.length, 0, 'tab 2 (frozen) sent nothing');
    await expectState(tab1, 'signed-in', 1000);
    await tab1.close();
    const closedAt = Date.now();
    await clearFault();

    // What the browser sent before the thaw: a refresh recorded after this point came later,
    // in the order the test saw the events (no comparison of instants taken on two sides).
    const sentBeforeThaw = recorder.byGrant('refresh_token').length;
    assert.equal(tab2.tr.tokenPosts.length, 0, 'tab 2 sent nothing while frozen');
    const thawedAt = await frozen2.thaw();
    assert.equal(await ticksBetween(tab2, frozen2.frozenAt + 300, thawedAt - 300), 0, 'tab 2 was really frozen');
    // Tab 2's timer (due while it was frozen) refreshes now; its API call works either way.
    const answer = await clickCallApi(tab2);
    assert.equal(answer.status, 200, `tab 2's API call: ${answer.text}`);
    await waitUntil(() => recorder.byGrant('refresh_token').some((r) => r.status === 200), { timeout: 10000, message: 'a successful refresh' });
    await recorder.settled();
    const refreshes = recorder.byGrant('refresh_token');
    const tab2Refreshes = tab2.tr.tokenPosts.filter((p) => p.form.grant_type === 'refresh_token');
    t.diagnostic(`tab 1 closed ${closedAt - hung[0].at} ms into its hung refresh; browser refresh statuses: ${refreshes.map((r) => r.status ?? 'none').join(',')}; tab 2 sent ${tab2Refreshes.length}, the first ${tab2Refreshes[0] ? tab2Refreshes[0].at - thawedAt : '-'} ms from the thaw's return (information only: the debugger may resume the tab before that call returns)`);
    assert.equal(tab2Refreshes.length, 1, 'tab 2 refreshed once');
    assert.equal(tab2Refreshes[0].form.refresh_token, hung[0].form.refresh_token, 'tab 2 presented the token tab 1\'s hung request never spent');
    const ok = refreshes.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, 'one successful refresh');
    assert.ok(refreshes.indexOf(ok[0]) >= sentBeforeThaw, 'sent after the thaw began');
    assert.equal(ok[0].request.frame().page(), tab2, 'made by tab 2');
    const op = await stats();
    t.diagnostic(`provider: token_requests ${JSON.stringify(op.token_requests)}, faults_served ${op.faults_served}, token_errors ${JSON.stringify(op.token_errors)}`);
    assert.equal(op.token_errors.refresh_token ?? 0, 0, 'no refresh was refused by the provider');
    assert.equal(op.token_successes.refresh_token, 1);
    assert.equal(op.faults_served, 1, 'only tab 1\'s request hung');
    await expectState(tab2, 'signed-in', 1000);
    const log2 = await authLog(tab2);
    assert.ok(log2.every((e) => e.state === 'signed-in'), `tab 2 states: ${describeLog(log2)}`);
    assert.equal((await clickCallApi(tab2)).status, 200);
    await assertNothingStored(t, { tab2 }, recorder.tokens());
  });

  it('7. nothing in storage: three tabs through sign-in, joins, a reload, a refresh and sign-out', { timeout: 60000 }, async (t) => {
    await resetStats();
    const { context, recorder } = await person('storage');
    const { page: tab1, tokensAt } = await signedInTab(context, recorder);
    const { page: tab2 } = await joinedTab(context, 'tab 2');
    const { page: tab3 } = await joinedTab(context, 'tab 3');
    await tab3.reload({ waitUntil: 'commit' });
    await stateAppearsAt(tab3, 'signed-in', 5000);
    const tabs = { tab1, tab2, tab3 };
    await assertNothingStored(t, tabs, recorder.tokens());

    // One timer refresh (shared by the three tabs), then every tab calls the API.
    await waitUntil(() => recorder.byGrant('refresh_token').some((r) => r.status === 200), { timeout: REFRESH_AT_MS + 10000, message: 'the timer refresh' });
    t.diagnostic(`timer refresh ${recorder.byGrant('refresh_token')[0].at - tokensAt} ms after the tokens arrived`);
    for (const page of Object.values(tabs)) assert.equal((await clickCallApi(page)).status, 200);
    await recorder.settled();
    assert.equal(recorder.byGrant('refresh_token').length, 1, 'one refresh for the three tabs');
    await assertNothingStored(t, tabs, recorder.tokens());

    // Sign out in tab 1: every tab signed out, only the allowed markers left.
    await tab1.locator(sel.signOut).click();
    await Promise.all([expectState(tab2, 'signed-out', 1000), expectState(tab3, 'signed-out', 1000)]);
    await backFromProvider(tab1);
    await expectState(tab1, 'signed-out', 10000);
    await recorder.settled();
    await assertNothingStored(t, tabs, recorder.tokens());
  });
});
