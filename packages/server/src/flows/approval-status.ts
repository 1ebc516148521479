import type { FormParams } from '../oauth/form-params.ts';
import { invalidGrant, invalidRequest } from '../oauth/oauth-error.ts';
import type { ApprovalRequestRecords, ClientRecord } from '../store/store.ts';
import { hashSecret } from '../tokens/secret.ts';

/**
 * Where a waiting agent's approval request stands (issue 12 item 5, "Server-Sent Events for waiting agents"): the
 * client names its own request by the CIBA `auth_req_id` it polls with, or by the `approval_request` id a refusal
 * named (client_credentials, token exchange), and learns when it is decided without polling the token endpoint. Only
 * the client that asked may watch a request; any other, or an unknown one, is `invalid_grant` alike.
 */

export interface ApprovalStatusDeps {
  approvals: Pick<ApprovalRequestRecords, 'getApprovalRequest' | 'getApprovalRequestByAuthReq' | 'onApprovalEvent'>;
}

/** What the stream says of a request: `pending` until it is decided or its expiry passes. */
export interface ApprovalStatusView {
  status: 'pending' | 'approved' | 'denied' | 'expired';
  expires_at: number;
}

export function approvalStatusFlow(deps: ApprovalStatusDeps) {
  return {
    /** The id of the client's own approval request the form names. */
    async find(client: Pick<ClientRecord, 'clientId'>, params: FormParams): Promise<string> {
      const authReqId = params.get('auth_req_id');
      const approvalId = params.get('approval_request');
      if ((authReqId === undefined) === (approvalId === undefined)) throw invalidRequest('name the request by exactly one of auth_req_id and approval_request');
      const record = authReqId !== undefined ? await deps.approvals.getApprovalRequestByAuthReq(hashSecret(authReqId)) : await deps.approvals.getApprovalRequest(approvalId!);
      if (!record || record.clientId !== client.clientId) throw invalidGrant('no such approval request of this client');
      return record.id;
    },
    /** Calls `listener` when this process creates, decides or expires a request (a stream reads at once). */
    onChange: (listener: () => void) => deps.approvals.onApprovalEvent(listener),
    /** The request's status now (a pending one past its expiry is `expired`), or null once it is gone. */
    async status(id: string, now: number): Promise<ApprovalStatusView | null> {
      const record = await deps.approvals.getApprovalRequest(id);
      if (!record) return null;
      return { status: record.status === 'pending' && record.expiresAt <= now ? 'expired' : record.status, expires_at: record.expiresAt };
    },
  };
}

export type ApprovalStatusFlow = ReturnType<typeof approvalStatusFlow>;
