import type { RouteDefinition } from '../../http/route.ts';
import { deleteRevocationWebhook, getRevocationWebhook, type RevocationWebhookStore, setRevocationWebhook } from '../../management/revocation-webhooks.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/**
 * `/admin/v1/resources/:id/revocation-webhook`: PUT `{ url }` (answers the signing secret, once), GET (the webhook
 * and its delivery log), DELETE. `:id` is the resource id or URI.
 */
export function adminRevocationWebhookRoutes(api: AdminApiDeps<RevocationWebhookStore>, secretKey: Buffer): RouteDefinition[] {
  const path = '/resources/:id/revocation-webhook';
  return [
    adminRoute('PUT', path, async (request, reply) => sendJson(reply, 200, await setRevocationWebhook(idParam(request), request.body ?? {}, managementDeps(api, request), secretKey))),
    adminRoute('GET', path, async (request, reply) => sendJson(reply, 200, await getRevocationWebhook(idParam(request), managementDeps(api, request)))),
    adminRoute('DELETE', path, async (request, reply) => {
      await deleteRevocationWebhook(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
