// Browser end-to-end tests of the built app (dist/) against a hostile OpenID provider
// (dev/hostile.mjs on 127.0.0.1:9300): one scenario per test, modelled on the OpenID
// Foundation's RP certification tests. The app must sign in where the provider is correct
// (or unusual but legitimate), and otherwise end in the right error, signed out, with
// nothing pending and no token of the provider's anywhere the page can persist it.
//
// Only the static server and the hostile provider run (no dev/provider.mjs, no API);
// /config.json is replaced to point at the hostile issuer.
//
//   flock /tmp/leptos-e2e.lock node --test --test-concurrency=1 tests/e2e/hostile.test.mjs
// The provider on its own (no browser): tests/e2e/hostile-server.test.mjs.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  APP, HOSTILE, assertNoTokenLeak, expectState, newSession, sel, setupSuite, skipReason, waitForQuiet,
  waitUntil,
} from './harness.mjs';
import { leaveHint } from './hint.mjs';
import { hostileStats, useScenario } from './hostile-control.mjs';

const skip = skipReason();

const CONFIG = {
  issuer: HOSTILE,
  client_id: 'leptos-spa',
  redirect_uri: `${APP}/callback`,
  post_logout_redirect_uri: `${APP}/`,
  scopes: ['openid', 'profile'],
  api_url: undefined, // left out
};

// What the app must end in, per scenario. `stats`: exact counts the hostile provider must
// have seen for this sign-in (after the scenario was selected).
const SIGNED_IN = { state: 'signed-in', name: 'Alice Hostile' };
const idToken = { state: 'error', error: 'invalid_id_token' };
const badTokenResponse = { state: 'error', error: 'token_response_invalid' };
const EXPECTED = {
  ok: SIGNED_IN,
  'unknown-key': { ...idToken, stats: { jwks: 2 } }, // refetched once for the unknown kid
  'alg-none': idToken,
  'hs256-pubkey': idToken,
  'wrong-iss': idToken,
  'wrong-aud': idToken,
  expired: idToken,
  'iat-future': idToken,
  'nonce-missing': idToken,
  'nonce-wrong': idToken,
  'at-hash-wrong': idToken,
  'kid-absent-single': SIGNED_IN, // the OpenID certification expects acceptance
  'kid-absent-multiple': idToken, // several keys would do: the app refuses to guess
  'key-rotation': { ...SIGNED_IN, stats: { jwks: 2 } },
  'iss-wrong-callback': { state: 'error', error: 'issuer_mismatch', stats: { token: 0 } },
  'iss-missing-callback': { state: 'error', error: 'issuer_mismatch', stats: { token: 0 } },
  'userinfo-sub': { state: 'error', error: 'userinfo_sub_mismatch' },
  'no-access-token': badTokenResponse,
  'token-type-mac': badTokenResponse,
  'html-token': badTokenResponse,
  'not-json': badTokenResponse,
  'token-500': { state: 'error', error: 'server_error' },
  es256: SIGNED_IN,
  ps256: SIGNED_IN,
  // A published kid: the key is found (no second JWKS fetch) and the signature check fails.
  'bad-signature': { ...idToken, stats: { jwks: 1 } },
};

// Refresh scenarios: a correct sign-in with a 2 s access token; the app's timer refreshes
// 1.5 s later and the refresh answer's new ID token is wrong in one way. A refreshed ID token
// is verified like the first one and must keep iss and sub: the session must end in
// invalid_id_token, with the reason below in the message (wording of the app).
const REFRESH_EXPECTED = {
  'refresh-ok': { state: 'signed-in' }, // control: the same set-up with a correct refresh
  'refresh-bad-signature': { ...idToken, reason: 'signature' },
  'refresh-other-sub': { ...idToken, reason: 'refreshed ID token names another person' },
  'refresh-wrong-iss': { ...idToken, reason: 'issuer' },
  'refresh-at-hash-wrong': { ...idToken, reason: 'at_hash' },
};

// prompt=none answered with another "not signed in" error: quietly signed out, like
// login_required (no error shown, no loop, no second attempt in the tab).
const SILENT_EXPECTED = {
  'silent-interaction-required': 'interaction_required',
  'silent-consent-required': 'consent_required',
};

// Endless answers: tests/e2e/transport-limits.test.mjs (the body cap while streaming).
const ENDLESS = ['jwks-endless', 'token-endless'];

// The check an invalid_id_token message must name: "... failed verification (REASON) ...".
// Adjust here if the app's wording changes.
const ID_TOKEN_REASONS = {
  'alg-none': 'algorithm not allowed',
  'hs256-pubkey': 'algorithm not allowed',
  'unknown-key': 'unknown key',
  'wrong-iss': 'issuer',
  'wrong-aud': 'audience',
  expired: 'expired',
  'iat-future': 'issued in the future',
  'nonce-missing': 'nonce',
  'nonce-wrong': 'nonce',
  'at-hash-wrong': 'at_hash',
  'kid-absent-multiple': 'several keys and no kid',
  'bad-signature': 'signature',
};

const issuedValues = ({ issued }) => Object.values(issued).flat();

/** What the page shows: data-state, data-error and the error message (if any). */
async function shown(page) {
  const status = page.locator(sel.status).first();
  const message = page.locator('[data-testid=error-message]');
  return {
    state: await status.getAttribute('data-state'),
    error: (await status.getAttribute('data-error')) ?? undefined,
    message: (await message.count()) ? (await message.first().textContent()).trim() : undefined,
  };
}

async function sessionStorageKeys(page) {
  return page.evaluate(() => Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i)));
}

describe('Leptos SPA against a hostile OpenID provider (browser)', { skip, timeout: 180000 }, () => {
  let suite;
  const sessions = [];

  before(async () => {
    suite = await setupSuite({
      config: CONFIG,
      services: { provider: false, api: false, orders: false, hostile: true },
    });
  });
  afterEach(async () => {
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
  });

  it('the expectation table covers every scenario of the provider', async () => {
    const res = await fetch(`${HOSTILE}/__scenario`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { scenarios } = await res.json();
    const covered = [...Object.keys(EXPECTED), ...Object.keys(REFRESH_EXPECTED), ...Object.keys(SILENT_EXPECTED), ...ENDLESS];
    assert.deepEqual([...scenarios].sort(), covered.sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    const outcome = expected.state === 'error' ? `${expected.error}` : expected.state;
    it(`${name} → ${outcome}`, { timeout: 30000 }, async (t) => {
      await useScenario(name);
      const session = await newSession(suite.browser, name);
      sessions.push(session);
      const { page } = session;

      // First visit: no session hint, so no prompt=none round trip; the app settles signed out.
      await page.goto('/');
      await expectState(page, 'signed-out');
      const before = await hostileStats();
      assert.equal(before.silent, 0, 'a first visit stays on the page');
      assert.equal(before.token, 0);

      await page.locator(sel.signIn).first().click();
      const end = page.locator(`${sel.state('signed-in')}, ${sel.state('error')}`);
      try {
        await end.waitFor({ state: 'attached', timeout: 20000 });
      } catch (err) {
        const s = await hostileStats();
        throw new Error(`no end state; app shows ${JSON.stringify(await shown(page))}; provider refused: ${s.refusals.join('; ') || 'nothing'}`, { cause: err });
      }
      // An ID token that names the person shows signed-in before userinfo is asked; userinfo
      // for someone else then ends the session a moment later. Wait for what the person ends up
      // seeing, and for the userinfo call of a good sign-in.
      if (expected.state === 'error') {
        await page.locator(sel.state('error')).waitFor({ state: 'attached', timeout: 10000 }).catch(() => {});
      } else {
        await waitUntil(async () => (await hostileStats()).userinfo >= 1, { timeout: 10000, message: 'the userinfo call' }).catch(() => {});
      }
      const got = await shown(page);
      const s = await hostileStats();
      const context = `app shows ${JSON.stringify(got)}; provider refused: ${s.refusals.join('; ') || 'nothing'}`;
      t.diagnostic(`app: ${got.state}${got.error ? ` / ${got.error}` : ''}${got.message ? ` / ${got.message}` : ''}`);

      assert.equal(s.authorize, 1, 'the sign-in reached /authorize');
      assert.equal(s.issued.codes.length, 1, 'one code was issued');
      if (expected.state === 'signed-in') {
        assert.equal(got.state, 'signed-in', context);
        assert.equal((await page.locator(sel.userName).textContent()).trim(), expected.name);
        assert.ok(s.jwks >= 1, 'the app fetched the signing keys');
        assert.equal(s.userinfo, 1, 'the app asked userinfo once');
      } else {
        assert.equal(got.state, 'error', context);
        assert.equal(got.error, expected.error, context);
        assert.equal(await page.locator(sel.userName).count(), 0, 'not signed in');
        assert.ok(got.message, 'an error message is shown');
        if (ID_TOKEN_REASONS[name]) {
          assert.ok(
            got.message.includes(`(${ID_TOKEN_REASONS[name]})`),
            `the message names the failed check "${ID_TOKEN_REASONS[name]}": ${got.message}`,
          );
        }
        if (expected.error !== 'userinfo_sub_mismatch') {
          assert.equal(s.userinfo, 0, 'no userinfo call with tokens from a refused response');
        }
        await page.locator(sel.signIn).first().waitFor({ state: 'visible' }); // can try again
      }
      assert.equal(s.token, expected.stats?.token ?? 1, 'code exchanges (a code is used at most once)');
      if (expected.stats?.jwks !== undefined) assert.equal(s.jwks, expected.stats.jwks, 'JWKS fetches');

      const keys = await sessionStorageKeys(page);
      assert.deepEqual(keys.filter((k) => k.startsWith('oidc.pending.')), [], 'no pending request left');
      assert.equal(new URL(page.url()).origin, APP);
      assert.doesNotMatch(page.url(), /[?&](code|state|iss)=/, 'code/state/iss wiped from the URL');
      // Codes and every token the provider issued: never persisted (in memory only).
      await assertNoTokenLeak(page, issuedValues(s));
    });
  }
  for (const [name, expected] of Object.entries(REFRESH_EXPECTED)) {
    const outcome = expected.state === 'error' ? expected.error : 'stays signed-in';
    it(`${name}: signed in, then the refresh → ${outcome}`, { timeout: 40000 }, async (t) => {
      await useScenario(name);
      const session = await newSession(suite.browser, name);
      sessions.push(session);
      const { page, recorder } = session;
      await page.goto('/');
      await expectState(page, 'signed-out');
      await page.locator(sel.signIn).first().click();
      await expectState(page, 'signed-in', 20000);
      assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Hostile');
      await recorder.settled();
      const [exchange] = recorder.byGrant('authorization_code');
      assert.equal(exchange?.body?.expires_in, 2, 'the sign-in got a 2 s access token');
      // Tokens that live under 10 s are refreshed on demand only (no background timer: a
      // provider sending tiny lifetimes cannot make the app hammer it). A wake-up is such a
      // demand: the page gets a `focus` event every 500 ms, as a person switching back would.
      await page.evaluate(() => { setInterval(() => dispatchEvent(new Event('focus')), 500); });

      if (expected.state === 'signed-in') {
        // Two refreshes: the first was applied, and its token was refreshed again when due.
        // Waited for as the browser saw them (their answers in): the provider's own count can
        // run ahead of the browser's request events, which reach this process separately.
        const answered = () => recorder.byGrant('refresh_token').filter((r) => r.status !== undefined);
        await waitUntil(() => answered().length >= 2, { timeout: 15000, message: 'two refresh answers' });
        const refreshes = answered().slice(0, 2);
        assert.deepEqual(refreshes.map((r) => r.status), [200, 200]);
        await recorder.settled();
        assert.equal(refreshes[1].form.refresh_token, refreshes[0].body.refresh_token, 'rotated');
        await expectState(page, 'signed-in', 1000);
        assert.equal((await page.locator(sel.userName).textContent()).trim(), 'Alice Hostile');
        assert.equal(await page.locator(sel.warning).count(), 0);
      } else {
        let status;
        try {
          status = await expectState(page, 'error', 15000);
        } catch (err) {
          const s = await hostileStats();
          throw new Error(`CLIENT DEFECT? the refreshed ID token of "${name}" was not refused: ${err.message}; hostile stats: refresh=${s.refresh}`, { cause: err });
        }
        const got = await shown(page);
        t.diagnostic(`app: ${got.state} / ${got.error} / ${got.message}`);
        assert.equal(got.error, expected.error, JSON.stringify(got));
        assert.ok(got.message.includes(expected.reason), `the message names "${expected.reason}": ${got.message}`);
        assert.equal(await status.getAttribute('data-state'), 'error');
        assert.equal(await page.locator(sel.userName).count(), 0, 'signed out');
        assert.equal(await page.locator(sel.signOut).count(), 0);
        await page.locator(sel.signIn).first().waitFor({ state: 'visible' });
        // The refresh came, once: it was the refresh answer that ended the session, and the
        // app did not try again with the refresh token it dropped.
        const quiet = await waitForQuiet(async () => {
          const s = await hostileStats();
          return { token: s.token, refresh: s.refresh, authorize: s.authorize };
        }, { page });
        assert.deepEqual(quiet, { token: 2, refresh: 1, authorize: 1 }, 'one code exchange, one refresh, no retry, no new sign-in (a first visit makes no silent attempt)');
        await recorder.settled();
        const [refresh] = recorder.byGrant('refresh_token');
        assert.equal(refresh.status, 200, 'the provider answered the refresh (the app refused its content)');
        assert.equal(refresh.form.refresh_token, exchange.body.refresh_token);
      }
      const s = await hostileStats();
      assert.deepEqual(s.refusals, [], 'the provider refused nothing (no reused refresh token)');
      const keys = await sessionStorageKeys(page);
      assert.deepEqual(keys.filter((k) => k.startsWith('oidc.pending.')), []);
      await assertNoTokenLeak(page, issuedValues(s));
    });
  }

  for (const [name, error] of Object.entries(SILENT_EXPECTED)) {
    it(`${name}: prompt=none answered ${error} leaves the app quietly signed out, once per tab, no loop`, { timeout: 40000 }, async () => {
      await useScenario(name);
      const session = await newSession(suite.browser, name);
      sessions.push(session);
      const { page } = session;
      const silent = [];
      page.on('request', (req) => {
        if (req.isNavigationRequest() && req.url().startsWith(`${HOSTILE}/authorize?`)) {
          silent.push(new URL(req.url()).searchParams.get('prompt'));
        }
      });
      const counters = async () => {
        const s = await hostileStats();
        return { authorize: s.authorize, silent: s.silent, token: s.token, browser: silent.length };
      };

      // A browser that had a session (the hint a sign-in leaves): one quiet prompt=none attempt.
      await page.goto('/');
      await expectState(page, 'signed-out');
      await leaveHint(page, HOSTILE);
      await page.reload();
      const status = await expectState(page, 'signed-out');
      assert.equal(await status.getAttribute('data-error'), null, 'no error');
      assert.equal(await page.locator('[data-testid=error-message]').count(), 0);
      assert.equal(page.url(), `${APP}/`, 'the error response is wiped from the URL');
      assert.deepEqual(await waitForQuiet(counters, { page }), { authorize: 1, silent: 1, token: 0, browser: 1 }, 'one silent attempt, no loop');
      assert.deepEqual(silent, ['none']);

      for (let load = 2; load <= 3; load += 1) {
        await page.reload();
        const again = await expectState(page, 'signed-out');
        assert.equal(await again.getAttribute('data-error'), null);
        assert.deepEqual(
          await waitForQuiet(counters, { page }),
          { authorize: 1, silent: 1, token: 0, browser: 1 },
          `load ${load}: no prompt=none at all (remembered for the tab)`,
        );
      }
      // Quiet does not mean stuck: the person can still sign in.
      await page.locator(sel.signIn).first().click();
      await expectState(page, 'signed-in', 20000);
    });
  }
});
