// The HTML pages of the dev provider: login form, sign-out confirmation, errors.
// No external resources (the machine has no internet access) and no script: nothing here
// submits itself.

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  // No script on these pages: nothing here submits itself.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; padding: 2rem 1rem; background: #f4f4f7; color: #1b1b1f; }
  main { max-width: 22rem; margin: 0 auto; background: #fff; padding: 1.5rem; border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.2); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  .actions { display: flex; gap: .5rem; margin-top: 1rem; }
  button { padding: .5rem 1rem; font-size: 1rem; cursor: pointer; }
  #sign-in-submit { background: #2456c6; color: #fff; border: 0; border-radius: .25rem; }
  [role=alert] { color: #a30000; background: #fde8e8; padding: .5rem; border-radius: .25rem; }
  .hint { color: #555; font-size: .85rem; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export function loginPage({ uid, clientName, login = '', error }) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('Sign in', `
<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientName)}</strong></p>
${error ? `<p role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="${action}/login">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" value="${esc(login)}" required autofocus
         autocomplete="username" autocapitalize="off" spellcheck="false"${error ? ' aria-describedby="login-error"' : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required autocomplete="current-password">
  <div class="actions">
    <button type="submit" id="sign-in-submit">Sign in</button>
    <button type="submit" id="cancel" formaction="${action}/abort" formnovalidate>Cancel</button>
  </div>
</form>
<p class="hint">Development provider. Test user: <code>alice</code> / <code>wonderland</code>.</p>`);
}

/** The sign-out confirmation around oidc-provider's logout `form` (see rpInitiatedLogout). */
export function logoutPage(clientName, form) {
  return page('Sign out', `
<h1>Sign out?</h1>
<p>${clientName ? `<strong>${esc(clientName)}</strong> asks to sign you out.` : 'An application asks to sign you out.'}
Signing out also ends your session at this identity provider.</p>
${form}
<div class="actions">
  <button type="submit" form="op.logoutForm" name="logout" value="yes" id="logout-confirm" autofocus>Sign out</button>
  <button type="submit" form="op.logoutForm" id="logout-app-only">Keep my provider session</button>
</div>`);
}

export const signedOutPage = () => page('Signed out', '<h1>Signed out</h1><p>You have been signed out.</p>');

export function errorPage(out) {
  return page('Sign-in error', `
<h1>Something went wrong</h1>
<p role="alert"><strong>${esc(out.error)}</strong>${out.error_description ? `: ${esc(out.error_description)}` : ''}</p>`);
}
