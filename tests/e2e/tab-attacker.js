// The attacker page's script (served as /__attacker.js next to /__attacker.html by
// tab-attacker.test.mjs): a page of the app's origin that is not the app. It listens on the
// app's channel, keeps every message it hears (genuine ones: a BroadcastChannel does not hear
// its own posts), and posts whatever the test asks. It runs under the app's CSP (a script of
// 'self'), like any script an attacker could get onto the origin.

const config = await (await fetch('/config.json')).json();
const channel = new BroadcastChannel(`oidc:${config.issuer}:${config.client_id}`);

const captured = [];
let answerHellos; // { session: JSON text of a CarriedSession, k } or undefined

const b64url = {
  encode: (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
  decode: (part) => new TextDecoder().decode(
    Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
  ),
};

channel.onmessage = ({ data }) => {
  captured.push({ m: data?.m, k: data?.k, at: Date.now() });
  // Answer every tab that asks for the session, before the app's tabs can. The tab id is a
  // u64: read and written as text, JSON numbers would lose its low digits.
  const from = /^\{"Hello":\{"from":(\d+)\}\}$/.exec(data?.m ?? '')?.[1];
  if (from && answerHellos) {
    channel.postMessage({ m: `{"Session":{"to":${from},"session":${answerHellos.session}}}`, k: answerHellos.k });
  }
};

window.attacker = {
  ready: true,
  /** The genuine messages heard so far: [{ kind, m, at }] (the key pairs stay here). */
  heard: () => captured.map(({ m, at }) => ({ kind: Object.keys(JSON.parse(m))[0], m, at })),
  /** Posts `m` (text), with the key pair of the genuine message number `keyOf` if given. */
  post(m, keyOf) {
    const k = keyOf === undefined ? undefined : captured[keyOf].k;
    channel.postMessage(k ? { m, k } : { m });
  },
  /** From now on, answers every Hello with `session` (JSON text) and that message's key pair. */
  answerHellos(session, keyOf) {
    answerHellos = { session, k: captured[keyOf]?.k };
  },
  /**
   * A JWT with the claims of `jwt` changed by `changes`: `signature: 'kept'` keeps the
   * header and the original signature (which no longer matches), `'none'` makes an unsigned
   * token (alg none, empty signature).
   */
  forgeJwt(jwt, changes, signature) {
    const [header, payload, sig] = jwt.split('.');
    const claims = { ...JSON.parse(b64url.decode(payload)), ...changes };
    if (signature === 'none') {
      return `${b64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url.encode(JSON.stringify(claims))}.`;
    }
    return `${header}.${b64url.encode(JSON.stringify(claims))}.${sig}`;
  },
};
