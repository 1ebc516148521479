import type { McpToolAuthorizationDetail } from './authorization-details.ts';

/** What happened to an approval request (issue 12 item 5): the `type` of an approval event is `approval.<kind>`. */
export const APPROVAL_EVENT_KINDS = ['created', 'approved', 'denied', 'expired'] as const;
export type ApprovalEventKind = (typeof APPROVAL_EVENT_KINDS)[number];

/** An approval request as an approval event carries it (the admin API's view, without its delivery details). */
export interface ApprovalEventRequest {
  id: string;
  status: 'pending' | 'approved' | 'denied' | 'expired';
  client_id: string;
  /** The client, then every agent it acts through. */
  chain: string[];
  /** The user on whose behalf, or null for a client acting for itself. */
  user_id: string | null;
  scopes: string[];
  resources: string[];
  justification: string | null;
  risk: 'low' | 'medium' | 'high' | 'critical';
  authorization_details?: McpToolAuthorizationDetail[];
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
}

/**
 * The body of an approval webhook delivery (JSON, signed as every Mandate webhook: webhook-signature.ts). `id` is
 * the same at every retry of one event (`<approval id>.<kind>`), so a receiver can drop a repeat; `approval` is the
 * request as it stands when the delivery is made.
 */
export interface ApprovalEvent {
  id: string;
  type: `approval.${ApprovalEventKind}`;
  /** When it happened (seconds since the epoch): the request's creation, decision or expiry. */
  occurred_at: number;
  approval: ApprovalEventRequest;
}

/** The approval event `body` holds, or null when it is none. */
export function parseApprovalEvent(body: string): ApprovalEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const approval = v['approval'] as Record<string, unknown> | null | undefined;
  if (typeof v['id'] !== 'string' || typeof v['occurred_at'] !== 'number' || typeof approval !== 'object' || approval === null || typeof approval['id'] !== 'string') return null;
  if (!APPROVAL_EVENT_KINDS.some((kind) => v['type'] === `approval.${kind}`)) return null;
  return value as ApprovalEvent;
}
