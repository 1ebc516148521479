import type { FastifyReply } from 'fastify';

/** RFC 6749 §5.1: token responses (and anything carrying credentials) must not be cached. */
export function sendNoStoreJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify(body));
}
