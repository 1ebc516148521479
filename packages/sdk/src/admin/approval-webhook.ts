import { type ApprovalEvent, parseApprovalEvent, WEBHOOK_SIGNATURE_HEADER, webhookSignatureProblem } from '@mandate/protocol';
import { ApprovalWebhookInvalid } from '../errors.ts';

/** Options of {@link verifyApprovalWebhook}. */
export interface ApprovalWebhookOptions {
  /** The secret the server answered when the webhook was added. */
  secret: string;
  /** Current time in milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** How far the signature's time may be from now, in seconds. Default 300. */
  toleranceSeconds?: number;
}

/**
 * Verifies an approval webhook delivery (issue 12 item 5): the `Mandate-Signature` header (`t=…,v1=…`, HMAC-SHA256
 * of `"<t>.<body>"` with the webhook's secret, compared in constant time; `t` within the tolerance) over the raw body
 * exactly as received, then reads the event. Throws {@link ApprovalWebhookInvalid}; answer such a request 400 and a
 * good one 2xx (anything else is retried). The same event `id` may arrive twice (a retry after a lost answer).
 */
export function verifyApprovalWebhook(body: string, signature: string | undefined, options: ApprovalWebhookOptions): ApprovalEvent {
  const now = Math.floor((options.clock ?? Date.now)() / 1000);
  const problem = webhookSignatureProblem(signature, body, options.secret, now, options.toleranceSeconds ?? 300);
  if (problem) throw new ApprovalWebhookInvalid(problem);
  const event = parseApprovalEvent(body);
  if (!event) throw new ApprovalWebhookInvalid('the body is no approval event');
  return event;
}

/** The header {@link verifyApprovalWebhook} reads the signature from. */
export { WEBHOOK_SIGNATURE_HEADER };
