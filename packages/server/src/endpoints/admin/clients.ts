import type { ClientStore } from '../../management/client-lifecycle.ts';
import { createClient, deleteClient, getClient, listClients, rotateClientSecret, setClientStatus, updateClient } from '../../management/clients.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, graceFrom, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/clients`: the REST face of `mandate client …` (OAuth applications; agents are under /agents). */
export function adminClientRoutes(api: AdminApiDeps<ClientStore>): RouteDefinition[] {
  return [
    adminRoute('GET', '/clients', async (_request, reply) => sendJson(reply, 200, { clients: await listClients(api) })),
    adminRoute('POST', '/clients', async (request, reply) => {
      const { client, clientSecret } = await createClient(request.body ?? {}, managementDeps(api, request));
      return sendJson(reply, 201, { ...client, ...(clientSecret ? { client_secret: clientSecret } : {}) });
    }),
    adminRoute('GET', '/clients/:id', async (request, reply) => sendJson(reply, 200, await getClient(idParam(request), managementDeps(api, request)))),
    adminRoute('PATCH', '/clients/:id', async (request, reply) =>
      sendJson(reply, 200, await updateClient(idParam(request), request.body ?? {}, managementDeps(api, request))),
    ),
    adminRoute('POST', '/clients/:id/disable', async (request, reply) =>
      sendJson(reply, 200, await setClientStatus(idParam(request), 'disabled', managementDeps(api, request))),
    ),
    adminRoute('POST', '/clients/:id/enable', async (request, reply) =>
      sendJson(reply, 200, await setClientStatus(idParam(request), 'active', managementDeps(api, request))),
    ),
    adminRoute('POST', '/clients/:id/rotate-secret', async (request, reply) => {
      const { client, clientSecret } = await rotateClientSecret(idParam(request), managementDeps(api, request), { graceSeconds: graceFrom(request.body) });
      return sendJson(reply, 200, { ...client, client_secret: clientSecret });
    }),
    adminRoute('DELETE', '/clients/:id', async (request, reply) => {
      await deleteClient(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
