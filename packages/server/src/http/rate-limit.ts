/**
 * Token buckets keyed by client id or remote address: `perMinute` requests refill evenly over a minute, with a
 * burst of the same size. In memory and per instance; a deployment of N instances allows N times the rate.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #nowMs: () => number;
  readonly #buckets = new Map<string, { tokens: number; updatedMs: number; refusing: boolean }>();
  static readonly #MAX_KEYS = 100_000;

  constructor(perMinute: number, nowMs: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#nowMs = nowMs;
  }

  /**
   * Takes one request from `key`'s bucket. Returns null when allowed; when refused, the seconds until a request is
   * available and whether this is the first refusal since the bucket ran dry (so callers can audit once, not per request).
   */
  take(key: string): { retryAfter: number; first: boolean } | null {
    if (this.#perMinute === 0) return null;
    const now = this.#nowMs();
    const refillPerMs = this.#perMinute / 60_000;
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= RateLimiter.#MAX_KEYS) this.#prune(now, refillPerMs);
      bucket = { tokens: this.#perMinute, updatedMs: now, refusing: false };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#perMinute, bucket.tokens + (now - bucket.updatedMs) * refillPerMs);
      bucket.updatedMs = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.refusing = false;
      return null;
    }
    const first = !bucket.refusing;
    bucket.refusing = true;
    return { retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000)), first };
  }

  /** Drops buckets that have refilled completely: they carry no state a new bucket would not. */
  #prune(now: number, refillPerMs: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updatedMs) * refillPerMs >= this.#perMinute) this.#buckets.delete(key);
    }
    // Under a flood of distinct keys, forget the oldest half rather than grow without bound.
    if (this.#buckets.size >= RateLimiter.#MAX_KEYS) {
      let drop = this.#buckets.size / 2;
      for (const key of this.#buckets.keys()) {
        if (drop-- <= 0) break;
        this.#buckets.delete(key);
      }
    }
  }
}
