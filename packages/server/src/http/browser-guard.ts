import type { FastifyReply, FastifyRequest } from 'fastify';
import { messagePage } from '../ui/layout.ts';
import { type BrowserSessions, csrfTokenMatches } from './browser-session.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';

/** RFC 9700 §4.16 (clickjacking) and a CSP with no inline script: pages load only their own stylesheet and scripts. */
export const PAGE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** Headers every `browser` response carries: a strict CSP, anti-framing, and no caching of pages with forms. */
export function browserPageHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
  done();
}

/**
 * CSRF protection of `browser` routes (the login, consent and account pages): every POST needs a CSRF token (form
 * field `csrf`, or header `x-csrf-token` for the passkey script's JSON calls): the token of the session it was issued
 * for; only on a route marked `anonymousForm` (sign-in, sign-up: posted from an anonymous page) also the one bound to
 * the browser's CSRF cookie (no store row either way). That cookie is not the session: a token minted from it (by
 * anyone who can plant the cookie) must not pass a signed-in form. Attached to every
 * `browser` route by `route-guards.ts`, so a route cannot forget it: the access kind brings it. Refusals are counted
 * in the audit trail (one row per address and minute, then a count), so they cannot flood it (SR-13).
 */
export function csrfGuard(deps: { issuer: string; refusals: Pick<RefusalAudit, 'record'> }, sessions: BrowserSessions): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const base = new URL(deps.issuer).pathname.replace(/\/$/, '');
  return async function checkCsrf(request: FastifyRequest, reply: FastifyReply) {
    if (request.method !== 'POST') return;
    const session = await sessions.current(request);
    const header = request.headers['x-csrf-token'];
    let presented = typeof header === 'string' ? header : undefined;
    if (presented === undefined && typeof request.body === 'string') presented = new URLSearchParams(request.body).get('csrf') ?? undefined;
    if (session && csrfTokenMatches(session, presented)) return;
    if (request.routeOptions.config.anonymousForm && sessions.anonymousCsrfMatches(request, presented)) return;
    await deps.refusals.record({
      event: 'csrf.refused',
      actor: session?.record.userId ?? null,
      ip: request.ip,
      detail: { error: presented ? 'wrong token' : 'no token', path: request.url.split('?')[0] },
    });
    const json = request.headers['content-type']?.startsWith('application/json');
    reply.code(403);
    if (json) return reply.type('application/problem+json').send(JSON.stringify({ type: 'urn:mandate:problem:forbidden', title: 'Forbidden', status: 403, detail: 'the form expired; reload the page' }));
    return reply.type('text/html; charset=utf-8').send(messagePage(base, 'Form expired', 'This form is no longer valid (its security token is missing or expired). Go back, reload the page and try again.'));
  };
}
