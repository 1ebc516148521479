import { type AdminTokenStore, createAdminToken, listAdminTokens, revokeAdminToken } from '../../management/admin-tokens.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/admin-tokens`: an admin may mint further admin tokens (e.g. one per operator) and revoke them. */
export function adminTokenRoutes(api: AdminApiDeps<AdminTokenStore>): RouteDefinition[] {
  return [
    adminRoute('GET', '/admin-tokens', async (_request, reply) => sendJson(reply, 200, { admin_tokens: await listAdminTokens(api) })),
    adminRoute('POST', '/admin-tokens', async (request, reply) => sendJson(reply, 201, await createAdminToken(request.body ?? {}, managementDeps(api, request)))),
    adminRoute('DELETE', '/admin-tokens/:id', async (request, reply) => {
      await revokeAdminToken(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
