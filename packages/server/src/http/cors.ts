import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CORS for the endpoints browser-based OAuth clients call (metadata, JWKS, token, revocation, registration; issue 9
 * item 6; userinfo, which sends DPoP nonces too: issue 11): any origin, never credentials (no cookies: these endpoints authenticate from the request itself), and
 * exactly the request headers those calls use. Pages and the admin API never get these headers, so a page's or an
 * admin token's answer is never readable by another origin.
 */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'DPoP', 'MCP-Protocol-Version'] as const;
/** Response headers a cross-origin client must read: challenges, rate-limit pauses, DPoP nonces. */
export const CORS_EXPOSED_HEADERS = ['WWW-Authenticate', 'Retry-After', 'DPoP-Nonce'] as const;
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** onRequest hook of a CORS route: the headers of the actual request's answer, errors included. */
export function corsHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '));
  done();
}

/** The answer to a preflight (`OPTIONS`) for a URL whose CORS routes take `methods`. */
export function preflightHandler(methods: readonly string[]) {
  const allowMethods = [...new Set([...methods, 'OPTIONS'])].join(', ');
  return async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', allowMethods)
      .header('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '))
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
      .header('allow', allowMethods)
      .send();
}
