import type { GrantStore } from '../../management/grants.ts';
import type { UserStore } from '../../management/users.ts';
import type { ClientStore } from '../../management/client-lifecycle.ts';
import type { RouteDefinition } from '../../http/route.ts';
import type { AuditRecords, ResourceRecords, ScopePolicyRecords } from '../../store/store.ts';
import { consoleAgentRoutes } from './agents.ts';
import { type ConsoleApprovalStore, consoleApprovalRoutes } from './approvals.ts';
import { consoleAuditRoutes } from './audit.ts';
import { consoleClientRoutes } from './clients.ts';
import type { ConsoleDeps } from './console-route.ts';
import { consoleDashboardRoutes, type DashboardStore } from './dashboard.ts';
import { consoleGrantRoutes } from './grants.ts';
import { consoleKeyRoutes } from './keys.ts';
import { consoleResourceRoutes } from './resources.ts';
import { consoleUserRoutes } from './users.ts';

/** Every store slice a console section calls. */
export type ConsoleStore = ConsoleApprovalStore &
  DashboardStore &
  ClientStore &
  ResourceRecords &
  ScopePolicyRecords &
  UserStore &
  GrantStore &
  Pick<AuditRecords, 'listAuditRows'>;

/** The admin console (issue 12 item 6): one route group per section, each over its own store slice. */
export function consoleRoutes(deps: ConsoleDeps<ConsoleStore> & { draining(): boolean; approvalPollMs?: number }): RouteDefinition[] {
  return [
    ...consoleDashboardRoutes(deps),
    ...consoleApprovalRoutes({ ...deps, ...(deps.approvalPollMs ? { pollMs: deps.approvalPollMs } : {}) }),
    ...consoleAgentRoutes(deps),
    ...consoleClientRoutes(deps),
    ...consoleResourceRoutes(deps),
    ...consoleUserRoutes(deps),
    ...consoleGrantRoutes(deps),
    ...consoleKeyRoutes(deps),
    ...consoleAuditRoutes(deps),
  ];
}
