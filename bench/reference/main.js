// The "plain oidc-client-ts page" of issue 13: the baseline the app's callback is compared
// with in bench/reference.mjs. No framework; authorization code + PKCE (oidc-client-ts does
// PKCE by itself for response_type code), Bearer tokens, the user kept in memory only. It
// shows the app's DOM test hooks (README.md, "Test hooks") so that one page probe times both:
//   [data-testid=auth-status] data-state = signed-out | signing-in | signed-in | error
//   [data-testid=sign-in], [data-testid=user-name], data-error on error.
// Built by scripts/bench.sh with esbuild (one minified ES module) into target/bench/reference/.

import { InMemoryWebStorage, UserManager, WebStorageStateStore } from 'oidc-client-ts';

// Fixed like the app's config.json; the provider registers this client only when the
// benchmark starts it with REFERENCE_ORIGIN (dev/provider.mjs).
const manager = new UserManager({
  authority: 'http://127.0.0.1:9000',
  client_id: 'bench-reference',
  redirect_uri: `${location.origin}/callback`,
  response_type: 'code',
  scope: 'openid profile email api:read', // what the app asks for
  // Tokens in memory, like the app. (The sign-in state must survive the trip to the
  // provider, so it stays in oidc-client-ts' default store, localStorage.)
  userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
});

const root = document.getElementById('root');

/** Renders the status section the way the app's StatusPanel does (same test hooks). */
function show(state, { name, error } = {}) {
  const section = document.createElement('section');
  section.dataset.testid = 'auth-status';
  section.dataset.state = state;
  if (error) section.dataset.error = error;
  const p = document.createElement('p');
  if (state === 'signed-in') {
    const strong = document.createElement('strong');
    strong.dataset.testid = 'user-name';
    strong.textContent = name;
    p.append('Signed in as ', strong);
  } else {
    p.textContent = { 'signing-in': 'Signing you in…', error: `Sign-in did not complete (${error}).` }[state]
      ?? 'You are signed out.';
  }
  section.append(p);
  if (state === 'signed-out' || state === 'error') {
    const button = document.createElement('button');
    button.dataset.testid = 'sign-in';
    button.textContent = state === 'error' ? 'Sign in again' : 'Sign in';
    button.addEventListener('click', () => {
      button.disabled = true;
      manager.signinRedirect().catch((err) => show('error', { error: code(err) }));
    });
    section.append(button);
  }
  root.replaceChildren(section);
}

/** A snake_case code for data-error: the provider's OAuth error where there is one. */
const code = (err) => (typeof err?.error === 'string' && /^[a-z_]+$/.test(err.error) ? err.error : 'callback_failed');

if (location.pathname === '/callback') {
  show('signing-in');
  try {
    const user = await manager.signinCallback();
    // Drop the one-time code and state from the address bar, as the app does.
    history.replaceState(null, '', '/');
    show('signed-in', { name: user.profile.name ?? user.profile.sub });
  } catch (err) {
    history.replaceState(null, '', '/');
    show('error', { error: code(err) });
  }
} else {
  show('signed-out');
}
