import type { RevocationEvent } from '@mandate/protocol';

/** A resource's revocation webhook (issue 11 item 3): where signed revocation events are POSTed. */
export interface RevocationWebhookRecord {
  resourceId: string;
  url: string;
  /** The HMAC secret, encrypted under the webhook key derived from the KEK (`v1.` + AES-256-GCM, resource id as AAD). */
  secretEncrypted: string;
  /** Events up to this id are queued for it already. */
  lastEventId: number;
  createdAt: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event's delivery to one webhook: the delivery log. */
export interface WebhookDeliveryRecord {
  resourceId: string;
  eventId: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  /** The last attempt's outcome in words (`HTTP 500`, `refused: …`), null before the first. */
  lastResult: string | null;
  updatedAt: number;
}

/** A delivery claimed for an attempt, with its webhook and event (null when the event was purged meanwhile). */
export interface ClaimedWebhookDelivery {
  delivery: WebhookDeliveryRecord;
  webhook: RevocationWebhookRecord;
  event: RevocationEvent | null;
}

export interface RevocationWebhookRecords {
  /** Sets (replaces) a resource's webhook; its delivery log stays. */
  setRevocationWebhook(record: RevocationWebhookRecord): Promise<void>;
  getRevocationWebhook(resourceId: string): Promise<RevocationWebhookRecord | null>;
  /** Removes the webhook and its delivery log; false when there was none. */
  deleteRevocationWebhook(resourceId: string): Promise<boolean>;
  /**
   * Queues one pending delivery (due at `now`) per event after each webhook's `lastEventId` that `concerns` its
   * resource (by URI), and moves those cursors past every event, in one transaction that excludes appends, so no
   * event is queued twice or skipped; returns how many were queued.
   */
  enqueueWebhookDeliveries(now: number, concerns: (event: RevocationEvent, resourceUri: string) => boolean): Promise<number>;
  /**
   * Claims up to `limit` pending deliveries due at `now`, moving each one's next attempt `leaseSeconds` on, so that
   * another instance does not attempt it meanwhile.
   */
  claimDueWebhookDeliveries(now: number, leaseSeconds: number, limit: number): Promise<ClaimedWebhookDelivery[]>;
  recordWebhookAttempt(resourceId: string, eventId: number, outcome: Pick<WebhookDeliveryRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'lastResult' | 'updatedAt'>): Promise<void>;
  /** The newest deliveries of a resource's webhook first. */
  listWebhookDeliveries(resourceId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
}
