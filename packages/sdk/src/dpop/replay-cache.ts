/**
 * Where a resource remembers the DPoP proofs it accepted, so that each is accepted once (RFC 9449 §11.1). The default
 * is in this process's memory; several instances of one resource behind a load balancer share one by giving each
 * the same implementation over a shared store (Redis `SET key 1 NX EXAT expiresAt` is one line of it).
 */
export interface DpopReplayCache {
  /** Records `key` until `expiresAtSeconds`; true the first time, false while it is recorded (a replay). */
  consumeOnce(key: string, expiresAtSeconds: number, nowSeconds: number): boolean | Promise<boolean>;
}

/**
 * A {@link DpopReplayCache} in memory, for one process. Entries leave when they expire; at `maxEntries` the expired
 * ones are swept, and if none had expired the proof is refused rather than the cache grown without bound (a
 * flood of fresh proofs then fails closed).
 */
export class MemoryDpopReplayCache implements DpopReplayCache {
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  consumeOnce(key: string, expiresAtSeconds: number, nowSeconds: number): boolean {
    const known = this.#seen.get(key);
    if (known !== undefined && known > nowSeconds) return false;
    if (this.#seen.size >= this.#maxEntries) {
      for (const [seenKey, expiresAt] of this.#seen) if (expiresAt <= nowSeconds) this.#seen.delete(seenKey);
      if (this.#seen.size >= this.#maxEntries) return false;
    }
    this.#seen.set(key, expiresAtSeconds);
    return true;
  }
}
