// The app's Content-Security-Policy, written into the built index.html as a <meta>.
//
// Run by trunk after every build (Trunk.toml `[[hooks]] stage = "post_build"`, with
// TRUNK_STAGING_DIR), or by hand on a deployed directory after replacing its config.json:
//
//   node scripts/csp.mjs [DIR]            DIR defaults to $TRUNK_STAGING_DIR, else ./dist
//   node scripts/csp.mjs --header [DIR]   print the policy for a server header (DIR's meta
//                                         + frame-ancestors 'none'); changes nothing
//
// It hashes every inline <script> of DIR/index.html (trunk's module loader, and trunk serve's
// reload script: see fillReloadScript), takes the provider's and the APIs' origins from
// DIR/config.json for connect-src (issuer, resource_origins, every resources[].origin,
// api_url), and puts the policy into a <meta http-equiv="Content-Security-Policy"> right
// after <meta charset> (replacing an earlier one, so running it twice is harmless).
// Env CSP_CONNECT_EXTRA: more origins for connect-src, separated by spaces (a provider whose
// token, keys or userinfo endpoints live on another origin than its issuer).
//
// No preload of the provider's discovery document: the client asks the provider nothing until
// a step needs it, so a first visit makes no request to the provider. An older build's preload
// link is removed.
//
// dev/static.mjs reads the policy back from the meta (metaPolicy) and sends it as a header
// with frame-ancestors, which a meta cannot carry: the meta is the single source.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const META_RE = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*\/?>/i;
const SCRIPT_RE = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;

/** The text of every inline <script> (no src), as the browser sees it (newlines normalised). */
export function inlineScripts(html) {
  return [...html.matchAll(SCRIPT_RE)]
    .filter(([, attrs]) => !/\ssrc\s*=/i.test(attrs))
    .map(([, , text]) => text.replace(/\r\n?/g, '\n'));
}

/** The CSP source expression for a script's text: 'sha256-<base64>'. */
export function scriptHash(text) {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Origins the app talks to besides its own, from config.json: the issuer, resource_origins,
 * the origin of every API in `resources` (one access token each, RFC 8707) and the demo API.
 * A `*` anywhere in one of them throws (config_invalid, naming the field): in connect-src it
 * would be a wildcard, while the client matches origins exactly and refuses it.
 */
export function connectOrigins(config, extra = '') {
  const origins = new Set();
  const named = [
    ['issuer', config?.issuer],
    ...(Array.isArray(config?.resource_origins) ? config.resource_origins : []).map((url) => ['resource_origins', url]),
    ...(Array.isArray(config?.resources) ? config.resources : []).map((r) => ['resources[].origin', r?.origin]),
    ['api_url', config?.api_url],
    ...extra.split(/\s+/).map((url) => ['CSP_CONNECT_EXTRA', url]),
  ];
  for (const [field, url] of named) {
    if (typeof url !== 'string' || !url) continue;
    if (url.includes('*')) {
      throw new Error(`config_invalid: \`${field}\` must list exact origins: no wildcard (\`*\`), not "${url}"`);
    }
    try {
      const { protocol, origin } = new URL(url);
      // A bad URL is the client's business (it reports config_invalid); the policy just skips it.
      if (protocol === 'https:' || protocol === 'http:') origins.add(origin);
    } catch { /* skipped, see above */ }
  }
  return [...origins];
}

/** The policy for an index.html and a config.json. */
export function buildPolicy(html, config, extra = process.env.CSP_CONNECT_EXTRA || '') {
  const hashes = [...new Set(inlineScripts(html).map(scriptHash))];
  return [
    "default-src 'none'",
    // trunk's JS glue (from 'self'), its inline loader (by hash), and compiling the wasm.
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
    // config.json, the wasm itself, the provider and the APIs.
    `connect-src 'self' ${connectOrigins(config, extra).join(' ')}`.trim(),
    // The one stylesheet; no inline styles or style attributes.
    "style-src 'self'",
    // Only the empty data: favicon of index.html (it stops a /favicon.ico request).
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    // No DOM sink takes a string, and no Trusted Types policy may be created:
    // the UI never renders through innerHTML (see README, "Trusted Types").
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

/** The policy of an index.html's CSP <meta>, or undefined. */
export function metaPolicy(html) {
  const match = META_RE.exec(html);
  return match ? match[1].replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&') : undefined;
}

/** The policy as a response header: the meta's, plus what only a header can say. */
export function headerPolicy(html) {
  const policy = metaPolicy(html);
  return policy && `${policy}; frame-ancestors 'none'`;
}

/**
 * `trunk serve` puts a reload script into index.html and, when it serves the page, writes the
 * request's host and its WebSocket path into two placeholders: the served text would no longer
 * match a hash taken here. Filled in now (with what trunk itself falls back to), trunk finds
 * nothing to replace and the hash holds. A `trunk build` has no such script.
 */
export function fillReloadScript(html, publicUrl = process.env.TRUNK_PUBLIC_URL || '/') {
  if (!html.includes('{{__TRUNK_ADDRESS__}}')) return html;
  let out = html.replace(/(['`])\{\{__TRUNK_ADDRESS__\}\}\1/g, 'window.location.host');
  if (publicUrl.startsWith('/')) {
    out = out.replaceAll('{{__TRUNK_WS_BASE__}}', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  }
  return out;
}

/** index.html with its CSP <meta> set for this config.json. */
export function applyPolicy(html, config, extra) {
  const withoutMeta = fillReloadScript(html).replace(new RegExp(`\\n?[ \\t]*${META_RE.source}`, 'i'), '');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${buildPolicy(withoutMeta, config, extra)}" />`;
  const charset = /<meta\s+charset=[^>]*>/i.exec(withoutMeta);
  if (charset) {
    const at = charset.index + charset[0].length;
    return `${withoutMeta.slice(0, at)}\n    ${meta}${withoutMeta.slice(at)}`;
  }
  const head = /<head\b[^>]*>/i.exec(withoutMeta);
  if (!head) throw new Error('index.html has no <head>: cannot place the CSP <meta>');
  const at = head.index + head[0].length;
  return `${withoutMeta.slice(0, at)}\n    ${meta}${withoutMeta.slice(at)}`;
}

const PRELOAD_RE = /\n?[ \t]*<link rel="preload" data-oidc-discovery [^>]*>/i;

/** index.html without the discovery preload that earlier versions of this script wrote. */
function withoutDiscoveryPreload(html) {
  return html.replace(PRELOAD_RE, '');
}

/** Rewrites DIR/index.html with the policy for DIR/config.json; returns the policy. */
export function writePolicy(dir) {
  const file = path.join(dir, 'index.html');
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const html = applyPolicy(withoutDiscoveryPreload(readFileSync(file, 'utf8')), config);
  writeFileSync(file, html);
  return metaPolicy(html);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const header = args[0] === '--header';
  const dir = args[header ? 1 : 0] || process.env.TRUNK_STAGING_DIR || 'dist';
  if (header) {
    const policy = headerPolicy(readFileSync(path.join(dir, 'index.html'), 'utf8'));
    if (!policy) {
      console.error(`csp: ${path.join(dir, 'index.html')} has no CSP <meta>`);
      process.exit(1);
    }
    console.log(policy);
  } else {
    try {
      console.log(`csp: ${path.join(dir, 'index.html')}: ${writePolicy(dir)}`);
    } catch (err) {
      console.error(`csp: ${path.join(dir, 'index.html')} left unchanged: ${err.message}`);
      process.exit(1);
    }
  }
}
