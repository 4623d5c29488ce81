// What the browser sends to the token and revocation endpoints, and what they answer: the
// tests' view of the token traffic (harness.mjs wires it into every session).

/**
 * Records every POST to the token endpoint (of the local or the hostile provider): the request form (grant_type, code,
 * refresh_token, ...), when it was sent (`at`), the status and the JSON answer.
 * `revocations` lists the POSTs to the revocation endpoint the same way.
 * `tokens()` lists every token value seen.
 */
export function recordTraffic(context, { tokenEndpoints, revocationEndpoint }) {
  const requests = [];
  const revocations = [];
  const pending = new Set();
  context.on('request', (req) => {
    if (req.method() !== 'POST') return;
    const url = req.url().split('?')[0];
    const list = tokenEndpoints.has(url) ? requests : url === revocationEndpoint ? revocations : undefined;
    if (!list) return;
    const entry = {
      form: Object.fromEntries(new URLSearchParams(req.postData() || '')),
      status: undefined, // undefined: no HTTP answer (network error, abort)
      body: undefined,
      at: Date.now(), // when the browser sent it (ms)
      request: req,
    };
    list.push(entry);
    const done = req.response().then(async (res) => {
      if (!res) return;
      entry.status = res.status();
      entry.body = await res.json().catch(() => undefined);
    }).catch(() => {}).finally(() => pending.delete(done));
    pending.add(done);
  });
  return {
    requests,
    revocations,
    /** Waits until every recorded response body has been read. */
    async settled() {
      while (pending.size) await Promise.all([...pending]);
    },
    byGrant(grantType) {
      return requests.filter((r) => r.form.grant_type === grantType);
    },
    /** Every access/refresh/ID token value issued or sent so far. */
    tokens() {
      const out = new Set();
      for (const { form, body } of [...requests, ...revocations]) {
        if (form.refresh_token) out.add(form.refresh_token);
        if (form.token) out.add(form.token);
        for (const key of ['access_token', 'refresh_token', 'id_token']) if (body?.[key]) out.add(body[key]);
      }
      return [...out];
    },
  };
}
