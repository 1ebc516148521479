import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How every Mandate webhook (revocation events, approval events) is signed: the header carries
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under the webhook's secret, so a receiver checks the raw
 * body, and refuses a captured delivery replayed later by its time.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'mandate-signature';

/** Signs a webhook body with the webhook's secret at time `t` (seconds): the value of {@link WEBHOOK_SIGNATURE_HEADER}. */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Checks a webhook signature header against the raw body: the HMAC in constant time, and `t` within `toleranceSeconds`
 * of `nowSeconds` (a captured delivery replayed later is refused). Returns why not, or null when it holds.
 */
export function webhookSignatureProblem(header: string | undefined, body: string, secret: string, nowSeconds: number, toleranceSeconds: number): string | null {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return 'no well-formed signature header';
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return 'the signature is too old or from the future';
  const expected = Buffer.from(signWebhook(secret, t, body).slice(-64), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'))) return 'the signature does not match';
  return null;
}
