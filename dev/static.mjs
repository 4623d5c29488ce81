// Static server for the built app (dist/) with SPA fallback, used by the e2e tests.
//
// Env (all optional):
//   APP_PORT         8080
//   DIST             ./dist
//   CONFIG_OVERRIDE  path to a JSON file served as /config.json instead of dist/config.json
//
// Listens on 127.0.0.1 and ::1 so that http://localhost:8080 works whichever loopback
// address the browser picks.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const APP_PORT = Number(process.env.APP_PORT || 8080);
const DIST = path.resolve(process.env.DIST || './dist');
const CONFIG_OVERRIDE = process.env.CONFIG_OVERRIDE ? path.resolve(process.env.CONFIG_OVERRIDE) : undefined;

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

async function handle(req, res) {
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

  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
    'Content-Length': info.size,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
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
