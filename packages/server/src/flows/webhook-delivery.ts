import { DocumentFetchError, postChecked, type ResolveHost } from './metadata-document-fetch.ts';

/**
 * What every outgoing notification shares (revocation webhooks, approval webhooks, CIBA pings): one POST through
 * the SSRF-checked request (public addresses only, pinned, no redirects, deadline; http only to a loopback host),
 * a 2xx delivers it, anything else is retried after a doubling backoff on the injected clock and given up after
 * {@link MAX_WEBHOOK_ATTEMPTS}; an attempt under way leases its delivery from other instances.
 */

/** After this many failed attempts a delivery is given up (`failed`). */
export const MAX_WEBHOOK_ATTEMPTS = 8;
/** An attempt under way keeps its delivery from other instances this long. */
export const WEBHOOK_LEASE_SECONDS = 60;
/** The wait before attempt `attempts + 1`, after `attempts` failures: 10 s, 20 s, 40 s … at most an hour. */
export const webhookBackoffSeconds = (attempts: number): number => Math.min(10 * 2 ** (attempts - 1), 3600);

export interface WebhookPostDeps {
  resolveHost: ResolveHost;
  timeoutMs: number;
}

/** POSTs `body` to `endpoint`; whether it was delivered, and the outcome in words for the delivery log. */
export async function postWebhook(endpoint: string, body: string, headers: Record<string, string>, deps: WebhookPostDeps): Promise<{ delivered: boolean; result: string }> {
  try {
    const url = new URL(endpoint);
    const status = await postChecked(url, body, headers, { resolve: deps.resolveHost, timeoutMs: deps.timeoutMs, loopbackOnly: url.protocol === 'http:' });
    return { delivered: status >= 200 && status < 300, result: `HTTP ${status}` };
  } catch (err) {
    return { delivered: false, result: err instanceof DocumentFetchError ? `refused: ${err.message}` : 'failed' };
  }
}

/** The delivery's state after attempt number `attempts` made at `now` (`giveUp`: there is nothing left to deliver). */
export function attemptOutcome(delivered: boolean, attempts: number, now: number, giveUp = false): { status: 'delivered' | 'pending' | 'failed'; attempts: number; nextAttemptAt: number } {
  const gaveUp = !delivered && (giveUp || attempts >= MAX_WEBHOOK_ATTEMPTS);
  return { status: delivered ? 'delivered' : gaveUp ? 'failed' : 'pending', attempts, nextAttemptAt: delivered || gaveUp ? now : now + webhookBackoffSeconds(attempts) };
}
