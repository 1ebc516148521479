import type { ApprovalRequestRecord } from './approval-requests.ts';
import type { WebhookDeliveryStatus } from './revocation-webhooks.ts';

/** What happened to an approval request: each is queued once per approval webhook (issue 12 item 5). */
export type ApprovalEventKind = 'created' | 'approved' | 'denied' | 'expired';

/** An operator's approval webhook: where signed approval events are POSTed. */
export interface ApprovalWebhookRecord {
  id: string;
  url: string;
  /** The HMAC secret, encrypted under the webhook key derived from the KEK (`v1.` + AES-256-GCM, the webhook id as AAD). */
  secretEncrypted: string;
  createdAt: number;
}

/** One event's delivery to one webhook: the delivery log. */
export interface ApprovalWebhookDeliveryRecord {
  webhookId: string;
  approvalId: string;
  event: ApprovalEventKind;
  /** When the event happened (the request's creation, decision or expiry). */
  occurredAt: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  /** The last attempt's outcome in words (`HTTP 500`, `refused: …`), null before the first. */
  lastResult: string | null;
  updatedAt: number;
}

/** A delivery claimed for an attempt, with its webhook and the approval request as it stands (null once purged). */
export interface ClaimedApprovalDelivery {
  delivery: ApprovalWebhookDeliveryRecord;
  webhook: ApprovalWebhookRecord;
  approval: ApprovalRequestRecord | null;
}

/**
 * Approval webhooks and their deliveries. Events are queued by the approval records themselves, in the transaction
 * that creates, decides or expires a request (store.ts `ApprovalRequestRecords`), so none is lost or doubled.
 */
export interface ApprovalWebhookRecords {
  createApprovalWebhook(record: ApprovalWebhookRecord): Promise<void>;
  listApprovalWebhooks(): Promise<ApprovalWebhookRecord[]>;
  getApprovalWebhook(id: string): Promise<ApprovalWebhookRecord | null>;
  /** Removes the webhook and its delivery log; false when there was none. */
  deleteApprovalWebhook(id: string): Promise<boolean>;
  /** Claims up to `limit` pending deliveries due at `now`, moving each one's next attempt `leaseSeconds` on. */
  claimDueApprovalDeliveries(now: number, leaseSeconds: number, limit: number): Promise<ClaimedApprovalDelivery[]>;
  recordApprovalDeliveryAttempt(
    key: Pick<ApprovalWebhookDeliveryRecord, 'webhookId' | 'approvalId' | 'event'>,
    outcome: Pick<ApprovalWebhookDeliveryRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'lastResult' | 'updatedAt'>,
  ): Promise<void>;
  /** A webhook's newest deliveries first. */
  listApprovalDeliveries(webhookId: string, limit: number): Promise<ApprovalWebhookDeliveryRecord[]>;
}
