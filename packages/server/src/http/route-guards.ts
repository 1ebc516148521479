import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteAccess } from './route.ts';
import { bearerCredential } from '../oauth/bearer-token.ts';
import { authenticateAdminToken } from '../tokens/admin-token.ts';
import { browserPageHeaders, csrfGuard } from './browser-guard.ts';
import type { BrowserSessions } from './browser-session.ts';
import type { RefusalAudit } from '../audit/refusal-audit.ts';
import type { AdminTokenRecords } from '../store/store.ts';
import { Problem } from './problem.ts';

/**
 * The hooks each access kind brings to its routes. Attached per route (not globally) so an OAuth request pays only
 * for what it needs; every route has an access kind (the app refuses one without), so none goes unguarded:
 * - every route: `nosniff` and `no-referrer`;
 * - `admin`: an admin API token, checked before the handler;
 * - `browser`: page headers (CSP, anti-framing, no-store) and CSRF on every POST.
 */
/** A Fastify route hook: synchronous with `done`, or async. */
export type RouteHook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => void | Promise<unknown>;

export interface RouteHooks {
  onRequest: RouteHook[];
  preHandler: RouteHook[];
}

/** What every response carries, an unknown path's too (RFC 9700 §4.2: no URL leaks through the Referer header). */
export const BASE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' } as const;

function baseHeaders(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.headers(BASE_HEADERS);
  done();
}

export interface RouteGuardDeps {
  issuer: string;
  refusals: Pick<RefusalAudit, 'record'>;
  adminTokens: Pick<AdminTokenRecords, 'getAdminToken'>;
}

function adminGuard(adminTokens: RouteGuardDeps['adminTokens']): RouteHook {
  return async function requireAdminToken(request: FastifyRequest, reply: FastifyReply) {
    const credential = bearerCredential(typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined);
    const token = credential ? await authenticateAdminToken(credential, adminTokens) : null;
    if (!token) {
      reply.header('www-authenticate', credential ? 'Bearer realm="mandate-admin", error="invalid_token"' : 'Bearer realm="mandate-admin"');
      throw new Problem('unauthorized', 'an admin API token is required (Authorization: Bearer mad_…)');
    }
    request.adminActor = `admin:${token.id}`;
    request.adminUserId = token.userId;
    // Roles, deny by default: `admin` everywhere; another role only where the route admits it.
    if (token.role !== 'admin' && !(request.routeOptions.config.adminRoles ?? []).includes(token.role)) {
      throw new Problem('forbidden', `this admin token's role (${token.role}) may not ${request.method} ${request.routeOptions.url ?? 'this route'}`);
    }
  };
}

export function routeHooksByAccess(deps: RouteGuardDeps, sessions: BrowserSessions): Record<RouteAccess, RouteHooks> {
  return {
    public: { onRequest: [baseHeaders], preHandler: [] },
    oauth: { onRequest: [baseHeaders], preHandler: [] },
    // onRequest, not preHandler: an admin request is refused before its body is even parsed.
    admin: { onRequest: [baseHeaders, adminGuard(deps.adminTokens)], preHandler: [] },
    browser: { onRequest: [baseHeaders, browserPageHeaders], preHandler: [csrfGuard(deps, sessions)] },
  };
}
