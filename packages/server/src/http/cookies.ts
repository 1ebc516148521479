/** Minimal RFC 6265 cookie handling: Mandate sets one cookie, so a parser for the `Cookie` header is enough. */

export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of [header].flat().join('; ').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Omitted: a cookie that ends with the browser. */
  maxAgeSeconds?: number;
  secure: boolean;
}

/** HttpOnly and SameSite=Lax always: no script reads the session, and cross-site POSTs do not carry it. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, ...(options.maxAgeSeconds === undefined ? [] : [`Max-Age=${options.maxAgeSeconds}`]), 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
