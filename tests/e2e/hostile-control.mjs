// The hostile provider's control paths (dev/hostile.mjs), for the browser files that use it
// (tests/e2e/hostile.test.mjs, tests/e2e/transport-limits.test.mjs).

import assert from 'node:assert/strict';

import { HOSTILE } from './harness.mjs';

async function hostile(path, init) {
  const res = await fetch(`${HOSTILE}${path}`, init);
  const body = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

/** Selects a scenario (and resets the provider's counters). */
export const useScenario = (name) => hostile('/__scenario', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }),
});

/** GET /__stats: counters, issued values, refusals, endless streams. */
export const hostileStats = () => hostile('/__stats');
