import type { SharedRateCounts } from './shared-rate-counts.ts';

/** The counts every instance on the database shares, and this limiter's prefix for its keys there. */
export interface SharedLimit {
  counts: Pick<SharedRateCounts, 'count' | 'add' | 'secondsLeft'>;
  prefix: string;
}

/**
 * Token buckets keyed by client id or remote address: `perMinute` requests refill evenly over a minute, with a
 * burst of the same size. The buckets are per instance; with `shared`, a request is also refused once every
 * instance together has counted `perMinute` for the key in the current minute (shared-rate-counts.ts), so N
 * instances allow the rate once, not N times.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #nowMs: () => number;
  readonly #shared: SharedLimit | undefined;
  readonly #buckets = new Map<string, { tokens: number; updatedMs: number; refusing: boolean }>();
  static readonly #MAX_KEYS = 100_000;

  constructor(perMinute: number, nowMs: () => number = Date.now, shared?: SharedLimit) {
    this.#perMinute = perMinute;
    this.#nowMs = nowMs;
    this.#shared = shared;
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
    const shared = this.#shared;
    const sharedKey = shared && `${shared.prefix}${key}`;
    const sharedSpent = sharedKey !== undefined && shared!.counts.count(sharedKey) >= this.#perMinute;
    if (bucket.tokens >= 1 && !sharedSpent) {
      bucket.tokens -= 1;
      bucket.refusing = false;
      if (sharedKey !== undefined) shared!.counts.add(sharedKey, this.#perMinute);
      return null;
    }
    const first = !bucket.refusing;
    bucket.refusing = true;
    const retryAfter = bucket.tokens >= 1 ? shared!.counts.secondsLeft() : Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
    return { retryAfter, first };
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
