import { revocationEventConcerns, signRevocationWebhook, REVOCATION_WEBHOOK_SIGNATURE_HEADER } from '@mandate/protocol';
import { decryptPrivateKey } from '../keys/kek.ts';
import type { ClaimedWebhookDelivery, RevocationWebhookRecords } from '../store/store.ts';
import { webhookSecretAad } from '../policy/revocation-webhook.ts';
import { DocumentFetchError, postChecked, type ResolveHost } from './metadata-document-fetch.ts';

export interface RevocationWebhookDeps {
  webhooks: Pick<RevocationWebhookRecords, 'enqueueWebhookDeliveries' | 'claimDueWebhookDeliveries' | 'recordWebhookAttempt'>;
  /** The key webhook secrets are encrypted under (keys/kek.ts `deriveWebhookSecretKey`). */
  secretKey: Buffer;
  resolveHost: ResolveHost;
  allowHttpLocalhost: boolean;
  timeoutMs: number;
  now(): number;
}

/** After this many failed attempts a delivery is given up (`failed`). */
export const MAX_WEBHOOK_ATTEMPTS = 8;
/** An attempt under way keeps its delivery from other instances this long. */
const LEASE_SECONDS = 60;
/** The wait before attempt `attempts + 1`, after `attempts` failures: 10 s, 20 s, 40 s … at most an hour. */
export const webhookBackoffSeconds = (attempts: number): number => Math.min(10 * 2 ** (attempts - 1), 3600);

/**
 * Delivers revocation events to resources' webhooks: queues each new event once per webhook whose resource it
 * concerns, then POSTs each due
 * delivery (`{ id, ...event }` as JSON, signed with HMAC-SHA256 in `Mandate-Signature`) through the SSRF-checked
 * request (public addresses only, pinned, no redirects, deadline); a 2xx delivers it, anything else is retried
 * after a doubling backoff on the injected clock, and given up after {@link MAX_WEBHOOK_ATTEMPTS}. Every instance
 * may run it: a claimed delivery is leased.
 */
export function revocationWebhookDispatcher(deps: RevocationWebhookDeps) {
  async function attempt({ delivery, webhook, event }: ClaimedWebhookDelivery): Promise<void> {
    const now = deps.now();
    const attempts = delivery.attempts + 1;
    let result: string;
    let delivered = false;
    if (event === null) result = 'the event expired before it could be delivered';
    else {
      const body = JSON.stringify({ id: String(delivery.eventId), ...event });
      const secret = decryptPrivateKey(deps.secretKey, webhookSecretAad(webhook.resourceId), webhook.secretEncrypted).toString('utf8');
      const url = new URL(webhook.url);
      try {
        const status = await postChecked(url, body, { [REVOCATION_WEBHOOK_SIGNATURE_HEADER]: signRevocationWebhook(secret, now, body), 'mandate-event-id': String(delivery.eventId) }, {
          resolve: deps.resolveHost,
          timeoutMs: deps.timeoutMs,
          loopbackOnly: url.protocol === 'http:',
        });
        delivered = status >= 200 && status < 300;
        result = `HTTP ${status}`;
      } catch (err) {
        result = err instanceof DocumentFetchError ? `refused: ${err.message}` : 'failed';
      }
    }
    const gaveUp = !delivered && (event === null || attempts >= MAX_WEBHOOK_ATTEMPTS);
    await deps.webhooks.recordWebhookAttempt(delivery.resourceId, delivery.eventId, {
      status: delivered ? 'delivered' : gaveUp ? 'failed' : 'pending',
      attempts,
      nextAttemptAt: delivered || gaveUp ? now : now + webhookBackoffSeconds(attempts),
      lastResult: result,
      updatedAt: now,
    });
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
