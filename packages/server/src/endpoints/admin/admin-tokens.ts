import type { ServerContext } from '../../http/context.ts';
import { createAdminToken, listAdminTokens, revokeAdminToken } from '../../management/admin-tokens.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/admin-tokens`: an admin may mint further admin tokens (e.g. one per operator) and revoke them. */
export function adminTokenRoutes(ctx: ServerContext): RouteDefinition[] {
  return [
    adminRoute('GET', '/admin-tokens', async (_request, reply) => sendJson(reply, 200, { admin_tokens: await listAdminTokens(ctx) })),
    adminRoute('POST', '/admin-tokens', async (request, reply) => sendJson(reply, 201, await createAdminToken(request.body ?? {}, managementDeps(ctx, request)))),
    adminRoute('DELETE', '/admin-tokens/:id', async (request, reply) => {
      await revokeAdminToken(idParam(request), managementDeps(ctx, request));
      return reply.code(204).send();
    }),
  ];
}
