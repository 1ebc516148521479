import { adminTokenRoutes } from '../endpoints/admin/admin-tokens.ts';
import type { AdminApiDeps } from '../endpoints/admin/admin-route.ts';
import { adminAgentRoutes } from '../endpoints/admin/agents.ts';
import { adminAuditAndKeyRoutes } from '../endpoints/admin/audit-and-keys.ts';
import { adminDelegationRoutes, type ExchangeCheck } from '../endpoints/admin/delegation.ts';
import { adminClientRoutes } from '../endpoints/admin/clients.ts';
import { adminApprovalRoutes } from '../endpoints/admin/approvals.ts';
import { adminResourceRoutes } from '../endpoints/admin/resources.ts';
import { adminRevocationWebhookRoutes } from '../endpoints/admin/revocation-webhooks.ts';
import { adminApprovalWebhookRoutes } from '../endpoints/admin/approval-webhooks.ts';
import { adminUserRoutes } from '../endpoints/admin/users.ts';
import type { RouteDefinition } from '../http/route.ts';
import type { Store } from '../store/store.ts';

import type { ServerContext } from './server-context.ts';

/** The admin API: the REST face of management/ (the CLI's other face); each group declares its store slice. */
export function adminRoutes(ctx: ServerContext, store: Store, exchange: ExchangeCheck): RouteDefinition[] {
  const api: AdminApiDeps<Store> = { store, audit: ctx.audit, config: ctx.config, keys: ctx.keys, now: ctx.now };
  return [
    ...adminAgentRoutes(api),
    ...adminResourceRoutes(api), ...adminApprovalRoutes(api),
    ...adminRevocationWebhookRoutes(api, ctx.webhookSecretKey),
    ...adminApprovalWebhookRoutes(api, ctx.webhookSecretKey),
    ...adminDelegationRoutes(api, exchange),
    ...adminAuditAndKeyRoutes(api),
    ...adminTokenRoutes(api),
    ...adminUserRoutes(api),
    ...adminClientRoutes(api),
  ];
}
