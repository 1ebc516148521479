import { invalidScope } from '../oauth/oauth-error.ts';
import type { ApprovalRequestRecords, ScopeRisk } from '../store/store.ts';
import { newId } from '../tokens/secret.ts';

/** How long approvers have to decide, and an approval to be used (issue 12 item 2). */
export const APPROVAL_REQUEST_TTL_SECONDS = 900;

export interface ApprovalGateDeps {
  approvals: Pick<ApprovalRequestRecords, 'findOpenApprovalRequest' | 'createApprovalRequest' | 'useApprovalRequest'>;
}

export interface ApprovalAsk {
  clientId: string;
  chain: string[];
  userId: string | null;
  scopes: readonly string[];
  resources: readonly string[];
  justification: string | null;
  risk: ScopeRisk;
  /** Why approval is needed (the policy, as `decideScopes` described it). */
  why: string;
}

/** One exact request: the same resources and scopes for the same user find the same approval request. */
const requestKey = (ask: ApprovalAsk) => JSON.stringify([ask.userId, [...ask.resources].sort(), [...ask.scopes].sort()]);

/**
 * A grant a scope policy sends to approvers: returns when an approver approved this exact request (the approval is
 * then used up: one token); otherwise records a pending request (or finds the one already waiting) and refuses with
 * its id, so the client can tell its user and ask again once it is decided.
 */
export async function passApprovalGate(ask: ApprovalAsk, deps: ApprovalGateDeps, now: number): Promise<{ approvalId: string }> {
  const key = requestKey(ask);
  const open = await deps.approvals.findOpenApprovalRequest(ask.clientId, key, now);
  if (open?.status === 'approved' && (await deps.approvals.useApprovalRequest(open.id, now))) return { approvalId: open.id };
  if (open?.status === 'pending') throw invalidScope(`${ask.why}: approval request ${open.id} is pending`);
  const id = newId('apr');
  await deps.approvals.createApprovalRequest({
    id,
    status: 'pending',
    clientId: ask.clientId,
    chain: ask.chain,
    userId: ask.userId,
    scopes: [...ask.scopes],
    resources: [...ask.resources],
    justification: ask.justification,
    risk: ask.risk,
    requestKey: key,
    createdAt: now,
    expiresAt: now + APPROVAL_REQUEST_TTL_SECONDS,
    decidedBy: null,
    decidedAt: null,
    reason: null,
    usedAt: null,
    authReqHash: null,
    pollInterval: null,
    lastPolledAt: null,
  });
  throw invalidScope(`${ask.why}: approval request ${id} was created and waits for an approver`);
}
