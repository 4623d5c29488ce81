// Static server for the built app (dist/) with SPA fallback, used by the e2e tests.
//
// Env (all optional):
//   APP_PORT         8080
//   DIST             ./dist
//   CONFIG_OVERRIDE  path to a JSON file served as /config.json instead of dist/config.json
//
// Every response (pages, assets, config.json, 404s) carries the Content-Security-Policy of
// index.html's <meta> (written at build time by scripts/csp.mjs) as a header, plus
// frame-ancestors 'none', which only a header can carry: the app's origin is its trust
// boundary, so nothing served from it goes out without the policy. With CONFIG_OVERRIDE,
// connect-src also names the override's origins (see pageBody).
//
// Listens on 127.0.0.1 and ::1 so that http://localhost:8080 works whichever loopback
// address the browser picks.

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

import {
  applyPolicy, connectOrigins, headerPolicy, metaPolicy,
} from '../scripts/csp.mjs';

const APP_PORT = Number(process.env.APP_PORT || 8080);
const DIST = path.resolve(process.env.DIST || './dist');
const CONFIG_OVERRIDE = process.env.CONFIG_OVERRIDE ? path.resolve(process.env.CONFIG_OVERRIDE) : undefined;

// trunk names every built asset after its content (`name-<16 hex>.ext`), so such a file
// never changes: the browser keeps it, and the callback page that follows the start page
// reuses the wasm it already downloaded and compiled, as on any real deployment. The page
// and config.json are revalidated on every load.
const HASHED_ASSET = /-[0-9a-f]{16}(_bg)?\.(js|wasm|css)$/;
const cachePolicy = (file) => (HASHED_ASSET.test(path.basename(file))
  ? 'public, max-age=31536000, immutable' : 'no-cache');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

async function fileAt(file) {
  try {
    const info = await stat(file);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

// Map a URL path to a file inside DIST, or undefined (never escapes DIST).
function resolveInDist(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const file = path.resolve(DIST, `.${path.posix.normalize(decoded)}`);
  return file === DIST || file.startsWith(DIST + path.sep) ? file : undefined;
}

// Without a built index.html (or one without a policy) responses still get a policy: nothing.
const FALLBACK_POLICY = "default-src 'none'; frame-ancestors 'none'";

// An HTML page as served. With CONFIG_OVERRIDE its CSP <meta> is recomputed to name that
// config's origins as well as those of the built config.json (tests switch the override while
// a page is open, and a page keeps the policy it was loaded with).
let warnedNoPolicy = false;
let warnedOverride = false;
async function pageBody(file) {
  let html = await readFile(file, 'utf8');
  if (!metaPolicy(html)) {
    if (!warnedNoPolicy) console.warn(`static: ${file} has no Content-Security-Policy <meta> (built without scripts/csp.mjs?): served with ${FALLBACK_POLICY}`);
    warnedNoPolicy = true;
  } else if (CONFIG_OVERRIDE) {
    const readJson = async (json) => JSON.parse(await readFile(json, 'utf8'));
    // An unreadable override is the client's config_invalid: the policy just names nothing more.
    const override = await readJson(CONFIG_OVERRIDE).catch(() => ({}));
    const built = await readJson(path.join(DIST, 'config.json')).catch(() => ({}));
    const extra = [process.env.CSP_CONNECT_EXTRA || '', ...connectOrigins(built)].join(' ');
    try {
      html = applyPolicy(html, override, extra);
    } catch (err) {
      // A wildcard origin in the override: the client refuses it (config_invalid); the policy
      // names only the built config's origins.
      if (!warnedOverride) console.warn(`static: CONFIG_OVERRIDE not in the policy: ${err.message}`);
      warnedOverride = true;
      html = applyPolicy(html, {}, extra);
    }
  }
  return Buffer.from(html);
}

/** The header policy for any response: the app page's (as pageBody serves it). */
async function responsePolicy() {
  const index = path.join(DIST, 'index.html');
  if (!await fileAt(index)) return FALLBACK_POLICY;
  return headerPolicy((await pageBody(index)).toString('utf8')) ?? FALLBACK_POLICY;
}

async function handle(req, res) {
  res.setHeader('Content-Security-Policy', await responsePolicy());
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const { pathname } = new URL(req.url, 'http://static.invalid');

  let file;
  if (pathname === '/config.json' && CONFIG_OVERRIDE) {
    file = CONFIG_OVERRIDE;
  } else {
    const candidate = resolveInDist(pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (candidate && await fileAt(candidate)) file = candidate;
  }

  if (!file) {
    // SPA fallback: app routes (/callback, /profile, ...) get index.html. A missing asset
    // (path with an extension, not a page navigation) stays a 404 to ease debugging.
    const wantsPage = path.posix.extname(pathname) === '' || (req.headers.accept || '').includes('text/html');
    if (wantsPage) file = path.join(DIST, 'index.html');
  }

  const info = file && await fileAt(file);
  if (!info) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(file ? `not found (is ${DIST} built?)\n` : 'not found\n');
    return;
  }

  const type = TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
  const headers = {
    'Content-Type': type,
    'Content-Length': info.size,
    'Cache-Control': cachePolicy(file),
    'X-Content-Type-Options': 'nosniff',
  };
  let page;
  if (type.startsWith('text/html')) {
    page = await pageBody(file);
    headers['Content-Length'] = page.length;
    // A page other than index.html keeps the policy of its own <meta>.
    headers['Content-Security-Policy'] = headerPolicy(page.toString('utf8')) ?? FALLBACK_POLICY;
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (page) res.end(page);
  else createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

function onRequest(req, res) {
  const started = Date.now();
  res.on('finish', () => {
    const { pathname } = new URL(req.url, 'http://static.invalid');
    console.log(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms`);
  });
  handle(req, res).catch((err) => {
    console.error('static: error', err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}

const servers = [];
async function listen(host) {
  const server = http.createServer(onRequest);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(APP_PORT, host, resolve);
  });
  servers.push(server);
}

await listen('127.0.0.1');
try {
  await listen('::1');
} catch (err) {
  // IPv6 loopback may be disabled; 127.0.0.1 alone is then enough.
  if (err.code !== 'EADDRNOTAVAIL' && err.code !== 'EAFNOSUPPORT') throw err;
}
console.log(`static listening on http://localhost:${APP_PORT} (dist ${DIST}${CONFIG_OVERRIDE ? `, config ${CONFIG_OVERRIDE}` : ''})`);

function shutdown(signal) {
  console.log(`static: ${signal}, shutting down`);
  let open = servers.length;
  for (const server of servers) {
    server.close(() => { if (--open === 0) process.exit(0); });
    server.closeAllConnections();
  }
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
