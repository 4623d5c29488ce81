// The attacker page, end to end: a page of the app's origin that is not the app
// (/__attacker.html, written into the served dist/ by this file and removed after it) opens
// next to signed-in app tabs, listens on the app's channel `oidc:<issuer>:<client_id>`,
// captures the real messages ({m: <json text>, k: <DPoP key pair>}), changes them and posts
// them back. No tab may show another person, a signed-out tab must stay signed out, and a
// later genuine refresh must still reach every tab. Everything is checked through the app's
// DOM hooks (auth-status data-state, user-name) and the API calls the tabs make. The page has
// a policy of its own (dev/static.mjs sends a page's <meta> policy as its header): scripts of
// 'self' only, which is all an attacker's script on the origin needs.
//
//   E2E_REQUIRE_APP=1 node --test --test-concurrency=1 tests/e2e/tab-attacker.test.mjs
//
// Access tokens live TTL_S = 10 s here: a tab's timer refreshes 7.5 s after its tokens came,
// and every refresh is an `Updated` message the attacker hears.

import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  after, before, describe, it,
} from 'node:test';

import {
  API, DIST, expectState, newSession, sel, setupSuite, signIn, signOut, skipReason, sleep,
  waitUntil,
} from './harness.mjs';

const skip = skipReason();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TTL_S = 10;
const USER = 'Alice Liddell';
const PAGE = '__attacker.html';
const SCRIPT = '__attacker.js';

// In every page of the context before the app runs: each name the app ever shows.
function recordNames() {
  const names = [];
  Object.defineProperty(window, '__names', { value: names });
  new MutationObserver(() => {
    const name = document.querySelector('[data-testid=user-name]')?.textContent.trim();
    if (name && names[names.length - 1] !== name) names.push(name);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const namesShown = (page) => page.evaluate(() => [...window.__names]);
const heard = (attacker) => attacker.evaluate(() => window.attacker.heard());
const genuine = async (attacker, kind) => (await heard(attacker)).filter((h) => h.kind === kind);

// Waits for a genuine `Updated` heard after `since` (ms); returns it parsed.
async function nextUpdate(attacker, since) {
  const update = await waitUntil(async () => (await genuine(attacker, 'Updated')).find((u) => u.at > since), {
    timeout: 25000, message: 'a genuine refresh (Updated) on the channel',
  });
  return { ...update, parsed: JSON.parse(update.m) };
}

// Clicks call-api in `page`; returns the status shown and the access token the request sent.
async function callApi(page) {
  const sent = page.waitForRequest((req) => req.url().startsWith(API));
  await page.locator(sel.callApi).click();
  const authorization = (await sent).headers().authorization ?? '';
  await page.locator(`${sel.callApi}:not([disabled])`).waitFor();
  const status = Number(await page.locator(sel.apiResult).getAttribute('data-status'));
  return { status, token: authorization.split(' ')[1] };
}

async function assertShows(page, label, state, name) {
  await expectState(page, state, 5000);
  const names = await namesShown(page);
  assert.ok(names.every((n) => n === USER), `${label} showed ${JSON.stringify(names)}`);
  if (name) assert.equal((await page.locator(sel.userName).textContent()).trim(), name, label);
  else assert.equal(await page.locator(sel.userName).count(), 0, `${label} shows a name`);
}

describe('Leptos SPA: a same-origin attacker page on the tabs\' channel (browser)', { skip, timeout: 240000 }, () => {
  let suite;
  const revived = {};
  before(async () => {
    copyFileSync(path.join(HERE, 'tab-attacker.js'), path.join(DIST, SCRIPT));
    writeFileSync(path.join(DIST, PAGE), `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; connect-src 'self'"><title>not the app</title><script type="module" src="/${SCRIPT}"></script>\n`);
    suite = await setupSuite({ env: { ACCESS_TOKEN_TTL: String(TTL_S) } });
  });
  after(async () => {
    await suite?.close();
    rmSync(path.join(DIST, PAGE), { force: true });
    rmSync(path.join(DIST, SCRIPT), { force: true });
  });

  it('forged, replayed and far-ahead messages change no tab; genuine refreshes still reach every tab; a sign-out stays', { timeout: 200000 }, async (t) => {
    const { context } = await newSession(suite.browser, 'attacked');
    await context.addInitScript(recordNames);
    const tab1 = await context.newPage();
    await tab1.goto('/');
    await expectState(tab1, 'signed-out');
    await signIn(tab1);
    const attacker = await context.newPage();
    await attacker.goto(`/${PAGE}`);
    await attacker.waitForFunction(() => window.attacker?.ready);
    const tab2 = await context.newPage();
    await tab2.goto('/');
    await assertShows(tab2, 'tab 2', 'signed-in', USER);
    assert.ok((await genuine(attacker, 'Session')).length > 0, 'the attacker heard the session handed to tab 2');

    // 1. Claims changed: another person in a badly signed and in an unsigned ID token.
    const real = await nextUpdate(attacker, 0);
    const keyOf = (await heard(attacker)).findIndex((h) => h.m === real.m);
    const tokens = real.parsed.Updated.session.tokens;
    const forge = (signature) => attacker.evaluate(([jwt, sig]) => window.attacker.forgeJwt(jwt, {
      sub: 'mallory', name: 'Mallory Forger', preferred_username: 'mallory', email: 'mallory@example.com',
    }, sig), [tokens.identity, signature]);
    const updated = (changes) => JSON.stringify({ Updated: { session: { tokens: { ...tokens, ...changes } } } });
    const forgeries = [];
    for (const signature of ['kept', 'none']) {
      const id = await forge(signature);
      forgeries.push(updated({ identity: id, latest_id_token: id, generation: tokens.generation + 1 }));
    }
    // 2. A copy far ahead of every tab, with a token of the attacker's.
    forgeries.push(updated({ generation: tokens.generation + 1000, access_token: 'at-forged' }));
    // 3. Bare sign-outs that name no session, or one that does not exist.
    forgeries.push('"SignedOut"', '{"SignedOut":{}}', '{"SignedOut":{"ended":"AAAAAAAAAAAAAAAAAAAAAA"}}');
    const attackedAt = Date.now();
    for (const m of forgeries) await attacker.evaluate(([text, k]) => window.attacker.post(text, k), [m, keyOf]);
    // 4. A tab that opens now is answered first by the attacker, with the forged person.
    const mallory = JSON.stringify({ tokens: JSON.parse(forgeries[0]).Updated.session.tokens });
    await attacker.evaluate(([s, k]) => window.attacker.answerHellos(s, k), [mallory, keyOf]);
    const tab3 = await context.newPage();
    await tab3.goto('/');
    await sleep(1000); // the messages are delivered; a tab that took one would show it by now
    for (const [label, page] of [['tab 1', tab1], ['tab 2', tab2], ['tab 3', tab3]]) {
      await assertShows(page, label, 'signed-in', USER);
    }

    // 5. The next genuine refresh reaches every tab: each calls the API with its token.
    const after = await nextUpdate(attacker, attackedAt);
    const fresh = new Set((await genuine(attacker, 'Updated')).filter((u) => u.at >= after.at)
      .map((u) => JSON.parse(u.m).Updated.session.tokens.access_token));
    for (const [label, page] of [['tab 1', tab1], ['tab 2', tab2], ['tab 3', tab3]]) {
      const { status, token } = await callApi(page);
      assert.equal(status, 200, `${label}: API call`);
      assert.ok(fresh.has(token), `${label} called the API with a token from before the genuine refresh (or a forged one)`);
    }
    // A tab that had taken the far-ahead copy would number its own next refresh after it.
    const generations = (await genuine(attacker, 'Updated')).filter((u) => u.at > attackedAt)
      .map((u) => JSON.parse(u.m).Updated.session.tokens.generation);
    assert.ok(generations.every((g) => g < tokens.generation + 1000), `genuine refreshes numbered ${generations} after the forged ${tokens.generation + 1000}`);
    t.diagnostic(`generation ${tokens.generation} forged to +1 and +1000; a genuine refresh ${after.at - attackedAt} ms after the attack reached all 3 tabs`);

    // 6. Signed out in tab 1: the replayed session revives no tab, old or new.
    const last = (await genuine(attacker, 'Updated')).at(-1);
    const lastKey = (await heard(attacker)).findIndex((h) => h.m === last.m);
    const lastTokens = JSON.parse(last.m).Updated.session.tokens;
    await signOut(tab1);
    for (const page of [tab2, tab3]) await expectState(page, 'signed-out', 10000);
    assert.ok((await genuine(attacker, 'SignedOut')).length > 0, 'the attacker heard the sign-out');
    await attacker.evaluate(([s, k]) => window.attacker.answerHellos(s, k), [JSON.stringify({ tokens: lastTokens }), lastKey]);
    const replays = [last.m, ...[1, 5].map((step) => JSON.stringify({
      Updated: { session: { tokens: { ...lastTokens, generation: lastTokens.generation + step } } },
    }))];
    for (const m of replays) await attacker.evaluate(([text, k]) => window.attacker.post(text, k), [m, lastKey]);
    const tab4 = await context.newPage();
    await tab4.goto('/');
    await sleep(1500);
    for (const m of replays) await attacker.evaluate(([text, k]) => window.attacker.post(text, k), [m, lastKey]);
    await sleep(500);
    // The tabs that heard the sign-out never take that session again.
    for (const [label, page] of [['tab 2', tab2], ['tab 3', tab3]]) {
      await assertShows(page, label, 'signed-out');
    }
    // Tab 1 came back from the provider (a new page load) and tab 4 is new: neither heard the
    // sign-out; localStorage remembers the ended session's hash for them.
    for (const [label, page] of [['tab 1 (back from the provider)', tab1], ['tab 4 (new)', tab4]]) {
      revived[label] = await assertShows(page, label, 'signed-out').then(() => undefined, (err) => err.message);
    }
    await context.close();
  });

  it('a tab that did not hear the sign-out (back from the provider, or new) does not take the replayed session', () => {
    assert.deepEqual(revived, { 'tab 1 (back from the provider)': undefined, 'tab 4 (new)': undefined });
  });
});
