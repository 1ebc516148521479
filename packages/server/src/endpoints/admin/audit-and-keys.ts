import { KeyRing } from '../../keys/key-ring.ts';
import { verifyAuditChain } from '../../audit/verify-audit-chain.ts';
import type { ServerContext } from '../../http/context.ts';
import { queryAudit } from '../../management/audit.ts';
import { rotateSigningKey } from '../../management/signing-keys.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { adminRoute, sendJson } from './admin-route.ts';

/** `/admin/v1/audit` (query and chain check) and `/admin/v1/keys` (list and rotate). */
export function adminAuditAndKeyRoutes(ctx: ServerContext): RouteDefinition[] {
  return [
    adminRoute('GET', '/audit', async (request, reply) => sendJson(reply, 200, { events: await queryAudit(ctx.store, request.query ?? {}) })),
    adminRoute('GET', '/audit/verify', async (_request, reply) => sendJson(reply, 200, await verifyAuditChain(ctx.store))),
    adminRoute('GET', '/keys', async (_request, reply) => sendJson(reply, 200, { keys: ctx.keys.list() })),
    adminRoute('POST', '/keys/rotate', async (request, reply) => {
      const rotated = await rotateSigningKey(ctx.keys, { audit: ctx.audit, config: ctx.config, actor: request.adminActor ?? 'admin' });
      return sendJson(reply, 200, KeyRing.rotationView(rotated));
    }),
  ];
}
