import type { ResourceRecords } from '../../store/store.ts';
import { createResource, deleteResource, getResource, listResources, rotateResourceKey, updateResource } from '../../management/resources.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, graceFrom, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/resources`: the REST face of `mandate resource …`. `:id` is the resource id (`res_…`). */
export function adminResourceRoutes(api: AdminApiDeps<ResourceRecords>): RouteDefinition[] {
  return [
    adminRoute('GET', '/resources', async (_request, reply) => sendJson(reply, 200, { resources: await listResources(api) })),
    adminRoute('POST', '/resources', async (request, reply) => {
      const { resource, apiKey } = await createResource(request.body ?? {}, managementDeps(api, request));
      return sendJson(reply, 201, { ...resource, api_key: apiKey });
    }),
    adminRoute('GET', '/resources/:id', async (request, reply) => sendJson(reply, 200, await getResource(idParam(request), managementDeps(api, request)))),
    adminRoute('PATCH', '/resources/:id', async (request, reply) =>
      sendJson(reply, 200, await updateResource(idParam(request), request.body ?? {}, managementDeps(api, request))),
    ),
    adminRoute('POST', '/resources/:id/rotate-key', async (request, reply) => {
      const { resource, apiKey, previousKeyValidUntil } = await rotateResourceKey(idParam(request), managementDeps(api, request), { graceSeconds: graceFrom(request.body) });
      return sendJson(reply, 200, { ...resource, api_key: apiKey, previous_key_valid_until: previousKeyValidUntil });
    }),
    adminRoute('DELETE', '/resources/:id', async (request, reply) => {
      await deleteResource(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
