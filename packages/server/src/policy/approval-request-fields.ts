import type { ApprovalEventRequest } from '@mandate/protocol';
import type { ApprovalRequestRecord, ApprovalStatus } from '../store/store.ts';

/**
 * An approval request's wire fields, as the admin API's view (management/approvals.ts, which adds its use and
 * ping delivery) and an approval webhook's event (flows/approval-webhooks.ts) both carry them. `status` is the
 * caller's reading: the view reports a pending request past its expiry as `expired` before the timer marks it.
 */
export function approvalRequestFields(r: ApprovalRequestRecord, status: ApprovalStatus): ApprovalEventRequest {
  return {
    id: r.id,
    status,
    client_id: r.clientId,
    chain: r.chain,
    user_id: r.userId,
    scopes: r.scopes,
    resources: r.resources,
    justification: r.justification,
    risk: r.risk,
    ...(r.authorizationDetails ? { authorization_details: r.authorizationDetails } : {}),
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    decided_by: r.decidedBy,
    decided_at: r.decidedAt,
    reason: r.reason,
  };
}
