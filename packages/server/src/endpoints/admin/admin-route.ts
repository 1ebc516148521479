import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { KeyRing } from '../../keys/key-ring.ts';
import type { ManagementDeps } from '../../management/management-deps.ts';
import { ManagementError } from '../../management/management-error.ts';
import type { RouteDefinition } from '../../http/route.ts';

/** Admin API routes live under this prefix, all `admin` access and problem+json errors. */
const ADMIN_PREFIX = '/admin/v1';

/**
 * What a group of admin routes is built from: the store slice its management operations call (`S`), the audit log
 * (its chain check too), the configuration and the key ring.
 */
export interface AdminApiDeps<S> {
  store: S;
  audit: Pick<AuditLog, 'record' | 'verify'>;
  config: ManagementDeps['config'];
  keys: KeyRing;
  now(): number;
}

export function managementDeps<S>(api: AdminApiDeps<S>, request: FastifyRequest): ManagementDeps<S> {
  return { store: api.store, audit: api.audit, config: api.config, now: api.now(), actor: request.adminActor ?? 'admin' };
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

/** `grace_seconds` of a rotation request's optional JSON body (`{ "grace_seconds": 0 }`); absent → the configured default. */
export function graceFrom(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ManagementError('invalid-request', 'the body must be a JSON object');
  const { grace_seconds: grace, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new ManagementError('invalid-request', `${unknown}: unknown field (only grace_seconds)`, [{ path: unknown, message: 'unknown field' }]);
  return grace;
}
