// Shared by the dev servers' test hooks (TEST_HOOKS=1 only): they answer only requests whose
// Host header names a loopback address. A page of another site whose name an attacker points
// at 127.0.0.1 (DNS rebinding) reaches the port as "same origin", with its own name in Host:
// such requests are refused with 403, whatever they carry.

/** Whether a Host header value is localhost, 127.x.x.x or [::1], with or without a port. */
export function isLoopbackHost(host) {
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::\d{1,5})?$/i.exec(host ?? '');
  if (!match) return false;
  const name = (match[1] ?? match[2]).toLowerCase();
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** The JSON body of the refusal of a test hook request with another Host. */
export const HOST_REFUSAL = {
  error: 'forbidden',
  error_description: 'test hooks answer requests to a loopback Host (localhost, 127.0.0.1, [::1]) only',
};
