import type { McpToolAuthorizationDetail } from '@mandate/protocol';
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
  /**
   * A per-action approval (issue 12 item 4): the one tool call asked for. It is part of the exact request, and the
   * approval request keeps it for its approvers.
   */
  authorizationDetails?: McpToolAuthorizationDetail[];
}

/** One exact request: the same resources and scopes for the same user find the same approval request. */
export const approvalRequestKey = (ask: Pick<ApprovalAsk, 'userId' | 'resources' | 'scopes' | 'authorizationDetails'>) =>
  ask.authorizationDetails
    ? JSON.stringify(['mcp_tool', ask.userId, [...ask.resources].sort(), [...ask.scopes].sort(), ask.authorizationDetails.map((d) => [d.tool, d.arguments_sha256, d.locations])])
    : JSON.stringify([ask.userId, [...ask.resources].sort(), [...ask.scopes].sort()]);

/** Where an exact request stands with approvers: approved (and now used up, for one token), or waiting. */
export type ApprovalGateState = { state: 'approved'; approvalId: string } | { state: 'pending'; approvalId: string; created: boolean; expiresAt: number };

/**
 * Takes this exact request's approval when an approver approved it (used up: one token); otherwise finds the
 * pending request already waiting, or records one.
 */
export async function askApprovers(ask: ApprovalAsk, deps: ApprovalGateDeps, now: number): Promise<ApprovalGateState> {
  const key = approvalRequestKey(ask);
  const open = await deps.approvals.findOpenApprovalRequest(ask.clientId, key, now);
  if (open?.status === 'approved' && (await deps.approvals.useApprovalRequest(open.id, now))) return { state: 'approved', approvalId: open.id };
  if (open?.status === 'pending') return { state: 'pending', approvalId: open.id, created: false, expiresAt: open.expiresAt };
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
    ...(ask.authorizationDetails ? { authorizationDetails: ask.authorizationDetails } : {}),
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
  return { state: 'pending', approvalId: id, created: true, expiresAt: now + APPROVAL_REQUEST_TTL_SECONDS };
}

/**
 * A grant a scope policy sends to approvers: returns when an approver approved this exact request; otherwise
 * refuses with the id of the request that waits, so the client can tell its user and ask again once it is decided.
 */
export async function passApprovalGate(ask: ApprovalAsk, deps: ApprovalGateDeps, now: number): Promise<{ approvalId: string }> {
  const gate = await askApprovers(ask, deps, now);
  if (gate.state === 'approved') return { approvalId: gate.approvalId };
  throw invalidScope(`${ask.why}: approval request ${gate.approvalId} ${gate.created ? 'was created and waits for an approver' : 'is pending'}`);
}
