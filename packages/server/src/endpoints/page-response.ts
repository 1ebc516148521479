import type { FastifyReply, FastifyRequest } from 'fastify';

/** Sends a server-rendered page (headers such as CSP come from the browser guard). */
export function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** RFC 9700 §4.12 (BCP-10): after a POST, redirect with 303 so the browser does not re-POST the credentials. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}

/** The form fields of a urlencoded page POST. */
export function pageForm(request: FastifyRequest): URLSearchParams {
  return new URLSearchParams(typeof request.body === 'string' ? request.body : '');
}

/** The raw query string of the request URL (without `?`). */
export function rawQuery(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? '' : request.url.slice(q + 1);
}

/**
 * Where to go after login: only a path below the issuer's own path (never another origin, never `//host`), so the
 * login form cannot be used as an open redirector; anything else is the account page. The result is the URL
 * parser's serialisation (non-ASCII percent-encoded), so it is always a valid `Location` header: a `return_to` with
 * a character above Latin-1 once made a correct login answer 500 after its session was replaced (SR-19). Control
 * characters (NUL included) and unpaired surrogates fall back to the default rather than being repaired.
 */
export function safeReturnTo(value: string | null | undefined, base: string): string {
  const fallback = `${base}/account`;
  if (!value || !value.startsWith(`${base}/`) || value.startsWith('//') || /[\\\s\u0000-\u001f\u007f]/.test(value) || !value.isWellFormed()) return fallback;
  try {
    const url = new URL(value, 'http://x');
    if (url.host !== 'x' || !url.pathname.startsWith(`${base}/`)) return fallback;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return fallback;
  }
}
