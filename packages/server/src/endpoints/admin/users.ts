import type { UserStore } from '../../management/users.ts';
import { createUser, deleteUser, getUser, listUserPasskeys, listUsers, removeUserPasskey, setUserStatus, updateUser } from '../../management/users.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/** `/admin/v1/users`: the REST face of `mandate user …`. `:id` is a user id or an email. */
export function adminUserRoutes(api: AdminApiDeps<UserStore>): RouteDefinition[] {
  return [
    adminRoute('GET', '/users', async (_request, reply) => sendJson(reply, 200, { users: await listUsers(api) })),
    adminRoute('POST', '/users', async (request, reply) => sendJson(reply, 201, await createUser(request.body ?? {}, managementDeps(api, request)))),
    adminRoute('GET', '/users/:id', async (request, reply) => sendJson(reply, 200, await getUser(idParam(request), managementDeps(api, request)))),
    adminRoute('PATCH', '/users/:id', async (request, reply) =>
      sendJson(reply, 200, await updateUser(idParam(request), request.body ?? {}, managementDeps(api, request))),
    ),
    adminRoute('POST', '/users/:id/disable', async (request, reply) =>
      sendJson(reply, 200, await setUserStatus(idParam(request), 'disabled', managementDeps(api, request))),
    ),
    adminRoute('POST', '/users/:id/enable', async (request, reply) =>
      sendJson(reply, 200, await setUserStatus(idParam(request), 'active', managementDeps(api, request))),
    ),
    adminRoute('GET', '/users/:id/passkeys', async (request, reply) =>
      sendJson(reply, 200, { passkeys: await listUserPasskeys(idParam(request), managementDeps(api, request)) }),
    ),
    adminRoute('DELETE', '/users/:id/passkeys/:credentialId', async (request, reply) => {
      await removeUserPasskey(idParam(request), (request.params as Record<string, string>)['credentialId'] ?? '', managementDeps(api, request));
      return reply.code(204).send();
    }),
    adminRoute('DELETE', '/users/:id', async (request, reply) => {
      await deleteUser(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
