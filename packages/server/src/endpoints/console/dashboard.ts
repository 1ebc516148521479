import { listApprovals, type ApprovalStore } from '../../management/approvals.ts';
import { queryAudit } from '../../management/audit.ts';
import { listActiveGrants, type GrantStore } from '../../management/grants.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { ClientRecords, ResourceRecords, UserRecords } from '../../store/store.ts';
import { dashboardPage } from '../../ui/console/dashboard-page.ts';
import { seeOther } from '../page-response.ts';
import { type ConsoleDeps, consoleBase, consoleManagement, consoleRoute } from './console-route.ts';

export type DashboardStore = ApprovalStore & GrantStore & Pick<ClientRecords, 'listClients'> & Pick<ResourceRecords, 'listResources'> & Pick<UserRecords, 'listUsers'>;

/** `/admin`: the dashboard (an approver, who sees only approvals, is sent there); `/admin/` is sent to it. */
export function consoleDashboardRoutes(deps: ConsoleDeps<DashboardStore>): RouteDefinition[] {
  return [
    {
      method: 'GET',
      url: '/admin/',
      access: 'browser',
      errorFormat: 'problem',
      // The address people type: a fixed target (nothing from the request), whose own route checks the session.
      handler: async (_request, reply) => reply.code(301).header('location', `${consoleBase(deps.issuer)}/admin`).send(),
    },
    consoleRoute(deps, {
      method: 'GET',
      path: '',
      // Every role reaches the route; an approver is redirected to the one section it has.
      section: 'approvals',
      async handler(req) {
        if (req.role === 'approver') return seeOther(req.reply, `${req.frame.base}/admin/approvals`);
        req.frame.section = 'dashboard';
        req.frame.canChange = false;
        const management = consoleManagement(deps, req);
        const clients = await deps.store.listClients();
        const agents = clients.filter((c) => c.kind === 'agent');
        const active = deps.keys.list().find((k) => k.signing);
        const users = await deps.store.listUsers();
        const names = new Map<string, string>([...clients.map((c) => [c.clientId, c.name] as [string, string]), ...users.map((u) => [u.id, u.email ?? u.id] as [string, string])]);
        return dashboardPage(req.frame, {
          pendingApprovals: (await listApprovals({ status: 'pending' }, management)).length,
          agents: { total: agents.length, active: agents.filter((a) => a.status === 'active').length },
          clients: clients.filter((c) => c.kind === 'app').length,
          resources: (await deps.store.listResources()).length,
          users: users.length,
          activeGrants: (await listActiveGrants(management)).length,
          signingKey: active?.kid ?? null,
          recent: await queryAudit(deps.store, { limit: 8 }),
          names,
        });
      },
    }),
  ];
}
