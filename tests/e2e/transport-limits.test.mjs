// Browser end-to-end tests of the browser transport's limits (crates/leptos-pkce/src/browser/http.rs):
// - an answer that never ends (chunked, no Content-Length) is abandoned as soon as it passes the
//   1 MiB body cap, not at the request timeout: the hostile provider's jwks-endless and
//   token-endless scenarios, timed by the provider (when its bytes passed 1 MiB, when the
//   client closed) and by the test (sign-in click → the app's error);
// - no redirect is followed: the API answers the resource call with a 302 to another origin
//   (a listener of this test, allowed by the page's CSP so that only the client can stop it),
//   and neither the access token nor a DPoP proof reaches that origin.
//
//   E2E_REQUIRE_APP=1 node --test --test-concurrency=1 tests/e2e/transport-limits.test.mjs

import assert from 'node:assert/strict';
import http from 'node:http';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  API, APP, HOSTILE, ISSUER, expectState, newSession, postJson, resetStats, sel, setupSuite, signIn,
  skipReason,
} from './harness.mjs';
import { hostileStats, useScenario } from './hostile-control.mjs';

const skip = skipReason();

const CAP_BYTES = 1024 * 1024; // MAX_BODY_BYTES of the client
const ABANDON_LIMIT_MS = 2000; // after passing the cap
const TIMEOUT_MS = 15000; // the client's request timeout (the default): far above the limit

const HOSTILE_CONFIG = {
  issuer: HOSTILE,
  client_id: 'leptos-spa',
  redirect_uri: `${APP}/callback`,
  post_logout_redirect_uri: `${APP}/`,
  scopes: ['openid', 'profile'],
  request_timeout_ms: TIMEOUT_MS,
  api_url: undefined,
};

/** A listener on another origin that records every request reaching it (and lets it in by CORS). */
async function startReceiver() {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({
      method: req.method, path: req.url, authorization: req.headers.authorization, dpop: req.headers.dpop,
    });
    res.writeHead(req.method === 'OPTIONS' ? 204 : 200, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
      'Content-Type': 'application/json',
    });
    res.end(req.method === 'OPTIONS' ? undefined : '{"message":"the other origin got the request"}');
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  return { origin: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => { server.close(r); }) };
}

describe('browser transport limits: body cap while streaming, no redirects (browser)', { skip, timeout: 180000 }, () => {
  let suite;
  let receiver;
  const sessions = [];

  before(async () => {
    receiver = await startReceiver();
    suite = await setupSuite({
      config: HOSTILE_CONFIG,
      services: { provider: true, api: true, hostile: true },
      // The page may talk to the receiver: only the client's redirect mode keeps requests away.
      env: { CSP_CONNECT_EXTRA: receiver.origin },
    });
  });
  afterEach(async () => {
    for (const { context } of sessions.splice(0)) await context.close().catch(() => {});
  });
  after(async () => {
    await suite?.close();
    await receiver?.close();
  });

  for (const [scenario, path] of [['token-endless', '/token'], ['jwks-endless', '/jwks']]) {
    it(`${scenario}: an endless ${path} answer is abandoned within ${ABANDON_LIMIT_MS} ms of passing 1 MiB`, { timeout: 40000 }, async (t) => {
      await suite.setConfig(HOSTILE_CONFIG);
      await useScenario(scenario);
      const session = await newSession(suite.browser, scenario);
      sessions.push(session);
      const { page } = session;
      await page.goto('/');
      await expectState(page, 'signed-out');

      const clickedAt = Date.now();
      await page.locator(sel.signIn).first().click();
      const status = await expectState(page, 'error', TIMEOUT_MS + 5000);
      const errorAt = Date.now();
      const error = await status.getAttribute('data-error');
      const message = (await page.locator('[data-testid=error-message]').first().textContent()).trim();

      const { streams } = await hostileStats();
      const stream = streams.find((s) => s.path === path);
      assert.ok(stream, `the app asked ${path}: ${JSON.stringify(streams)}`);
      assert.ok(stream.passed_cap_at, `the provider sent more than 1 MiB (${stream.bytes} bytes)`);
      assert.ok(stream.closed_at, 'the client closed the connection');
      const afterCap = stream.closed_at - stream.passed_cap_at;
      t.diagnostic(`app: ${error} / ${message}`);
      t.diagnostic(`${path}: ${stream.bytes} bytes written, 1 MiB passed ${stream.passed_cap_at - stream.started} ms into the answer, connection closed ${afterCap} ms after that (provider clock); sign-in click → error shown: ${errorAt - clickedAt} ms (test clock)`);
      assert.ok(afterCap < ABANDON_LIMIT_MS, `abandoned ${afterCap} ms after passing 1 MiB (limit ${ABANDON_LIMIT_MS} ms)`);
      assert.ok(stream.bytes < 8 * CAP_BYTES, `the client stopped reading early: ${stream.bytes} bytes written`);
      assert.equal(error, 'network_error');
      assert.match(message, /answer too large/);
      assert.equal(await page.locator(sel.userName).count(), 0, 'not signed in');
      await page.locator(sel.signIn).first().waitFor({ state: 'visible' }); // can try again
    });
  }

  it('a resource answering 302 to another origin: the client does not follow, nothing reaches that origin', { timeout: 60000 }, async (t) => {
    await suite.setConfig({ issuer: ISSUER, api_url: `${API}/api/hello`, request_timeout_ms: TIMEOUT_MS });
    await resetStats();
    const session = await newSession(suite.browser, 'redirect');
    sessions.push(session);
    const { page } = session;
    await page.goto('/');
    await expectState(page, 'signed-out');
    await signIn(page);

    const armed = await postJson(`${API}/__test/fault`, { mode: 'redirect', location: `${receiver.origin}/steal` });
    assert.equal(armed.status, 200, await armed.text());
    receiver.seen.length = 0;
    const answers = [];
    page.on('response', (res) => { if (res.url().startsWith(API)) answers.push(res.status()); });
    await page.locator(sel.callApi).click();
    const result = page.locator(sel.apiResult);
    await result.waitFor();
    const shownStatus = await result.getAttribute('data-status');
    const text = (await result.textContent()).trim();
    t.diagnostic(`API answers seen by the browser: ${answers.join(', ') || 'none'}; the app shows data-status=${shownStatus}: ${text}`);
    t.diagnostic(`requests that reached ${receiver.origin}: ${JSON.stringify(receiver.seen.map((r) => ({ method: r.method, authorization: Boolean(r.authorization), dpop: Boolean(r.dpop) })))}`);
    assert.deepEqual(receiver.seen.map((r) => ({ method: r.method, authorization: Boolean(r.authorization), dpop: Boolean(r.dpop) })), [], 'nothing reached the other origin');
    assert.equal(shownStatus, '0', 'the call failed in the client');
    assert.match(text, /redirect/, 'the message names the redirect');
    await postJson(`${API}/__test/fault`, { mode: 'off' });
    await expectState(page, 'signed-in', 1000);
  });
});
