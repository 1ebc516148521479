import { type ApprovalStore, decideApproval, getApproval, listApprovals } from '../../management/approvals.ts';
import type { RouteDefinition } from '../../http/route.ts';
import { type AdminApiDeps, adminRoute, idParam, managementDeps, sendJson } from './admin-route.ts';

/**
 * `/admin/v1/approvals` (issue 12 item 2): viewers and approvers read the queue, approvers (and admins) decide.
 * The decider is the token's user when it speaks for one, else the token itself.
 */
export function adminApprovalRoutes(api: AdminApiDeps<ApprovalStore>): RouteDefinition[] {
  const readers = { adminRoles: ['approver', 'viewer'] } as const;
  return [
    { ...adminRoute('GET', '/approvals', async (request, reply) => sendJson(reply, 200, { approvals: await listApprovals(request.query, managementDeps(api, request)) })), ...readers },
    { ...adminRoute('GET', '/approvals/:id', async (request, reply) => sendJson(reply, 200, await getApproval(idParam(request), managementDeps(api, request)))), ...readers },
    {
      ...adminRoute('POST', '/approvals/:id/decision', async (request, reply) => {
        const deps = managementDeps(api, request);
        const deciderUserId = request.adminUserId ?? null;
        return sendJson(reply, 200, await decideApproval(idParam(request), request.body ?? {}, { ...deps, decider: deciderUserId ?? deps.actor, deciderUserId, signedInAt: 'latest-sign-in' }));
      }),
      adminRoles: ['approver'],
    },
  ];
}
