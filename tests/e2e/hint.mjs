// The session hint the app leaves in localStorage at sign-in (crates/leptos-pkce/src/session/hint.rs):
// with it, a page load without tokens tries the provider's prompt=none round trip; without it (a
// first visit), it stays on the page. Tests that need the silent attempt give the page one.

import { ISSUER } from './harness.mjs';

/** The hint's localStorage key for `issuer` and the app's client. */
export function hintKey(issuer = ISSUER, clientId = 'leptos-spa') {
  return `oidc.hint:${issuer}:${clientId}`;
}

/** Leaves the hint in `page`'s origin, as an earlier sign-in would have (valid for an hour). */
export async function leaveHint(page, issuer = ISSUER) {
  await page.evaluate(([key]) => localStorage.setItem(key, String(Date.now() + 3_600_000)), [hintKey(issuer)]);
}

/** The hint's value in `page`'s origin, or null. */
export async function readHint(page, issuer = ISSUER) {
  return page.evaluate(([key]) => localStorage.getItem(key), [hintKey(issuer)]);
}
