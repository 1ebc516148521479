import type { McpToolAuthorizationDetail } from '@mandate/protocol';
import { invalidScope } from '../oauth/oauth-error.ts';
import type { ApprovalRequestRecords, ScopeRisk } from '../store/store.ts';
import { newId } from '../tokens/secret.ts';

/** How long approvers have to decide, and the approval to be used: as for every approval request (issue 12 item 2). */
const APPROVAL_REQUEST_TTL_SECONDS = 900;

export interface ActionApprovalAsk {
  clientId: string;
  chain: string[];
  userId: string | null;
  scopes: readonly string[];
  resources: readonly string[];
  justification: string | null;
  risk: ScopeRisk;
  /** Why approval is needed, for the refusal. */
  why: string;
  /** The one tool call asked for. */
  authorizationDetails: McpToolAuthorizationDetail[];
}

/**
 * The approval gate of a per-action approval (issue 12 item 4): as `passApprovalGate`, but the exact request also
 * names the one tool call (`mcp_tool` detail) to approve, and the approval request keeps it for its approvers. The
 * same call asked again finds the same request; once approved, one token is issued for it.
 */
export async function passActionApprovalGate(
  ask: ActionApprovalAsk,
  deps: { approvals: Pick<ApprovalRequestRecords, 'findOpenApprovalRequest' | 'createApprovalRequest' | 'useApprovalRequest'> },
  now: number,
): Promise<{ approvalId: string }> {
  const key = JSON.stringify(['mcp_tool', ask.userId, [...ask.resources].sort(), [...ask.scopes].sort(), ask.authorizationDetails.map((d) => [d.tool, d.arguments_sha256, d.locations])]);
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
    authorizationDetails: ask.authorizationDetails,
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
