// Starts the local stack: OpenID provider + demo API + orders API (dev/api.mjs twice: the
// second resource server, on ORDERS_PORT (9200)) (+ static server for dist/ with --static,
// + the misbehaving provider dev/hostile.mjs on HOSTILE_PORT (9300) with --hostile).
//
//   node dev/stack.mjs [--static] [--hostile] [--test-hooks] [--log-dir DIR]
//
// Ports/env are those of the individual servers (OP_PORT, API_PORT, APP_PORT, ISSUER,
// APP_ORIGIN, API_AUDIENCE, ACCESS_TOKEN_TTL, DIST, CONFIG_OVERRIDE, ...); they are passed
// through. The orders API gets API_NAME=orders and its port (ORDERS_PORT) and audience
// (ORDERS_AUDIENCE, also given to the provider) as API_PORT / API_AUDIENCE; the API_DPOP_NONCE
// and API_REPLAY_CACHE_MAX switches apply to both APIs. Waits until every server answers,
// prints the URLs, then runs until SIGINT/SIGTERM or until one child dies (then stops the
// others and exits 1).
//
// Also importable: `startStack({ static, testHooks, env, logDir, quiet })` returns
// `{ urls, stop() }` (used by tests/e2e/harness.mjs). More options: `provider: false`,
// `api: false` and `orders: false` leave those out, `hostile: true` adds dev/hostile.mjs.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEV_DIR = path.dirname(fileURLToPath(import.meta.url));

export function stackUrls(env = process.env) {
  const opPort = env.OP_PORT || '9000';
  const apiPort = env.API_PORT || '9100';
  const ordersPort = env.ORDERS_PORT || '9200';
  const appPort = env.APP_PORT || '8080';
  const hostilePort = env.HOSTILE_PORT || '9300';
  return {
    issuer: (env.ISSUER || `http://127.0.0.1:${opPort}`).replace(/\/$/, ''),
    api: `http://127.0.0.1:${apiPort}`,
    orders: `http://127.0.0.1:${ordersPort}`,
    app: (env.APP_ORIGIN || `http://localhost:${appPort}`).replace(/\/$/, ''),
    appLocal: `http://127.0.0.1:${appPort}`,
    hostile: (env.HOSTILE_ISSUER || `http://127.0.0.1:${hostilePort}`).replace(/\/$/, ''),
  };
}

async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

async function waitFor(url, child, name, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited early (code ${child.exitCode ?? child.signalCode})`);
    }
    if (await answers(url)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} did not answer at ${url} within ${timeoutMs} ms`);
}

function pipeOutput(child, name, { logDir, quiet }) {
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
    child.stdout.pipe(file);
    child.stderr.pipe(file);
    return;
  }
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      if (!quiet) for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
}

export async function startStack({
  static: withStatic = false, testHooks = false, env: extraEnv = {}, logDir, quiet = false,
  provider: withProvider = true, api: withApi = true, orders: withOrders = true, hostile: withHostile = false,
} = {}) {
  const env = { ...process.env, ...extraEnv };
  if (testHooks) env.TEST_HOOKS = '1';
  const urls = stackUrls(env);
  // Let the servers agree on the URLs even when only ports were given.
  env.ISSUER = urls.issuer;
  env.APP_ORIGIN = urls.app;
  env.API_AUDIENCE ||= urls.api;
  env.ORDERS_AUDIENCE ||= urls.orders;

  const services = [];
  if (withProvider) services.push({ name: 'provider', script: 'provider.mjs', probe: `${urls.issuer}/.well-known/openid-configuration` });
  if (withApi) services.push({ name: 'api', script: 'api.mjs', probe: `${urls.api}/` });
  if (withOrders) {
    services.push({
      name: 'orders',
      script: 'api.mjs',
      probe: `${urls.orders}/`,
      env: {
        API_NAME: 'orders', API_PORT: new URL(urls.orders).port, API_ORIGIN: urls.orders, API_AUDIENCE: env.ORDERS_AUDIENCE, API_SCOPE: 'orders:read',
      },
    });
  }
  if (withHostile) services.push({ name: 'hostile', script: 'hostile.mjs', probe: `${urls.hostile}/.well-known/openid-configuration` });
  if (withStatic) services.push({ name: 'static', script: 'static.mjs', probe: `${urls.appLocal}/` });

  const children = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(children.map((child) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    })));
  };

  try {
    for (const service of services) {
      // Something else already answering would make the readiness probe lie.
      if (await answers(service.probe)) {
        throw new Error(`${service.name}: ${new URL(service.probe).origin} is already in use (another stack running?)`);
      }
      const child = spawn(process.execPath, [path.join(DEV_DIR, service.script)], {
        env: { ...env, ...service.env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.serviceName = service.name;
      children.push(child);
      pipeOutput(child, service.name, { logDir, quiet });
      await waitFor(service.probe, child, service.name);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  // If this process ends without stop() (a crashed test file, an uncaught error), take the
  // servers with it rather than leave them holding the ports.
  process.once('exit', () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });

  const exited = new Promise((resolve) => {
    for (const child of children) {
      child.once('exit', (code, signal) => {
        if (!stopping) resolve({ name: child.serviceName, code, signal });
      });
    }
  });
  return { urls, stop, children, exited };
}

// ---------------------------------------------------------------------------
const USAGE = `usage: node dev/stack.mjs [--static] [--hostile] [--test-hooks] [--log-dir DIR]

Starts the local OpenID provider (alice / wonderland), the demo API and the orders API
(the second resource server: ORDERS_PORT, default 9200), and with
  --static      the static server for dist/ (the built app)
  --hostile     the misbehaving provider of the attack tests
  --test-hooks  the /__test/* hooks (tests only: never in a deployment)
  --log-dir DIR one log file per server in DIR
Ports and settings come from the servers' environment variables (OP_PORT, API_PORT,
ORDERS_PORT, APP_PORT, ISSUER, ACCESS_TOKEN_TTL, DPOP, PAR, ...): see dev/README.md.`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const known = ['--static', '--hostile', '--test-hooks', '--log-dir'];
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const unknown = args.filter((arg, i) => arg.startsWith('-') && !known.includes(arg) && args[i - 1] !== '--log-dir');
  if (unknown.length) {
    console.error(`stack: unknown option ${unknown.join(', ')}\n\n${USAGE}`);
    process.exit(2);
  }
  const logDirIndex = args.indexOf('--log-dir');
  const options = {
    static: args.includes('--static'),
    hostile: args.includes('--hostile'),
    testHooks: args.includes('--test-hooks'),
    logDir: logDirIndex >= 0 ? args[logDirIndex + 1] : undefined,
  };

  let stack;
  try {
    stack = await startStack(options);
  } catch (err) {
    console.error(`stack: ${err.message}`);
    process.exit(1);
  }
  const { urls } = stack;
  console.log(`stack: provider ${urls.issuer}  (test user alice / wonderland)`);
  console.log(`stack: api      ${urls.api}/api/hello`);
  console.log(`stack: orders   ${urls.orders}/api/orders`);
  if (options.static) console.log(`stack: app      ${urls.app}/`);
  if (options.hostile) console.log(`stack: hostile  ${urls.hostile}  (POST /__scenario {"name": ...})`);
  console.log('stack: ready');

  const shutdown = async (signal) => {
    console.log(`stack: ${signal}, stopping`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  const dead = await stack.exited;
  console.error(`stack: ${dead.name} exited (code ${dead.code ?? dead.signal}); stopping the rest`);
  await stack.stop();
  process.exit(1);
}
