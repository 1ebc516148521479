import type { McpToolAuthorizationDetail } from '@mandate/protocol';

import type { ScopeRisk } from './resources.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A grant that a scope policy sent to approvers (issue 12 item 2): what was asked, by whom, and the decision. */
export interface ApprovalRequestRecord {
  id: string;
  status: ApprovalStatus;
  /** The client that asked, and the chain it asks for (client first, then agents). */
  clientId: string;
  chain: string[];
  /** The user on whose behalf, or null for a client acting for itself. */
  userId: string | null;
  scopes: string[];
  resources: string[];
  justification: string | null;
  /** The highest risk among the scopes. */
  risk: ScopeRisk;
  /** RFC 9396: the one `mcp_tool` call a per-action approval approves (issue 12 item 4), or null. */
  authorizationDetails?: McpToolAuthorizationDetail[] | null;
  /** Identifies the exact request (resources and scopes) so a repeat finds it rather than adding another. */
  requestKey: string;
  createdAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
  /** When a token was issued on the approval: it is good for one. */
  usedAt: number | null;
  /** CIBA (item 3): SHA-256 of the `auth_req_id` the client polls with, the interval it must keep, its last poll. */
  authReqHash: string | null;
  pollInterval: number | null;
  lastPolledAt: number | null;
  /**
   * CIBA ping mode (§10.2): the notification, sealed (flows/ciba-ping.ts), and its delivery: `waiting` for the
   * decision, then `pending` until delivered or given up (`failed`). Absent for every other request.
   */
  pingSealed?: string | null;
  pingStatus?: CibaPingStatus | null;
  pingAttempts?: number | null;
  pingNextAttemptAt?: number | null;
  pingLastResult?: string | null;
}

export type CibaPingStatus = 'waiting' | 'pending' | 'delivered' | 'failed';

export interface ApprovalRequestRecords {
  createApprovalRequest(record: ApprovalRequestRecord): Promise<void>;
  getApprovalRequest(id: string): Promise<ApprovalRequestRecord | null>;
  /** The newest request of this client for this exact request that is pending, or approved and unused, and unexpired. */
  findOpenApprovalRequest(clientId: string, requestKey: string, now: number): Promise<ApprovalRequestRecord | null>;
  /**
   * Newest first, at most 500. Reads only: a pending request past its expiry is listed as `expired` (and not as
   * `pending`) whether or not `expireApprovalRequests` has marked it yet. `userId` keeps the requests made on that
   * user's behalf (filtered in the query, so other users' newer requests never crowd them out).
   */
  listApprovalRequests(filter: { status?: ApprovalStatus; userId?: string }, now: number): Promise<ApprovalRequestRecord[]>;
  /**
   * Marks pending requests past their expiry `expired` and queues their `expired` approval-webhook events, in one
   * transaction (a timer runs it); returns how many it closed.
   */
  expireApprovalRequests(now: number): Promise<number>;
  /**
   * Marks a pending, unexpired request decided, and queues its approval-webhook event in the same transaction; false
   * when it was not (decided already, expired, unknown).
   */
  decideApprovalRequest(id: string, decision: { status: 'approved' | 'denied'; decidedBy: string; reason: string | null }, now: number): Promise<boolean>;
  /** Takes an approved, unused, unexpired request for one token; false when another took it first. */
  useApprovalRequest(id: string, now: number): Promise<boolean>;
  getApprovalRequestByAuthReq(authReqHash: string): Promise<ApprovalRequestRecord | null>;
  /**
   * A CIBA poll of a pending request, decided and recorded in one conditional write (concurrent polls cannot both
   * pass the interval): `pending` when the interval had passed since the last poll (or none was made), `slow_down`
   * (the interval grown by `step`) when it had not, `decided` when the request is no longer pending (read it again).
   */
  pollApprovalRequest(id: string, now: number, interval: { initial: number; step: number }): Promise<{ outcome: 'pending' | 'slow_down'; interval: number } | { outcome: 'decided' }>;
  /**
   * Calls `listener` after this process created, decided or expired an approval request (another instance's are
   * found by reading); returns the unsubscribe.
   */
  onApprovalEvent(listener: () => void): () => void;
  /**
   * Claims up to `limit` decided requests whose ping is due at `now`, moving each one's next attempt `leaseSeconds`
   * on, so that another instance does not send it meanwhile.
   */
  claimDueCibaPings(now: number, leaseSeconds: number, limit: number): Promise<ApprovalRequestRecord[]>;
  recordCibaPingAttempt(id: string, outcome: { status: CibaPingStatus; attempts: number; nextAttemptAt: number; lastResult: string }): Promise<void>;
}
