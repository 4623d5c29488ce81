// Waiting on what the test controls: a condition, or counters that stop moving.

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy; returns that. */
export async function waitUntil(probe, { timeout = 15000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}`);
    await sleep(interval);
  }
}

/**
 * Waits until things have come to rest: `probe()` (counters, e.g. provider stats and requests
 * the page made; any JSON-able value) returns the same value `polls` times in a row, `interval`
 * ms apart, and the page (if given) has finished loading its current document (so a redirect
 * loop, which keeps navigating, never looks quiet). Not networkidle: a page may hold responses
 * whose bodies it never reads (the app's burst does), which never count as finished.
 * Returns the stable value. Use it instead of a fixed sleep before asserting that something
 * did NOT happen (a redirect loop, a retry): a slow machine makes the wait longer, not the
 * test wrong. It cannot see a timer that fires after it returns: for those, fire the page's
 * timers (page.clock) or wait for the event that must not follow.
 */
export async function waitForQuiet(probe, { page, polls = 5, interval = 200, timeout = 20000 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let same = 0;
  for (;;) {
    if (page) await page.waitForLoadState('load', { timeout: Math.max(1000, deadline - Date.now()) });
    const value = JSON.stringify(await probe());
    same = value === last ? same + 1 : 1;
    last = value;
    if (same >= polls) return JSON.parse(value);
    if (Date.now() > deadline) throw new Error(`not quiet after ${timeout} ms; last: ${value}`);
    await sleep(interval);
  }
}
