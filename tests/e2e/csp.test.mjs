// The built app's Content-Security-Policy (a <meta> written by scripts/csp.mjs at build time,
// and the same policy as a header from dev/static.mjs) is strict, and the app works under it:
// a whole visit (sign in, every page and state, API calls, sign out, an error) raises no
// `securitypolicyviolation` event, no CSP or Trusted Types console error and no page error.
// The policy is really enforced: a probe at the end must be refused, and seen by the listener.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import {
  API, APP, DIST, ISSUER, ORDERS, builtConfig, expectState, newSession, sel, setupSuite, signIn, signOut, skipReason,
} from './harness.mjs';

const skip = skipReason();

/** `{ directive: [values] }` of a policy string. */
function parsePolicy(policy) {
  const out = {};
  for (const part of policy.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) {
      assert.ok(!(name in out), `directive ${name} appears twice`);
      out[name.toLowerCase()] = values;
    }
  }
  return out;
}

const metaOf = (html) => /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html)?.[1];
const inlineScripts = (html) => [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
  .filter(([, attrs]) => !/\ssrc=/i.test(attrs)).map(([, , text]) => text);
const sha256 = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const cspMessage = /Content[- ]Security[- ]Policy|Trusted ?Types?|TrustedHTML|TrustedScript|Refused to/i;

/**
 * A browser context that reports every CSP violation of the app's pages (from a listener
 * installed before any page script) and every CSP console error and page error.
 */
async function watchedSession(browser, name) {
  const session = await newSession(browser, name);
  const { context, page } = session;
  const violations = [];
  const consoleErrors = [];
  const pageErrors = [];
  await context.exposeBinding('__cspViolation', ({ frame }, v) => violations.push({ ...v, frame: frame.url() }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation({
        directive: e.effectiveDirective,
        blocked: e.blockedURI,
        sample: e.sample,
        source: `${e.sourceFile}:${e.lineNumber}`,
        document: e.documentURI,
      });
    }, true);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && cspMessage.test(msg.text())) consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  const appViolations = () => violations.filter((v) => v.document.startsWith(APP));
  return { ...session, violations, appViolations, consoleErrors, pageErrors };
}

describe('Content-Security-Policy and Trusted Types (browser)', { skip, timeout: 120000 }, () => {
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

  it('index.html carries a strict policy in a <meta>, and the server sends it as a header with frame-ancestors', async () => {
    const built = readFileSync(path.join(DIST, 'index.html'), 'utf8');
    for (const pathname of ['/', '/callback', '/profile']) {
      const res = await fetch(`${APP}${pathname}`);
      const html = await res.text();
      const meta = metaOf(html);
      assert.ok(meta, `${pathname}: no Content-Security-Policy <meta>`);
      assert.equal(html, built, `${pathname}: the served page is the built index.html`);
      assert.equal(res.headers.get('content-security-policy'), `${meta}; frame-ancestors 'none'`,
        `${pathname}: the header is the meta's policy plus frame-ancestors`);

      // The meta comes before anything it must govern.
      const metaAt = html.search(/<meta\s+http-equiv="Content-Security-Policy"/i);
      const firstLoad = html.search(/<(script|link|style)\b/i);
      assert.ok(metaAt < firstLoad, 'the CSP <meta> precedes every script, link and style');

      const p = parsePolicy(meta);
      assert.deepEqual(p['default-src'], ["'none'"]);
      assert.deepEqual(p['object-src'], ["'none'"]);
      assert.deepEqual(p['base-uri'], ["'none'"]);
      assert.deepEqual(p['form-action'], ["'none'"]);
      assert.deepEqual(p['require-trusted-types-for'], ["'script'"]);
      assert.deepEqual(p['trusted-types'], ["'none'"], 'no Trusted Types policy may be created');
      assert.deepEqual(p['style-src'], ["'self'"]);
      assert.deepEqual(p['img-src'], ['data:']);
      // The APIs: the demo API, and the orders API when the built config names it in `resources`.
      const apis = (builtConfig().resources ?? []).some((r) => new URL(r.origin).origin === ORDERS) ? [API, ORDERS] : [API];
      assert.deepEqual([...p['connect-src']].sort(), ["'self'", ISSUER, ...apis].sort(), 'connect-src: the app, the provider and the APIs only');
      for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'", '*', 'data:', 'http:', 'https:']) {
        for (const [name, values] of Object.entries(p)) {
          if (name === 'img-src' && unsafe === 'data:') continue;
          assert.ok(!values.includes(unsafe), `${name} allows ${unsafe}`);
        }
      }

      // script-src: the glue from 'self', wasm compilation, and exactly the inline loader(s).
      const scripts = inlineScripts(html);
      assert.ok(scripts.length >= 1, "trunk's inline loader is in index.html");
      const expected = ["'self'", "'wasm-unsafe-eval'", ...new Set(scripts.map(sha256))];
      assert.deepEqual([...p['script-src']].sort(), expected.sort(), 'script-src names exactly the inline scripts by hash');
    }
  });

  it('the wasm renders no view through innerHTML (no inert HTML templates in its data)', () => {
    // The view! macro compiles fully static elements into HTML strings that tachys parses
    // through <template>.innerHTML: a Trusted Types sink this policy refuses. Such a string
    // is an element with its closing tag, or a void element; the check covers views the
    // browser test below cannot reach.
    const wasm = readdirSync(DIST).filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm in ${DIST}`);
    const text = readFileSync(path.join(DIST, wasm[0])).toString('latin1');
    const element = /<([a-z][a-z0-9-]*)\b[^<>]*>(?:[^<>]|<[^<>]*>){0,400}?<\/\1>/g;
    const voidElement = /<(?:area|br|col|embed|hr|img|input|link|meta|source|track|wbr)\b[^<>]*>/g;
    const templates = [...text.match(element) ?? [], ...text.match(voidElement) ?? []];
    assert.deepEqual(templates, [], 'inert HTML in the wasm: give each such element a {…} block (see src/ui/mod.rs)');
  });

  it('a visit through every state raises no violation, and the policy is enforced', { timeout: 90000 }, async () => {
    const session = await watchedSession(suite.browser, 'csp');
    context = session.context;
    const { page } = session;

    const first = await page.goto('/');
    assert.match(first.headers()['content-security-policy'] ?? '', /require-trusted-types-for 'script'/, 'header on the document');
    assert.match(await page.locator('meta[http-equiv=Content-Security-Policy]').getAttribute('content'), /trusted-types 'none'/);

    // Cancelled at the provider: the error state.
    await expectState(page, 'signed-out');
    await page.locator(sel.signIn).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expectState(page, 'error', 20000);
    await page.locator('[data-testid=error-message]').waitFor();

    // Signed in (through /callback: signing-in), the API once and in a burst.
    await signIn(page);
    await page.locator(sel.callApi).click();
    await page.locator(sel.apiResult).filter({ hasText: 'Hello' }).waitFor();
    await page.locator(sel.burst).click();
    await page.locator(`${sel.burstResult}[data-ok="20"]`).waitFor();

    // Offline notice, the profile and a missing page, all rendered in place.
    await context.setOffline(true);
    await page.locator(sel.warning).waitFor({ timeout: 10000 });
    await context.setOffline(false);
    await page.locator(sel.warning).waitFor({ state: 'detached', timeout: 10000 });
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.locator('dl.claims').waitFor();
    await page.evaluate(() => { history.pushState(null, '', '/nowhere'); dispatchEvent(new PopStateEvent('popstate')); });
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('link', { name: 'Go home' }).click();

    await signOut(page);
    await page.locator(sel.signIn).waitFor();

    assert.deepEqual(session.appViolations(), [], 'securitypolicyviolation events on the app');
    assert.deepEqual(session.consoleErrors, [], 'CSP / Trusted Types errors in the console');
    assert.deepEqual(session.pageErrors, [], 'uncaught errors');

    // The policy is in force on the app: a string to an HTML sink and a new Trusted Types
    // policy are refused, and the listener above sees it (so "none" above means none).
    const refused = await page.evaluate(() => {
      const tries = {
        innerHTML: () => { document.createElement('div').innerHTML = '<b>x</b>'; },
        createPolicy: () => trustedTypes.createPolicy('probe', { createHTML: (s) => s }),
        inlineScript: () => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.head.append(s); },
      };
      const out = {};
      for (const [name, run] of Object.entries(tries)) {
        try { run(); out[name] = 'allowed'; } catch (e) { out[name] = e.name; }
      }
      out.inlineRan = window.__ran === 1;
      return out;
    });
    assert.deepEqual(refused, { innerHTML: 'TypeError', createPolicy: 'TypeError', inlineScript: 'TypeError', inlineRan: false });
    await expectState(page, 'signed-out');
    const deadline = Date.now() + 5000;
    while (session.appViolations().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const seen = session.appViolations().map((v) => v.directive);
    assert.ok(seen.includes('require-trusted-types-for'), `the listener saw the probe: ${JSON.stringify(seen)}`);
    assert.ok(seen.includes('trusted-types'), `the listener saw the policy probe: ${JSON.stringify(seen)}`);
  });
});
