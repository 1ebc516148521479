import { revocationEventConcerns, signRevocationWebhook, REVOCATION_WEBHOOK_SIGNATURE_HEADER } from '@mandate/protocol';
import { decryptPrivateKey } from '../keys/kek.ts';
import type { ClaimedWebhookDelivery, RevocationWebhookRecords } from '../store/store.ts';
import { webhookSecretAad } from '../policy/revocation-webhook.ts';
import type { ResolveHost } from './metadata-document-fetch.ts';
import { attemptOutcome, postWebhook, WEBHOOK_LEASE_SECONDS } from './webhook-delivery.ts';

export interface RevocationWebhookDeps {
  webhooks: Pick<RevocationWebhookRecords, 'enqueueWebhookDeliveries' | 'claimDueWebhookDeliveries' | 'recordWebhookAttempt'>;
  /** The key webhook secrets are encrypted under (keys/kek.ts `deriveWebhookSecretKey`). */
  secretKey: Buffer;
  resolveHost: ResolveHost;
  allowHttpLocalhost: boolean;
  timeoutMs: number;
  now(): number;
}

/** An attempt under way keeps its delivery from other instances this long (as every notification: webhook-delivery.ts). */
const LEASE_SECONDS = WEBHOOK_LEASE_SECONDS;

/**
 * Delivers revocation events to resources' webhooks: queues each new event once per webhook whose resource it
 * concerns, then POSTs each due
 * delivery (`{ id, ...event }` as JSON, signed with HMAC-SHA256 in `Mandate-Signature`) through the SSRF-checked
 * request (public addresses only, pinned, no redirects, deadline); a 2xx delivers it, anything else is retried
 * after a doubling backoff on the injected clock, and given up after eight (webhook-delivery.ts). Every instance
 * may run it: a claimed delivery is leased.
 */
export function revocationWebhookDispatcher(deps: RevocationWebhookDeps) {
  async function attempt({ delivery, webhook, event }: ClaimedWebhookDelivery): Promise<void> {
    const now = deps.now();
    const attempts = delivery.attempts + 1;
    let outcome = { delivered: false, result: 'the event expired before it could be delivered' };
    if (event !== null) {
      const body = JSON.stringify({ id: String(delivery.eventId), ...event });
      const secret = decryptPrivateKey(deps.secretKey, webhookSecretAad(webhook.resourceId), webhook.secretEncrypted).toString('utf8');
      outcome = await postWebhook(webhook.url, body, { [REVOCATION_WEBHOOK_SIGNATURE_HEADER]: signRevocationWebhook(secret, now, body), 'mandate-event-id': String(delivery.eventId) }, {
        resolveHost: deps.resolveHost,
        timeoutMs: deps.timeoutMs,
      });
    }
    await deps.webhooks.recordWebhookAttempt(delivery.resourceId, delivery.eventId, { ...attemptOutcome(outcome.delivered, attempts, now, event === null), lastResult: outcome.result, updatedAt: now });
  }

  return {
    /** One round: queue new events, attempt every due delivery. */
    async run(): Promise<void> {
      const now = deps.now();
      // Only the events about tokens meant for each webhook's resource (or that cannot say: flows/revocation-events.ts).
      await deps.webhooks.enqueueWebhookDeliveries(now, revocationEventConcerns);
      for (let due = await deps.webhooks.claimDueWebhookDeliveries(now, LEASE_SECONDS, 50); due.length > 0; due = await deps.webhooks.claimDueWebhookDeliveries(deps.now(), LEASE_SECONDS, 50)) {
        await Promise.all(due.map(attempt));
      }
    },
  };
}
