import { decryptPrivateKey, encryptPrivateKey } from '../keys/kek.ts';
import type { ApprovalRequestRecord, ApprovalRequestRecords } from '../store/store.ts';
import type { ResolveHost } from './metadata-document-fetch.ts';
import { attemptOutcome, postWebhook, WEBHOOK_LEASE_SECONDS } from './webhook-delivery.ts';

/**
 * CIBA ping mode (OpenID CIBA Core 1.0 §10.2): once an approver decides a ping client's request, the server POSTs
 * `{"auth_req_id": …}` to the client's `backchannel_client_notification_endpoint` with `Authorization: Bearer
 * <client_notification_token>`; the client then polls the token endpoint once. The notification is sealed when the
 * request is made (the auth_req_id is otherwise kept as a hash only), queued by the decision itself (the store's
 * decideApprovalRequest), and sent here through the SSRF-checked request with the retries every notification shares (webhook-delivery.ts).
 */

export interface CibaPingNotification {
  endpoint: string;
  authReqId: string;
  clientNotificationToken: string;
}

/** The associated data a ping is sealed with: it cannot be moved to another request's row. */
const pingAad = (approvalId: string) => `ciba-ping:${approvalId}`;

export function sealCibaPing(key: Buffer, approvalId: string, ping: CibaPingNotification): string {
  return encryptPrivateKey(key, pingAad(approvalId), Buffer.from(JSON.stringify(ping), 'utf8'));
}

export function openCibaPing(key: Buffer, approvalId: string, sealed: string): CibaPingNotification {
  return JSON.parse(decryptPrivateKey(key, pingAad(approvalId), sealed).toString('utf8')) as CibaPingNotification;
}

export interface CibaPingDeps {
  approvals: Pick<ApprovalRequestRecords, 'claimDueCibaPings' | 'recordCibaPingAttempt'>;
  /** The key pings are sealed under (keys/kek.ts `deriveWebhookSecretKey`). */
  sealKey: Buffer;
  resolveHost: ResolveHost;
  allowHttpLocalhost: boolean;
  timeoutMs: number;
  now(): number;
}

export function cibaPingDispatcher(deps: CibaPingDeps) {
  async function attempt(record: ApprovalRequestRecord): Promise<void> {
    // The attempt's own time: its retry is due a backoff after it started, whatever the clock did meanwhile.
    const now = deps.now();
    const attempts = (record.pingAttempts ?? 0) + 1;
    let outcome: { delivered: boolean; result: string };
    try {
      const ping = openCibaPing(deps.sealKey, record.id, record.pingSealed!);
      // §10.2: the body is exactly the auth_req_id; the bearer token is the client's own (CIBA-05).
      outcome = await postWebhook(ping.endpoint, JSON.stringify({ auth_req_id: ping.authReqId }), { authorization: `Bearer ${ping.clientNotificationToken}`, 'user-agent': 'mandate (CIBA ping)' }, {
        resolveHost: deps.resolveHost,
        timeoutMs: deps.timeoutMs,
      });
    } catch {
      outcome = { delivered: false, result: 'failed' };
    }
    const { status, nextAttemptAt } = attemptOutcome(outcome.delivered, attempts, now);
    await deps.approvals.recordCibaPingAttempt(record.id, { status, attempts, nextAttemptAt, lastResult: outcome.result });
  }

  return {
    /** One round: every due ping, attempted once. */
    async run(): Promise<void> {
      for (let due = await deps.approvals.claimDueCibaPings(deps.now(), WEBHOOK_LEASE_SECONDS, 50); due.length > 0; due = await deps.approvals.claimDueCibaPings(deps.now(), WEBHOOK_LEASE_SECONDS, 50)) {
        await Promise.all(due.map(attempt));
      }
    },
  };
}
