import type { ClientStore } from '../../management/client-lifecycle.ts';
import { createAgent, deleteAgent, getAgent, listAgents, rotateAgentSecret, setAgentStatus, updateAgent } from '../../management/agents.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, graceFrom, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/agents`: the REST face of `mandate agent …`. */
export function adminAgentRoutes(api: AdminApiDeps<ClientStore>): RouteDefinition[] {
  return [
    adminRoute('GET', '/agents', async (_request, reply) => sendJson(reply, 200, { agents: await listAgents(api.store) })),
    adminRoute('POST', '/agents', async (request, reply) => {
      const { agent, clientSecret } = await createAgent(request.body ?? {}, managementDeps(api, request));
      return sendJson(reply, 201, { ...agent, ...(clientSecret ? { client_secret: clientSecret } : {}) });
    }),
    adminRoute('GET', '/agents/:id', async (request, reply) => sendJson(reply, 200, await getAgent(api.store, idParam(request)))),
    adminRoute('PATCH', '/agents/:id', async (request, reply) =>
      sendJson(reply, 200, await updateAgent(idParam(request), request.body ?? {}, managementDeps(api, request))),
    ),
    adminRoute('POST', '/agents/:id/disable', async (request, reply) =>
      sendJson(reply, 200, await setAgentStatus(idParam(request), 'disabled', managementDeps(api, request))),
    ),
    adminRoute('POST', '/agents/:id/enable', async (request, reply) =>
      sendJson(reply, 200, await setAgentStatus(idParam(request), 'active', managementDeps(api, request))),
    ),
    adminRoute('POST', '/agents/:id/rotate-secret', async (request, reply) => {
      const { agent, clientSecret } = await rotateAgentSecret(idParam(request), managementDeps(api, request), { graceSeconds: graceFrom(request.body) });
      return sendJson(reply, 200, { ...agent, client_secret: clientSecret });
    }),
    adminRoute('DELETE', '/agents/:id', async (request, reply) => {
      await deleteAgent(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
