/**
 * Canonical form of a resource indicator (RFC 8707 §2, MCP 2026-07-28 §"Canonical server URI"): an absolute
 * http(s) URI without fragment, scheme and host lower-cased, default port dropped, and no trailing slash after a
 * bare host. Paths stay as given: `https://h/mcp` and `https://h/mcp/` are different resources.
 * Returns null when the value is not an acceptable resource URI.
 */
export function canonicalResourceUri(value: string): string | null {
  if (value.includes('#') || /\s/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password || !url.hostname) return null;
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}${url.search}`;
}
