import { createHmac, timingSafeEqual } from 'node:crypto';

/** Issues and checks DPoP nonces (RFC 9449 §8, §9) without storing them. */
export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(nowSeconds: number): string;
  /** True for the nonce of the current period or of the one before, so that a nonce handed out just before a turn still works. */
  accepts(nonce: unknown, nowSeconds: number): boolean;
}

/**
 * Stateless DPoP nonces: the HMAC-SHA256 of the current period under a secret, so that every instance that shares
 * the secret issues and accepts the same nonces, with nothing stored and nothing to replicate. They are unpredictable
 * to anyone without the secret (RFC 9449 §8: "nonces MUST be unpredictable"), change every `periodSeconds`, and one
 * stays valid for one to two periods. The proof's `jti` replay check stays the caller's (a nonce is not single use).
 *
 * @param secret at least 32 random bytes, the same on every instance
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-8
 */
export function createDpopNonces(secret: Uint8Array, periodSeconds: number): DpopNonces {
  if (!(secret instanceof Uint8Array) || secret.length < 32) throw new TypeError('the DPoP nonce secret must be at least 32 bytes');
  if (!Number.isInteger(periodSeconds) || periodSeconds < 1) throw new TypeError('periodSeconds must be a whole number ≥ 1');
  const nonceOf = (period: number) => createHmac('sha256', secret).update(`dpop-nonce:${period}`).digest().subarray(0, 24).toString('base64url');
  const periodAt = (nowSeconds: number) => Math.floor(nowSeconds / periodSeconds);
  const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  return {
    current: (nowSeconds) => nonceOf(periodAt(nowSeconds)),
    accepts(nonce, nowSeconds) {
      if (typeof nonce !== 'string') return false;
      const period = periodAt(nowSeconds);
      return equal(nonce, nonceOf(period)) || equal(nonce, nonceOf(period - 1));
    },
  };
}
