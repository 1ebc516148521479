import type { RateLimitRecords } from '../store/store.ts';

const WINDOW_SECONDS = 60;

/**
 * Requests per rate-limit key and minute, counted by every instance on one database, so that N instances allow a
 * client (or an address) its configured rate once, not N times. Counting stays in memory on the request path;
 * `sync()` (once a second) adds this instance's new counts to the store's counters and reads back the totals, one
 * statement for every key at once. So the shared count lags by at most one sync: each instance may let through one
 * second of its own traffic beyond the limit, never more. Keys close to their limit are re-read at every sync even
 * without new local traffic, so an instance learns that another one used up a key it also serves.
 */
export class SharedRateCounts {
  readonly #store: RateLimitRecords;
  readonly #now: () => number;
  #window = -1;
  /** Every instance's count of the current minute, as of the last sync. */
  #known = new Map<string, number>();
  /** This instance's counts since the last sync. */
  #unsynced = new Map<string, number>();
  /** Keys at half their limit or more: read back at every sync. */
  #watched = new Set<string>();
  #syncing: Promise<void> | null = null;
  /** The sync that follows the one under way, when a caller asked meanwhile. */
  #queued: Promise<void> | null = null;

  /** `now` is the server's clock in epoch seconds: minutes are counted on it. */
  constructor(store: RateLimitRecords, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  #roll(): void {
    const window = this.#now() - (this.#now() % WINDOW_SECONDS);
    if (window === this.#window) return;
    this.#window = window;
    this.#known = new Map();
    this.#unsynced = new Map();
    this.#watched = new Set();
  }

  /** Requests counted for `key` in the current minute by every instance (as last synced) and by this one since. */
  count(key: string): number {
    this.#roll();
    return (this.#known.get(key) ?? 0) + (this.#unsynced.get(key) ?? 0);
  }

  /** Counts one request for `key`, whose limit is `limit` per minute. */
  add(key: string, limit: number): void {
    this.#roll();
    const unsynced = (this.#unsynced.get(key) ?? 0) + 1;
    this.#unsynced.set(key, unsynced);
    if (2 * ((this.#known.get(key) ?? 0) + unsynced) >= limit) this.#watched.add(key);
  }

  /** Reads `key` back at every sync of this minute without counting anything: a key only other instances count. */
  watch(key: string): void {
    this.#roll();
    this.#watched.add(key);
  }

  /** Seconds until the current minute ends, when every count starts again. */
  secondsLeft(): number {
    return Math.max(1, this.#window + WINDOW_SECONDS - this.#now());
  }

  /** Adds this instance's new counts to the store and reads back the totals of those and of the watched keys. */
  sync(): Promise<void> {
    if (!this.#syncing) {
      this.#syncing = this.#push().finally(() => (this.#syncing = null));
      return this.#syncing;
    }
    // A sync under way took its batch before this call: one more runs after it (shared by every caller meanwhile),
    // so that whatever was counted before a sync() call is pushed when its promise resolves.
    this.#queued ??= this.#syncing.catch(() => undefined).then(() => {
      this.#queued = null;
      return this.sync();
    });
    return this.#queued;
  }

  async #push(): Promise<void> {
    this.#roll();
    const batch = this.#unsynced;
    if (batch.size === 0 && this.#watched.size === 0) return;
    const window = this.#window;
    const counts = new Map(batch);
    for (const key of this.#watched) if (!counts.has(key)) counts.set(key, 0);
    this.#unsynced = new Map();
    let totals: Map<string, number>;
    try {
      totals = await this.#store.addRateLimitCounts(window, counts);
    } catch (err) {
      // Counted again at the next sync, unless the minute is over by then.
      if (window === this.#window) for (const [key, count] of batch) this.#unsynced.set(key, (this.#unsynced.get(key) ?? 0) + count);
      throw err;
    }
    if (window !== this.#window) return;
    for (const [key, total] of totals) this.#known.set(key, total);
  }
}
