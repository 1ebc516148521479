/**
 * Redirect URI rules (RFC 9700 §4.1.3, OAuth 2.1 §2.3 and §7.5, RFC 8252 §7): registered URIs are https, http on a
 * loopback IP or localhost (native apps), or a private-use scheme containing a dot (`com.example.app:/cb`); never a
 * fragment. Presented URIs must equal a registered one exactly, except that the port of a loopback `http` URI may
 * vary (RFC 8252 §7.3: native apps listen on an ephemeral port).
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(uri: string): URL | null {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Why a URI cannot be registered, or null when it can. */
export function redirectUriProblem(uri: string): string | null {
  const url = parse(uri);
  if (!url || uri.includes('#')) return 'must be an absolute URI without a fragment';
  if (url.protocol === 'https:') return url.username || url.password ? 'must not contain credentials' : null;
  if (url.protocol === 'http:') return isLoopbackHttp(url) ? null : 'http is allowed only for loopback hosts (RFC 8252 §7.3)';
  if (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]*:$/.test(url.protocol)) return null;
  return 'must be https, http on a loopback host, or a private-use scheme with a dot (RFC 8252 §7.1)';
}

/** The registered URI `presented` matches, or null. */
export function matchRedirectUri(registered: readonly string[], presented: string): string | null {
  if (registered.includes(presented)) return presented;
  const url = parse(presented);
  if (!url || !isLoopbackHttp(url) || presented.includes('#')) return null;
  for (const candidate of registered) {
    const reg = parse(candidate);
    if (!reg || !isLoopbackHttp(reg)) continue;
    // Everything but the port must be identical.
    reg.port = url.port;
    if (reg.href === url.href) return candidate;
  }
  return null;
}
