// scripts/csp.mjs and dev/static.mjs without a browser (own port, no lock): connect-src names
// every origin of config.json (the APIs of `resources` too); a wildcard origin is refused,
// never written into connect-src; and the static server sends the policy on every response,
// not only on HTML pages (the app's origin is its trust boundary).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { startStack } from '../../dev/stack.mjs';
import { buildPolicy, connectOrigins, writePolicy } from '../../scripts/csp.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CSP_SCRIPT = path.join(ROOT, 'scripts', 'csp.mjs');
const PORT = '9381';
const BASE = `http://127.0.0.1:${PORT}`;
const CONFIG = {
  issuer: 'http://127.0.0.1:9000',
  client_id: 'leptos-spa',
  redirect_uri: 'http://localhost:8080/callback',
  resource_origins: ['http://127.0.0.1:9100'],
};
const PAGE = '<!doctype html>\n<html>\n  <head>\n    <meta charset="utf-8" />\n    <script type="module">import "/app-0123456789abcdef.js";</script>\n  </head>\n  <body></body>\n</html>\n';
const WILDCARDS = ['https://*', 'https://*.example.com', 'http://127.0.0.1:*', '*'];

/** A tiny built app: index.html, config.json, a hashed asset, a wasm file. */
function makeDist(config = CONFIG) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leptos-csp-'));
  writeFileSync(path.join(dir, 'index.html'), PAGE);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(path.join(dir, 'app-0123456789abcdef.js'), 'export {};\n');
  writeFileSync(path.join(dir, 'app-0123456789abcdef_bg.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  return dir;
}

describe('scripts/csp.mjs: no wildcard origin', () => {
  it('refuses `*` anywhere in resource_origins (config_invalid, naming the field)', () => {
    for (const origin of WILDCARDS) {
      const config = { ...CONFIG, resource_origins: ['http://127.0.0.1:9100', origin] };
      assert.throws(() => connectOrigins(config), /^Error: config_invalid: `resource_origins` must list exact origins: no wildcard/, origin);
      assert.throws(() => buildPolicy(PAGE, config, ''), /config_invalid: `resource_origins`/, origin);
    }
  });

  it('names the other fields too: issuer, resources[].origin, api_url, CSP_CONNECT_EXTRA', () => {
    assert.throws(() => connectOrigins({ ...CONFIG, issuer: 'https://*.example.com' }), /`issuer`/);
    assert.throws(() => connectOrigins({ ...CONFIG, resources: [{ origin: 'https://*.example.com' }] }), /`resources\[\]\.origin`/);
    assert.throws(() => connectOrigins({ ...CONFIG, api_url: 'https://*/api' }), /`api_url`/);
    assert.throws(() => connectOrigins(CONFIG, 'https://keys.example.com https://*'), /`CSP_CONNECT_EXTRA`/);
    assert.deepEqual(connectOrigins(CONFIG), ['http://127.0.0.1:9000', 'http://127.0.0.1:9100']);
  });

  it('the command exits 1 with the reason and leaves index.html unchanged', () => {
    const dir = makeDist({ ...CONFIG, resource_origins: ['https://*'] });
    try {
      const run = spawnSync(process.execPath, [CSP_SCRIPT, dir], { encoding: 'utf8' });
      assert.equal(run.status, 1, run.stdout);
      assert.match(run.stderr, /config_invalid: `resource_origins` must list exact origins: no wildcard/);
      assert.equal(readFileSync(path.join(dir, 'index.html'), 'utf8'), PAGE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/csp.mjs: connect-src', () => {
  it('names the origin of every API in `resources` (one token per API), besides resource_origins', () => {
    const config = {
      ...CONFIG,
      resources: [
        { origin: 'http://127.0.0.1:9100', resource: 'http://127.0.0.1:9100', scopes: ['api:read'] },
        { origin: 'http://127.0.0.1:9200/', resource: 'http://127.0.0.1:9200', scopes: ['orders:read'] },
      ],
    };
    assert.deepEqual(connectOrigins(config), ['http://127.0.0.1:9000', 'http://127.0.0.1:9100', 'http://127.0.0.1:9200']);
    const connectSrc = buildPolicy(PAGE, config, '').split('; ').find((d) => d.startsWith('connect-src '));
    assert.equal(connectSrc, "connect-src 'self' http://127.0.0.1:9000 http://127.0.0.1:9100 http://127.0.0.1:9200");
  });

  it('skips a `resources` entry without a usable origin (the client reports config_invalid)', () => {
    const config = { ...CONFIG, resources: [null, {}, { origin: 42 }, { origin: 'not a url' }, { origin: 'ftp://127.0.0.1:9200' }] };
    assert.deepEqual(connectOrigins(config), ['http://127.0.0.1:9000', 'http://127.0.0.1:9100']);
  });
});

describe('dev/static.mjs: the policy on every response', { timeout: 30000 }, () => {
  let dist;
  let stack;
  let policy;

  before(async () => {
    dist = makeDist();
    policy = `${writePolicy(dist)}; frame-ancestors 'none'`;
    stack = await startStack({
      provider: false, api: false, orders: false, static: true, quiet: !process.env.E2E_VERBOSE, env: { APP_PORT: PORT, DIST: dist },
    });
  });
  after(async () => {
    await stack?.stop();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  const cases = [
    ['the page', 'GET', '/', 200],
    ['an app route (SPA fallback)', 'GET', '/callback', 200],
    ['a script', 'GET', '/app-0123456789abcdef.js', 200],
    ['the wasm', 'GET', '/app-0123456789abcdef_bg.wasm', 200],
    ['config.json', 'GET', '/config.json', 200],
    ['a missing asset', 'GET', '/missing.js', 404],
    ['HEAD', 'HEAD', '/config.json', 200],
    ['another method', 'POST', '/', 405],
  ];
  for (const [what, method, url, status] of cases) {
    it(`${what}: ${method} ${url} → ${status}, with the policy`, async () => {
      const res = await fetch(`${BASE}${url}`, { method });
      await res.arrayBuffer();
      assert.equal(res.status, status);
      assert.equal(res.headers.get('content-security-policy'), policy);
    });
  }
});
