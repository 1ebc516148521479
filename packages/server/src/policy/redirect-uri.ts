/**
 * Redirect URI rules (RFC 9700 §4.1.3, OAuth 2.1 §2.3 and §7.5, RFC 8252 §7), the one policy for every way a client
 * is registered (CLI, admin API, dynamic registration, metadata documents): registered URIs are https, http on a
 * loopback IP or localhost (native apps), or a private-use scheme (RFC 8252 §7.1). A private-use scheme should be a
 * reverse domain name (`com.example.app:/cb`), but hosts in use pick shorter ones (Cursor's
 * `cursor://anysphere.cursor-mcp/oauth/callback`), so any scheme is accepted except those that run code, read
 * local data or belong to another protocol (`javascript:`, `data:`, `file:`, `ws:` …). Never a fragment or
 * credentials. Presented URIs must equal a registered one exactly, except that the port of a loopback `http` URI
 * may vary (RFC 8252 §7.3: native apps listen on an ephemeral port).
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Schemes that are never a redirect target: they run script, read local data, or name another protocol or the browser itself. */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:', 'vbscript:', 'data:', 'blob:', 'file:', 'filesystem:', 'about:', 'view-source:', 'chrome:', 'intent:',
  'ws:', 'wss:', 'ftp:', 'mailto:', 'tel:', 'sms:',
]);

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
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') return isLoopbackHttp(url) ? null : 'http is allowed only for loopback hosts (RFC 8252 §7.3)';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `the ${url.protocol.slice(0, -1)} scheme is never a redirect target`;
  return null;
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
