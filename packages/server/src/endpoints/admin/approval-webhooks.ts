import type { RouteDefinition } from '../../http/route.ts';
import { type ApprovalWebhookStore, createApprovalWebhook, deleteApprovalWebhook, getApprovalWebhook, listApprovalWebhooks } from '../../management/approval-webhooks.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/**
 * `/admin/v1/approval-webhooks` (admins only): POST `{ url }` (answers the webhook with its signing secret, once),
 * GET (every webhook), GET `/:id` (the webhook and its delivery log), DELETE `/:id`.
 */
export function adminApprovalWebhookRoutes(api: AdminApiDeps<ApprovalWebhookStore>, secretKey: Buffer): RouteDefinition[] {
  return [
    adminRoute('POST', '/approval-webhooks', async (request, reply) => sendJson(reply, 201, await createApprovalWebhook(request.body ?? {}, managementDeps(api, request), secretKey))),
    adminRoute('GET', '/approval-webhooks', async (request, reply) => sendJson(reply, 200, { webhooks: await listApprovalWebhooks(managementDeps(api, request)) })),
    adminRoute('GET', '/approval-webhooks/:id', async (request, reply) => sendJson(reply, 200, await getApprovalWebhook(idParam(request), managementDeps(api, request)))),
    adminRoute('DELETE', '/approval-webhooks/:id', async (request, reply) => {
      await deleteApprovalWebhook(idParam(request), managementDeps(api, request));
      return reply.code(204).send();
    }),
  ];
}
