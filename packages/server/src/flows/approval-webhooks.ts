import { type ApprovalEvent, signWebhook, WEBHOOK_SIGNATURE_HEADER } from '@mandate/protocol';
import { decryptPrivateKey } from '../keys/kek.ts';
import { approvalRequestFields } from '../policy/approval-request-fields.ts';
import { approvalWebhookSecretAad } from '../policy/revocation-webhook.ts';
import type { ApprovalRequestRecords, ApprovalWebhookRecords, ClaimedApprovalDelivery } from '../store/store.ts';
import type { ResolveHost } from './metadata-document-fetch.ts';
import { attemptOutcome, postWebhook, WEBHOOK_LEASE_SECONDS } from './webhook-delivery.ts';

/**
 * Approval webhooks (issue 12 item 5): each approval event (a request created, approved, denied or expired) is
 * queued for every approval webhook by the store, in the transaction that makes it happen; this POSTs each due
 * delivery as JSON (protocol `ApprovalEvent`), signed with HMAC-SHA256 under the webhook's secret in
 * `Mandate-Signature` exactly as revocation webhooks are, with the retries, backoff and leases every notification
 * shares (webhook-delivery.ts). Each round first closes the requests past their expiry, which queues their
 * `expired` events: expiry runs on this timer, never on a read.
 */

export interface ApprovalWebhookDeps {
  approvals: Pick<ApprovalRequestRecords, 'expireApprovalRequests'>;
  webhooks: Pick<ApprovalWebhookRecords, 'claimDueApprovalDeliveries' | 'recordApprovalDeliveryAttempt'>;
  /** The key webhook secrets are encrypted under (keys/kek.ts `deriveWebhookSecretKey`). */
  secretKey: Buffer;
  resolveHost: ResolveHost;
  timeoutMs: number;
  now(): number;
}

export function approvalWebhookDispatcher(deps: ApprovalWebhookDeps) {
  async function attempt({ delivery, webhook, approval }: ClaimedApprovalDelivery): Promise<void> {
    // The attempt's own time: its retry is due a backoff after it started, whatever the clock did meanwhile.
    const now = deps.now();
    const attempts = delivery.attempts + 1;
    let outcome = { delivered: false, result: 'the approval request was purged before it could be delivered' };
    if (approval !== null) {
      const event: ApprovalEvent = { id: `${delivery.approvalId}.${delivery.event}`, type: `approval.${delivery.event}`, occurred_at: delivery.occurredAt, approval: approvalRequestFields(approval, approval.status) };
      const body = JSON.stringify(event);
      const secret = decryptPrivateKey(deps.secretKey, approvalWebhookSecretAad(webhook.id), webhook.secretEncrypted).toString('utf8');
      outcome = await postWebhook(webhook.url, body, { [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, now, body), 'mandate-event-id': event.id, 'user-agent': 'mandate (approval webhook)' }, {
        resolveHost: deps.resolveHost,
        timeoutMs: deps.timeoutMs,
      });
    }
    await deps.webhooks.recordApprovalDeliveryAttempt(delivery, { ...attemptOutcome(outcome.delivered, attempts, now, approval === null), lastResult: outcome.result, updatedAt: now });
  }

  return {
    /** One round: close the requests past their expiry (queueing their events), then attempt every due delivery. */
    async run(): Promise<void> {
      await deps.approvals.expireApprovalRequests(deps.now());
      for (let due = await deps.webhooks.claimDueApprovalDeliveries(deps.now(), WEBHOOK_LEASE_SECONDS, 50); due.length > 0; due = await deps.webhooks.claimDueApprovalDeliveries(deps.now(), WEBHOOK_LEASE_SECONDS, 50)) {
        await Promise.all(due.map(attempt));
      }
    },
  };
}
