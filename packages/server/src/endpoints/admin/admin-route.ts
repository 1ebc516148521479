import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../../http/context.ts';
import type { ManagementDeps } from '../../management/management-deps.ts';
import type { RouteDefinition } from '../../http/route.ts';

/** Admin API routes live under this prefix, all `admin` access and problem+json errors. */
const ADMIN_PREFIX = '/admin/v1';

export function managementDeps(ctx: ServerContext, request: FastifyRequest): ManagementDeps {
  return { store: ctx.store, audit: ctx.audit, config: ctx.config, now: ctx.now(), actor: request.adminActor ?? 'admin' };
}

export function adminRoute(
  method: RouteDefinition['method'],
  path: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): RouteDefinition {
  return { method, url: `${ADMIN_PREFIX}${path}`, access: 'admin', errorFormat: 'problem', handler };
}

export const idParam = (request: FastifyRequest): string => (request.params as Record<string, string>)['id'] ?? '';

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}
