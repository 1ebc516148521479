const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks a configured issuer identifier: an absolute https URL with no query or fragment (RFC 8414 §2). Plain http is
 * accepted only on a loopback host, for development and tests (RFC 8252 §8.3 treats loopback as a local channel).
 * Throws TypeError: a bad issuer is the caller's misuse, not untrusted input.
 */
export function assertIssuerIdentifier(issuer: unknown, option = 'issuer'): asserts issuer is string {
  if (typeof issuer !== 'string' || !URL.canParse(issuer)) throw new TypeError(`${option} must be an absolute URL`);
  const url = new URL(issuer);
  if (url.search !== '' || url.hash !== '' || issuer.includes('#') || issuer.includes('?')) {
    throw new TypeError(`${option} must not have a query or fragment (RFC 8414 §2)`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackHosts.has(url.hostname))) {
    throw new TypeError(`${option} must use https (http is allowed only on a loopback host)`);
  }
}

/** True when an endpoint URL found in metadata is https (RFC 8414 §2 requires TLS), or http on a loopback host. */
export function isAcceptableEndpoint(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
}
