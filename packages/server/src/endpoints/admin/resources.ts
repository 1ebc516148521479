import type { FastifyRequest } from 'fastify';
import type { ResourceRecords, ScopePolicyRecords } from '../../store/store.ts';
import { listScopePolicies, scopePolicyHistory, setScopePolicy } from '../../management/scope-policies.ts';
import { createResource, deleteResource, getResource, listResources, rotateResourceKey, updateResource } from '../../management/resources.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, graceFrom, idParam, managementDeps, sendJson } from './admin-route.ts';

const scopeParam = (request: FastifyRequest): string => (request.params as Record<string, string>)['scope'] ?? '';

/** `/admin/v1/resources`: the REST face of `mandate resource …`. `:id` is the resource id (`res_…`). */
export function adminResourceRoutes(api: AdminApiDeps<ResourceRecords & ScopePolicyRecords>): RouteDefinition[] {
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
    // Scope policies (issue 12 item 1): each PUT is a new version, audited.
    adminRoute('GET', '/resources/:id/policies', async (request, reply) => sendJson(reply, 200, await listScopePolicies(idParam(request), managementDeps(api, request)))),
    adminRoute('PUT', '/resources/:id/policies/:scope', async (request, reply) =>
      sendJson(reply, 200, await setScopePolicy(idParam(request), scopeParam(request), request.body ?? {}, managementDeps(api, request))),
    ),
    adminRoute('GET', '/resources/:id/policies/:scope/versions', async (request, reply) =>
      sendJson(reply, 200, await scopePolicyHistory(idParam(request), scopeParam(request), managementDeps(api, request))),
    ),
    adminRoute('DELETE', '/resources/:id', async (request, reply) => {
      await deleteResource(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
