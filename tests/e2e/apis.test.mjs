// Several APIs, one sign-in (RFC 8707): the demo's two APIs (dev/api.mjs as the demo API on
// API and as the orders API on ORDERS), each with a token of its own from the real provider.
// The tests read the tokens off the browser's requests, decode them, replay each at the other
// API from Node (Bearer tokens: DPoP off, so that only the audience can refuse them), and scan
// the page's storage for them.

import assert from 'node:assert/strict';
import {
  after, afterEach, before, describe, it,
} from 'node:test';

import {
  API, APP, ORDERS, assertNoTokenLeak, builtConfig, newSession, recordTokenTraffic,
  sel, setupSuite, signIn, skipReason,
} from './harness.mjs';

const skip = skipReason();

/** The JWT payload of `token` (not verified: the APIs do that). */
const payload = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

/** Clicks `button` and returns the new answer in `result`: { status, text }. */
async function call(page, button, result) {
  await page.locator(result).evaluateAll((nodes) => nodes.forEach((n) => n.setAttribute('data-old', '')));
  await page.locator(button).click();
  const answer = page.locator(`${result}:not([data-old])`);
  await answer.waitFor({ timeout: 20000 });
  return { status: Number(await answer.getAttribute('data-status')), text: (await answer.textContent()).trim() };
}

const callFirst = (page) => call(page, sel.callApi, sel.apiResult);
const callOrders = (page) => call(page, '[data-testid=call-api-2]', '[data-testid=api-result-2]');

/** Every Authorization header the page sends to `origin`, as [scheme, token]. */
function tokensSentTo(context, origin) {
  const sent = [];
  context.on('request', (req) => {
    if (new URL(req.url()).origin !== origin) return;
    const header = req.headers().authorization;
    if (header) sent.push(header.split(' '));
  });
  return sent;
}

async function replay(url, token) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, origin: APP } });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '' };
}

describe('several APIs, a token for each (browser, RFC 8707)', { skip, timeout: 240000 }, () => {
  let suite;
  const sessions = [];
  const open = async (name) => {
    const session = await newSession(suite.browser, name);
    sessions.push(session);
    return session;
  };
  before(async () => {
    // Bearer tokens, so that a replay from Node is refused for its audience alone.
    suite = await setupSuite({ config: { dpop: 'off' } });
  });
  afterEach(async () => {
    while (sessions.length) await sessions.pop().context.close();
  });
  after(async () => {
    await suite?.close();
  });

  it('each API accepts its own token, refuses the other\'s, and each token carries only its API\'s audience and scopes', async () => {
    const { page, context } = await open('two-apis');
    const traffic = recordTokenTraffic(context);
    const toFirst = tokensSentTo(context, API);
    const toOrders = tokensSentTo(context, ORDERS);
    await page.goto('/');
    await signIn(page);

    assert.equal((await callFirst(page)).status, 200);
    assert.equal(traffic.byGrant('refresh_token').length, 0, 'the first API\'s token came with the sign-in');
    const orders = await callOrders(page);
    assert.equal(orders.status, 200, orders.text);
    const fetched = traffic.byGrant('refresh_token');
    assert.equal(fetched.length, 1, 'the orders token is fetched on its first call');
    assert.equal(fetched[0].form.resource, ORDERS);
    assert.equal(fetched[0].form.scope, 'orders:read');
    assert.equal((await callOrders(page)).status, 200);
    assert.equal(traffic.byGrant('refresh_token').length, 1, 'and then held');
    const exchange = traffic.byGrant('authorization_code')[0];
    assert.equal(exchange.form.resource, API, 'the code buys the first API\'s token');

    const [[scheme1, first]] = toFirst;
    const [[scheme2, second]] = toOrders;
    assert.deepEqual([scheme1, scheme2], ['Bearer', 'Bearer']);
    assert.notEqual(first, second);
    const [p1, p2] = [payload(first), payload(second)];
    assert.deepEqual([p1.aud, p1.scope], [API, 'api:read'], 'the first API\'s token: its audience and scope only');
    assert.deepEqual([p2.aud, p2.scope], [ORDERS, 'orders:read'], 'the orders token: its audience and scope only');

    // Each token works where it belongs and nowhere else.
    assert.equal((await replay(`${API}/api/hello`, first)).status, 200);
    assert.equal((await replay(`${ORDERS}/api/orders`, second)).status, 200);
    for (const [url, token] of [[`${ORDERS}/api/orders`, first], [`${API}/api/hello`, second]]) {
      const refused = await replay(url, token);
      assert.equal(refused.status, 401, `${url} refuses the other API's token`);
      assert.match(refused.challenge, /invalid_token/);
    }

    await traffic.settled();
    await assertNoTokenLeak(page, traffic.tokens());
  });

  it('a 401 from one API refreshes only its token; the other API keeps using its own', async () => {
    const { page, context } = await open('one-401');
    const traffic = recordTokenTraffic(context);
    const toFirst = tokensSentTo(context, API);
    await page.goto('/');
    await signIn(page);
    assert.equal((await callFirst(page)).status, 200);
    assert.equal((await callOrders(page)).status, 200);
    // The orders API refuses the next request with 401 (its token revoked, as far as it knows).
    let refused = false;
    await context.route(`${ORDERS}/api/orders`, (route) => {
      if (refused) return route.continue();
      refused = true;
      return route.fulfill({
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="orders-api", error="invalid_token"', 'access-control-allow-origin': APP },
        body: '{"error":"invalid_token"}',
      });
    });
    assert.equal((await callOrders(page)).status, 200, 'replayed once with a fresh token');
    const refreshes = traffic.byGrant('refresh_token').map((r) => r.form.resource);
    assert.deepEqual(refreshes, [ORDERS, ORDERS], 'only the orders token was refreshed');
    assert.equal((await callFirst(page)).status, 200);
    assert.equal(new Set(toFirst.map(([, token]) => token)).size, 1, 'the first API still gets its first token');
  });

  it('resource_origins configurations work unchanged: one token, no resource parameter, nothing for an unlisted origin', async () => {
    const config = builtConfig();
    await suite.setConfig({
      resources: undefined,
      resource_origins: [API],
      scopes: [...config.scopes, 'api:read'],
    });
    try {
      const { page, context } = await open('resource-origins');
      const traffic = recordTokenTraffic(context);
      await page.goto('/');
      await signIn(page);
      assert.equal((await callFirst(page)).status, 200);
      assert.equal(traffic.byGrant('authorization_code')[0].form.resource, undefined);
      const orders = await callOrders(page);
      assert.equal(orders.status, 0, 'the client refused to send a token there');
      assert.match(orders.text, /not allowed|resource/i);
    } finally {
      await suite.setConfig({ dpop: 'off' });
    }
  });
});

describe('several APIs with DPoP (browser): one key, a proof per request, each API its own bound token', { skip, timeout: 120000 }, () => {
  let suite;
  let session;
  before(async () => {
    suite = await setupSuite();
  });
  after(async () => {
    await session?.context.close();
    await suite?.close();
  });

  it('both APIs accept their DPoP-bound tokens, proved by the same key', async () => {
    session = await newSession(suite.browser, 'two-apis-dpop');
    const { page, context } = session;
    const proofs = [];
    context.on('request', (req) => {
      const origin = new URL(req.url()).origin;
      if (![API, ORDERS].includes(origin) || !req.headers().dpop) return;
      proofs.push({ origin, scheme: req.headers().authorization?.split(' ')[0], proof: req.headers().dpop });
    });
    await page.goto('/');
    await signIn(page);
    assert.equal((await callFirst(page)).status, 200);
    const orders = await callOrders(page);
    assert.equal(orders.status, 200, orders.text);
    const header = (proof) => JSON.parse(Buffer.from(proof.split('.')[0], 'base64url').toString());
    const [first, second] = [API, ORDERS].map((origin) => proofs.find((p) => p.origin === origin));
    assert.ok(first && second, 'each API got a proved request');
    assert.deepEqual([first.scheme, second.scheme], ['DPoP', 'DPoP']);
    assert.deepEqual(header(first.proof).jwk, header(second.proof).jwk, 'one key for both');
  });
});
